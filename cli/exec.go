package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
)

// The environment variables exec hands the program it runs. They are a contract.
const (
	envAccessToken = "M365CREDS_ACCESS_TOKEN"
	envAccount     = "M365CREDS_ACCOUNT"
)

func (a *app) execCommand() *cobra.Command {
	o := &tokenCallOptions{}
	c := &cobra.Command{
		Use:   "exec PROFILE -- COMMAND [ARG …]",
		Short: "run a program with a fresh access token in its environment",
		Long: `Run COMMAND with a fresh access token for PROFILE in the environment variable
M365CREDS_ACCESS_TOKEN, and the profile's account in M365CREDS_ACCOUNT. The token is
refreshed first when less than --min-valid is left, so it lasts for the program's run.
The token never appears on a command line, where other users could read it.

exec ends with the program's exit code (127 when it cannot be found). Before the program
starts, failures use the exit codes of token: 3 secret, 4 sign in again, 5 keychain,
6 network.`,
		Example: `  m365creds exec work -- python3 sync.py
  m365creds exec work --min-valid 45m -- ./nightly-export.sh
  m365creds exec work -- sh -c \
      'curl -H "Authorization: Bearer $M365CREDS_ACCESS_TOKEN" $GRAPH/me'`,
		RunE: a.run("exec", func(pos []string) error { return a.runExec(o, pos) }),
	}
	fs := c.Flags()
	// Flags end at PROFILE: everything after it belongs to the program.
	fs.SetInterspersed(false)
	fs.StringVar(&o.scope, "scope", "", "`\"SCOPE …\"` scopes to request instead of the profile's Graph scopes")
	fs.DurationVar(&o.minValid, "min-valid", creds.DefaultMinValidity, "`DUR` how long the token must last, e.g. 45m")
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) runExec(o *tokenCallOptions, pos []string) error {
	if len(pos) == 0 {
		return usagef("exec", "missing PROFILE and the command to run: m365creds exec PROFILE -- COMMAND")
	}
	name, argv := pos[0], pos[1:]
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return usagef("exec", "missing the command to run after --: m365creds exec %s -- COMMAND", sanitize.Line(name, 64))
	}
	p, res, err := a.tokenFor("exec", name, *o, nil)
	if err != nil {
		return err
	}

	cmd := exec.CommandContext(a.ctx, argv[0], argv[1:]...)
	cmd.Env = append(withoutVars(a.environ(), envAccessToken, envAccount),
		envAccessToken+"="+res.AccessToken, envAccount+"="+p.Account)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	// ctrl+c in a terminal reaches the program itself (same process group); when only this
	// process is told to stop, pass it on and give the program time to finish.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		code := 127
		if errors.Is(err, os.ErrPermission) {
			code = 126
		}
		return withCode(code, fmt.Errorf("could not run %s: %w", sanitize.Line(argv[0], 200), err), "")
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &silentError{code: 128 + int(ws.Signal())}
		}
		return &silentError{code: ee.ExitCode()}
	}
	return err
}

// environ is this process's environment, for the program exec runs.
func (a *app) environ() []string {
	if a.env.Environ != nil {
		return a.env.Environ()
	}
	return os.Environ()
}

// withoutVars drops the named variables, so a value from an outer exec cannot shadow ours.
func withoutVars(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

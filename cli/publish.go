package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
)

type publishOptions struct {
	to    []string
	keyID string
	store string
}

func (a *app) publishCommand() *cobra.Command {
	o := &publishOptions{}
	c := &cobra.Command{
		Use:   "publish PROFILE --to TARGET",
		Short: "share an app-only client secret through a team vault",
		Long: `Publish the client secret of the app-only profile PROFILE to a store other machines
read, with its expiry and the app's tenant and client ID:

  azure-keyvault://VAULT/NAME
      a new version of Key Vault secret NAME (az keyvault secret set),
      expiring when the client secret does
  gh://OWNER/REPO/NAME
      the GitHub Actions secret NAME of OWNER/REPO (gh secret set)
  op://VAULT/ITEM
      the credential field of 1Password item ITEM (op item create or edit)

The secret is checked with Microsoft first and never goes on a command line or into the
environment of az, gh or op: it reaches them on stdin or a file descriptor. Each target is
recorded in the profile, and m365creds rotate updates every one of them before it switches
to a new secret.

Only app-only profiles can be published. A profile that signs in a user holds a refresh
token that changes on every use: it needs one writer and is never copied.

az, gh and op must be installed and signed in. Exits 2 for a delegated profile or a bad
target, 1 when a program fails, and as token does when the secret does not work.`,
		Example: `  m365creds publish robot --to azure-keyvault://contoso-kv/graph-robot-secret
  m365creds publish robot --to gh://contoso/nightly-sync/GRAPH_CLIENT_SECRET \
      --to op://Automation/graph-robot`,
		RunE: a.run("publish", func(pos []string) error { return a.runPublish(o, pos) }),
	}
	fs := c.Flags()
	fs.StringArrayVar(&o.to, "to", nil, "`TARGET` where to publish (repeatable)")
	fs.StringVar(&o.keyID, "key-id", "", "`ID` the secret's Secret ID from the portal, carried as metadata (default: the one recorded)")
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) runPublish(o *publishOptions, pos []string) error {
	if len(o.to) == 0 {
		return usagef("publish", "missing --to TARGET: azure-keyvault://VAULT/NAME, gh://OWNER/REPO/NAME or op://VAULT/ITEM")
	}
	var targets []creds.Target
	for _, s := range o.to {
		if looksSecret(s) {
			return usagef("publish", "%s", secretOnCommandLine)
		}
		t, err := creds.ParseTarget(s)
		if err != nil {
			return usagef("publish", "--to: %s", err)
		}
		targets = append(targets, t)
	}
	if o.keyID != "" && !uuidLike(o.keyID) {
		return usagef("publish", "--key-id is the Secret ID (a GUID) shown next to the secret in the portal, not its value")
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	a.storeWarning(o.store)
	p, err := requireProfile("publish", store, pos)
	if err != nil {
		return err
	}
	engine := a.engine(store)
	a.infof("Checking the client secret of profile %q with Microsoft…", p.Name)
	for _, t := range targets {
		if p, err = engine.Publish(a.ctx, creds.PublishRequest{Profile: p, Target: t, KeyID: o.keyID}); err != nil {
			return err
		}
		a.infof("Published the client secret of profile %q to %s (expires %s).", p.Name, t, dateOrUnknown(p.SecretExpires))
	}
	a.infof("m365creds rotate %s will update %s too.", p.Name, strings.Join(p.PublishedTo, ", "))
	return nil
}

func uuidLike(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", r):
			return false
		}
	}
	return true
}

// programRunner starts az, gh, op, systemctl and notify-send for the engine. Programs are
// found on the PATH of this run's environment, never in the current directory.
type programRunner struct {
	path, pathext string
	environ       func() []string
}

func (a *app) runner() *programRunner {
	environ := os.Environ
	if a.env.Environ != nil {
		environ = a.env.Environ
	}
	return &programRunner{path: a.env.Getenv("PATH"), pathext: a.env.Getenv("PATHEXT"), environ: environ}
}

// maxOutput bounds what is kept of a program's output.
const maxOutput = 1 << 20

// Run runs one command. Its stdin is Command.Stdin, never the terminal, so no program waits
// for a prompt; its environment is this process's, to which nothing secret is ever added.
func (r *programRunner) Run(ctx context.Context, c creds.Command) ([]byte, error) {
	exe, ok := r.lookPath(c.Name)
	if !ok {
		return nil, &creds.RunError{Name: c.Name, Missing: true, Err: exec.ErrNotFound}
	}
	args := slices.Clone(c.Args)
	cmd := exec.CommandContext(ctx, exe)
	if c.File != nil {
		path, cleanup, err := secretFile(cmd, c.File)
		if err != nil {
			return nil, &creds.RunError{Name: c.Name, Err: err}
		}
		defer cleanup()
		for i, arg := range args {
			if arg == creds.SecretFilePath {
				args[i] = path
			}
		}
	}
	cmd.Args = append([]string{c.Name}, args...)
	cmd.Env = r.environ()
	cmd.Stdin = bytes.NewReader(c.Stdin)
	var out, errb limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, &creds.RunError{Name: c.Name, Stderr: errb.String(), Err: err}
	}
	return out.Bytes(), nil
}

// secretFile hands data to the program on a file. Where the OS has /dev/fd it is the read
// end of a pipe, inherited as descriptor 3: the secret never touches a disk. Windows has no
// such path, so there it is a temporary file with mode 0600, removed once the program ends.
func secretFile(cmd *exec.Cmd, data []byte) (path string, cleanup func(), err error) {
	if runtime.GOOS != "windows" {
		// The whole secret fits in the pipe's buffer (at least 4 KiB everywhere), so it is
		// written before the program starts and nothing waits on the other side.
		if len(data) > 4096 {
			return "", nil, errors.New("the secret is too long to pass on a pipe")
		}
		r, w, err := os.Pipe()
		if err != nil {
			return "", nil, err
		}
		_, werr := w.Write(data)
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			r.Close()
			return "", nil, werr
		}
		cmd.ExtraFiles = []*os.File{r}
		return "/dev/fd/3", func() { r.Close() }, nil
	}
	f, err := os.CreateTemp("", "m365creds-*")
	if err != nil {
		return "", nil, err
	}
	remove := func() { os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		f.Close()
		remove()
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		remove()
		return "", nil, err
	}
	return f.Name(), remove, nil
}

// lookPath finds name in the directories of PATH, skipping empty and relative entries (the
// current directory, where anyone could have left a program of that name).
func (r *programRunner) lookPath(name string) (string, bool) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", false
	}
	exts := []string{""}
	if runtime.GOOS == "windows" {
		exts = strings.Split(strings.ToLower(r.pathext), ";")
		if r.pathext == "" {
			exts = []string{".com", ".exe", ".bat", ".cmd"}
		}
	}
	for _, dir := range filepath.SplitList(r.path) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		for _, ext := range exts {
			p := filepath.Join(dir, name+ext)
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0 {
				continue
			}
			return p, true
		}
	}
	return "", false
}

// limitedBuffer keeps the first maxOutput bytes written to it and drops the rest.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)

// describeCommand is a command as a person would type it, for "run this" hints.
func describeCommand(argv []string) string {
	words := make([]string, len(argv))
	for i, w := range argv {
		w = sanitize.Line(w, 0)
		if w == "" || strings.ContainsAny(w, " \t'\"$\\;&|<>()*?`") {
			w = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}

package e2e

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// TestTokenProgram: the built m365creds-token answers as m365creds token does, from the
// same profile in the real Secret Service, and is built without any of the wizard.
func TestTokenProgram(t *testing.T) {
	testkeychain.Require(t)
	t.Parallel()
	info, err := buildinfo.ReadFile(tokenBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range info.Deps {
		if strings.HasPrefix(dep.Path, "charm.land/") || strings.Contains(dep.Path, "charmbracelet/ultraviolet") || dep.Path == "github.com/atotto/clipboard" {
			t.Errorf("m365creds-token is built with %s", dep.Path)
		}
	}
	env := robotProfile(t, simulator.New([]simulator.App{simulator.DemoApp()}, simulator.DemoUsers()))
	for _, args := range [][]string{{"robot"}, {"robot", "--format", "header"}, {"nobody"}, {"robot", "--format", "xml"}} {
		wantOut, wantErr, wantCode := run(t, env, "", append([]string{"token"}, args...)...)
		out, errOut, code := runProgram(t, tokenBinary(t), env, "", args...)
		if out != wantOut || errOut != wantErr || code != wantCode {
			t.Errorf("m365creds-token %s: exit %d %q %q, m365creds token: exit %d %q %q",
				strings.Join(args, " "), code, out, errOut, wantCode, wantOut, wantErr)
		}
	}
	if out, _, _ := runProgram(t, tokenBinary(t), env, "", "robot"); !strings.HasPrefix(out, "sim-at.") {
		t.Errorf("m365creds-token printed %q, not an access token", out)
	}
}

// TestTokenProgramInterruptedInARefresh: ctrl+c while m365creds-token waits for Microsoft
// ends it at once with exit 130, not killed by the signal: the interrupt watch the program
// sets up for a refresh is in place.
func TestTokenProgramInterruptedInARefresh(t *testing.T) {
	testkeychain.Require(t)
	t.Parallel()
	sim := simulator.New([]simulator.App{simulator.DemoApp()}, simulator.DemoUsers())
	sim.SetAccessTokenLifetime(time.Minute) // too short to serve from the cache: every call refreshes
	env := robotProfile(t, sim)
	sim.AddFault(simulator.Fault{Endpoint: "token", Delay: 20 * time.Second, Times: 1})
	asked := sim.Count("token", "client_credentials")
	cmd := exec.Command(tokenBinary(t), "robot")
	cmd.Env = append(os.Environ(), env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); sim.Count("token", "client_credentials") == asked; {
		if time.Now().After(deadline) {
			t.Fatal("m365creds-token never asked for a token")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("after ctrl+c: %v (want exit 130)\n%s", err, errb.String())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("m365creds-token took %v to stop after ctrl+c", took)
	}
}

// robotProfile starts sim and sets up the app-only profile "robot" against it with the
// built m365creds, returning the environment both programs then run in.
func robotProfile(t *testing.T, sim *simulator.Sim) []string {
	t.Helper()
	env := simEnv(t, sim)
	_, stderr, code := run(t, env, simulator.DemoSecretValue+"\n", "setup", "--no-input", "--profile", "robot", "--flow", "app",
		"--tenant", simulator.DemoTenantID, "--client-id", simulator.DemoClientID, "--secret-expires", "12m", "--client-secret-stdin")
	if code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, stderr)
	}
	return env
}

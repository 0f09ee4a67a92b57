package e2e

import (
	"debug/buildinfo"
	"path/filepath"
	"strings"
	"testing"

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
	sim := simulator.New([]simulator.App{simulator.DemoApp()}, simulator.DemoUsers())
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	home := t.TempDir()
	env := []string{
		"M365CREDS_LOGIN_URL=" + base, "M365CREDS_GRAPH_URL=" + base,
		"M365CREDS_CONFIG_DIR=" + filepath.Join(home, "config"), "HOME=" + home,
	}
	_, stderr, code := run(t, env, simulator.DemoSecretValue+"\n", "setup", "--no-input", "--profile", "robot", "--flow", "app",
		"--tenant", simulator.DemoTenantID, "--client-id", simulator.DemoClientID, "--secret-expires", "12m", "--client-secret-stdin")
	if code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, stderr)
	}
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

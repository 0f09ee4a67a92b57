package e2e

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// noSessionEnv is the environment of a headless machine with no D-Bus session: no bus address,
// no keyring daemon to talk to, and a PATH without dbus-launch, which would otherwise start a
// bus on the fly. The PATH keeps only what the tmux wrapper needs (sh, sleep).
func noSessionEnv(t *testing.T, home, tmp string) []string {
	t.Helper()
	bin := t.TempDir()
	for _, tool := range []string{"sh", "sleep"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	bus := "" // unset, as over SSH or in a container
	if u, err := user.Current(); err == nil {
		if _, err := os.Stat(filepath.Join("/run/user", u.Uid, "bus")); err == nil {
			// A systemd user bus would be found without the variable; point at nothing instead.
			bus = "unix:path=" + filepath.Join(t.TempDir(), "no-bus")
		}
	}
	return []string{
		"DBUS_SESSION_BUS_ADDRESS=" + bus,
		"GNOME_KEYRING_CONTROL=",
		"DISPLAY=", "WAYLAND_DISPLAY=",
		"PATH=" + bin,
		"HOME=" + home,
		"XDG_CONFIG_HOME=",
		"XDG_RUNTIME_DIR=" + t.TempDir(),
		"M365CREDS_CONFIG_DIR=",
		"TMPDIR=" + tmp,
		"BROWSER=",
		"TERM=xterm-256color",
		"SSH_CONNECTION=",
	}
}

// TestDemoWithoutKeychain walks `m365creds demo` to the end on a machine with no D-Bus
// session: the demo keeps its profile in memory, says so on the Save screen and after the
// end, and no secret reaches any file.
func TestDemoWithoutKeychain(t *testing.T) {
	bin := binary(t)
	home, tmp := t.TempDir(), t.TempDir()
	tm := startTerm(t, noSessionEnv(t, home, tmp), bin, "demo")

	screen := walkDemo(t, tm)
	flat := strings.Join(strings.Fields(screen), " ")
	for _, want := range []string{
		"Saved profile demo",
		"memory only",
		"The keychain is not available here: there is no D-Bus session",
		"kept in memory and is gone when the demo ends",
		"gnome-keyring", "--store file",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the Save screen does not say %q:\n%s", want, screen)
		}
	}
	// While the demo still runs, its secrets are nowhere on disk: not under HOME, and not in
	// the temporary directory that holds the demo's config file.
	for _, dir := range []string{home, tmp} {
		for _, s := range []string{simulator.DemoSecretValue, "sim-rt.", "sim-at."} {
			if f := fileContaining(t, dir, s); f != "" {
				t.Errorf("%s holds a secret (%s…)", f, s[:7])
			}
		}
	}
	if testkeychain.Active() { // the test keychain's files live under this process's HOME
		if f := fileContaining(t, os.Getenv("HOME"), simulator.DemoSecretValue); f != "" {
			t.Errorf("%s holds the demo secret", f)
		}
	}

	tm.keys("Enter")
	if code := tm.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("demo exit %d:\n%s", code, tm.screen())
	}
	end := strings.Join(strings.Fields(tm.screen()), " ")
	if !strings.Contains(end, `The demo profile "demo" was not kept`) || !strings.Contains(end, "Nothing was saved") {
		t.Errorf("the closing message does not say the profile was not kept:\n%s", tm.screen())
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
	if f := fileContaining(t, home, "demo"); f != "" {
		t.Errorf("the demo left %s under HOME", f)
	}

	// Nothing was saved, so there is nothing to reset.
	_, stderr, code := run(t, []string{"HOME=" + home, "XDG_CONFIG_HOME=", "M365CREDS_CONFIG_DIR=", "DBUS_SESSION_BUS_ADDRESS=", "PATH=" + t.TempDir()}, "", "demo", "--reset")
	if code != 0 || !strings.Contains(stderr, "Nothing to remove") {
		t.Errorf("demo --reset after an in-memory demo: exit %d\n%s", code, stderr)
	}
}

// walkDemo takes the demo from its first screen to the end of the Save step and returns the
// Save screen.
func walkDemo(t *testing.T, tm *term) string {
	t.Helper()
	tm.waitFor(`Who will sign in`, 10*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Register the app`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Copy the IDs`, 5*time.Second)
	enterIDs(tm)
	tm.waitFor(`paste its Value`, 5*time.Second)
	tm.paste(simulator.DemoSecretValue)
	tm.keys("Enter")
	tm.waitFor(`Choose the Microsoft Graph permissions`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`API permissions ›`, 5*time.Second)
	tm.keys("Enter")
	// No browser here: the demo plays the browser. Without a keychain the consent step's
	// probe must pass on the in-memory store instead of stopping the demo.
	screen := tm.waitFor(`Press enter to save|keychain does not work`, 30*time.Second)
	if strings.Contains(screen, "keychain does not work") {
		t.Fatalf("the demo stopped at the keychain:\n%s", screen)
	}
	tm.keys("Enter")
	return tm.waitFor(`Press enter to finish`, 10*time.Second)
}

// TestDemoWithKeychainThenReset: with a working keychain the demo saves under its own
// service, the closing message says what works with that profile, and demo --reset
// removes it.
func TestDemoWithKeychainThenReset(t *testing.T) {
	testkeychain.Require(t)
	bin := binary(t)
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=", "M365CREDS_CONFIG_DIR=", "BROWSER=", "TERM=xterm-256color", "SSH_CONNECTION="}
	tm := startTerm(t, env, bin, "demo")
	screen := walkDemo(t, tm)
	if !strings.Contains(screen, "Saved profile demo") || strings.Contains(screen, "memory") {
		t.Fatalf("the demo did not save to the keychain:\n%s", screen)
	}
	tm.keys("Enter")
	if code := tm.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("demo exit %d:\n%s", code, tm.screen())
	}
	end := strings.Join(strings.Fields(tm.screen()), " ")
	for _, want := range []string{`"m365creds-demo"`, "status and token do not see it", "m365creds demo --reset removes it"} {
		if !strings.Contains(end, want) {
			t.Errorf("the closing message does not say %q:\n%s", want, tm.screen())
		}
	}
	config := filepath.Join(home, ".config", "m365creds", "profiles-m365creds-demo.json")
	if _, err := os.Stat(config); err != nil {
		t.Fatalf("no demo config file: %v", err)
	}
	if out, _, _ := runTool(t, "secret-tool", "search", "--all", "service", "m365creds-demo"); !strings.Contains(out, "demo/client-secret@") {
		t.Fatalf("no demo items in the keychain:\n%s", out)
	}

	_, stderr, code := run(t, env, "", "demo", "--reset")
	if code != 0 || !strings.Contains(stderr, `Removed the demo profile "demo"`) || !strings.Contains(stderr, config) {
		t.Fatalf("demo --reset: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(config); !os.IsNotExist(err) {
		t.Errorf("the demo config file is still there: %v", err)
	}
	if out, _, _ := runTool(t, "secret-tool", "search", "--all", "service", "m365creds-demo"); strings.Contains(out, "demo/") {
		t.Errorf("demo items left in the keychain:\n%s", out)
	}
	if f := fileContaining(t, home, simulator.DemoSecretValue); f != "" {
		t.Errorf("%s holds the demo secret", f)
	}
}

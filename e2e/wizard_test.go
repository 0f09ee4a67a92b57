package e2e

import (
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// world is one test's Microsoft (the simulator), config directory and environment.
type world struct {
	t    *testing.T
	sim  *simulator.Sim
	base string
	home string
	env  []string
	port int
}

func newWorld(t *testing.T, edit func(*simulator.App)) *world {
	t.Helper()
	testkeychain.Require(t)
	binary(t)
	app := simulator.DemoApp()
	if edit != nil {
		edit(&app)
	}
	sim := simulator.New([]simulator.App{app}, nil)
	sim.SetDeviceInterval(1)
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	home := t.TempDir()
	w := &world{t: t, sim: sim, base: base, home: home, port: testport.Free()}
	w.env = []string{
		"M365CREDS_LOGIN_URL=" + base,
		"M365CREDS_GRAPH_URL=" + base,
		"M365CREDS_CONFIG_DIR=" + filepath.Join(home, "config"),
		"HOME=" + home,
		"BROWSER=" + browserScript(t),
		"TERM=xterm-256color",
		"SSH_CONNECTION=",
	}
	return w
}

// browserScript is what $BROWSER runs: it follows the sign-in address the way a consenting
// user's browser does, through the simulator's redirect to the wizard's loopback listener.
func browserScript(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is required under CI")
		}
		t.Skip("SKIP e2e: curl is not installed")
	}
	path := filepath.Join(t.TempDir(), "browser.sh")
	script := "#!/bin/sh\nexec curl -s -L -o /dev/null --max-time 20 \"$1\"\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// wizard starts `m365creds setup --port N` (the wizard, listening on a port of this test's own).
func (w *world) wizard(extra ...string) *term {
	args := append([]string{binary(w.t), "setup", "--port", strconv.Itoa(w.port)}, extra...)
	return startTerm(w.t, w.env, args...)
}

// walkToConsent types what a user copies from the portal, up to the consent step.
func (w *world) walkToConsent(tm *term, secret string) {
	tm.waitFor(`Who will sign in`, 10*time.Second)
	tm.keys("Down", "C-u") // from the first question to the profile name
	tm.typeText("e2e")
	tm.keys("Enter")
	tm.waitFor(`Register the app`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Copy the IDs`, 5*time.Second)
	enterIDs(tm)
	tm.waitFor(`paste its Value`, 5*time.Second)
	tm.paste(secret)
	tm.keys("Enter")
	tm.waitFor(`Choose the Microsoft Graph permissions`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`API permissions ›`, 5*time.Second)
	tm.keys("Enter")
}

// enterIDs pastes the IDs from the app's Overview page and moves on.
func enterIDs(tm *term) {
	tm.paste(simulator.DemoClientID)
	tm.keys("Tab")
	tm.paste(simulator.DemoTenantID)
	tm.keys("Enter")
}

func (w *world) status() (string, int) {
	out, _, code := run(w.t, w.env, "", "status")
	return out, code
}

// (a) the whole wizard, then token and status, and no secret in any file under HOME.
func TestWizardToSavedProfileThenTokenAndStatus(t *testing.T) {
	w := newWorld(t, nil)
	tm := w.wizard()
	w.walkToConsent(tm, simulator.DemoSecretValue)
	tm.waitFor(`Press enter to save`, 20*time.Second)
	screen := tm.screen()
	if !strings.Contains(screen, "Signed in as Ada Demo") {
		t.Fatalf("consent screen:\n%s", screen)
	}
	tm.keys("Enter")
	tm.waitFor(`Saved profile e2e`, 10*time.Second)
	tm.keys("Enter")
	if code := tm.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("wizard exit %d:\n%s", code, tm.screen())
	}

	token, stderr, code := run(t, w.env, "", "token", "e2e")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(token), "sim-at.") {
		t.Fatalf("token: exit %d, stdout %q, stderr %s", code, token, stderr)
	}
	out, code := w.status()
	if code != 0 || !strings.Contains(out, "e2e") || !strings.Contains(out, "ada@demo.example") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}

	// In a terminal narrower than the table, status gives each profile a block instead of
	// wrapping the table into unreadable lines.
	st := startTerm(t, w.env, binary(t), "status")
	st.waitFor(`Client ID:\s+`+simulator.DemoClientID, 10*time.Second)
	if code := st.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("status in a terminal: exit %d\n%s", code, st.screen())
	}

	// The secret and the tokens live only in the keychain.
	sec := secretsOf(t, w)
	for _, s := range []string{simulator.DemoSecretValue, sec.refresh, strings.TrimSpace(token)} {
		if s == "" {
			continue
		}
		if f := fileContaining(t, w.home, s); f != "" {
			t.Errorf("%s holds a secret", f)
		}
		if f := fileContaining(t, os.Getenv("HOME"), s); f != "" { // the keyring daemon's files are here
			t.Errorf("%s holds a secret", f)
		}
	}
}

// (b) the Secret ID instead of the Value is caught on the secret screen.
func TestSecretIDIsCaughtOnTheSecretScreen(t *testing.T) {
	w := newWorld(t, nil)
	tm := w.wizard()
	tm.waitFor(`Who will sign in`, 10*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Register the app`, 5*time.Second)
	tm.keys("Enter")
	enterIDs(tm)
	tm.waitFor(`paste its Value`, 5*time.Second)
	tm.paste(simulator.DemoSecretID)
	tm.waitFor(`This is the Secret ID`, 5*time.Second)
	tm.keys("Enter")
	s := tm.screen()
	if !strings.Contains(s, "paste its Value") {
		t.Fatalf("the wizard moved on with a Secret ID:\n%s", s)
	}
	if strings.Contains(s, simulator.DemoSecretID) {
		t.Fatalf("the pasted value is on screen:\n%s", s)
	}
}

// (c) a wrong secret: guidance on the consent screen, nothing saved.
func TestWrongSecretGetsGuidanceAndSavesNothing(t *testing.T) {
	w := newWorld(t, nil)
	tm := w.wizard()
	w.walkToConsent(tm, "wrong8Q~"+strings.Repeat("x", 32))
	tm.waitFor(`AADSTS7000215`, 15*time.Second)
	screen := tm.waitFor(`Value`, 5*time.Second)
	if !strings.Contains(screen, "What to do") {
		t.Fatalf("no guidance:\n%s", screen)
	}
	tm.keys("C-c")
	tm.waitFor(`Quit\?`, 5*time.Second)
	tm.keys("y")
	tm.exitCode(10 * time.Second)
	if out, _ := w.status(); strings.Contains(out, "e2e") {
		t.Fatalf("a profile was saved:\n%s", out)
	}
}

// (d) ctrl+c on every step leaves nothing saved and the terminal usable. Past the first step
// the wizard asks first; each step runs in a config directory of its own, so the draft one
// keeps is not offered to the next.
func TestCtrlCOnEveryStepSavesNothing(t *testing.T) {
	w := newWorld(t, nil)
	quit := func(tm *term, asks bool) {
		tm.keys("C-c")
		if asks {
			tm.waitFor(`Quit\? Your answers are kept`, 5*time.Second)
			tm.keys("y")
		}
	}
	var configDirs []string
	ownDir := func() []string { // under the parent test: the status check below needs it
		dir := filepath.Join(t.TempDir(), "config")
		configDirs = append(configDirs, dir)
		return append(w.env, "BROWSER=false", "M365CREDS_CONFIG_DIR="+dir)
	}
	stepsToWalk := []struct {
		title string
		walk  func(*term)
	}{
		{"Who will sign in", func(*term) {}},
		{"Register the app", func(tm *term) { tm.keys("Enter") }},
		{"Copy the IDs", func(tm *term) { tm.keys("Enter", "Enter") }},
		{"paste its Value", func(tm *term) {
			tm.keys("Enter", "Enter")
			enterIDs(tm)
		}},
		{"Choose the Microsoft Graph", func(tm *term) {
			tm.keys("Enter", "Enter")
			enterIDs(tm)
			tm.waitFor(`paste its Value`, 5*time.Second)
			tm.paste(simulator.DemoSecretValue)
			tm.keys("Enter")
		}},
	}
	for i, st := range stepsToWalk {
		t.Run(st.title, func(t *testing.T) {
			tm := startTerm(t, ownDir(), binary(t), "setup", "--port", strconv.Itoa(w.port))
			tm.waitFor(`Who will sign in`, 10*time.Second)
			st.walk(tm)
			tm.waitFor(st.title, 10*time.Second)
			quit(tm, i > 0)
			if code := tm.exitCode(10 * time.Second); code != 130 {
				t.Fatalf("exit %d, want 130", code)
			}
			screen := tm.screen()
			if strings.Contains(screen, st.title) {
				t.Fatalf("the wizard's screen is still up after ctrl+c:\n%s", screen)
			}
		})
	}
	t.Run("consent", func(t *testing.T) {
		tm := startTerm(t, ownDir(), binary(t), "setup", "--port", strconv.Itoa(w.port), "--no-browser")
		w.walkToConsent(tm, simulator.DemoSecretValue)
		tm.waitFor(`Waiting`, 10*time.Second)
		quit(tm, true)
		if code := tm.exitCode(10 * time.Second); code != 130 {
			t.Fatalf("exit %d, want 130", code)
		}
		// The listener is gone with the program.
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(w.port)); err != nil {
			t.Fatalf("port %d still taken after ctrl+c: %v", w.port, err)
		} else {
			l.Close()
		}
	})
	for _, dir := range configDirs {
		out, _, _ := run(t, append(w.env, "M365CREDS_CONFIG_DIR="+dir), "", "status")
		if strings.Contains(out, "e2e") || strings.Contains(out, "default") {
			t.Fatalf("ctrl+c saved a profile:\n%s", out)
		}
	}
}

// (e) the paste flow: the user copies the address the browser ended on into the wizard.
func TestPasteFlow(t *testing.T) {
	w := newWorld(t, nil)
	tm := w.wizard("--flow", "paste")
	w.walkToConsent(tm, simulator.DemoSecretValue)
	screen := tm.waitFor(`paste it here`, 15*time.Second)
	authorize := addressOnScreen(t, screen, w.base)
	// The browser's part: sign in, be redirected to a loopback address nothing answers on.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	landed := resp.Header.Get("Location")
	if !strings.Contains(landed, "code=") {
		t.Fatalf("no code in %q", landed)
	}
	tm.paste(landed)
	tm.keys("Enter")
	tm.saveAndQuit(15*time.Second, `Saved profile e2e`)
}

// (f) the device code flow: the user reads the code off the screen and enters it elsewhere.
func TestDeviceCodeFlow(t *testing.T) {
	w := newWorld(t, func(a *simulator.App) { a.PublicClient = true })
	tm := w.wizard("--flow", "device")
	tm.waitFor(`Who will sign in`, 10*time.Second)
	tm.keys("Down", "C-u") // from the first question to the profile name
	tm.typeText("e2e")
	tm.keys("Enter")
	tm.waitFor(`Allow public client flows`, 5*time.Second)
	tm.keys("Enter")
	enterIDs(tm)
	tm.waitFor(`Choose the Microsoft Graph`, 5*time.Second)
	tm.keys("Enter", "Enter")
	tm.waitFor(`Press enter to get a code`, 10*time.Second)
	tm.keys("Enter")
	screen := tm.waitFor(`enter the code`, 10*time.Second)
	code := regexp.MustCompile(`(?m)^\s+([A-Z0-9]{6,12})\s*$`).FindStringSubmatch(screen)
	if code == nil {
		t.Fatalf("no code on screen:\n%s", screen)
	}
	resp, err := http.PostForm(w.base+"/devicelogin", url.Values{"otc": {code[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tm.waitFor(`Press enter to save`, 20*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Saved profile e2e`, 10*time.Second)
	tm.keys("Enter")
	if c := tm.exitCode(10 * time.Second); c != 0 {
		t.Fatalf("exit %d", c)
	}
	if w.sim.SecretsSent("urn:ietf:params:oauth:grant-type:device_code") != 0 {
		t.Error("the device flow sent the client secret")
	}
	token, stderr, c := run(t, w.env, "", "token", "e2e")
	if c != 0 || !strings.HasPrefix(token, "sim-at.") {
		t.Fatalf("token after device flow: exit %d %s", c, stderr)
	}
}

// addressOnScreen rebuilds the sign-in address the wizard shows over several lines.
func addressOnScreen(t *testing.T, screen, base string) string {
	t.Helper()
	start := strings.Index(screen, base+"/") // the banner names base too, without a path
	if start < 0 {
		t.Fatalf("no sign-in address on screen:\n%s", screen)
	}
	var b strings.Builder
	for _, line := range strings.Split(screen[start:], "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

type storedSecrets struct{ refresh string }

// secretsOf reads the refresh token the way a person would check: with secret-tool.
func secretsOf(t *testing.T, w *world) storedSecrets {
	t.Helper()
	out, _, _ := runTool(t, "secret-tool", "search", "--all", "service", "m365creds")
	var s storedSecrets
	for _, block := range strings.Split(out, "\n[") {
		if strings.Contains(block, "refresh-token") {
			if m := regexp.MustCompile(`(?m)^secret = (.*)$`).FindStringSubmatch(block); m != nil {
				s.refresh = strings.TrimPrefix(m[1], "=")
			}
		}
	}
	return s
}

// fileContaining returns a file under dir whose bytes contain s, or "".
func fileContaining(t *testing.T, dir, s string) string {
	t.Helper()
	found := ""
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return nil
		}
		if raw, err := os.ReadFile(path); err == nil && strings.Contains(string(raw), s) {
			found = path
		}
		return nil
	})
	return found
}

// TestRotateWizard replaces the secret of a working profile the way the portal advises: a
// second secret is added, the wizard proves it with a refresh-token request (no browser),
// swaps it in, and token keeps working with it.
func TestRotateWizard(t *testing.T) {
	const newSecret = "nEw8Q~r0tat3dS3cr3tValu3ForTh3E2eT3st1ng"
	w := newWorld(t, func(a *simulator.App) {
		a.Secrets = append(a.Secrets, simulator.Secret{ID: "2b4d6f8a-0c1e-4a3b-8d5f-7e9a1c3b5d7f", Value: newSecret})
	})
	// Access tokens live one minute, less than token's five-minute margin: every token call
	// refreshes, which is what proves which secret is in use.
	w.sim.SetAccessTokenLifetime(time.Minute)
	setup := w.wizard()
	w.walkToConsent(setup, simulator.DemoSecretValue)
	setup.saveAndQuit(20*time.Second, `Saved profile e2e`)

	tm := startTerm(t, w.env, binary(t), "rotate", "e2e")
	tm.waitFor(`Add a new client secret`, 10*time.Second)
	tm.paste(newSecret)
	tm.keys("Enter")
	tm.waitFor(`The new secret works`, 15*time.Second)
	tm.keys("Enter")
	screen := tm.waitFor(`OLD secret`, 10*time.Second)
	if !strings.Contains(screen, "Credentials") {
		t.Errorf("no link to the Certificates & secrets page:\n%s", screen)
	}
	tm.keys("Enter")
	if code := tm.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("rotate exit %d:\n%s", code, tm.screen())
	}

	// From now on refreshes must use the new secret: with the old one expired, token (whose
	// cached access token is too short-lived to serve) must refresh and succeed.
	w.sim.ExpireSecret(simulator.DemoClientID, simulator.DemoSecretValue)
	before := w.sim.Count("token", "refresh_token")
	if _, stderr, code := run(t, w.env, "", "token", "e2e"); code != 0 {
		t.Fatalf("token after rotation: exit %d: %s", code, stderr)
	}
	if w.sim.Count("token", "refresh_token") != before+1 {
		t.Fatal("token did not refresh, so the new secret was not exercised")
	}
}

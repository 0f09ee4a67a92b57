package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// draftItems lists the wizard's draft items in the real keychain, the way a person would look:
// with secret-tool.
func draftItems(t *testing.T) string {
	t.Helper()
	out, _, _ := runTool(t, "secret-tool", "search", "--all", "service", "m365creds")
	var items []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "@draft/") {
			items = append(items, strings.TrimSpace(line))
		}
	}
	return strings.Join(items, "\n")
}

// (e) ctrl+c at the secret step keeps everything, the secret in the keychain only; the next
// run resumes there with the secret and finishes; then no draft is left anywhere.
func TestCtrlCKeepsTheDraftAndTheNextRunResumes(t *testing.T) {
	w := newWorld(t, nil)
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Fatal("secret-tool is needed to look into the keychain: apt-get install libsecret-tools")
	}
	draftFile := filepath.Join(w.home, "config", "draft.json")

	tm := w.wizard()
	tm.waitFor(`Who will sign in`, 10*time.Second)
	tm.keys("Down", "C-u") // from the first question to the profile name
	tm.typeText("contoso")
	tm.keys("Enter")
	tm.waitFor(`Register the app`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Copy the IDs`, 5*time.Second)
	enterIDs(tm)
	tm.waitFor(`paste its Value`, 5*time.Second)
	tm.paste(simulator.DemoSecretValue)
	tm.waitFor(`shape of a current Entra ID secret`, 5*time.Second)
	tm.keys("C-c")
	tm.waitFor(`Quit\? Your answers are kept and you can resume: y quit / n stay`, 5*time.Second)
	tm.keys("y")
	if code := tm.exitCode(10 * time.Second); code != 130 {
		t.Fatalf("exit %d, want 130:\n%s", code, tm.screen())
	}

	raw, err := os.ReadFile(draftFile)
	if err != nil {
		t.Fatalf("no draft kept: %v", err)
	}
	if !strings.Contains(string(raw), "contoso") || !strings.Contains(string(raw), simulator.DemoClientID) {
		t.Fatalf("the draft lacks what was typed:\n%s", raw)
	}
	for _, dir := range []string{w.home, os.Getenv("HOME")} { // the keyring daemon's files are under HOME
		if f := fileContaining(t, dir, simulator.DemoSecretValue); f != "" {
			t.Fatalf("%s holds the secret", f)
		}
	}
	if items := draftItems(t); items == "" {
		t.Fatal("the secret is not in the keychain as a draft item")
	}

	tm = w.wizard()
	screen := tm.waitFor(`You were at step 4 \(Secret\) for profile contoso — resume\?`, 10*time.Second)
	if strings.Contains(screen, simulator.DemoSecretValue) {
		t.Fatalf("the secret is on screen:\n%s", screen)
	}
	tm.keys("Enter")
	screen = tm.waitFor(`secret entered`, 5*time.Second)
	if strings.Contains(screen, simulator.DemoSecretValue) {
		t.Fatalf("the secret is on screen:\n%s", screen)
	}
	tm.keys("Enter")
	tm.waitFor(`Choose the Microsoft Graph permissions`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`API permissions ›`, 5*time.Second)
	tm.keys("Enter")
	tm.saveAndQuit(20*time.Second, `Saved profile contoso`)

	token, stderr, code := run(t, w.env, "", "token", "contoso")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(token), "sim-at.") {
		t.Fatalf("token: exit %d, stdout %q, stderr %s", code, token, stderr)
	}
	if _, err := os.Stat(draftFile); !os.IsNotExist(err) {
		t.Errorf("the draft file is left after saving: %v", err)
	}
	if items := draftItems(t); items != "" {
		t.Errorf("draft items are left in the keychain after saving:\n%s", items)
	}
}

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// walkCount counts what a user does on the way through the wizard: keys pressed, values
// pasted, and the screens they pass (a screen is counted each time its title changes).
type walkCount struct {
	tm                    *term
	keys, pastes, screens int
	title                 string
}

func (w *walkCount) press(keys ...string) { w.keys += len(keys); w.tm.keys(keys...) }
func (w *walkCount) paste(s string)       { w.pastes++; w.tm.paste(s) }

// at waits for pattern and counts the screen it is on, by the title under the breadcrumb.
func (w *walkCount) at(pattern string, timeout time.Duration) string {
	w.tm.t.Helper()
	screen := w.tm.waitFor(pattern, timeout)
	if title := screenTitle(screen); title != w.title {
		w.title = title
		w.screens++
	}
	return screen
}

// screenTitle is the line after the breadcrumb's rule.
func screenTitle(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "────") && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	return ""
}

// savedDemoProfile is the demo profile as its config file holds it.
func savedDemoProfile(t *testing.T, home string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(home, ".config", "m365creds", "profiles-m365creds-demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Profiles map[string]map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	p, ok := file.Profiles["demo"]
	if !ok {
		t.Fatalf("no demo profile in\n%s", raw)
	}
	return p
}

// TestDemoAutomaticPathVersusPortalWalk takes `m365creds demo` to a saved profile both ways
// and compares the effort: the automatic path creates the app through the simulated Graph
// with no portal step, in fewer screens and keys than the portal walk.
func TestDemoAutomaticPathVersusPortalWalk(t *testing.T) {
	testkeychain.Require(t)
	bin := binary(t)
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=", "M365CREDS_CONFIG_DIR=", "BROWSER=", "TERM=xterm-256color", "SSH_CONNECTION="}

	// The portal walk, as a first-time user does it.
	portal := &walkCount{tm: startTerm(t, env, bin, "demo")}
	portal.at(`Who will sign in`, 10*time.Second)
	portal.press("Enter")
	portal.at(`Register the app`, 5*time.Second)
	portal.press("Enter")
	portal.at(`Copy the IDs`, 5*time.Second)
	portal.paste(simulator.DemoClientID)
	portal.press("Tab")
	portal.paste(simulator.DemoTenantID)
	portal.press("Enter")
	portal.at(`paste its Value`, 5*time.Second)
	portal.paste(simulator.DemoSecretValue)
	portal.press("Enter")
	portal.at(`Choose the Microsoft Graph permissions`, 5*time.Second)
	portal.press("Enter")
	portal.at(`API permissions ›`, 5*time.Second)
	portal.press("Enter")
	portal.at(`Sign in once`, 10*time.Second)
	portal.at(`Press enter to save`, 30*time.Second)
	portal.press("Enter")
	portal.at(`Press enter to finish`, 10*time.Second)
	portal.press("Enter")
	if code := portal.tm.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("demo exit %d:\n%s", code, portal.tm.screen())
	}

	// The automatic path: the demo's administrator may register apps.
	auto := &walkCount{tm: startTerm(t, env, bin, "demo")}
	auto.at(`Who will sign in`, 10*time.Second)
	auto.press("Right")
	auto.tm.waitFor(`Account › Permissions › Create › Consent › Save`, 5*time.Second)
	auto.press("Enter")
	auto.at(`Choose the Microsoft Graph permissions`, 5*time.Second)
	auto.press("Enter")
	screen := auto.at(`Create the app registration through Microsoft Graph`, 5*time.Second)
	flat := strings.Join(strings.Fields(screen), " ")
	for _, want := range []string{"Microsoft Graph Command Line Tools", "14d82eec-204b-4c2f-b7e8-296a70dab67e", "Application.ReadWrite.All"} {
		if !strings.Contains(flat, want) {
			t.Errorf("before the sign-in, the screen does not say %q:\n%s", want, screen)
		}
	}
	auto.press("Enter")
	// No browser here: the demo plays it, for the sign-in to Graph and then for the new app.
	auto.tm.waitFor(`Waiting for Microsoft to know the new app`, 20*time.Second)
	screen = auto.at(`Sign in once`, 30*time.Second)
	if !strings.Contains(strings.Join(strings.Fields(screen), " "), "Created the app registration") {
		t.Errorf("the Consent step does not say what was created:\n%s", screen)
	}
	auto.at(`Press enter to save`, 30*time.Second)
	auto.press("Enter")
	screen = auto.at(`Press enter to finish`, 10*time.Second)
	if !strings.Contains(screen, "Saved profile demo") {
		t.Fatalf("not saved:\n%s", screen)
	}
	auto.press("Enter")
	if code := auto.tm.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("demo exit %d:\n%s", code, auto.tm.screen())
	}
	p := savedDemoProfile(t, home)
	if p["clientId"] == simulator.DemoClientID || p["appObjectId"] == nil || p["secretKeyId"] == nil {
		t.Errorf("the saved profile is not the app created through Graph: %v", p)
	}

	t.Logf("portal walk: %d screens, %d keys, %d pastes; automatic path: %d screens, %d keys, %d pastes",
		portal.screens, portal.keys, portal.pastes, auto.screens, auto.keys, auto.pastes)
	if auto.screens >= portal.screens || auto.keys+auto.pastes >= portal.keys+portal.pastes || auto.pastes != 0 {
		t.Errorf("the automatic path is no shorter: %d screens, %d keys, %d pastes against %d, %d, %d",
			auto.screens, auto.keys, auto.pastes, portal.screens, portal.keys, portal.pastes)
	}
	if _, stderr, code := run(t, env, "", "demo", "--reset"); code != 0 {
		t.Errorf("demo --reset: exit %d\n%s", code, stderr)
	}
}

// TestAutomaticPathRefusedLandsInThePortalWalk: a user who may not register apps is told so
// and continues in the portal walk, pre-filled with the profile name typed on step 1, then
// finishes there with the app an administrator registered.
func TestAutomaticPathRefusedLandsInThePortalWalk(t *testing.T) {
	testkeychain.Require(t)
	binary(t)
	app := simulator.DemoApp()
	sim := simulator.New([]simulator.App{app, simulator.GraphCLIApp()}, []simulator.User{simulator.DemoMember()})
	sim.SetUserTenant(simulator.DemoMemberUPN, simulator.DemoTenantID)
	// An administrator approved the sign-in app for the organisation, but turned off
	// "Users can register applications".
	sim.GrantAdminConsentIn(simulator.DemoTenantID, "14d82eec-204b-4c2f-b7e8-296a70dab67e")
	sim.SetUsersCanRegisterApps(simulator.DemoTenantID, false)
	env := append(simEnv(t, sim), "BROWSER="+browserScript(t), "TERM=xterm-256color", "SSH_CONNECTION=")
	tm := startTerm(t, env, binary(t), "setup", "--port", strconv.Itoa(testport.Free()))
	tm.waitFor(`Who will sign in`, 10*time.Second)
	tm.keys("Right", "Down", "C-u")
	tm.typeText("sales")
	tm.keys("Enter")
	tm.waitFor(`Choose the Microsoft Graph permissions`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`It asks for these Microsoft Graph permissions`, 5*time.Second)
	tm.keys("Enter")
	screen := tm.waitFor(`may not register applications`, 20*time.Second)
	if !strings.Contains(screen, "continue in the portal") {
		t.Errorf("the refusal does not offer the portal walk:\n%s", screen)
	}
	tm.keys("Enter")
	screen = tm.waitFor(`Register the app in the Azure portal`, 5*time.Second)
	if !strings.Contains(screen, "m365creds sales") || !strings.Contains(screen, "Account › Register › IDs") {
		t.Fatalf("the portal walk is not pre-filled:\n%s", screen)
	}
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
	tm.saveAndQuit(30*time.Second, `Press enter to finish`)
	out, _, code := run(t, env, "", "status")
	if code != 0 || !strings.Contains(out, "sales") {
		t.Fatalf("status after the portal walk: exit %d\n%s", code, out)
	}
}

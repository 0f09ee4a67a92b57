package tui

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

// Account

func TestAccountScreen(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.waitFor("Who will sign in")
	h.golden()
}

func TestAccountRefusesBadProfileName(t *testing.T) {
	t.Parallel()
	d := steps.NewDraft()
	d.Profile = "my profile"
	h := start(t, Options{Draft: d})
	h.waitFor("Who will sign in")
	h.send("enter")
	h.waitFor("profile names may use")
	h.golden()
}

func TestAccountChoosesDeviceCode(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.waitFor("Who will sign in")
	h.send("down", "down", "right", "down", "down", "down", "right")
	h.waitFor("public client (device code")
	m := h.golden()
	d := m.s.c.wiz.Draft
	if d.Audience != oauth.MultiTenant || d.Flow != oauth.FlowDevice {
		t.Fatalf("the choices did not reach the draft: audience %q flow %q", d.Audience, d.Flow)
	}
}

// Register

func TestRegisterScreen(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.waitFor("Who will sign in")
	h.send("enter")
	h.waitFor("Register the app")
	h.send("space", "space", "down", "down", "down")
	h.waitFor("Redirect URI: value")
	h.golden()
}

// TestRegisterCopiesWithOSC52 checks that c sends the highlighted value to the terminal's
// clipboard (OSC 52), which works over SSH too.
func TestRegisterCopiesWithOSC52(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.waitFor("Who will sign in")
	h.send("enter")
	h.waitFor("Register the app")
	h.send("down", "down", "down", "down", "down", "c") // Redirect URI: value
	h.waitFor("Copied Redirect URI: value")
	want := []byte("\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte("http://localhost:53365/")))
	teatest.WaitFor(t, h.tm.Output(), func(out []byte) bool { return bytes.Contains(out, want) },
		teatest.WithDuration(5*time.Second))
	h.final()
}

func TestRegisterDemo(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft(), Demo: shownDemo()})
	h.waitFor("Who will sign in")
	h.send("enter")
	h.waitFor("The simulated portal shows")
	h.golden()
}

// IDs

func TestIDsEmpty(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.golden()
}

func TestIDsValidatedAsTyped(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.typeText("0f3e9c2a-7b41-zzzz")
	h.send("tab")
	h.paste("  " + simulator.DemoTenantID + "\n")
	h.waitFor("looks like a tenant ID")
	h.golden()
}

func TestIDsValid(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.paste(simulator.DemoClientID)
	h.send("tab")
	h.paste(simulator.DemoTenantID)
	h.waitFor("looks like a tenant ID")
	h.golden()
}

func TestIDsRefusesMissingTenant(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.paste(simulator.DemoClientID)
	h.send("enter")
	h.waitFor("through the shared endpoints")
	h.golden()
}

// Secret

// secretAt starts a new-profile run and walks to the secret step.
func secretAt(t *testing.T, opts Options) *harness {
	d := readyDraft()
	d.ClientSecret, d.SecretExpires = "", zeroTime
	opts.Draft = d
	h := start(t, opts)
	h.waitFor("Who will sign in")
	h.send("enter", "enter", "enter")
	h.waitFor("Create a client secret")
	return h
}

func TestSecretIDWarning(t *testing.T) {
	t.Parallel()
	h := secretAt(t, Options{})
	h.paste(simulator.DemoSecretID)
	h.waitFor("This is the Secret ID")
	h.golden()
}

func TestSecretIsMasked(t *testing.T) {
	t.Parallel()
	h := secretAt(t, Options{})
	h.paste(simulator.DemoSecretValue)
	screen := h.waitFor("current Entra ID secret")
	if strings.Contains(screen, simulator.DemoSecretValue) {
		t.Fatal("the secret is on screen while typing")
	}
	h.send("ctrl+r")
	if s := h.waitFor(simulator.DemoSecretValue[:10]); !strings.Contains(s, simulator.DemoSecretValue) {
		t.Fatal("ctrl+r should reveal the secret while typing")
	}
	h.send("ctrl+r")
	h.waitFor("••••••••••")
	h.golden()
}

func TestSecretRotateTypedDate(t *testing.T) {
	t.Parallel()
	d := readyDraft()
	d.ClientSecret = ""
	h := start(t, Options{Draft: d, Mode: steps.ModeRotate})
	h.waitFor("Add a new client secret")
	h.send("tab", "tab")
	for range 10 {
		h.send("backspace")
	}
	h.typeText("2026-01-31")
	h.waitFor("not in the future")
	h.golden()
}

// TestSecretNeverShownAgain leaves the step with the secret revealed, comes back, and finds
// neither the secret nor its masked length on screen.
func TestSecretNeverShownAgain(t *testing.T) {
	t.Parallel()
	h := secretAt(t, Options{})
	h.paste(simulator.DemoSecretValue)
	h.send("ctrl+r")
	h.waitFor(simulator.DemoSecretValue)
	h.send("enter")
	h.waitFor("Choose the Microsoft Graph permissions")
	h.send("esc")
	screen := h.waitFor("secret entered")
	if strings.Contains(screen, simulator.DemoSecretValue) || strings.Contains(screen, "••") {
		t.Fatalf("the secret (or its masked length) is back on screen:\n%s", screen)
	}
	m, _ := h.final()
	if m.s.c.wiz.Draft.ClientSecret != simulator.DemoSecretValue {
		t.Fatal("coming back must keep the secret entered before")
	}
}

// Permissions

func permissionsAt(t *testing.T, d steps.Draft) *harness {
	h := start(t, Options{Draft: d, Mode: steps.ModeReconsent})
	h.waitFor("Choose the Microsoft Graph permissions")
	return h
}

func TestPermissionsTable(t *testing.T) {
	t.Parallel()
	h := permissionsAt(t, readyDraft())
	h.send("1", "2", "down", "down", "down", "down")
	h.waitFor("Added preset mail-read")
	h.golden()
}

func TestPermissionsFiltered(t *testing.T) {
	t.Parallel()
	h := permissionsAt(t, readyDraft())
	h.typeText("mail.")
	h.waitFor("Filter: mail.")
	h.golden()
}

func TestPermissionsNoMatch(t *testing.T) {
	t.Parallel()
	h := permissionsAt(t, readyDraft())
	h.typeText("zzz")
	h.waitFor("No permission matches")
	h.golden()
}

func TestPermissionsOfflineAccessWarning(t *testing.T) {
	t.Parallel()
	h := permissionsAt(t, readyDraft())
	h.send("space") // the first row is offline_access, ticked by default
	h.waitFor("no refresh token")
	h.golden()
}

func TestPermissionsPersonalAccountsMarked(t *testing.T) {
	t.Parallel()
	d := readyDraft()
	d.Audience = oauth.PersonalOnly
	h := permissionsAt(t, d)
	h.typeText("sites")
	h.waitFor("✗ no")
	h.golden()
}

func TestPermissionsPresetRow(t *testing.T) {
	t.Parallel()
	h := permissionsAt(t, readyDraft())
	h.send("up", "left", "space")
	h.waitFor("Added preset office")
	m := h.golden()
	office, _ := assets.PresetByName("office")
	for _, scope := range office.Scopes {
		if !m.s.c.wiz.Draft.HasScope(scope) {
			t.Fatalf("the last preset was not applied: %v", m.s.c.wiz.Draft.Scopes)
		}
	}
}

func TestPermissionsScrollsToTheEnd(t *testing.T) {
	t.Parallel()
	h := permissionsAt(t, readyDraft())
	for range 10 {
		h.send("pgdown")
	}
	h.send("space")
	h.waitFor("3 selected")
	m, screen := h.final()
	rows := m.s.screens[steps.Permissions].(*permissionsScreen).rows
	last := rows[len(rows)-1].Scope
	if !strings.Contains(screen, "[x] "+last) {
		t.Fatalf("the last row %s is not on screen and ticked:\n%s", last, screen)
	}
}

func TestPermissionsPortalInstruction(t *testing.T) {
	t.Parallel()
	h := permissionsAt(t, readyDraft())
	h.send("6")
	h.waitFor("Added preset") // the notice arrives by itself; wait so enter clears it every time
	h.send("enter")
	h.waitFor("API permissions ›")
	h.golden()
}

// TestPermissionsWide re-flows the table for a wide terminal: a "needed for" column appears.
func TestPermissionsWide(t *testing.T) {
	t.Parallel()
	h := startSized(t, Options{Draft: readyDraft(), Mode: steps.ModeReconsent}, 120, 40)
	h.waitFor("NEEDED FOR")
	h.golden()
}

// Help and demo

// TestHelpOverlay: the help scrolls to the key list at 80x24; any other key closes it.
func TestHelpOverlay(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter")
	h.waitFor("Register the app")
	h.send("?")
	h.waitFor("About this step")
	h.send("pgdown", "pgdown") // the step's text comes first; the keys are below it
	h.waitFor("any other key closes")
	h.golden()
}

// shownDemo is the demo with a stand-in for the secret Value the simulated portal shows, so
// no golden file holds the simulator's real demo secret.
func shownDemo() *Demo {
	return &Demo{ClientID: simulator.DemoClientID, TenantID: simulator.DemoTenantID, SecretValue: "<the demo secret Value>", SecretID: simulator.DemoSecretID}
}

func TestDemoBanner(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft(), Demo: shownDemo()})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.golden()
}

// Home

func homeProfiles() []keyring.Profile {
	return []keyring.Profile{
		{Name: "contoso", Account: "ada@contoso.com", Kind: oauth.KindWeb, Tenant: "contoso.com", SecretExpires: frozen.AddDate(0, 0, 23), LastRefresh: frozen.AddDate(0, 0, -2), GrantedScopes: []string{"User.Read", "Mail.Send"}},
		{Name: "fabrikam", Account: "bob@fabrikam.com", Kind: oauth.KindWeb, Tenant: "fabrikam.com", SecretExpires: frozen.AddDate(0, 0, -3), RequestedScopes: []string{"User.Read"}},
		{Name: "kiosk", Kind: oauth.KindPublic, Tenant: "organizations", RequestedScopes: []string{"User.Read"}},
		{Name: "legacy", Account: "ops@legacy.example", Kind: oauth.KindWeb, Tenant: "legacy.example", RequestedScopes: []string{"User.Read"}},
	}
}

func TestHomeNewStartsTheWizard(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Profiles: homeProfiles(), Draft: steps.NewDraft()})
	h.waitFor("Your profiles")
	h.send("n")
	h.waitFor("Who will sign in")
	h.final()
}

// Consent

// consentAt starts the wizard at the consent step of a re-consent run with the demo app.
func consentAt(t *testing.T, d steps.Draft, opts Options) *harness {
	opts.Draft, opts.Mode = d, steps.ModeReconsent
	h := start(t, opts)
	if steps.New(opts.Mode, d).Current() == steps.Consent {
		return h // app-only profiles have no permission table: they start at consent
	}
	h.waitFor("Choose the Microsoft Graph permissions")
	h.send("enter", "enter")
	return h
}

// signInAddress reads the sign-in address off the screen, where it is wrapped over lines.
func signInAddress(t *testing.T, screen string) string {
	t.Helper()
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.Contains(l, "sign in") {
			var u strings.Builder
			for _, part := range lines[i+1:] {
				if part = strings.TrimSpace(part); part == "" {
					break
				}
				u.WriteString(part)
			}
			return u.String()
		}
	}
	t.Fatalf("no sign-in address on screen:\n%s", screen)
	return ""
}

// urlPieces is how an address too long for one line appears on screen: cut into lines of
// exactly the terminal's width, from the first column, with nothing added.
func urlPieces(u string, width int) string {
	var lines []string
	for len(u) > width {
		lines = append(lines, u[:width])
		u = u[width:]
	}
	return strings.Join(append(lines, u), "\n")
}

// goldenWithAddress compares the screen with the sign-in address (random state, PKCE
// challenge) and the port replaced, after checking that the whole address is on screen.
func goldenWithAddress(t *testing.T, h *harness, port int) {
	t.Helper()
	m, screen := h.final()
	req := m.s.screens[steps.Consent].(*consentScreen).signIn
	shown := urlPieces(req.URL, h.width)
	if !strings.Contains(screen, "\n"+shown+"\n") {
		t.Fatalf("the whole sign-in address is not on screen, in lines of the terminal's width:\n%s", screen)
	}
	screen = strings.ReplaceAll(screen, shown, "<the sign-in address>")
	screen = strings.ReplaceAll(screen, strconv.Itoa(port), "PORT")
	golden.RequireEqual(t, []byte(screen+"\n"))
}

func TestConsentWaitingForBrowser(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("Waiting…")
	goldenWithAddress(t, h, d.Port)
}

func TestConsentSecretCheckFails(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	d.ClientSecret = "wrong8Q~" + strings.Repeat("x", 32)
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("7000215")
	h.golden()
}

func TestConsentBrowserFlowSucceedsWithAScopeWithheld(t *testing.T) {
	t.Parallel()
	sim(t, func(a *simulator.App) { a.WithheldScopes = []string{"Mail.Send"} })
	d := readyDraft()
	d.Scopes = []string{"User.Read", "offline_access", "Mail.Send"}
	h := consentAt(t, d, Options{NoBrowser: true, Demo: &Demo{SimulateBrowser: browser()}})
	h.waitFor("Waiting…")
	h.send("s")
	h.waitFor("Press enter to save")
	h.golden()
}

// TestConsentDemoPlaysTheBrowser: in the demo, when no browser opens ($BROWSER is "false"
// in these tests), the simulated browser signs in by itself.
func TestConsentDemoPlaysTheBrowser(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	h := consentAt(t, readyDraft(), Options{Demo: &Demo{SimulateBrowser: browser()}})
	h.waitFor("Press enter to save")
	h.final()
}

func TestConsentPasteFlow(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	d.Flow = oauth.FlowPaste
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("paste it here")
	goldenWithAddress(t, h, d.Port)
}

func TestConsentPasteFlowSucceeds(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	d.Flow = oauth.FlowPaste
	h := consentAt(t, d, Options{NoBrowser: true})
	screen := h.waitFor("paste it here")
	h.paste("\n  " + remoteBrowser(t, signInAddress(t, screen)) + "\n")
	h.send("enter")
	h.waitFor("Signed in as Ada Demo")
	h.final()
}

func TestConsentPasteWrongState(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	d.Flow = oauth.FlowPaste
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("paste it here")
	h.paste("http://localhost/?code=abc&state=not-the-one")
	h.send("enter")
	h.waitFor("older or different sign-in")
	h.golden()
}

func TestConsentDeviceCodeShown(t *testing.T) {
	t.Parallel()
	s := sim(t, func(a *simulator.App) { a.PublicClient = true })
	s.SetDeviceApproval(1 << 20) // stays pending
	d := readyDraft()
	d.Flow = oauth.FlowDevice
	d.ClientSecret = ""
	h := consentAt(t, d, Options{})
	h.waitFor("Allow public client flows")
	h.send("enter")
	h.waitFor("enter the code")
	m, screen := h.final()
	code := m.s.screens[steps.Consent].(*consentScreen).dc.UserCode
	if !strings.Contains(screen, code) {
		t.Fatalf("the user code %s is not on screen", code)
	}
	screen = strings.ReplaceAll(screen, code, "<USER CODE>")
	screen = strings.ReplaceAll(screen, simBase(t), "<simulator>")
	golden.RequireEqual(t, []byte(screen+"\n"))
}

func TestConsentDeviceCode(t *testing.T) {
	t.Parallel()
	sim(t, func(a *simulator.App) { a.PublicClient = true })
	d := readyDraft()
	d.Flow = oauth.FlowDevice
	d.ClientSecret = ""
	h := consentAt(t, d, Options{})
	h.waitFor("Allow public client flows")
	h.send("enter")
	h.waitFor("Press enter to save")
	h.golden()
}

func TestConsentAppPermissions(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	d.Flow = oauth.FlowApp
	d.Tenant = simulator.DemoTenantID
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("Got an app-only token")
	m, screen := h.final()
	link := urlPieces(m.s.c.opts.Engine.AdminConsentURL(m.s.c.wiz.Draft), h.width)
	if !strings.Contains(screen, link) {
		t.Fatalf("the whole admin consent link is not on screen:\n%s", screen)
	}
	screen = strings.ReplaceAll(screen, link, "<the admin consent link>")
	golden.RequireEqual(t, []byte(screen+"\n"))
}

func TestConsentPickMicrosoftError(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	h := consentAt(t, readyDraft(), Options{NoBrowser: true})
	h.waitFor("Waiting…")
	h.send("e")
	h.waitFor("Which error did Microsoft show")
	h.send("p")
	h.paste("AADSTS50011: The redirect URI 'http://localhost:53365/' specified in the request does not match the redirect URIs configured for the application.")
	h.send("enter")
	h.waitFor("50011")
	h.golden()
}

func TestConsentPickFromTheList(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	h := consentAt(t, readyDraft(), Options{NoBrowser: true})
	h.waitFor("Waiting…")
	h.send("e")
	h.waitFor("Which error did Microsoft show")
	h.golden()
}

// TestConsentErrorGoesBack: enter on a failure goes to the step the guidance names.
func TestConsentErrorGoesBack(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	h := start(t, Options{Draft: readyDraft(), NoBrowser: true})
	h.waitFor("Who will sign in")
	h.send("enter", "enter", "enter", "enter", "enter", "enter") // Account … Permissions, portal list
	h.waitFor("Waiting…")
	h.send("e", "p")
	h.paste("AADSTS7000215: Invalid client secret provided.")
	h.send("enter")
	h.waitFor("go back to the Secret step")
	h.send("enter")
	h.waitFor("Create a client secret")
	h.final()
}

// TestConsentEscCancels: esc while waiting stops the listener, so the port is free again.
func TestConsentEscCancels(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("Waiting…")
	h.send("esc")
	h.waitFor("Choose the Microsoft Graph permissions")
	var err error
	for range 250 { // closing is asynchronous (a Cmd)
		var lb *oauth.Loopback
		if lb, err = oauth.ListenLoopback(d.Port); err == nil {
			_ = lb.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the listener still holds port %d after esc: %v", d.Port, err)
	}
	h.final()
}

func TestConsentPortInUse(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	taken, err := oauth.ListenLoopback(d.Port)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	h := consentAt(t, d, Options{NoBrowser: true, Demo: &Demo{SimulateBrowser: browser()}})
	h.waitFor("Port " + strconv.Itoa(d.Port) + " is taken")
	h.send("s")
	h.waitFor("Press enter to save")
	h.final()
}

// fixedDir is an empty directory under /tmp whose name has the same length on every run, so
// paths on screen wrap the same way in golden files. Its random part is replaced by XXXXXXXX
// before screens are compared, so tests can run in parallel.
func fixedDir(t *testing.T, name string) string {
	t.Helper()
	if fi, err := os.Stat("/tmp"); err != nil || !fi.IsDir() {
		t.Skip("needs /tmp for a path that is the same on every machine")
	}
	for {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		dir := filepath.Join("/tmp", name+"-"+hex.EncodeToString(b))
		err := os.Mkdir(dir, 0o700)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		pathsOf.Store(t, hex.EncodeToString(b))
		return dir
	}
}

// pathsOf holds, per test, the random part of the directory fixedDir made.
var pathsOf sync.Map

// fixedDirOf is the directory fixedDir(t, name) made.
func fixedDirOf(t *testing.T, name string) string {
	v, ok := pathsOf.Load(t)
	if !ok {
		t.Fatal("fixedDir was not called for this test")
	}
	return filepath.Join("/tmp", name+"-"+v.(string))
}

// stablePaths replaces the random part of the test's fixedDir path, also where a wrapped path
// puts it on a line of its own.
func stablePaths(t *testing.T, screen string) string {
	if v, ok := pathsOf.Load(t); ok {
		screen = strings.ReplaceAll(screen, v.(string), "XXXXXXXX")
	}
	return screen
}

// brokenStore is a store whose secrets file cannot be written: its path is a directory.
func brokenStore(t *testing.T) *keyring.Store {
	dir := fixedDir(t, "m365creds-tui-broken")
	st := fileStore(t, dir)
	secrets := filepath.Join(dir, "secrets-m365creds-test-tui.json")
	_ = os.Remove(secrets)
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConsentKeychainBroken(t *testing.T) {
	t.Parallel()
	s := sim(t, nil)
	store := brokenStore(t)
	h := consentAt(t, readyDraft(), Options{NoBrowser: true, Engine: &creds.Service{Store: store}})
	h.waitFor("The keychain does not work")
	h.golden()
	if n := s.Count("token", "") + s.Count("authorize", ""); n != 0 {
		t.Fatalf("%d requests reached Microsoft before the keychain worked", n)
	}
}

// Save

func TestSaveSucceeds(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	store := fileStore(t, fixedDir(t, "m365creds-tui-save"))
	h := consentAt(t, readyDraft(), Options{NoBrowser: true, Engine: &creds.Service{Store: store}, Demo: &Demo{SimulateBrowser: browser()}})
	h.waitFor("Waiting…")
	h.send("s")
	h.waitFor("Press enter to save")
	h.send("enter")
	h.waitFor("Saved profile")
	m := h.golden()
	if m.s.screens[steps.Save].(*saveScreen).saved == nil {
		t.Fatal("no saved profile")
	}
	sec, err := store.Secrets(t.Context(), "work")
	if err != nil || sec.ClientSecret != simulator.DemoSecretValue || sec.RefreshToken == "" {
		t.Fatalf("saved secrets wrong: %v", err)
	}
}

// TestSaveInMemoryDemo is the demo where no keychain works: the profile is kept in memory,
// and the Save screen says so, why, and what the real wizard needs.
func TestSaveInMemoryDemo(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	store, err := keyring.Open(keyring.Options{Service: "m365creds-test-tui", ConfigDir: t.TempDir(), Backend: keyring.BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	noKeychain := &keyring.UnavailableError{Reason: "there is no D-Bus session (common over SSH and in containers)", Err: errors.New("dbus")}
	h := consentAt(t, readyDraft(), Options{NoBrowser: true, Engine: &creds.Service{Store: store}, Demo: &Demo{SimulateBrowser: browser(), NoKeychain: noKeychain}})
	h.waitFor("Waiting…")
	h.send("s")
	h.waitFor("Press enter to save")
	h.send("enter")
	h.waitFor("Saved profile")
	screen := h.waitFor("Press enter to finish")
	for _, want := range []string{"no D-Bus session", "kept in memory and is gone when the demo ends", "gnome-keyring", "--store file"} {
		if !strings.Contains(strings.Join(strings.Fields(screen), " "), want) {
			t.Errorf("the Save screen does not say %q:\n%s", want, screen)
		}
	}
	h.golden()
	if sec, err := store.Secrets(t.Context(), "work"); err != nil || sec.RefreshToken == "" {
		t.Fatalf("the in-memory store lost the profile: %v", err)
	}
}

// TestSaveFails breaks the store after the probe: the save fails, nothing is written.
func TestSaveFails(t *testing.T) {
	t.Parallel()
	h, store, _ := saveBrokenAfterProbe(t)
	h.waitFor("Saving failed")
	if list, _ := store.List(); len(list) != 0 {
		t.Fatalf("a failed save left profiles behind: %v", list)
	}
	h.golden()
}

// TestSaveRetry repairs the store after a failed save and saves with r.
func TestSaveRetry(t *testing.T) {
	t.Parallel()
	h, store, secrets := saveBrokenAfterProbe(t)
	h.waitFor("Saving failed")
	if err := os.Remove(secrets); err != nil {
		t.Fatal(err)
	}
	h.send("r")
	h.waitFor("Saved profile")
	h.final()
	if _, err := store.Profile("work"); err != nil {
		t.Fatal(err)
	}
}

// saveBrokenAfterProbe signs in with a working store, breaks it, then presses enter to save.
func saveBrokenAfterProbe(t *testing.T) (*harness, *keyring.Store, string) {
	sim(t, nil)
	dir := fixedDir(t, "m365creds-tui-broken")
	store := fileStore(t, dir)
	h := consentAt(t, readyDraft(), Options{NoBrowser: true, Engine: &creds.Service{Store: store}, Demo: &Demo{SimulateBrowser: browser()}})
	h.waitFor("Waiting…")
	h.send("s")
	h.waitFor("Press enter to save")
	secrets := filepath.Join(dir, "secrets-m365creds-test-tui.json")
	_ = os.Remove(secrets)
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	h.send("enter")
	return h, store, secrets
}

// TestConsentOverSSH leads with the paste flow on a remote shell, prints the tunnel command,
// and opens no browser.
func TestConsentOverSSH(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	d := readyDraft()
	h := consentAt(t, d, Options{Engine: &creds.Service{Remote: &creds.RemoteShell{User: "ada", Host: "192.0.2.20"}}})
	h.waitFor("paste it here")
	h.waitFor("ssh -L")
	goldenWithAddress(t, h, d.Port)
}

// TestConsentTimesOut lets the clock pass the consent timeout while waiting for the browser.
func TestConsentTimesOut(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	var mu sync.Mutex
	clock := frozen
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	h := consentAt(t, readyDraft(), Options{NoBrowser: true, Now: now, ConsentTimeout: 2 * time.Second})
	h.waitFor("0:02 left")
	mu.Lock()
	clock = clock.Add(2 * time.Second)
	mu.Unlock()
	h.waitFor("✗") // the engine gives up at the deadline
	h.golden()
}

// TestConsentOverSSHSaysWhatToReplace: when the SSH session does not tell the user or the
// host, the tunnel command has placeholders and the screen says to replace them.
func TestConsentOverSSHSaysWhatToReplace(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	h := consentAt(t, readyDraft(), Options{Engine: &creds.Service{Remote: &creds.RemoteShell{}}})
	screen := h.waitFor("ssh -L")
	if !strings.Contains(screen, "USER@THIS-HOST") || !strings.Contains(screen, "Replace what is in capitals") {
		t.Errorf("screen:\n%s", screen)
	}
	h.final()
}

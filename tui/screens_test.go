package tui

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

func TestAccountScreen(t *testing.T) {
	h := start(t, Options{Draft: steps.NewDraft()})
	h.waitFor("Who will sign in")
	h.golden()
}

func TestAccountRefusesBadProfileName(t *testing.T) {
	d := steps.NewDraft()
	d.Profile = "my profile"
	h := start(t, Options{Draft: d})
	h.waitFor("Who will sign in")
	h.send("enter")
	h.waitFor("profile names may use")
	h.golden()
}

func TestRegisterScreen(t *testing.T) {
	h := start(t, Options{Draft: steps.NewDraft()})
	h.waitFor("Who will sign in")
	h.send("enter")
	h.waitFor("Register the app")
	h.send("space", "space", "down", "down", "down")
	h.waitFor("Redirect URI: value")
	h.golden()
}

func TestIDsEmpty(t *testing.T) {
	w := steps.New(steps.ModeNew, steps.NewDraft())
	h := start(t, Options{Draft: w.Draft})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.golden()
}

func TestIDsValidatedAsTyped(t *testing.T) {
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.typeText("0f3e9c2a-7b41-zzzz")
	h.send("tab")
	h.paste("  " + simulator.DemoTenantID + "\n")
	h.waitFor("looks like a tenant ID")
	h.golden()
}

func TestIDsRefusesMissingTenant(t *testing.T) {
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter", "enter")
	h.waitFor("Copy the IDs")
	h.paste(simulator.DemoClientID)
	h.send("enter")
	h.waitFor("through the shared endpoints")
	h.golden()
}

func TestSecretIDWarning(t *testing.T) {
	d := readyDraft()
	d.ClientSecret = ""
	h := start(t, Options{Draft: d, Mode: steps.ModeRotate})
	h.waitFor("Add a new client secret")
	h.paste(simulator.DemoSecretID)
	h.waitFor("This is the Secret ID")
	h.golden()
}

func TestSecretIsMasked(t *testing.T) {
	d := readyDraft()
	d.ClientSecret = ""
	h := start(t, Options{Draft: d, Mode: steps.ModeRotate})
	h.waitFor("Add a new client secret")
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
	h.golden()
}

func permissionsAt(t *testing.T, d steps.Draft) *harness {
	h := start(t, Options{Draft: d, Mode: steps.ModeReconsent})
	h.waitFor("Choose the Microsoft Graph permissions")
	return h
}

func TestPermissionsTable(t *testing.T) {
	h := permissionsAt(t, readyDraft())
	h.send("1", "2", "down", "down", "down", "down")
	h.waitFor("Added preset mail-read")
	h.golden()
}

func TestPermissionsFiltered(t *testing.T) {
	h := permissionsAt(t, readyDraft())
	h.typeText("mail.")
	h.waitFor("Filter: mail.")
	h.golden()
}

func TestPermissionsNoMatch(t *testing.T) {
	h := permissionsAt(t, readyDraft())
	h.typeText("zzz")
	h.waitFor("No permission matches")
	h.golden()
}

func TestPermissionsOfflineAccessWarning(t *testing.T) {
	h := permissionsAt(t, readyDraft())
	h.send("space") // the first row is offline_access, ticked by default
	h.waitFor("no refresh token")
	h.golden()
}

func TestPermissionsPersonalAccountsMarked(t *testing.T) {
	d := readyDraft()
	d.Audience = oauth.PersonalOnly
	h := permissionsAt(t, d)
	h.typeText("sites")
	h.waitFor("work only")
	h.golden()
}

func TestPermissionsPortalInstruction(t *testing.T) {
	h := permissionsAt(t, readyDraft())
	h.send("6", "enter")
	h.waitFor("API permissions ›")
	h.golden()
}

func TestHelpOverlay(t *testing.T) {
	h := start(t, Options{Draft: steps.NewDraft()})
	h.send("enter")
	h.waitFor("Register the app")
	h.send("?")
	h.waitFor("Keys")
	h.golden()
}

func TestDemoBanner(t *testing.T) {
	demo := &Demo{ClientID: simulator.DemoClientID, TenantID: simulator.DemoTenantID, SecretValue: simulator.DemoSecretValue, SecretID: simulator.DemoSecretID}
	h := start(t, Options{Draft: steps.NewDraft(), Demo: demo})
	h.send("enter", "enter")
	h.waitFor("The simulated portal shows")
	h.golden()
}

func TestHomeScreen(t *testing.T) {
	profiles := []keyring.Profile{
		{Name: "contoso", Account: "ada@contoso.com", Kind: oauth.KindWeb, Tenant: "contoso.com", SecretExpires: frozen.AddDate(0, 0, 23), LastRefresh: frozen.AddDate(0, 0, -2), GrantedScopes: []string{"User.Read", "Mail.Send"}},
		{Name: "fabrikam", Account: "bob@fabrikam.com", Kind: oauth.KindWeb, Tenant: "fabrikam.com", SecretExpires: frozen.AddDate(0, 0, -3), RequestedScopes: []string{"User.Read"}},
		{Name: "kiosk", Kind: oauth.KindPublic, Tenant: "organizations", RequestedScopes: []string{"User.Read"}},
	}
	h := start(t, Options{Profiles: profiles, Draft: steps.NewDraft()})
	h.send("down")
	h.waitFor("fabrikam")
	h.golden()
}

func TestHomeActionsEndWithAResult(t *testing.T) {
	profiles := []keyring.Profile{{Name: "a", Kind: oauth.KindWeb}, {Name: "b", Kind: oauth.KindWeb}}
	for _, tt := range []struct{ key, action string }{{"r", "rotate"}, {"p", "reconsent"}, {"v", "verify"}, {"d", "delete"}} {
		h := start(t, Options{Profiles: profiles, Draft: steps.NewDraft()})
		h.send("down", tt.key)
		m := h.tm.FinalModel(t).(Model) // the action ends the program by itself
		if m.s.result.Action != tt.action || m.s.result.Profile != "b" {
			t.Errorf("key %s: result %+v", tt.key, m.s.result)
		}
	}
}

// consentAt starts the wizard at the consent step of a re-consent run with the demo app.
func consentAt(t *testing.T, d steps.Draft, opts Options) *harness {
	opts.Draft, opts.Mode = d, steps.ModeReconsent
	h := start(t, opts)
	h.waitFor("Choose the Microsoft Graph permissions")
	h.send("enter", "enter")
	return h
}

func TestConsentWaitingForBrowser(t *testing.T) {
	sim(t, nil)
	d := readyDraft()
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("Waiting for it")
	m, screen := h.final()
	req := m.s.screens[steps.Consent].(*consentScreen).req
	shown := " " + strings.ReplaceAll(wrapURL(req.URL, 78), "\n", "\n ")
	if !strings.Contains(screen, shown) {
		t.Fatalf("the whole sign-in address is not on screen:\n%s", screen)
	}
	screen = strings.ReplaceAll(screen, shown, " <the sign-in address>")
	screen = strings.ReplaceAll(screen, strconv.Itoa(d.Port), "PORT")
	golden.RequireEqual(t, []byte(screen+"\n"))
}

func TestConsentSecretCheckFails(t *testing.T) {
	sim(t, nil)
	d := readyDraft()
	d.ClientSecret = "wrong8Q~" + strings.Repeat("x", 32)
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("7000215")
	h.golden()
}

func TestConsentBrowserFlowSucceedsWithAScopeWithheld(t *testing.T) {
	sim(t, func(a *simulator.App) { a.WithheldScopes = []string{"Mail.Send"} })
	d := readyDraft()
	d.Scopes = []string{"User.Read", "offline_access", "Mail.Send"}
	d.Port = freePort(t)
	h := consentAt(t, d, Options{NoBrowser: true, Demo: &Demo{SimulateBrowser: browser(t)}})
	h.waitFor("Waiting for it")
	h.send("s")
	h.waitFor("Press enter to save")
	h.golden()
}

func TestConsentPasteFlow(t *testing.T) {
	sim(t, nil)
	d := readyDraft()
	d.Flow = oauth.FlowPaste
	h := consentAt(t, d, Options{NoBrowser: true})
	h.waitFor("paste it here")
	h.paste("http://localhost/?code=abc&state=not-the-one")
	h.send("enter")
	h.waitFor("state")
	h.golden()
}

func TestConsentDeviceCode(t *testing.T) {
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

func TestConsentPickMicrosoftError(t *testing.T) {
	sim(t, nil)
	h := consentAt(t, readyDraft(), Options{NoBrowser: true})
	h.waitFor("Waiting for it")
	h.send("e")
	h.waitFor("Which error did Microsoft show")
	h.send("p")
	h.paste("AADSTS50011: The redirect URI 'http://localhost:53365/' specified in the request does not match the redirect URIs configured for the application.")
	h.send("enter")
	h.waitFor("50011")
	h.golden()
}

func TestSaveSucceeds(t *testing.T) {
	sim(t, nil)
	// A fixed directory keeps the paths in the summary, and so the golden file, stable.
	dir := filepath.Join(os.TempDir(), "m365creds-tui-save")
	os.RemoveAll(dir)
	t.Cleanup(func() { os.RemoveAll(dir) })
	store, err := keyring.Open(keyring.Options{Service: "m365creds-test-tui", ConfigDir: dir, Backend: keyring.BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	d := readyDraft()
	h := consentAt(t, d, Options{NoBrowser: true, Store: store, Demo: &Demo{SimulateBrowser: browser(t)}})
	h.waitFor("Waiting for it")
	h.send("s")
	h.waitFor("Press enter to save")
	h.send("enter")
	h.waitFor("Saved profile")
	h.goldenFrame()
	h.send("enter") // finishing redraws once more, then ends the program with the result
	m := h.tm.FinalModel(t).(Model)
	if m.s.result.Saved == nil || m.s.result.Saved.Name != "work" {
		t.Fatalf("result = %+v", m.s.result)
	}
	sec, err := store.Secrets(t.Context(), "work")
	if err != nil || sec.ClientSecret != simulator.DemoSecretValue || sec.RefreshToken == "" {
		t.Fatalf("saved secrets wrong: %v", err)
	}
}

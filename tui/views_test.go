package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

// viewCase is one screen of the wizard, reached with the keys a user would press.
type viewCase struct {
	name  string
	opts  func(t *testing.T) Options
	drive func(h *harness)
	// fix replaces what varies between runs (addresses with random state, codes, ports).
	fix func(t *testing.T, m Model, screen string, width int) string
}

// viewSizes are the terminals every screen is drawn in: the smallest supported and a common
// larger one.
var viewSizes = [][2]int{{80, 24}, {100, 30}}

// TestScreens draws every screen at 80x24 and 100x30, with and without colour (NO_COLOR),
// and compares each with its golden file. The harness checks that each fits its terminal.
func TestScreens(t *testing.T) {
	t.Parallel()
	for _, vc := range viewCases() {
		for _, size := range viewSizes {
			for _, noColor := range []bool{false, true} {
				name := vc.name + "/" + strconv.Itoa(size[0]) + "x" + strconv.Itoa(size[1]) + "-" + map[bool]string{false: "colour", true: "nocolour"}[noColor]
				t.Run(name, func(t *testing.T) {
					opts := vc.opts(t)
					opts.NoColor = noColor
					h := startSized(t, opts, size[0], size[1])
					vc.drive(h)
					m, screen := h.final()
					if vc.fix != nil {
						screen = vc.fix(t, m, screen, size[0])
					}
					screen = strings.ReplaceAll(screen, strconv.Itoa(m.s.c.wiz.Draft.Port), "PORT")
					screen = volatileRE.ReplaceAllString(screen, "${1}<varies>")
					golden.RequireEqual(t, []byte(screen+"\n"))
				})
			}
		}
	}
}

func plainOpts(d func() steps.Draft) func(*testing.T) Options {
	return func(*testing.T) Options { return Options{Draft: d()} }
}

// atConsent is a re-consent run with the demo app, against the simulator.
func atConsent(d func() steps.Draft, edit func(*simulator.App), opts Options) func(*testing.T) Options {
	return func(t *testing.T) Options {
		sim(t, edit)
		opts.Draft, opts.Mode = d(), steps.ModeReconsent
		return opts
	}
}

// toConsent passes the permission table and the portal list of a re-consent run.
func toConsent(h *harness) {
	h.waitFor("Choose the Microsoft Graph permissions")
	h.send("enter", "enter")
}

// fixSignIn checks that the whole sign-in address is on screen, in lines of the terminal's
// width, and replaces it.
func fixSignIn(t *testing.T, m Model, screen string, width int) string {
	t.Helper()
	shown := urlPieces(m.s.screens[steps.Consent].(*consentScreen).signIn.URL, width)
	if !strings.Contains(screen, "\n"+shown+"\n") {
		t.Fatalf("the whole sign-in address is not on screen:\n%s", screen)
	}
	return strings.ReplaceAll(screen, shown, "<the sign-in address>")
}

func deviceDraft() steps.Draft {
	d := readyDraft()
	d.Flow = oauth.FlowDevice
	d.ClientSecret = ""
	return d
}

func appDraft() steps.Draft {
	d := readyDraft()
	d.Flow = oauth.FlowApp
	d.Tenant = simulator.DemoTenantID
	return d
}

func badSecretDraft() steps.Draft {
	d := readyDraft()
	d.ClientSecret = "wrong8Q~" + strings.Repeat("x", 32)
	return d
}

// savedOpts signs in (the simulated browser plays the user) with a store at a fixed path,
// so the Save screen's paths are the same on every run.
func savedOpts(mode steps.Mode) func(*testing.T) Options {
	return func(t *testing.T) Options {
		sim(t, nil)
		store := fileStore(t, fixedDir(t, "m365creds-tui-views"))
		return Options{Draft: readyDraft(), Mode: mode, NoBrowser: true, Engine: &creds.Service{Store: store}, Demo: &Demo{SimulateBrowser: browser()}}
	}
}

func toSaved(h *harness) {
	toConsent(h)
	h.waitFor("Waiting…")
	h.send("s")
	h.waitFor("Press enter to save")
	h.send("enter")
	h.waitFor("Press enter to finish")
}

func viewCases() []viewCase {
	walkTo := func(want string, keys ...string) func(h *harness) {
		return func(h *harness) {
			h.waitFor("Who will sign in")
			h.send(keys...)
			h.waitFor(want)
		}
	}
	return []viewCase{
		{name: "account", opts: plainOpts(steps.NewDraft), drive: walkTo("Who will sign in")},
		{name: "account-refused", opts: plainOpts(func() steps.Draft { d := steps.NewDraft(); d.Profile = "my profile"; return d }),
			drive: walkTo("profile names may use", "enter")},
		{name: "register", opts: plainOpts(steps.NewDraft), drive: walkTo("Register the app", "enter")},
		{name: "ids", opts: plainOpts(steps.NewDraft), drive: walkTo("Copy the IDs", "enter", "enter")},
		{name: "ids-demo", opts: func(*testing.T) Options { return Options{Draft: steps.NewDraft(), Demo: shownDemo()} },
			drive: walkTo("Copy the IDs", "enter", "enter")},
		{name: "secret", opts: plainOpts(func() steps.Draft { d := readyDraft(); d.ClientSecret = ""; return d }),
			drive: walkTo("Create a client secret", "enter", "enter", "enter")},
		{name: "permissions", opts: plainOpts(readyDraft), drive: walkTo("Choose the Microsoft Graph", "enter", "enter", "enter", "enter")},
		{name: "permissions-portal", opts: plainOpts(readyDraft), drive: walkTo("Now add the same permissions", "enter", "enter", "enter", "enter", "enter")},
		{name: "consent-waiting", opts: atConsent(readyDraft, nil, Options{NoBrowser: true}),
			drive: func(h *harness) { toConsent(h); h.waitFor("Waiting…") }, fix: fixSignIn},
		{name: "consent-no-browser", opts: func(t *testing.T) Options {
			sim(t, nil)
			open := func(string) error { return errors.New("no display: $DISPLAY is not set") }
			return Options{Draft: readyDraft(), Mode: steps.ModeReconsent, Engine: &creds.Service{OpenBrowser: open}}
		}, drive: func(h *harness) {
			toConsent(h)
			screen := h.waitFor("Could not open a browser")
			// The note points up, at the address, which is above it.
			if strings.Index(screen, "open the address above yourself") < strings.Index(screen, "https://") {
				h.t.Fatalf("the note is not under the address:\n%s", screen)
			}
		}, fix: fixSignIn},
		{name: "consent-paste", opts: atConsent(func() steps.Draft { d := readyDraft(); d.Flow = oauth.FlowPaste; return d }, nil, Options{NoBrowser: true}),
			drive: func(h *harness) { toConsent(h); h.waitFor("paste it here") }, fix: fixSignIn},
		{name: "consent-device-intro", opts: atConsent(deviceDraft, func(a *simulator.App) { a.PublicClient = true }, Options{}),
			drive: func(h *harness) { toConsent(h); h.waitFor("Allow public client flows") }},
		{name: "consent-secret-refused", opts: atConsent(badSecretDraft, nil, Options{NoBrowser: true}),
			drive: func(h *harness) { toConsent(h); h.waitFor("7000215") }},
		{name: "consent-redirect-error", opts: atConsent(readyDraft, nil, Options{NoBrowser: true}),
			drive: func(h *harness) {
				toConsent(h)
				h.waitFor("Waiting…")
				h.send("e")
				h.waitFor("Which error did Microsoft show")
				h.send("p")
				h.paste("AADSTS50011: The redirect URI 'http://localhost:53365/' specified in the request does not match the redirect URIs configured for the application.")
				h.send("enter")
				h.waitFor("50011")
			}},
		{name: "consent-unknown-error", opts: atConsent(readyDraft, nil, Options{NoBrowser: true}),
			drive: func(h *harness) {
				toConsent(h)
				h.waitFor("Waiting…")
				h.send("e")
				h.waitFor("Which error did Microsoft show")
				h.send("p")
				h.paste("AADSTS9999999: Something nobody has seen before happened while signing in.")
				h.send("enter")
				h.waitFor("9999999")
			}},
		{name: "consent-pick", opts: atConsent(readyDraft, nil, Options{NoBrowser: true}),
			drive: func(h *harness) {
				toConsent(h)
				h.waitFor("Waiting…")
				h.send("e")
				h.waitFor("Which error did Microsoft show")
			}},
		{name: "consent-app-done", opts: func(t *testing.T) Options {
			sim(t, nil)
			return Options{Draft: appDraft(), Mode: steps.ModeReconsent, NoBrowser: true}
		}, drive: func(h *harness) { h.waitFor("Got an app-only token") },
			fix: func(t *testing.T, m Model, screen string, width int) string {
				link := urlPieces(m.s.c.opts.Engine.AdminConsentURL(m.s.c.wiz.Draft), width)
				if !strings.Contains(screen, link) {
					t.Fatalf("the whole admin consent link is not on screen:\n%s", screen)
				}
				return strings.ReplaceAll(screen, link, "<the admin consent link>")
			}},
		{name: "consent-keychain", opts: func(t *testing.T) Options {
			sim(t, nil)
			return Options{Draft: readyDraft(), Mode: steps.ModeReconsent, NoBrowser: true, Engine: &creds.Service{Store: brokenStore(t)}}
		}, drive: func(h *harness) { toConsent(h); h.waitFor("The keychain does not work") }},
		{name: "save", opts: savedOpts(steps.ModeReconsent), drive: toSaved},
		{name: "save-in-memory", opts: func(t *testing.T) Options {
			sim(t, nil)
			store, err := keyring.Open(keyring.Options{Service: "m365creds-test-tui", ConfigDir: t.TempDir(), Backend: keyring.BackendMemory})
			if err != nil {
				t.Fatal(err)
			}
			return Options{Draft: readyDraft(), Mode: steps.ModeReconsent, NoBrowser: true, Engine: &creds.Service{Store: store},
				Demo: &Demo{SimulateBrowser: browser(), NoKeychain: &keyring.UnavailableError{Reason: "there is no D-Bus session"}}}
		}, drive: toSaved},
		{name: "secret-rotate", opts: func(*testing.T) Options {
			d := readyDraft()
			d.ClientSecret, d.SecretExpires = "", zeroTime
			return Options{Draft: d, Mode: steps.ModeRotate}
		}, drive: func(h *harness) { h.waitFor("Add a new client secret") }},
		{name: "consent-done", opts: atConsent(readyDraft, nil, Options{NoBrowser: true, Demo: &Demo{SimulateBrowser: browser()}}),
			drive: func(h *harness) { toConsent(h); h.waitFor("Waiting…"); h.send("s"); h.waitFor("Press enter to save") }},
		{name: "save-failed", opts: func(t *testing.T) Options {
			sim(t, nil)
			store := fileStore(t, fixedDir(t, "m365creds-tui-views-broken"))
			return Options{Draft: readyDraft(), Mode: steps.ModeReconsent, NoBrowser: true, Engine: &creds.Service{Store: store}, Demo: &Demo{SimulateBrowser: browser()}}
		}, drive: func(h *harness) {
			toConsent(h)
			h.waitFor("Waiting…")
			h.send("s")
			h.waitFor("Press enter to save")
			// The store breaks after the probe: its secrets file becomes a directory.
			secrets := filepath.Join(fixedDirOf(h.t, "m365creds-tui-views-broken"), "secrets-m365creds-test-tui.json")
			_ = os.Remove(secrets)
			if err := os.Mkdir(secrets, 0o700); err != nil {
				h.t.Fatal(err)
			}
			h.send("enter")
			h.waitFor("Saving failed")
		}},
		{name: "home", opts: func(*testing.T) Options { return Options{Profiles: homeProfiles(), Draft: steps.NewDraft()} },
			drive: func(h *harness) { h.waitFor("Your profiles") }},
		{name: "device-code", opts: func(t *testing.T) Options {
			s := sim(t, func(a *simulator.App) { a.PublicClient = true })
			s.SetDeviceApproval(1 << 20)
			return Options{Draft: deviceDraft(), Mode: steps.ModeReconsent}
		}, drive: func(h *harness) {
			toConsent(h)
			h.waitFor("Allow public client flows")
			h.send("enter")
			h.waitFor("enter the code")
		}, fix: func(t *testing.T, m Model, screen string, _ int) string {
			screen = strings.ReplaceAll(screen, m.s.screens[steps.Consent].(*consentScreen).dc.UserCode, "<USER CODE>")
			return strings.ReplaceAll(screen, simBase(t), "<simulator>")
		}},
	}
}

// TestHelpOnEveryStep opens the help on every step: it shows the step's own text, then the
// keys, at 80x24 and 100x30, with and without colour.
func TestHelpOnEveryStep(t *testing.T) {
	t.Parallel()
	help := func(want string, keys ...string) func(h *harness) {
		return func(h *harness) {
			h.waitFor("Who will sign in")
			h.send(keys...)
			h.waitFor(want)
			h.send("?")
			h.waitFor("About this step")
		}
	}
	cases := []viewCase{
		{name: "account", opts: plainOpts(steps.NewDraft), drive: help("Who will sign in")},
		{name: "register", opts: plainOpts(steps.NewDraft), drive: help("Register the app", "enter")},
		{name: "ids", opts: plainOpts(steps.NewDraft), drive: help("Copy the IDs", "enter", "enter")},
		{name: "secret", opts: plainOpts(readyDraft), drive: func(h *harness) {
			h.waitFor("Who will sign in")
			h.send("enter", "enter", "enter")
			h.waitFor("Create a client secret")
			h.send("f1") // '?' is text in the secret field, which has the focus
			h.waitFor("About this step")
		}},
		{name: "permissions", opts: plainOpts(readyDraft), drive: help("Choose the Microsoft Graph", "enter", "enter", "enter", "enter")},
		{name: "consent", opts: atConsent(readyDraft, nil, Options{NoBrowser: true}), drive: func(h *harness) {
			toConsent(h)
			h.waitFor("Waiting…")
			h.send("?")
			h.waitFor("About this step")
		}},
		{name: "save", opts: savedOpts(steps.ModeReconsent), drive: func(h *harness) {
			toSaved(h)
			h.send("?")
			h.waitFor("About this step")
		}},
	}
	for _, vc := range cases {
		for _, size := range viewSizes {
			for _, noColor := range []bool{false, true} {
				name := vc.name + "/" + strconv.Itoa(size[0]) + "x" + strconv.Itoa(size[1]) + "-" + map[bool]string{false: "colour", true: "nocolour"}[noColor]
				t.Run(name, func(t *testing.T) {
					opts := vc.opts(t)
					opts.NoColor = noColor
					h := startSized(t, opts, size[0], size[1])
					vc.drive(h)
					h.golden()
				})
			}
		}
	}
}

// TestLinksAreWholeAndClickable: an address too long for the line is drawn from the first
// column to the last, in exact pieces of itself (no margin, no "…"), each piece an OSC 8
// hyperlink to the whole address, with and without colour.
func TestLinksAreWholeAndClickable(t *testing.T) {
	t.Parallel()
	for _, noColor := range []bool{false, true} {
		m := newModel(t, Options{Draft: readyDraft(), NoColor: noColor})
		for range 3 {
			press(t, m, "enter")
		}
		if m.s.c.wiz.Current() != steps.Secret {
			t.Fatalf("at %s, not Secret", m.s.c.wiz.Current())
		}
		url := portalLinks(&m.s.c).Credentials
		raw := m.View().Content
		if n := strings.Count(raw, "\x1b]8;id=m365creds-"); n < 2 {
			t.Errorf("noColor %v: the address is not an OSC 8 hyperlink in each of its pieces:\n%q", noColor, raw)
		}
		if strings.Count(raw, ";"+url+"\x07") < 2 {
			t.Errorf("noColor %v: the hyperlink does not point at the whole address", noColor)
		}
		screen := normalise(raw)
		if !strings.Contains(screen, "\n"+urlPieces(url, 80)+"\n") {
			t.Errorf("noColor %v: the address is not whole, unindented, in lines of 80:\n%s", noColor, screen)
		}
	}
}

// TestCopyKeyCopiesTheLink: on a screen with one link the copy key copies it; with several
// it offers the list, and a number picks one.
func TestCopyKeyCopiesTheLink(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: readyDraft()})
	for range 5 { // Account … Permissions, then the portal instruction
		press(t, m, "enter")
	}
	if !strings.Contains(ansi.Strip(m.View().Content), "Now add the same permissions") {
		t.Fatalf("not on the portal instruction:\n%s", ansi.Strip(m.View().Content))
	}
	press(t, m, "ctrl+y")
	if !strings.Contains(m.s.c.status, "Copied the API permissions link") {
		t.Fatalf("ctrl+y on the portal list: status %q", m.s.c.status)
	}

	sim(t, nil)
	h := startSized(t, Options{Draft: readyDraft(), Mode: steps.ModeReconsent, NoBrowser: true}, 80, 24)
	toConsent(h)
	h.waitFor("Waiting…")
	h.send("e")
	h.waitFor("Which error did Microsoft show")
	h.send("p")
	h.paste("AADSTS65001: The user or administrator has not consented to use the application.")
	h.send("enter")
	h.waitFor("65001")
	h.send("ctrl+y")
	h.waitFor("Which link should be copied?")
	h.waitFor("3  the portal page link") // after the admin consent link and the one in the text
	h.send("3")
	h.waitFor("Copied the portal page link")
	h.final()
}

// TestRegisterSaysWhenNothingIsTicked: enter with nothing ticked still goes on, with a word.
func TestRegisterSaysWhenNothingIsTicked(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft()})
	press(t, m, "enter")
	press(t, m, "enter")
	if m.s.c.wiz.Current() != steps.IDs || !strings.Contains(m.s.c.status, "Nothing was ticked") {
		t.Fatalf("at %s, status %q", m.s.c.wiz.Current(), m.s.c.status)
	}
	m = newModel(t, Options{Draft: steps.NewDraft()})
	press(t, m, "enter")
	press(t, m, "space")
	press(t, m, "enter")
	if m.s.c.wiz.Current() != steps.IDs || m.s.c.status != "" {
		t.Fatalf("with a line ticked: at %s, status %q", m.s.c.wiz.Current(), m.s.c.status)
	}
}

// TestAccountOffersTheDoDCloud: the cloud picker has every cloud, the DoD one included.
func TestAccountOffersTheDoDCloud(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft()})
	for _, k := range []string{"tab", "tab", "tab", "tab", "right", "right"} { // registration, profile, audience, tenant, cloud
		press(t, m, k)
	}
	if got := m.s.c.wiz.Draft.Cloud; got != oauth.USGovDoD {
		t.Fatalf("two steps right on the cloud picker: %q", got)
	}
}

// TestIDsShowTheTenantFromStepOne: a tenant ID typed on the Account step is already in the
// Directory ID field.
func TestIDsShowTheTenantFromStepOne(t *testing.T) {
	t.Parallel()
	d := steps.NewDraft()
	d.Tenant = simulator.DemoTenantID
	m := newModel(t, Options{Draft: d})
	press(t, m, "enter")
	press(t, m, "enter")
	screen := ansi.Strip(m.View().Content)
	if !strings.Contains(screen, "Directory ID      "+simulator.DemoTenantID) || !strings.Contains(screen, "✓ the tenant given on step 1") {
		t.Fatalf("the IDs step asks again:\n%s", screen)
	}
}

// TestKeychainHintEndsItsSentence: the keychain's hints are phrases; the screen must not run
// the next sentence into them.
func TestKeychainHintEndsItsSentence(t *testing.T) {
	t.Parallel()
	g := keychainGuidance(&keyring.UnavailableError{Reason: "the keychain is locked", Hint: "Unlock it, then try again"})
	if !strings.Contains(g.Action, "try again. Nothing has been sent") {
		t.Fatalf("action %q", g.Action)
	}
}

// TestTallErrorScrollsWithItsActionLineShown: an error taller than the screen keeps
// "Press enter …" visible and scrolls with pgdown.
func TestTallErrorScrollsWithItsActionLineShown(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	h := startSized(t, Options{Draft: badSecretDraft(), Mode: steps.ModeReconsent, NoBrowser: true}, 80, 20)
	toConsent(h)
	screen := h.waitFor("more below")
	if !strings.Contains(screen, "Press enter to try again") {
		t.Fatalf("the action line is not on screen:\n%s", screen)
	}
	h.send("pgdown")
	screen = h.waitFor("lines above")
	if !strings.Contains(screen, "Press enter to try again") || strings.Contains(screen, "more below") {
		t.Fatalf("after pgdown:\n%s", screen)
	}
	h.final()
}

// TestCtrlYCopiesWhereCDoesToo: ctrl+y copies the link on every screen that has one, also
// where c would.
func TestCtrlYCopiesWhereCDoesToo(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: readyDraft()})
	for _, k := range []string{"enter", "enter", "enter", "tab"} { // Secret, expiry choice focused
		press(t, m, k)
	}
	for _, k := range []string{"ctrl+y", "c"} {
		m.s.c.status = ""
		press(t, m, k)
		if !strings.Contains(m.s.c.status, "Copied the Certificates & secrets link") {
			t.Errorf("%s on the expiry choice: status %q", k, m.s.c.status)
		}
	}
}

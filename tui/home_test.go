package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

// homeWorld is a profile store in a temporary directory and the simulator, with one profile
// of each kind of health.
type homeWorld struct {
	dir    string
	engine *creds.Service
}

func newHomeWorld(t *testing.T, edit func(*simulator.App)) *homeWorld {
	t.Helper()
	sim(t, edit)
	dir := t.TempDir()
	w := &homeWorld{dir: dir, engine: &creds.Service{Store: fileStore(t, dir), Now: func() time.Time { return frozen }}}
	basic := []string{"User.Read", "offline_access"}
	graphDefault := []string{"https://graph.microsoft.com/.default"}
	app := keyring.Profile{Name: "app", Kind: oauth.KindApp, Tenant: simulator.DemoTenantID, TenantID: simulator.DemoTenantID, ClientID: simulator.DemoClientID,
		Audience: oauth.SingleTenant, RequestedScopes: graphDefault, SecretExpires: frozen.AddDate(0, 6, 0)}
	w.save(t, app, keyring.Secrets{ClientSecret: simulator.DemoSecretValue})
	wrong := app
	wrong.Name, wrong.SecretExpires = "badsecret", frozen.AddDate(0, 0, 12)
	w.save(t, wrong, keyring.Secrets{ClientSecret: "wrong8Q~" + strings.Repeat("x", 32)})
	web := keyring.Profile{Name: "contoso", Account: "ada@contoso.com", Kind: oauth.KindWeb, Tenant: simulator.DemoTenantID, ClientID: simulator.DemoClientID,
		Audience: oauth.SingleTenant, RequestedScopes: append([]string{"Mail.Send"}, basic...), GrantedScopes: basic,
		SecretExpires: frozen.AddDate(0, 0, -3), LastRefresh: frozen.AddDate(0, 0, -2)}
	w.save(t, web, keyring.Secrets{ClientSecret: simulator.DemoSecretValue, RefreshToken: "not-a-refresh-token-microsoft-issued"})
	kiosk := keyring.Profile{Name: "kiosk", Kind: oauth.KindPublic, Tenant: "organizations", ClientID: simulator.DemoClientID,
		Audience: oauth.MultiTenant, RequestedScopes: []string{"User.Read"}}
	w.save(t, kiosk, keyring.Secrets{RefreshToken: "rt"})
	lost := app
	lost.Name = "lost"
	w.save(t, lost, keyring.Secrets{ClientSecret: simulator.DemoSecretValue})
	w.dropItem(t, "lost", "client-secret")
	return w
}

func (w *homeWorld) save(t *testing.T, p keyring.Profile, sec keyring.Secrets) {
	t.Helper()
	p.Created, p.Updated = frozen, frozen
	if err := w.engine.Store.Save(t.Context(), p, sec); err != nil {
		t.Fatal(err)
	}
}

// dropItem takes one item of a profile out of the secrets file, as a keychain that lost it.
func (w *homeWorld) dropItem(t *testing.T, profile, item string) {
	t.Helper()
	path := filepath.Join(w.dir, "secrets-m365creds-test-tui.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	n := len(m)
	for k := range m {
		if strings.Contains(k, profile+"/"+item+"@") {
			delete(m, k)
		}
	}
	if len(m) == n {
		t.Fatalf("no %s item of %s", item, profile)
	}
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (w *homeWorld) start(t *testing.T, width, height int, noColor bool) *harness {
	t.Helper()
	list, err := w.engine.Store.List()
	if err != nil {
		t.Fatal(err)
	}
	h := startSized(t, Options{Profiles: list, Draft: steps.NewDraft(), Engine: w.engine, NoColor: noColor}, width, height)
	h.waitFor("keychain item missing") // the keychain has been read
	return h
}

// colourRE matches an SGR sequence that sets a foreground or background colour.
var colourRE = regexp.MustCompile(`\x1b\[[0-9;]*(38|48);[0-9;]*m`)

// homeGolden compares the final screen with a golden: the colour variant as drawn (escape
// sequences kept, so the colours are checked too), the NO_COLOR variant as text, after
// checking that it sets no colour at all.
func homeGolden(t *testing.T, h *harness, noColor bool) {
	t.Helper()
	m, plain := h.final()
	raw := m.View().Content
	// The key line at the bottom is drawn by the help component, whose styles are not this
	// screen's: only the body is checked for colour.
	raw = raw[:strings.LastIndex(raw, "\n")]
	if noColor {
		if colourRE.MatchString(raw) {
			t.Fatalf("NO_COLOR screen sets a colour: %q", raw)
		}
		golden.RequireEqual(t, []byte(plain+"\n"))
		return
	}
	if !colourRE.MatchString(raw) {
		t.Fatal("the colour screen has no colour")
	}
	golden.RequireEqual(t, []byte(spinnerRE.ReplaceAllString(stripTrailing(raw), "⠋")+"\n"))
}

// TestHomeGoldens draws the list, the delete dialog, a verify that works and one that fails,
// at 80x24 and 100x30, with and without colour.
func TestHomeGoldens(t *testing.T) {
	t.Parallel()
	screens := map[string]func(h *harness){
		"list": func(h *harness) { h.send("down", "down"); h.waitFor("Not granted: Mail.Send") },
		"confirm": func(h *harness) {
			h.send("down", "down", "d")
			h.waitFor("Press y to delete")
		},
		"verified": func(h *harness) { h.send("enter"); h.waitFor("Profile app works") },
		"failed": func(h *harness) {
			h.send("down", "v")
			h.waitFor("7000215")
		},
	}
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		for _, noColor := range []bool{false, true} {
			variant := map[bool]string{false: "colour", true: "nocolor"}[noColor]
			for _, name := range []string{"list", "confirm", "verified", "failed"} {
				t.Run(fmt.Sprintf("%s/%dx%d_%s", name, size[0], size[1], variant), func(t *testing.T) {
					h := newHomeWorld(t, nil).start(t, size[0], size[1], noColor)
					screens[name](h)
					homeGolden(t, h, noColor)
				})
			}
		}
	}
}

// TestHomeKeys: q quits from the list, typing filters only after /, esc closes what is open
// (the filter, a dialog, a result, a wizard started from here) before it quits.
func TestHomeKeys(t *testing.T) {
	t.Parallel()
	t.Run("q quits", func(t *testing.T) {
		h := newHomeWorld(t, nil).start(t, 80, 24, true)
		h.send("q")
		if m := h.tm.FinalModel(t, teatestTimeout).(Model); m.s.result != (Result{}) {
			t.Fatalf("result %+v", m.s.result)
		}
	})
	t.Run("typing filters only after slash", func(t *testing.T) {
		h := newHomeWorld(t, nil).start(t, 80, 24, true)
		h.send("/", "k", "i", "q")
		h.waitFor("No profile matches")
		h.send("backspace")
		screen := h.waitFor("public client")
		if strings.Contains(screen, "contoso") || !strings.Contains(screen, "kiosk") {
			t.Fatalf("the filter did not narrow the list:\n%s", screen)
		}
		h.send("esc")
		h.waitFor("contoso")
		h.send("esc")
		h.tm.FinalModel(t, teatestTimeout) // esc on the list quits
	})
	t.Run("esc leaves a wizard started from here", func(t *testing.T) {
		h := newHomeWorld(t, nil).start(t, 80, 24, true)
		h.send("down", "down", "p")
		h.waitFor("Choose the Microsoft Graph permissions")
		h.send("esc")
		h.waitFor("Nothing was changed.")
		h.send("r")
		h.waitFor("Add a new client secret")
		h.send("esc")
		h.waitFor("Nothing was changed.")
		h.waitFor("Your profiles")
		h.final()
	})
	t.Run("delete asks", func(t *testing.T) {
		w := newHomeWorld(t, nil)
		h := w.start(t, 80, 24, true)
		h.send("down", "down", "d")
		h.waitFor("Delete profile contoso?")
		h.send("n")
		h.waitFor("Kept profile contoso.")
		if _, err := w.engine.Store.Profile("contoso"); err != nil {
			t.Fatalf("n deleted the profile: %v", err)
		}
		h.send("d")
		h.waitFor("Delete profile contoso?")
		h.send("y")
		h.waitFor("Deleted profile contoso")
		screen := h.waitFor("› kiosk") // the list as read again from the store
		if strings.Contains(screen, "ada@contoso.com") {
			t.Fatalf("the deleted profile is still listed:\n%s", screen)
		}
		if _, err := w.engine.Store.Profile("contoso"); err == nil {
			t.Fatal("y did not delete the profile")
		}
		h.final()
	})
	t.Run("verify result then back", func(t *testing.T) {
		h := newHomeWorld(t, nil).start(t, 80, 24, true)
		h.send("down", "down", "v")
		h.waitFor("Press p to sign in again and consent.")
		h.send("esc")
		h.waitFor("LAST USED")
		h.final()
	})
}

// TestHomeRotatesInPlace rotates a secret from the home screen: the wizard runs in the same
// program, proves the new secret with Microsoft, saves it and comes back to the list.
func TestHomeRotatesInPlace(t *testing.T) {
	t.Parallel()
	const second = "new8Q~secondSecretValueForRotationTests0"
	w := newHomeWorld(t, func(a *simulator.App) {
		a.Secrets = append(a.Secrets, simulator.Secret{ID: "33333333-3333-4333-8333-333333333333", Value: second, Expires: time.Now().AddDate(1, 0, 0)})
	})
	h := w.start(t, 80, 24, true)
	h.send("r")
	h.waitFor("Add a new client secret")
	h.paste(second)
	h.send("enter")
	h.waitFor("The new secret works")
	h.send("enter")
	h.waitFor("Saved profile app")
	h.send("enter")
	h.waitFor("Rotated the secret of app")
	h.final()
	sec, err := w.engine.Store.Secrets(t.Context(), "app")
	if err != nil || sec.ClientSecret != second {
		t.Fatalf("the new secret was not saved: %v", err)
	}
}

// TestConsentAsksForTheErrorPage: a browser sign-in that has not come back after 20 seconds
// (by the screen's clock) asks prominently whether Microsoft showed an error, with the three
// errors this registration most likely meets, and e starts the list on the first of them.
func TestConsentAsksForTheErrorPage(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	var clock atomic.Int64
	clock.Store(frozen.UnixNano())
	d := readyDraft()
	h := consentAt(t, d, Options{NoBrowser: true, Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	screen := h.waitFor("Waiting…")
	if strings.Contains(screen, "Did Microsoft show an error") {
		t.Fatalf("the hint is up at once:\n%s", screen)
	}
	clock.Add(int64(19 * time.Second))
	h.waitFor("9:41 left")
	if strings.Contains(h.last, "Did Microsoft show an error") {
		t.Fatalf("the hint is up before 20 seconds:\n%s", h.last)
	}
	clock.Add(int64(2 * time.Second))
	screen = h.waitFor("Did Microsoft show an error? press e")
	for _, want := range []string{"AADSTS50011", "AADSTS700016", "AADSTS90094"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the hint does not name %s:\n%s", want, screen)
		}
	}
	goldenWithAddress(t, h, d.Port)
}

func TestConsentErrorPickStartsOnTheHint(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	var clock atomic.Int64
	clock.Store(frozen.UnixNano())
	d := readyDraft()
	h := consentAt(t, d, Options{NoBrowser: true, Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	h.waitFor("Waiting…")
	clock.Add(int64(25 * time.Second))
	h.waitFor("press e")
	h.send("e")
	h.waitFor("Which error did Microsoft show")
	h.send("enter")
	h.waitFor("AADSTS50011: Redirect URI not registered")
	h.final()
}

// TestLikelyErrorsFollowTheAudience: the hint's errors depend on who signs in.
func TestLikelyErrorsFollowTheAudience(t *testing.T) {
	t.Parallel()
	for aud, want := range map[oauth.Audience][]int{
		oauth.SingleTenant:           {50011, 700016, 90094},
		oauth.MultiTenant:            {50011, 700016, 90094},
		oauth.MultiTenantAndPersonal: {50011, 500200, 90094},
		oauth.PersonalOnly:           {50011, 9002332, 65001},
	} {
		d := readyDraft()
		d.Audience = aud
		var got []int
		for _, g := range likelyErrors(d) {
			if g.Title == "" {
				t.Errorf("%s: AADSTS%d has no title", aud, g.Code)
			}
			got = append(got, g.Code)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", aud, got, want)
		}
	}
}

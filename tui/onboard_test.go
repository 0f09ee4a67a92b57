package tui

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

const (
	customerTenant = "c0ffee00-1111-4222-8333-444455556666"
	decliningOrg   = "dec11ed0-1111-4222-8333-444455556666"
	unknownOrg     = "deadbeef-0000-4000-8000-000000000000"
)

// vendorWorld is the simulator with the demo app registered as multi-tenant, a customer
// tenant that has not consented yet, one whose administrator declines, and a store holding
// the vendor's app-only profile (first in the list) and a single-tenant one.
type vendorWorld struct {
	sim    *simulator.Sim
	engine *creds.Service
	port   int
}

func newVendorWorld(t *testing.T) *vendorWorld {
	t.Helper()
	port := testport.Free()
	s := sim(t, func(a *simulator.App) {
		a.Audience = "multi"
		a.RedirectURIs = []string{"http://localhost:" + strconv.Itoa(port) + "/"}
	})
	s.AddTenant(simulator.Tenant{ID: customerTenant})
	s.AddTenant(simulator.Tenant{ID: decliningOrg, AdminDeclines: true})
	w := &vendorWorld{sim: s, port: port,
		engine: &creds.Service{Store: fileStore(t, t.TempDir()), Now: func() time.Time { return frozen }}}
	vendor := keyring.Profile{Name: "vendor", Kind: oauth.KindApp, Tenant: simulator.DemoTenantID, TenantID: simulator.DemoTenantID,
		ClientID: simulator.DemoClientID, Audience: oauth.MultiTenant, RedirectURI: "http://localhost:" + strconv.Itoa(port) + "/",
		RequestedScopes: []string{"https://graph.microsoft.com/.default"}, SecretExpires: frozen.AddDate(0, 6, 0), Created: frozen, Updated: frozen}
	own := vendor
	own.Name, own.Audience, own.RedirectURI = "zinternal", oauth.SingleTenant, ""
	for _, p := range []keyring.Profile{vendor, own} {
		if err := w.engine.Store.Save(t.Context(), p, keyring.Secrets{ClientSecret: simulator.DemoSecretValue}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// start opens the home screen; poll is the first interval between the engine's checks.
func (w *vendorWorld) start(t *testing.T, width, height int, noColor bool, poll time.Duration) *harness {
	t.Helper()
	list, err := w.engine.Store.List()
	if err != nil {
		t.Fatal(err)
	}
	h := startSized(t, Options{Profiles: list, Draft: steps.NewDraft(), Engine: w.engine, NoColor: noColor,
		OnboardPoll: poll, OnboardWait: time.Minute}, width, height)
	h.waitFor("› vendor")
	return h
}

// onboardTo opens the onboarding of the vendor profile and asks for tenant.
func onboardTo(h *harness, tenant string) {
	h.send("o")
	h.waitFor("Customer tenant")
	h.paste(tenant)
	h.waitFor("saved as profile")
	h.send("enter")
}

// shownLink reads the consent link off the screen: full-width pieces, the last one shorter.
func shownLink(t *testing.T, screen, base string, width int) string {
	t.Helper()
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, base) {
			continue
		}
		link := l
		for j := i + 1; len(lines[j-1]) == width && j < len(lines); j++ {
			link += lines[j]
		}
		return link
	}
	t.Fatalf("no link to %s on screen:\n%s", base, screen)
	return ""
}

// adminElsewhere is the customer's administrator on another machine: they open the link and
// accept; their browser's redirect goes to their own localhost, not to this process.
func adminElsewhere(link string, after time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		time.Sleep(after)
		hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(link)
		if err != nil {
			done <- err
			return
		}
		_ = resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "admin_consent=True") || strings.Contains(loc, "error=") {
			done <- errors.New("the admin-consent page did not accept: " + resp.Status + " " + loc)
			return
		}
		done <- nil
	}()
	return done
}

// TestOnboardFromHome onboards a customer tenant from the home screen while its
// administrator accepts elsewhere: the screen waits with a countdown, finds out by itself,
// saves the customer profile, which then gets app-only tokens with the vendor's secret.
func TestOnboardFromHome(t *testing.T) {
	t.Parallel()
	w := newVendorWorld(t)
	h := w.start(t, 100, 30, true, 50*time.Millisecond)
	onboardTo(h, customerTenant)
	screen := h.waitFor("Checked")
	for _, want := range []string{"left", "Send this link to an administrator of " + customerTenant} {
		if !strings.Contains(screen, want) {
			t.Errorf("the waiting screen lacks %q:\n%s", want, screen)
		}
	}
	link := shownLink(t, screen, simBase(t), h.width)
	if !strings.Contains(link, "/"+customerTenant+"/v2.0/adminconsent?") || !strings.Contains(link, "client_id="+simulator.DemoClientID) {
		t.Fatalf("not the customer's consent link: %s", link)
	}
	admin := adminElsewhere(link, 100*time.Millisecond)
	h.waitFor("Saved profile tenant-c0ffee00")
	if err := <-admin; err != nil {
		t.Fatal(err)
	}
	h.send("enter")
	h.waitFor("› vendor")
	h.waitFor("tenant-c0ffee00") // the list, read again
	h.final()
	p, err := w.engine.Store.Profile("tenant-c0ffee00")
	if err != nil {
		t.Fatal(err)
	}
	if p.Tenant != customerTenant || p.SecretFrom != "vendor" || p.Kind != oauth.KindApp {
		t.Errorf("customer profile: %+v", p)
	}
	tok, err := w.engine.Token(t.Context(), p, creds.TokenRequest{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := w.sim.AccessToken(tok.AccessToken); !ok || !info.AppOnly || info.ClientID != simulator.DemoClientID {
		t.Errorf("the customer's token: %+v", info)
	}
}

// TestOnboardRefusals: a declined consent (on this machine, heard by the listener) and a
// tenant that does not exist end the wait with their explanation and save nothing; esc stops
// a wait; a single-tenant profile does not offer onboarding and says why.
func TestOnboardRefusals(t *testing.T) {
	t.Parallel()
	t.Run("declined", func(t *testing.T) {
		t.Parallel()
		w := newVendorWorld(t)
		h := w.start(t, 100, 30, true, time.Hour)
		onboardTo(h, decliningOrg)
		link := shownLink(t, h.waitFor("Checked once"), simBase(t), h.width)
		go func() {
			if resp, err := http.Get(link); err == nil { // the administrator's browser, following the redirect here
				_ = resp.Body.Close()
			}
		}()
		screen := h.waitFor("Consent declined")
		for _, want := range []string{"AADSTS65004", "Nothing was saved.", "open the same link again"} {
			if !strings.Contains(screen, want) {
				t.Errorf("the refusal lacks %q:\n%s", want, screen)
			}
		}
		h.final()
		if _, err := w.engine.Store.Profile(creds.CustomerProfileName(decliningOrg)); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("a declined consent saved a profile: %v", err)
		}
	})
	t.Run("wrong tenant", func(t *testing.T) {
		t.Parallel()
		w := newVendorWorld(t)
		h := w.start(t, 80, 24, true, time.Hour)
		onboardTo(h, unknownOrg)
		h.waitFor("AADSTS90002")
		h.waitFor("Check the customer's tenant")
		h.send("r")
		h.waitFor("Customer tenant")
		h.send("esc")
		h.waitFor("› vendor")
		h.final()
	})
	t.Run("esc stops waiting", func(t *testing.T) {
		t.Parallel()
		w := newVendorWorld(t)
		h := w.start(t, 80, 24, true, time.Hour)
		onboardTo(h, customerTenant)
		h.waitFor("left")
		h.send("tab", "pgdown", "pgdown")
		h.waitFor("never send one") // the end of the message, scrolled to
		h.send("esc")
		h.waitFor("Stopped waiting for " + customerTenant)
		h.waitFor("› vendor")
		h.final()
		w.sim.GrantAdminConsentIn(customerTenant, simulator.DemoClientID)
		time.Sleep(200 * time.Millisecond)
		if _, err := w.engine.Store.Profile(creds.CustomerProfileName(customerTenant)); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("a stopped wait went on and saved: %v", err)
		}
	})
	t.Run("single tenant", func(t *testing.T) {
		t.Parallel()
		w := newVendorWorld(t)
		h := w.start(t, 80, 24, true, time.Hour)
		h.send("down", "o")
		h.waitFor("Onboarding is for a multi-tenant app")
		if strings.Contains(h.last, "Customer tenant") {
			t.Fatalf("onboarding opened for a single-tenant app:\n%s", h.last)
		}
		h.final()
	})
	t.Run("tenant checked", func(t *testing.T) {
		t.Parallel()
		w := newVendorWorld(t)
		h := w.start(t, 80, 24, true, time.Hour)
		h.send("o")
		h.waitFor("Customer tenant")
		h.paste("ada@contoso.com")
		h.waitFor("Type the domain only")
		h.send("enter")
		if strings.Contains(h.waitFor("Type the domain only"), "Send this link") {
			t.Fatal("an invalid tenant started the onboarding")
		}
		h.final()
	})
}

// TestSendFromHome seals a profile to a support person's code: the block on screen opens
// with that code's one-time key and imports as a working profile; the secret is never on
// screen, and the screen says that no password is needed.
func TestSendFromHome(t *testing.T) {
	t.Parallel()
	w := newVendorWorld(t)
	w.sim.GrantAdminConsent(simulator.DemoClientID)
	code, err := w.engine.NewHandoffCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	h := w.start(t, 80, 24, true, time.Hour)
	h.send("s")
	screen := h.waitFor("Support's code")
	if !strings.Contains(screen, "No password is asked for") {
		t.Errorf("the code entry does not say that no password is needed:\n%s", screen)
	}
	h.paste("age1notacode")
	h.send("enter")
	h.waitFor("is not a hand-off code")
	for range len("age1notacode") {
		h.send("backspace")
	}
	h.paste(code)
	h.send("enter")
	h.waitFor("✓ Sealed")
	h.send("pgdown")
	screen = h.waitFor("-----END AGE ENCRYPTED FILE-----")
	m, _ := h.final()
	if strings.Contains(strings.Join(h.seen, "\n"), simulator.DemoSecretValue) {
		t.Fatal("the secret was on screen")
	}
	block := m.s.home.sub.(*sendScreen).block
	if !strings.Contains(screen, "No password") || !strings.Contains(strings.Join(h.seen, "\n"), "BEGIN AGE ENCRYPTED FILE") {
		t.Errorf("the block screen:\n%s", screen)
	}
	res, err := w.engine.ImportHandoff(t.Context(), creds.ImportRequest{Block: strings.NewReader(block), Name: "received"})
	if err != nil {
		t.Fatalf("the block shown does not import: %v", err)
	}
	if res.Profile.ClientID != simulator.DemoClientID || res.Profile.Tenant != simulator.DemoTenantID {
		t.Errorf("imported: %+v", res.Profile)
	}
}

// osc8RE matches the OSC 8 hyperlink sequences, which carry the address itself.
var osc8RE = regexp.MustCompile("\x1b]8;[^\x07\x1b]*(\x07|\x1b\\\\)")

// armourRE matches the lines of an armoured block between its header and footer.
var armourRE = regexp.MustCompile(`(?m)^(\s*(?:\x1b\[[0-9;]*m)*)[A-Za-z0-9+/=]{8,64}((?:\x1b\[[0-9;]*m)*)$`)

// onboardGolden compares the final screen with its golden after replacing what varies
// (pieces of the consent link, the hand-off code, the sealed lines): as drawn with colour,
// or as text without, checked to set no colour then.
func onboardGolden(t *testing.T, h *harness, noColor bool, varying map[string]string) {
	t.Helper()
	m, plain := h.final()
	raw := m.View().Content
	raw = stripTrailing(osc8RE.ReplaceAllString(raw[:strings.LastIndex(raw, "\n")], ""))
	screen := plain
	if !noColor {
		if !colourRE.MatchString(raw) {
			t.Fatal("the colour screen has no colour")
		}
		screen = raw
	} else if colourRE.MatchString(raw) {
		t.Fatalf("NO_COLOR screen sets a colour: %q", raw)
	}
	// A line that is a piece of what varies is replaced whole: styled, an underlined piece
	// carries an escape sequence between any two characters.
	lines := strings.Split(screen, "\n")
	for old, repl := range varying {
		for i, piece := range strings.Split(old, "\n") {
			for j, l := range lines {
				if ansi.Strip(l) == piece {
					lines[j] = fmt.Sprintf("%s:%d", repl, i+1)
				} else {
					lines[j] = strings.ReplaceAll(l, piece, repl)
				}
			}
		}
	}
	screen = strings.Join(lines, "\n")
	screen = armourRE.ReplaceAllString(screen, "${1}<sealed>${2}")
	golden.RequireEqual(t, []byte(screen+"\n"))
}

// TestOnboardGoldens draws each state of onboarding and of the sealed hand-off at 80x24 and
// 100x30, with and without colour.
func TestOnboardGoldens(t *testing.T) {
	t.Parallel()
	type drive func(t *testing.T, w *vendorWorld, h *harness) map[string]string
	linkShown := func(t *testing.T, h *harness, screen string) map[string]string {
		link := shownLink(t, screen, simBase(t), h.width)
		return map[string]string{urlPieces(link, h.width): "<consent link>"}
	}
	states := map[string]drive{
		"entry": func(_ *testing.T, _ *vendorWorld, h *harness) map[string]string {
			h.send("o")
			h.waitFor("Customer tenant")
			h.paste("contoso.onmicrosoft.com")
			h.waitFor("saved as profile contoso")
			return nil
		},
		"waiting": func(t *testing.T, _ *vendorWorld, h *harness) map[string]string {
			onboardTo(h, customerTenant)
			return linkShown(t, h, h.waitFor("Checked once"))
		},
		"message": func(t *testing.T, _ *vendorWorld, h *harness) map[string]string {
			onboardTo(h, customerTenant)
			fix := linkShown(t, h, h.waitFor("Checked once"))
			h.send("tab")
			h.waitFor("The message for an administrator")
			return fix
		},
		"saved": func(t *testing.T, w *vendorWorld, h *harness) map[string]string {
			w.sim.GrantAdminConsentIn(customerTenant, simulator.DemoClientID)
			onboardTo(h, customerTenant)
			h.waitFor("✓ Saved profile")
			return nil
		},
		"refused": func(t *testing.T, _ *vendorWorld, h *harness) map[string]string {
			onboardTo(h, unknownOrg)
			h.waitFor("What to do")
			return nil
		},
		"send-code": func(t *testing.T, _ *vendorWorld, h *harness) map[string]string {
			h.send("s")
			h.waitFor("Support's code")
			return nil
		},
		"send-block": func(t *testing.T, w *vendorWorld, h *harness) map[string]string {
			code, err := w.engine.NewHandoffCode(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			h.send("s")
			h.waitFor("Support's code")
			h.paste(code)
			h.send("enter")
			h.waitFor("✓ Sealed")
			return map[string]string{urlPieces("m365creds hand-off for code "+code, h.width): "<code line>",
				code[:10] + "…" + code[len(code)-6:]: "<code>"}
		},
	}
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		for _, noColor := range []bool{false, true} {
			variant := map[bool]string{false: "colour", true: "nocolor"}[noColor]
			for _, name := range []string{"entry", "waiting", "message", "saved", "refused", "send-code", "send-block"} {
				t.Run(fmt.Sprintf("%s/%dx%d_%s", name, size[0], size[1], variant), func(t *testing.T) {
					t.Parallel()
					w := newVendorWorld(t)
					h := w.start(t, size[0], size[1], noColor, time.Hour)
					varying := states[name](t, w, h)
					onboardGolden(t, h, noColor, varying)
				})
			}
		}
	}
}

// TestOnboardOfferedFor: only a multi-tenant profile that holds its own secret onboards
// customers; a customer profile points to its vendor, and a public client has nothing to seal.
func TestOnboardOfferedFor(t *testing.T) {
	t.Parallel()
	vendor := keyring.Profile{Name: "vendor", Kind: oauth.KindApp, Audience: oauth.MultiTenant}
	customer := vendor
	customer.Name, customer.SecretFrom = "contoso", "vendor"
	single := vendor
	single.Audience = oauth.SingleTenant
	kiosk := keyring.Profile{Name: "kiosk", Kind: oauth.KindPublic, Audience: oauth.MultiTenant}
	for _, tc := range []struct {
		p            keyring.Profile
		onboard, snd string // "" offered, else a word of the explanation
	}{
		{vendor, "", ""},
		{customer, "customer of vendor", ""},
		{single, "own organisation only", ""},
		{kiosk, "", "public client"},
	} {
		if got := canOnboard(tc.p); (tc.onboard == "") != (got == "") || !strings.Contains(got, tc.onboard) {
			t.Errorf("onboard from %s (%s): %q", tc.p.Name, tc.p.Audience, got)
		}
		if got := canSend(tc.p); (tc.snd == "") != (got == "") || !strings.Contains(got, tc.snd) {
			t.Errorf("send %s: %q", tc.p.Name, got)
		}
	}
}

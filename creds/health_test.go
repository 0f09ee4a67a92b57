package creds

import (
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
)

func TestHealthRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	basic := []string{"User.Read", "offline_access"}
	web := func(edit func(*keyring.Profile)) keyring.Profile {
		p := keyring.Profile{Name: "p", Kind: oauth.KindWeb, RequestedScopes: basic, GrantedScopes: basic,
			SecretExpires: now.AddDate(1, 0, 0), LastRefresh: now.AddDate(0, 0, -1)}
		if edit != nil {
			edit(&p)
		}
		return p
	}
	for _, tt := range []struct {
		name     string
		p        keyring.Profile
		state    HealthState
		severity Severity
		words    string
		remedy   Remedy
	}{
		{"ok", web(nil), HealthOK, SeverityOK, "ok", RemedyNone},
		{"expiring", web(func(p *keyring.Profile) { p.SecretExpires = now.AddDate(0, 0, 12) }),
			HealthSecretExpiring, SeverityWarning, "secret expires in 12 days", RemedyRotate},
		{"expiring on the 30th day still warns", web(func(p *keyring.Profile) { p.SecretExpires = now.AddDate(0, 0, 30) }),
			HealthSecretExpiring, SeverityWarning, "secret expires in 30 days", RemedyRotate},
		{"31 days is fine", web(func(p *keyring.Profile) { p.SecretExpires = now.AddDate(0, 0, 31) }),
			HealthOK, SeverityOK, "ok", RemedyNone},
		{"expired", web(func(p *keyring.Profile) { p.SecretExpires = now.Add(-time.Minute) }),
			HealthSecretExpired, SeverityAction, "secret expired", RemedyRotate},
		{"public clients have no secret to expire", web(func(p *keyring.Profile) {
			p.Kind, p.SecretExpires = oauth.KindPublic, now.AddDate(0, 0, -5)
		}), HealthOK, SeverityOK, "ok", RemedyNone},
		{"refresh token past the inactivity limit", web(func(p *keyring.Profile) { p.LastRefresh = now.Add(-RefreshInactivityLimit) }),
			HealthReconsent, SeverityAction, "re-consent", RemedyReconsent},
		{"89 days unused is fine", web(func(p *keyring.Profile) { p.LastRefresh = now.AddDate(0, 0, -89) }),
			HealthOK, SeverityOK, "ok", RemedyNone},
		{"no offline_access", web(func(p *keyring.Profile) {
			p.RequestedScopes, p.GrantedScopes = []string{"User.Read"}, []string{"User.Read"}
		}),
			HealthNoRefreshToken, SeverityAction, "no refresh token", RemedyReconsent},
		{"missing scopes", web(func(p *keyring.Profile) { p.RequestedScopes = append([]string{"Mail.Send"}, basic...) }),
			HealthMissingScopes, SeverityAction, "missing scopes", RemedyReconsent},
		{"app-only profiles need no refresh token", web(func(p *keyring.Profile) {
			p.Kind, p.RequestedScopes, p.GrantedScopes, p.LastRefresh = oauth.KindApp, []string{"https://graph.microsoft.com/.default"}, nil, now.AddDate(-1, 0, 0)
		}), HealthOK, SeverityOK, "ok", RemedyNone},
		{"an expired secret wins over a stale refresh token", web(func(p *keyring.Profile) {
			p.SecretExpires, p.LastRefresh = now.AddDate(0, 0, -1), now.AddDate(-1, 0, 0)
		}), HealthSecretExpired, SeverityAction, "secret expired (+1)", RemedyRotate},
		{"any action wins over a warning", web(func(p *keyring.Profile) {
			p.SecretExpires, p.RequestedScopes, p.GrantedScopes = now.AddDate(0, 0, 3), []string{"User.Read"}, []string{"User.Read"}
		}), HealthNoRefreshToken, SeverityAction, "no refresh token (+1)", RemedyReconsent},
	} {
		h := HealthAt(tt.p, now)
		w := h.Worst()
		if w.State != tt.state || h.Severity() != tt.severity || h.Words() != tt.words || w.Remedy != tt.remedy {
			t.Errorf("%s: state %d severity %s words %q remedy %d; want %d %s %q %d",
				tt.name, w.State, h.Severity(), h.Words(), w.Remedy, tt.state, tt.severity, tt.words, tt.remedy)
		}
		if w.Detail == "" {
			t.Errorf("%s: no detail", tt.name)
		}
	}
}

// TestHealthOfFindsLostKeychainItems reads the keychain: a profile whose items are all there
// is ok, one whose secret or refresh token the keychain lost says so and how it is repaired.
func TestHealthOfFindsLostKeychainItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.consent(f.draft("work", simulator.DemoClientID))
	h, err := f.engine.HealthOf(t.Context(), p)
	if err != nil || h.Worst().State != HealthOK {
		t.Fatalf("fresh profile: %+v %v", h, err)
	}
	f.dropItem("work", "access-token")
	if h, err := f.engine.HealthOf(t.Context(), p); err != nil || h.Worst().State != HealthOK {
		t.Fatalf("a lost cached access token is no problem: %+v %v", h, err)
	}
	f.dropItem("work", "client-secret")
	h, err = f.engine.HealthOf(t.Context(), p)
	if w := h.Worst(); err != nil || w.State != HealthKeychainMissing || w.Remedy != RemedyRotate || w.Words != "keychain item missing" {
		t.Fatalf("lost secret: %+v %v", h, err)
	}
	if _, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: testSecret2}); err != nil {
		t.Fatal(err)
	}
	f.dropItem("work", "refresh-token")
	h, err = f.engine.HealthOf(t.Context(), p)
	if w := h.Worst(); err != nil || w.State != HealthKeychainMissing || w.Remedy != RemedyReconsent {
		t.Fatalf("lost refresh token: %+v %v", h, err)
	}
	if _, err := f.engine.HealthOf(t.Context(), keyring.Profile{Name: "nobody"}); ProblemOf(err) != ProblemNotFound {
		t.Fatalf("unknown profile: %v", err)
	}
}

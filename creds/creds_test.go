package creds

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

const (
	testTenant  = simulator.DemoTenantID
	partClient  = "3c5e7a9b-1d2f-4a6c-8e0b-2d4f6a8c0e1f"
	testSecret2 = "new8Q~secondSecretValueForRotationTests0"
)

// fixture is a simulator over real HTTP and an engine whose store keeps secrets in a file
// under a temporary directory, so that a test can take single items away.
type fixture struct {
	t      *testing.T
	sim    *simulator.Sim
	engine *Service
	dir    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	far := time.Now().AddDate(1, 0, 0)
	demo := simulator.DemoApp()
	demo.Secrets = append(demo.Secrets, simulator.Secret{ID: "33333333-3333-4333-8333-333333333333", Value: testSecret2, Expires: far})
	part := simulator.App{ClientID: partClient, TenantID: testTenant, Name: "partly granted", Audience: "single",
		RedirectURIs:   []string{"http://localhost:53365/"},
		Secrets:        []simulator.Secret{{ID: "44444444-4444-4444-8444-444444444444", Value: simulator.DemoSecretValue, Expires: far}, {ID: "55555555-5555-4555-8555-555555555555", Value: testSecret2, Expires: far}},
		WithheldScopes: []string{"Mail.Read"}}
	return fixtureWith(t, []simulator.App{demo, part}, simulator.DemoUsers())
}

// fixtureWith starts a simulator of apps and users over real HTTP, and an engine whose store
// keeps secrets in a file and whose browser signs in as the first user that may.
func fixtureWith(t *testing.T, apps []simulator.App, users []simulator.User) *fixture {
	t.Helper()
	sim := simulator.New(apps, users)
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	dir := t.TempDir()
	store, err := keyring.Open(keyring.Options{Service: "m365creds-creds-test", ConfigDir: dir, Backend: keyring.BackendFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	browser := func(url string) error { go func() { _ = followRedirect(url) }(); return nil }
	return &fixture{t: t, sim: sim, dir: dir, engine: &Service{
		Store: store, Endpoints: oauth.Endpoints{Login: base, Graph: base}, OpenBrowser: browser,
	}}
}

// followRedirect is what a consenting user's browser does: load the authorize URL on the
// simulator and deliver its redirect to the loopback listener.
func followRedirect(authorizeURL string) error {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authorizeURL)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if loc == "" {
		return errors.New("no redirect from the simulated sign-in page: " + resp.Status)
	}
	resp, err = hc.Get(loc)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// draft is a web-app draft for clientID with Graph scopes.
func (f *fixture) draft(name, clientID string, scopes ...string) steps.Draft {
	d := steps.NewDraft()
	d.Profile, d.ClientID, d.Tenant, d.TenantID = name, clientID, testTenant, testTenant
	d.ClientSecret = simulator.DemoSecretValue
	d.SecretExpires = time.Now().AddDate(0, 6, 0)
	d.Port = testport.Free()
	if len(scopes) > 0 {
		d.Scopes = scopes
	}
	return d
}

// consent signs in and saves a profile.
func (f *fixture) consent(d steps.Draft) keyring.Profile {
	f.t.Helper()
	res, err := f.engine.Consent(f.t.Context(), ConsentRequest{Draft: d})
	if err != nil {
		f.t.Fatalf("consent: %v", err)
	}
	d.Token, d.User = res.Token, res.User
	p, err := f.engine.Save(f.t.Context(), d)
	if err != nil {
		f.t.Fatalf("save: %v", err)
	}
	return p
}

// dropItem removes one keychain item of a profile from the secrets file, as a keychain that
// lost it would.
func (f *fixture) dropItem(profile, item string) {
	f.t.Helper()
	path := filepath.Join(f.dir, "secrets-m365creds-creds-test.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		f.t.Fatal(err)
	}
	dropped := false
	for k := range m {
		if strings.Contains(k, "\x00"+profile+"/"+item+"@") {
			delete(m, k)
			dropped = true
		}
	}
	if !dropped {
		f.t.Fatalf("no %s item for %s in %v", item, profile, m)
	}
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func problem(t *testing.T, err error, want Problem) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want problem %d", want)
	}
	if got := ProblemOf(err); got != want {
		t.Fatalf("problem %d, want %d: %v", got, want, err)
	}
}

func TestConsentSavesAndServesTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var events []Event
	d := f.draft("work", simulator.DemoClientID)
	res, err := f.engine.Consent(t.Context(), ConsentRequest{Draft: d, Events: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.User == nil || res.Token.RefreshToken == "" || len(res.Missing) != 0 {
		t.Fatalf("consent %+v", res)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, strings.TrimPrefix(strings.TrimPrefix(fmtType(e), "creds."), "*"))
	}
	if got := strings.Join(kinds, " "); got != "CheckingKeychain CheckingSecret SignInReady Redeeming ReadingAccount" {
		t.Errorf("events %s", got)
	}
	d.Token, d.User = res.Token, res.User
	p, err := f.engine.Save(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.engine.Token(t.Context(), p, TokenRequest{})
	if err != nil || tok.AccessToken != res.Token.AccessToken || tok.Refreshed {
		t.Fatalf("the cached token was not served: %+v %v", tok, err)
	}
}

func fmtType(e Event) string {
	switch e.(type) {
	case CheckingKeychain:
		return "CheckingKeychain"
	case CheckingSecret:
		return "CheckingSecret"
	case SignInReady:
		return "SignInReady"
	case Redeeming:
		return "Redeeming"
	case ReadingAccount:
		return "ReadingAccount"
	case PasteRejected:
		return "PasteRejected"
	case DeviceCodeReady:
		return "DeviceCodeReady"
	case GettingAppToken:
		return "GettingAppToken"
	}
	return "?"
}

// TestConsentBusyPort: a taken port moves the listener; Entra ignores localhost ports, so the
// sign-in still succeeds, and the event says so.
func TestConsentBusyPort(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	d := f.draft("work", simulator.DemoClientID)
	d.Port = busy.Addr().(*net.TCPAddr).Port
	var ready SignInReady
	_, err = f.engine.Consent(t.Context(), ConsentRequest{Draft: d, Events: func(e Event) {
		if r, ok := e.(SignInReady); ok {
			ready = r
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ready.BusyPort != d.Port || ready.Port == d.Port || ready.Port == 0 {
		t.Errorf("event %+v", ready)
	}
}

// TestConsentPaste: a pasted address that is not the redirect is rejected with an event and
// the plan keeps waiting; the right one signs in.
func TestConsentPaste(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.draft("work", simulator.DemoClientID)
	d.Flow = oauth.FlowPaste
	pasted := make(chan string, 2)
	var rejected int
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, err := f.engine.Consent(t.Context(), ConsentRequest{Draft: d, Pasted: pasted, Events: func(e Event) {
		switch e := e.(type) {
		case SignInReady:
			pasted <- "hello"
			resp, err := hc.Get(e.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			pasted <- resp.Header.Get("Location")
		case PasteRejected:
			rejected++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rejected != 1 {
		t.Errorf("%d rejections", rejected)
	}
}

// TestConsentNeedsOfflineAccess: without offline_access there is no refresh token, so the plan
// refuses before anyone signs in.
func TestConsentNeedsOfflineAccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.draft("work", simulator.DemoClientID, "openid", "User.Read")
	_, err := f.engine.Consent(t.Context(), ConsentRequest{Draft: d})
	problem(t, err, ProblemNoOfflineAccess)
	if f.sim.Count("token", "") != 0 {
		t.Error("a request reached Microsoft")
	}
}

// TestSaveRefusesDelegatedWithoutRefreshToken: a delegated profile is never saved without a
// refresh token.
func TestSaveRefusesDelegatedWithoutRefreshToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.draft("work", simulator.DemoClientID)
	d.Token = &oauth.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}
	_, err := f.engine.Save(t.Context(), d)
	problem(t, err, ProblemNoOfflineAccess)
	if _, err := f.engine.Store.Profile("work"); err == nil {
		t.Error("the profile was saved")
	}
}

// TestRotateUsesGrantedScopes: a profile where a requested scope was not granted rotates
// (asking for the requested scopes would fail with AADSTS65001).
func TestRotateUsesGrantedScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.consent(f.draft("part", partClient, "openid", "offline_access", "User.Read", "Mail.Read"))
	if !strings.Contains(strings.Join(p.RequestedScopes, " "), "Mail.Read") || strings.Contains(strings.Join(p.GrantedScopes, " "), "Mail.Read") {
		t.Fatalf("fixture: requested %v granted %v", p.RequestedScopes, p.GrantedScopes)
	}
	res, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: testSecret2, Expires: time.Now().AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := f.engine.Store.Secrets(t.Context(), "part")
	if sec.ClientSecret != testSecret2 || res.Profile.SecretExpires.IsZero() {
		t.Error("the new secret was not saved")
	}
	_, err = f.engine.Rotate(t.Context(), RotateRequest{Profile: res.Profile, NewSecret: testSecret2})
	problem(t, err, ProblemUsage) // the secret already in use
}

// TestRotateKeepsOldOnRejectedSecret: a secret Microsoft rejects changes nothing.
func TestRotateKeepsOldOnRejectedSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.consent(f.draft("work", simulator.DemoClientID))
	_, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: "bad8Q~thisSecretIsNotKnownToTheSimulator0"})
	problem(t, err, ProblemSecret)
	var ce *Error
	if !errors.As(err, &ce) || !ce.Kept {
		t.Errorf("not marked as kept: %v", err)
	}
	sec, _ := f.engine.Store.Secrets(t.Context(), "work")
	if sec.ClientSecret != simulator.DemoSecretValue {
		t.Error("the old secret was replaced")
	}
}

// TestLostItems: a lost cached access token is fetched again with the refresh token; a lost
// refresh token is a re-consent; a lost secret is a secret problem that rotate repairs.
func TestLostItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.consent(f.draft("work", simulator.DemoClientID))

	f.dropItem("work", "access-token")
	res, err := f.engine.Token(t.Context(), p, TokenRequest{})
	if err != nil || !res.Refreshed {
		t.Fatalf("lost cache: %+v %v", res, err)
	}

	f.dropItem("work", "client-secret")
	_, err = f.engine.Token(t.Context(), p, TokenRequest{Force: true})
	problem(t, err, ProblemSecret)
	if _, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: testSecret2}); err != nil {
		t.Fatalf("rotate did not repair the lost secret: %v", err)
	}
	if _, err := f.engine.Token(t.Context(), p, TokenRequest{Force: true}); err != nil {
		t.Fatalf("after repair: %v", err)
	}

	f.dropItem("work", "refresh-token")
	_, err = f.engine.Token(t.Context(), p, TokenRequest{Force: true})
	problem(t, err, ProblemConsent)
}

// TestVerifyFailsWhenMicrosoftIsDown: verify never reports success from the cache.
func TestVerifyFailsWhenMicrosoftIsDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.consent(f.draft("work", simulator.DemoClientID))
	for _, fault := range []int{http.StatusServiceUnavailable} {
		f.sim.AddFault(simulator.Fault{Endpoint: "token", Status: fault, Times: 5})
		_, err := f.engine.Verify(t.Context(), p)
		problem(t, err, ProblemNetwork)
		f.sim.ClearFaults()
	}
	_ = f.sim.Close()
	_, err := f.engine.Verify(t.Context(), p)
	problem(t, err, ProblemNetwork)
}

// TestVerifyMissingScopes: a partly granted profile verifies with the report and a consent
// problem.
func TestVerifyMissingScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.consent(f.draft("part", partClient, "openid", "offline_access", "User.Read", "Mail.Read"))
	v, err := f.engine.Verify(t.Context(), p)
	problem(t, err, ProblemConsent)
	var missing *MissingScopesError
	if !errors.As(err, &missing) || len(v.Missing) == 0 || v.User == nil {
		t.Errorf("report %+v, err %v", v, err)
	}
}

// TestTokenNeverServesAlmostExpired: with Microsoft unreachable, a cached token with less than
// the minimum validity left is not handed out.
func TestTokenNeverServesAlmostExpired(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.consent(f.draft("work", simulator.DemoClientID))
	err := f.engine.Store.UpdateSecrets(t.Context(), "work", func(s *keyring.Secrets) error {
		s.AccessExpiry = time.Now().Add(2 * time.Minute)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.sim.Close()
	_, err = f.engine.Token(context.Background(), p, TokenRequest{})
	problem(t, err, ProblemNetwork)
}

func TestRemoteShellTunnel(t *testing.T) {
	t.Parallel()
	if got := (RemoteShell{User: "ada", Host: "192.0.2.20"}).Tunnel(8400); got != "ssh -L 8400:localhost:8400 ada@192.0.2.20" {
		t.Errorf("tunnel %q", got)
	}
	if got := (RemoteShell{}).Tunnel(0); got != "ssh -L 53365:localhost:53365 USER@THIS-HOST" {
		t.Errorf("placeholders %q", got)
	}
}

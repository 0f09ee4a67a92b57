package creds

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
)

const (
	vendorClient  = "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968"
	vendorTenant  = "2b4d6f80-1a3c-4e5f-8a7b-9c0d1e2f3a4b"
	customerA     = "c0ffee00-1111-4222-8333-444455556666"
	customerB     = "b0ffee00-7777-4888-9999-aaaabbbbcccc"
	decliningOrg  = "dec11ed0-1111-4222-8333-444455556666"
	vendorSecret  = "ven8Q~vendorMultiTenantSecretValue00000x"
	vendorSecret2 = "ven8Q~vendorMultiTenantSecretValue22222y"
)

// vendorFixture is a simulator with a multi-tenant vendor app, two customer tenants that
// have not consented yet, one whose administrator declines, and the vendor's app-only
// profile saved.
func vendorFixture(t *testing.T) (*fixture, keyring.Profile) {
	t.Helper()
	far := time.Now().AddDate(1, 0, 0)
	vendorApp := simulator.App{ClientID: vendorClient, TenantID: vendorTenant, Name: "vendor", Audience: "multi",
		RedirectURIs:           []string{"http://localhost:" + itoa(testport.Free()) + "/"},
		Secrets:                []simulator.Secret{{ID: "66666666-6666-4666-8666-666666666666", Value: vendorSecret, Expires: far}, {ID: "77777777-7777-4777-8777-777777777777", Value: vendorSecret2, Expires: far}},
		ApplicationPermissions: []string{"Mail.Read"}}
	sim := simulator.New([]simulator.App{vendorApp}, simulator.DemoUsers())
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	store, err := keyring.Open(keyring.Options{Service: "m365creds-creds-test", ConfigDir: t.TempDir(), Backend: keyring.BackendFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, sim: sim, engine: &Service{Store: store, Endpoints: oauth.Endpoints{Login: base, Graph: base}}}
	for _, id := range []string{customerA, customerB} {
		f.sim.AddTenant(simulator.Tenant{ID: id})
	}
	f.sim.AddTenant(simulator.Tenant{ID: decliningOrg, AdminDeclines: true})
	f.sim.GrantAdminConsent(vendorClient)
	p := keyring.Profile{Name: "vendor", Cloud: oauth.Global, Tenant: vendorTenant, TenantID: vendorTenant,
		ClientID: vendorClient, Audience: oauth.MultiTenant, Kind: oauth.KindApp, RedirectURI: vendorApp.RedirectURIs[0],
		RequestedScopes: []string{GraphDefault(oauth.Global)}, SecretExpires: far}
	if err := f.engine.Store.Save(t.Context(), p, keyring.Secrets{ClientSecret: vendorSecret}); err != nil {
		t.Fatal(err)
	}
	saved, err := f.engine.Store.Profile("vendor")
	if err != nil {
		t.Fatal(err)
	}
	return f, saved
}

// adminElsewhere is the customer's administrator on another machine: they open the link and
// accept. Their browser's redirect goes to their own localhost, which is
// not this process, so it is dropped.
func adminElsewhere(t *testing.T, link string) <-chan error {
	done := make(chan error, 1)
	go func() {
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(link)
		if err != nil {
			done <- err
			return
		}
		_ = resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "admin_consent=True") {
			done <- errors.New("the admin-consent page did not redirect: " + resp.Status + " " + loc)
			return
		}
		done <- nil
	}()
	return done
}

type eventLog struct {
	mu      sync.Mutex
	events  []OnboardEvent
	links   chan ConsentLink
	waiting chan struct{} // closed when onboard first reports the consent still pending
}

func newEventLog() *eventLog {
	return &eventLog{links: make(chan ConsentLink, 1), waiting: make(chan struct{})}
}

func (l *eventLog) add(e OnboardEvent) {
	l.mu.Lock()
	l.events = append(l.events, e)
	_, pending := e.(ConsentPending)
	firstPending := pending && l.pendingLocked() == 1
	l.mu.Unlock()
	if firstPending {
		close(l.waiting)
	}
	if r, ok := e.(ConsentLinkReady); ok {
		l.links <- r.Link
	}
}

func (l *eventLog) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pendingLocked()
}

func (l *eventLog) pendingLocked() int {
	n := 0
	for _, e := range l.events {
		if _, ok := e.(ConsentPending); ok {
			n++
		}
	}
	return n
}

// TestOnboardTwoCustomersWithConsentElsewhere: onboard waits, polling, while an
// administrator elsewhere accepts; the saved customer profile then gets app-only tokens in
// its own tenant, with the vendor's secret.
func TestOnboardTwoCustomersWithConsentElsewhere(t *testing.T) {
	t.Parallel()
	f, vendor := vendorFixture(t)
	for i, tenant := range []string{customerA, customerB} {
		log := newEventLog()
		admin := make(chan (<-chan error), 1)
		go func() {
			link := <-log.links
			<-log.waiting // the administrator accepts while onboard waits
			admin <- adminElsewhere(t, link.URL)
		}()
		res, err := f.engine.Onboard(t.Context(), OnboardRequest{Vendor: vendor, Tenant: tenant,
			PollEvery: 20 * time.Millisecond, Wait: 20 * time.Second, Events: log.add})
		if err != nil {
			t.Fatalf("onboard %s: %v", tenant, err)
		}
		if err := <-<-admin; err != nil {
			t.Fatal(err)
		}
		if log.pending() == 0 {
			t.Errorf("onboard %d never waited: the consent was given only after a delay", i)
		}
		if !f.sim.HasServicePrincipal(tenant, vendorClient) {
			t.Errorf("no service principal in %s", tenant)
		}
		want := CustomerProfileName(tenant)
		if res.Profile.Name != want || res.Profile.Tenant != tenant || res.Profile.ClientID != vendorClient || res.Profile.Kind != oauth.KindApp {
			t.Errorf("saved profile: %+v", res.Profile)
		}
		u, _ := url.Parse(res.Link.URL)
		if u.Path != "/"+tenant+"/v2.0/adminconsent" || u.Query().Get("client_id") != vendorClient ||
			u.Query().Get("scope") != "https://graph.microsoft.com/.default" || u.Query().Get("state") == "" || u.Query().Get("redirect_uri") == "" {
			t.Errorf("consent link: %s", res.Link.URL)
		}
		if !strings.Contains(res.Link.Message, res.Link.URL) || !strings.Contains(res.Link.Message, "No password") {
			t.Errorf("message: %s", res.Link.Message)
		}
		tok, err := f.engine.Token(t.Context(), res.Profile, TokenRequest{Force: true})
		if err != nil {
			t.Fatalf("token for %s: %v", want, err)
		}
		if info, ok := f.sim.AccessToken(tok.AccessToken); !ok || !info.AppOnly || info.ClientID != vendorClient {
			t.Errorf("token of %s: %+v", want, info)
		}
		if res.Profile.SecretFrom != "vendor" {
			t.Errorf("%s does not share the vendor's secret: %+v", want, res.Profile)
		}
	}
	// One rotation of the vendor app keeps both customers working after the old secret ends.
	ctx := t.Context()
	if _, err := f.engine.Rotate(ctx, RotateRequest{Profile: vendor, NewSecret: vendorSecret2, Expires: time.Now().AddDate(1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	f.sim.ExpireSecret(vendorClient, vendorSecret)
	for _, tenant := range []string{customerA, customerB} {
		p, err := f.engine.Store.Profile(CustomerProfileName(tenant))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.engine.Token(ctx, p, TokenRequest{Force: true}); err != nil {
			t.Errorf("%s after rotating the vendor: %v", p.Name, err)
		}
		if _, err := f.engine.Rotate(ctx, RotateRequest{Profile: p, NewSecret: vendorSecret}); ProblemOf(err) != ProblemUsage || !strings.Contains(err.Error(), `rotate "vendor"`) {
			t.Errorf("rotating a customer instead of the vendor: %v", err)
		}
	}
	// Deleting a customer leaves the secret for the other; the vendor waits for both.
	if err := f.engine.Delete(ctx, CustomerProfileName(customerA)); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.Delete(ctx, "vendor"); err == nil {
		t.Error("the vendor was deleted while a customer uses its secret")
	}
	p, _ := f.engine.Store.Profile(CustomerProfileName(customerB))
	if _, err := f.engine.Token(ctx, p, TokenRequest{Force: true}); err != nil {
		t.Errorf("the other customer after a delete: %v", err)
	}
}

// TestOnboardDeclinedOnThisMachine: an administrator who declines on this machine ends the
// wait at once with Microsoft's answer explained.
func TestOnboardDeclinedOnThisMachine(t *testing.T) {
	t.Parallel()
	f, vendor := vendorFixture(t)
	log := newEventLog()
	browser := make(chan error, 1)
	go func() {
		link := <-log.links
		browser <- followRedirect(link.URL)
	}()
	start := time.Now()
	_, err := f.engine.Onboard(t.Context(), OnboardRequest{Vendor: vendor, Tenant: decliningOrg,
		PollEvery: time.Second, Wait: 20 * time.Second, Events: log.add})
	var ce *Error
	if !errors.As(err, &ce) || ce.Op != OpOnboard {
		t.Fatalf("declined consent: %v", err)
	}
	if g := ce.Explain(); g.Code != 65004 || g.Title != "Consent declined" {
		t.Errorf("explanation: %+v", g)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("a declined consent did not end the wait")
	}
	if err := <-browser; err != nil {
		t.Errorf("the administrator's browser: %v", err)
	}
	for _, e := range log.events {
		if r, ok := e.(ConsentLinkReady); ok && !r.Listening {
			t.Error("onboard did not listen for the administrator's redirect")
		}
	}
	if _, err := f.engine.Store.Profile(CustomerProfileName(decliningOrg)); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("a profile was saved for a declined consent: %v", err)
	}
}

// TestOnboardAnswersThatEndTheWait: what cannot get better by waiting fails at once.
func TestOnboardAnswersThatEndTheWait(t *testing.T) {
	t.Parallel()
	f, vendor := vendorFixture(t)
	ctx := t.Context()
	// A long wait: each answer below must end it at once, or the test fails on a time-out.
	onboard := func(p keyring.Profile, tenant string, wait time.Duration) error {
		_, err := f.engine.Onboard(ctx, OnboardRequest{Vendor: p, Tenant: tenant, PollEvery: 10 * time.Millisecond,
			Wait: wait, NoListener: true})
		return err
	}
	quick := func(p keyring.Profile, tenant string) error { return onboard(p, tenant, time.Minute) }
	// A tenant that does not exist: the wrong tenant was given.
	err := quick(vendor, "deadbeef-0000-4000-8000-000000000000")
	if g := explainOf(err); g.Code != 90002 {
		t.Errorf("unknown tenant: %v (%+v)", err, g)
	}
	// A single-tenant app: no other organisation can consent to it.
	single := vendor
	single.Audience = oauth.SingleTenant
	if err := quick(single, customerA); !errors.Is(err, ErrNotMultiTenant) || ProblemOf(err) != ProblemApp {
		t.Errorf("single-tenant app: %v", err)
	}
	// A disabled service principal.
	f.sim.GrantAdminConsentIn(customerB, vendorClient)
	f.sim.DisableServicePrincipal(customerB, vendorClient)
	if g := explainOf(quick(vendor, customerB)); g.Code != 7000112 || g.Title != "App disabled in this tenant" {
		t.Errorf("disabled service principal: %+v", g)
	}
	// Nobody consents: the wait ends with a timeout that says the link stays valid.
	err = onboard(vendor, customerA, 2*time.Second)
	if ProblemOf(err) != ProblemTimedOut || !strings.Contains(err.Error(), "link stays valid") || !strings.Contains(err.Error(), "App not yet set up in this tenant") {
		t.Errorf("no consent: %v", err)
	}
	// The vendor's own tenant and shared names are no customers.
	for _, bad := range []string{vendorTenant, "common", ""} {
		if ProblemOf(quick(vendor, bad)) != ProblemUsage {
			t.Errorf("tenant %q was accepted", bad)
		}
	}
}

// TestConsentLinkForDelegatedScopes: a delegated vendor profile's link names its scopes in
// the profile's cloud, and the message says what they allow in the catalogue's words.
func TestConsentLinkForDelegatedScopes(t *testing.T) {
	t.Parallel()
	for _, cloud := range []oauth.Cloud{oauth.Global, oauth.USGov} {
		s := &Service{}
		p := keyring.Profile{Name: "v", Cloud: cloud, ClientID: vendorClient, Audience: oauth.MultiTenant, Kind: oauth.KindWeb,
			RedirectURI: "http://localhost:53365/", RequestedScopes: []string{"User.Read", "Mail.Read", "offline_access"}}
		link := s.ConsentLinkFor(p, customerA, oauth.FlowBrowser, "st")
		graph := strings.TrimRight(oauth.HostsFor(cloud).GraphResource, "/")
		want := []string{graph + "/User.Read", graph + "/Mail.Read"}
		if strings.Join(link.Scopes, " ") != strings.Join(want, " ") {
			t.Errorf("%s: scopes %v, want %v", cloud, link.Scopes, want)
		}
		if !strings.HasPrefix(link.URL, oauth.HostsFor(cloud).Login+"/"+customerA+"/v2.0/adminconsent?") {
			t.Errorf("%s: link %s", cloud, link.URL)
		}
		if !strings.Contains(link.Message, "Read the user's mail") && !strings.Contains(link.Message, "(Mail.Read)") {
			t.Errorf("message does not explain Mail.Read:\n%s", link.Message)
		}
	}
}

func explainOf(err error) oauth.Guidance {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Explain()
	}
	return oauth.Explain(err, oauth.App{})
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestOnboardDelegated: with a delegated flow, a user of the customer signs in (here an
// administrator, who consents on the spot); the customer profile keeps a refresh token,
// refreshes with the vendor's shared secret, and follows a rotation of the vendor.
func TestOnboardDelegated(t *testing.T) {
	t.Parallel()
	f, app := vendorFixture(t)
	ctx := t.Context()
	f.engine.OpenBrowser = func(url string) error { go func() { _ = followRedirect(url) }(); return nil }
	web := app
	web.Name, web.Kind = "vendor-web", oauth.KindWeb
	web.RequestedScopes = []string{"User.Read", "offline_access"}
	if err := f.engine.Store.Save(ctx, web, keyring.Secrets{ClientSecret: vendorSecret}); err != nil {
		t.Fatal(err)
	}
	log := newEventLog()
	res, err := f.engine.Onboard(ctx, OnboardRequest{Vendor: web, Tenant: customerA, Name: "contoso", Wait: 20 * time.Second, Events: log.add})
	if err != nil {
		t.Fatalf("onboard: %v", err)
	}
	link := <-log.links
	if !strings.Contains(link.URL, "scope=https%3A%2F%2Fgraph.microsoft.com%2FUser.Read") {
		t.Errorf("delegated link: %s", link.URL)
	}
	p := res.Profile
	if p.Kind != oauth.KindWeb || p.Tenant != customerA || p.SecretFrom != "vendor-web" || p.Account == "" {
		t.Fatalf("profile %+v", p)
	}
	sec, err := f.engine.Store.Secrets(ctx, "contoso")
	if err != nil || sec.RefreshToken == "" || sec.ClientSecret != vendorSecret {
		t.Fatalf("secrets: refresh token %v, shared secret %v, %v", sec.RefreshToken != "", sec.ClientSecret == vendorSecret, err)
	}
	// The vendor's own secret changes (rotate needs a sign-in of the vendor's own, which
	// this profile has not got; the app-only test rotates through the engine).
	if err := f.engine.Store.UpdateSecrets(ctx, "vendor-web", func(s *keyring.Secrets) error { s.ClientSecret = vendorSecret2; return nil }); err != nil {
		t.Fatal(err)
	}
	f.sim.ExpireSecret(vendorClient, vendorSecret)
	if _, err := f.engine.Token(ctx, p, TokenRequest{Force: true}); err != nil {
		t.Errorf("refresh after rotating the vendor: %v", err)
	}
}

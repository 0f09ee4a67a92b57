package oauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// Test identities. The secret values are made up; they only exist in the simulator.
const (
	testTenant     = simulator.DemoTenantID
	testClientID   = simulator.DemoClientID
	testSecret     = simulator.DemoSecretValue
	testSecretID   = simulator.DemoSecretID
	publicClientID = "6b1d3f5a-9c2e-4e7b-8a4d-1f3c5e7a9b2d"
	multiClientID  = "2e4a6c8b-0d1f-4a3c-9e5b-7d9f1b3d5e7a"
	personalClient = "9a7c5e3b-1d2f-4b6a-8c0e-2f4d6b8a0c1e"
)

// basicScopes is what the wizard asks for by default.
var basicScopes = []string{"openid", "profile", "offline_access", "User.Read", "Mail.Read"}

// testSim starts a simulator with the demo app, a public-client app, a multitenant app and a
// personal-only app, and stops it when the test ends.
func testSim(t testing.TB) (*simulator.Sim, string) {
	t.Helper()
	demo := simulator.DemoApp()
	public := simulator.App{ClientID: publicClientID, TenantID: testTenant, Name: "device app", Audience: "single",
		PublicClient: true, Secrets: []simulator.Secret{{ID: "11111111-2222-4333-8444-555555555555", Value: "pub8Q~publicAppSecretThatMustNeverBeSent0"}}}
	multi := simulator.App{ClientID: multiClientID, TenantID: testTenant, Name: "multi app", Audience: "multi",
		RedirectURIs: []string{"http://localhost:53365/"},
		Secrets:      []simulator.Secret{{ID: "22222222-3333-4444-8555-666666666666", Value: "mul8Q~multiTenantAppSecretValue00000000x"}}}
	personal := simulator.App{ClientID: personalClient, TenantID: testTenant, Name: "personal app", Audience: "personal",
		RedirectURIs: []string{"http://localhost:53365/"}}
	users := append(simulator.DemoUsers(), simulator.User{ID: "p1", DisplayName: "Pat Personal", UPN: "pat@outlook.example", Personal: true})
	s := simulator.New([]simulator.App{demo, public, multi, personal}, users)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, base
}

// testClient returns a client whose hosts point at the simulator and whose device polling runs
// a thousand times faster than real time.
func testClient(base string, app App, hc *http.Client) *Client {
	c := NewClient(app, hc)
	c.hosts.Login = base
	c.hosts.Graph = base
	c.pollUnit = 2 * time.Millisecond
	return c
}

func webApp() App {
	return App{Cloud: Global, Tenant: testTenant, ClientID: testClientID, ClientSecret: testSecret, Kind: KindWeb,
		RedirectURI: "http://localhost:53365/"}
}

// noRedirect is an HTTP client that acts like a browser that shows us each redirect instead
// of following it. Keep-alives are off so no connection outlives a test.
func noRedirect() *http.Client {
	return &http.Client{
		Timeout:       5 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// authorizeLocation loads the authorize URL like a browser and returns the redirect target.
func authorizeLocation(t testing.TB, authURL string) string {
	t.Helper()
	resp, err := noRedirect().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d instead of a redirect: %s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// fetch is get for goroutines, which must not call t.Fatal.
func fetch(u string) (int, string, error) {
	resp, err := noRedirect().Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// browse acts as the browser: load the authorize URL, then deliver its redirect. For goroutines.
func browse(authURL string) (int, string, error) {
	resp, err := noRedirect().Get(authURL)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		return resp.StatusCode, "", fmt.Errorf("authorize answered %d without a redirect", resp.StatusCode)
	}
	return fetch(loc)
}

// get fetches a URL and returns status and body.
func get(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := noRedirect().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// goroutineCheck records the goroutine count and returns a function that fails the test if the
// count does not come back down within two seconds. It counts the whole process, so a test using
// it must not call t.Parallel: Go runs a package's sequential tests before it releases any
// parallel one, and only then is the count the test's own.
func goroutineCheck(t *testing.T) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
		}
	}
}

// redeem turns the sign-in's callback into tokens: the code it carries, exchanged by c.
func redeem(t testing.TB, c *Client, req *AuthRequest, cb Callback) *Token {
	t.Helper()
	code, err := req.CodeFrom(cb)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Exchange(context.Background(), req, code)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// noSecretIn fails if any text carries a secret.
func noSecretIn(t testing.TB, secret string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if secret != "" && strings.Contains(s, secret) {
			t.Errorf("text carries a secret: %q", s)
		}
	}
}

func guidanceTexts(g Guidance) []string {
	return []string{g.Title, g.Meaning, g.Action, g.PortalLink, g.Raw}
}

// keepAliveOff is an HTTP client for the package under test without idle connections.
func keepAliveOff(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

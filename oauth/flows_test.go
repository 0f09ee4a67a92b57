package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

func TestBrowserFlowEndToEnd(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	c := testClient(base, webApp(), keepAliveOff(5*time.Second))
	lb, err := ListenLoopback(0)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	req, err := c.NewAuthRequest(basicScopes, lb.RedirectURI())
	if err != nil {
		t.Fatal(err)
	}
	lb.Expect(req.State)

	// The "browser": load the authorize page, take the redirect to the real loopback listener.
	type page struct {
		status int
		body   string
		err    error
	}
	pages := make(chan page, 1)
	go func() {
		st, body, err := browse(req.URL)
		pages <- page{st, body, err}
	}()
	cb, err := lb.Wait(ctxTimeout(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p := <-pages
	if p.err != nil {
		t.Fatal(p.err)
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, "Signed in") {
		t.Fatalf("browser page: %d %s", p.status, p.body)
	}
	if strings.Contains(p.body, cb.Code) {
		t.Error("the browser page shows the code")
	}
	tok := redeem(t, c, req, cb)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" || tok.Expiry.Before(time.Now()) {
		t.Fatalf("incomplete token: %+v", tok)
	}
	if m := MissingScopes(basicScopes, tok.Scopes); len(m) != 0 {
		t.Errorf("missing scopes %v (granted %v)", m, tok.Scopes)
	}
	u, err := c.Me(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "Ada Demo" || u.UserPrincipalName != "ada@demo.example" {
		t.Errorf("me = %+v", u)
	}
	if n := sim.SecretsSent("authorization_code"); n != 1 {
		t.Errorf("secret sent on %d code redemptions, want 1", n)
	}
	if n := sim.OriginHeaders(); n != 0 {
		t.Errorf("%d requests carried an Origin header", n)
	}

	// A second hit, the favicon and any other path.
	if st, body := get(t, lb.RedirectURI()+"?code=again&state="+req.State); st != 200 || !strings.Contains(body, "already been handled") {
		t.Errorf("replay: %d %s", st, body)
	}
	for _, path := range []string{"favicon.ico", "callback", "x/y"} {
		if st, _ := get(t, lb.RedirectURI()+path); st != http.StatusNotFound {
			t.Errorf("/%s answered %d, want 404", path, st)
		}
	}
}

func TestAuthRequestURL(t *testing.T) {
	t.Parallel()
	c := NewClient(webApp(), nil)
	req, err := c.NewAuthRequest([]string{"User.Read", "offline_access"}, "http://localhost:53365/")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "login.microsoftonline.com" || u.Path != "/"+testTenant+"/oauth2/v2.0/authorize" {
		t.Errorf("authorize URL %s", req.URL)
	}
	q := u.Query()
	want := map[string]string{
		"client_id": testClientID, "response_type": "code", "redirect_uri": "http://localhost:53365/",
		"scope": "User.Read offline_access", "code_challenge_method": "S256", "response_mode": "query",
		"prompt": "select_account", "state": req.State,
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Get("code_challenge") == "" || strings.Contains(req.URL, req.Verifier) {
		t.Error("challenge missing or verifier leaked into the URL")
	}
	if q.Has("client_secret") || strings.Contains(req.URL, testSecret) {
		t.Error("the secret is in the authorize URL")
	}
	req2, _ := c.NewAuthRequest([]string{"User.Read"}, "http://localhost:53365/")
	if req2.State == req.State || req2.Verifier == req.Verifier || len(req.State) < 20 {
		t.Error("state and verifier must be fresh and long")
	}
	if _, err := c.NewAuthRequest(nil, "http://localhost:53365/"); err == nil {
		t.Error("no scopes accepted")
	}
	if _, err := c.NewAuthRequest([]string{"User.Read"}, "https://login.microsoftonline.com/common/oauth2/nativeclient"); !errors.Is(err, ErrNativeClient) {
		t.Errorf("nativeclient: %v", err)
	}
}

func TestPasteFlow(t *testing.T) {
	t.Parallel()
	_, base := testSim(t)
	c := testClient(base, webApp(), nil)
	variants := map[string]func(loc string) string{
		"wrapped URL in quotes": func(loc string) string {
			mid := len(loc) / 2
			return "  \"" + loc[:mid] + "\r\n  " + loc[mid:] + "\"\n"
		},
		"query string": func(loc string) string { return loc[strings.Index(loc, "?"):] },
		"query without ?": func(loc string) string {
			return loc[strings.Index(loc, "?")+1:]
		},
		"bare code": func(loc string) string {
			u, _ := url.Parse(loc)
			return "\t" + u.Query().Get("code") + "\n"
		},
	}
	for name, paste := range variants {
		t.Run(name, func(t *testing.T) {
			req, err := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
			if err != nil {
				t.Fatal(err)
			}
			loc := authorizeLocation(t, req.URL)
			cb, err := ParseRedirect(paste(loc))
			if err != nil {
				t.Fatal(err)
			}
			tok := redeem(t, c, req, cb)
			if tok.RefreshToken == "" {
				t.Error("no refresh token")
			}
		})
	}
}

func TestCodeProblems(t *testing.T) {
	t.Parallel()
	_, base := testSim(t)
	c := testClient(base, webApp(), nil)
	req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
	cb, err := ParseRedirect(authorizeLocation(t, req.URL))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("code from another attempt", func(t *testing.T) {
		other, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
		if _, err := other.CodeFrom(cb); !errors.Is(err, ErrStateMismatch) {
			t.Fatalf("state check: %v", err)
		}
		// Forced past the state check, PKCE still refuses it.
		_, err := c.Exchange(context.Background(), other, cb.Code)
		var ee *EntraError
		if !errors.As(err, &ee) || ee.Code() != 501481 {
			t.Fatalf("want 501481, got %v", err)
		}
		noSecretIn(t, cb.Code, err.Error())
		noSecretIn(t, other.Verifier, err.Error())
	})
	t.Run("redeemed twice", func(t *testing.T) {
		if _, err := c.Exchange(context.Background(), req, cb.Code); err != nil {
			t.Fatal(err)
		}
		_, err := c.Exchange(context.Background(), req, cb.Code)
		var ee *EntraError
		if !errors.As(err, &ee) || ee.Code() != 54005 {
			t.Fatalf("want 54005, got %v", err)
		}
		g := Explain(err, c.App())
		if g.Step != StepConsent || Classify(err) != ClassConsent || g.Action == "" {
			t.Errorf("guidance %+v class %v", g, Classify(err))
		}
		noSecretIn(t, testSecret, append(guidanceTexts(g), err.Error())...)
	})
}

func TestSecretErrors(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	cases := []struct {
		name   string
		app    App
		code   int
		class  Class
		step   Step
		before func()
	}{
		{"wrong value", App{Tenant: testTenant, ClientID: testClientID, ClientSecret: "abc8Q~wrongwrongwrongwrongwrongwrongwron", Kind: KindApp}, 7000215, ClassSecret, StepSecret, nil},
		{"secret ID pasted", App{Tenant: testTenant, ClientID: testClientID, ClientSecret: testSecretID, Kind: KindApp}, 7000215, ClassSecret, StepSecret, nil},
		{"unknown app", App{Tenant: testTenant, ClientID: "00000000-1111-4222-8333-444444444444", ClientSecret: testSecret, Kind: KindApp}, 700016, ClassApp, StepIDs, nil},
		{"expired", App{Tenant: testTenant, ClientID: testClientID, ClientSecret: testSecret, Kind: KindApp}, 7000222, ClassSecret, StepSecret,
			func() { sim.ExpireSecret(testClientID, testSecret) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			c := testClient(base, tc.app, nil)
			err := c.CheckSecret(context.Background())
			var ee *EntraError
			if !errors.As(err, &ee) || ee.Code() != tc.code {
				t.Fatalf("want AADSTS%d, got %v", tc.code, err)
			}
			if ee.TraceID == "" || ee.CorrelationID == "" || ee.Status != 401 && ee.Status != 400 {
				t.Errorf("decoded %+v", ee)
			}
			g := Explain(err, tc.app)
			if Classify(err) != tc.class || g.Step != tc.step || g.Action == "" || g.PortalLink == "" {
				t.Errorf("class %v guidance %+v", Classify(err), g)
			}
			noSecretIn(t, tc.app.ClientSecret, append(guidanceTexts(g), err.Error())...)
			if tc.name == "secret ID pasted" && !strings.Contains(g.Meaning, "Secret ID") {
				t.Errorf("no Secret ID hint: %q", g.Meaning)
			}
		})
	}
	t.Run("shared tenant skipped", func(t *testing.T) {
		c := testClient(base, App{Tenant: "organizations", ClientID: testClientID, ClientSecret: testSecret, Kind: KindWeb}, nil)
		if err := c.CheckSecret(context.Background()); !errors.Is(err, ErrCheckSkipped) {
			t.Fatal(err)
		}
		if sim.Count("token", "client_credentials") != 4 {
			t.Errorf("the skipped check reached the server: %d", sim.Count("token", "client_credentials"))
		}
	})
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	app := App{Tenant: testTenant, ClientID: testClientID, ClientSecret: testSecret, Kind: KindApp}
	c := testClient(base, app, nil)
	tok, err := c.ClientCredentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken != "" {
		t.Fatalf("token %+v", tok)
	}
	info, ok := sim.AccessToken(tok.AccessToken)
	if !ok || !info.AppOnly || strings.Join(info.Roles, ",") != "Mail.Read,Mail.Send" {
		t.Errorf("token info %+v", info)
	}
	if err := c.CheckSecret(context.Background()); err != nil {
		t.Errorf("check with the right secret: %v", err)
	}
	// /me refuses app-only tokens.
	_, err = c.Me(context.Background(), tok.AccessToken)
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Status != 400 {
		t.Errorf("me with app token: %v", err)
	}

	common := testClient(base, App{Tenant: "common", ClientID: testClientID, ClientSecret: testSecret, Kind: KindApp}, nil)
	if _, err := common.ClientCredentials(context.Background()); !errors.Is(err, ErrTenantRequired) {
		t.Errorf("common: %v", err)
	}
	g := Explain(ErrTenantRequired, common.App())
	if g.Step != StepAccount || g.Code != 9001023 {
		t.Errorf("guidance %+v", g)
	}

	// The server's own answer for a shared tenant, reached with a hand-made request.
	resp, err := http.PostForm(base+"/common/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {testClientID}, "client_secret": {testSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 4096)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	derr := DecodeError("token", resp.StatusCode, body[:n])
	if Explain(derr, common.App()).Code != 9001023 {
		t.Errorf("server answer for common: %v", derr)
	}

	u := c.AdminConsentURL("http://localhost:53365/", "st8")
	pu, _ := url.Parse(u)
	if !strings.HasSuffix(pu.Path, "/"+testTenant+"/v2.0/adminconsent") || pu.Query().Get("scope") != "https://graph.microsoft.com/.default" ||
		pu.Query().Get("state") != "st8" || strings.Contains(u, testSecret) {
		t.Errorf("admin consent URL %s", u)
	}
}

func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	sim.SetDeviceInterval(1)
	sim.SetDeviceSlowDown(1)
	sim.SetDeviceApproval(2)
	// The secret is set on purpose: a public profile must never send it.
	app := App{Tenant: testTenant, ClientID: publicClientID, ClientSecret: "pub8Q~publicAppSecretThatMustNeverBeSent0", Kind: KindPublic}
	c := testClient(base, app, nil)
	dc, err := c.StartDevice(context.Background(), basicScopes)
	if err != nil {
		t.Fatal(err)
	}
	if dc.UserCode == "" || !strings.HasSuffix(dc.VerificationURI, "/devicelogin") || !strings.Contains(dc.Message, dc.UserCode) {
		t.Fatalf("device code %+v", dc)
	}
	start := time.Now()
	tok, err := c.PollDevice(ctxTimeout(t, 5*time.Second), dc)
	if err != nil {
		t.Fatal(err)
	}
	// One slow_down (+5 units), two pending answers, then the token.
	if n := sim.Count("token", "device_code"); n != 4 {
		t.Errorf("%d polls, want 4", n)
	}
	if min := 8 * c.pollUnit; time.Since(start) < min {
		t.Errorf("polled too fast: %v < %v", time.Since(start), min)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	rt, err := c.Refresh(context.Background(), tok.RefreshToken, nil)
	if err != nil {
		t.Fatalf("refresh of a device token: %v", err)
	}
	if rt.RefreshToken == "" || rt.RefreshToken == tok.RefreshToken {
		t.Error("refresh token not rotated")
	}
	if n := sim.SecretsSent(""); n != 0 {
		t.Errorf("the secret was sent %d times for a public profile", n)
	}
}

func TestDeviceOutcomes(t *testing.T) {
	t.Parallel()
	pub := App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}
	cases := []struct {
		name  string
		setup func(*simulator.Sim)
		app   App
		check func(*testing.T, error)
	}{
		{"declined", func(s *simulator.Sim) {
			s.SetDeviceApproval(-1)
		}, pub, func(t *testing.T, err error) {
			if !errors.Is(err, ErrDeclined) || Classify(err) != ClassConsent || Explain(err, pub).Title != "Sign-in declined" {
				t.Errorf("declined: %v", err)
			}
		}},
		{"expired", func(s *simulator.Sim) {
			s.SetDeviceApproval(100)
			s.SetDeviceExpiry(2)
		}, pub, func(t *testing.T, err error) {
			if !errors.Is(err, ErrExpired) || Explain(err, pub).Step != StepConsent {
				t.Errorf("expired: %v", err)
			}
		}},
		{"public client flows off", nil, App{Tenant: testTenant, ClientID: testClientID, Kind: KindPublic}, func(t *testing.T, err error) {
			var ee *EntraError
			if !errors.As(err, &ee) || ee.Code() != 7000218 {
				t.Fatalf("want 7000218, got %v", err)
			}
			g := Explain(err, App{Tenant: testTenant, ClientID: testClientID, Kind: KindPublic})
			if g.Step != StepRegister || !strings.Contains(g.Action, "Allow public client flows") || !strings.Contains(g.PortalLink, "Authentication") {
				t.Errorf("guidance %+v", g)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim, base := testSim(t)
			sim.SetDeviceInterval(1)
			c := testClient(base, tc.app, nil)
			if tc.setup != nil {
				tc.setup(sim)
			}
			dc, err := c.StartDevice(context.Background(), basicScopes)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.PollDevice(ctxTimeout(t, 5*time.Second), dc)
			tc.check(t, err)
		})
	}
}

func TestDeviceExpiryClock(t *testing.T) {
	t.Parallel()
	_, base := testSim(t)
	c := testClient(base, App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}, nil)
	dc, err := c.StartDevice(context.Background(), basicScopes)
	if err != nil {
		t.Fatal(err)
	}
	dc.Expiry = time.Now().Add(-time.Second)
	if _, err := c.PollDevice(context.Background(), dc); !errors.Is(err, ErrExpired) {
		t.Errorf("past expiry: %v", err)
	}
	if _, err := c.PollDevice(context.Background(), &DeviceCode{}); err == nil {
		t.Error("empty device code accepted")
	}
}

func TestDeviceCancelStopsPolling(t *testing.T) { // not parallel: goroutineCheck counts the whole process
	sim, base := testSim(t)
	sim.SetDeviceInterval(1)
	sim.SetDeviceApproval(1 << 20)
	c := testClient(base, App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}, keepAliveOff(5*time.Second))
	dc, err := c.StartDevice(context.Background(), basicScopes)
	if err != nil {
		t.Fatal(err)
	}
	check := goroutineCheck(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.PollDevice(ctx, dc)
		done <- err
	}()
	// Cancel once polling is under way.
	for deadline := time.Now().Add(10 * time.Second); sim.Count("token", "device_code") == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never polled")
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("want context.Canceled, got %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("PollDevice did not stop on cancel")
	}
	check()
}

func TestDeviceApprovedOnPage(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	sim.SetDeviceInterval(1)
	sim.SetDeviceApproval(1 << 20)
	c := testClient(base, App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}, nil)
	dc, err := c.StartDevice(context.Background(), basicScopes)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(dc.VerificationURI, url.Values{"otc": {dc.UserCode}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := c.PollDevice(ctxTimeout(t, 5*time.Second), dc); err != nil {
		t.Fatal(err)
	}
}

// signIn runs the paste flow against the simulator and returns the token.
func signIn(t *testing.T, c *Client, scopes []string) *Token {
	t.Helper()
	req, err := c.NewAuthRequest(scopes, "http://localhost:53365/")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := ParseRedirect(authorizeLocation(t, req.URL))
	if err != nil {
		t.Fatal(err)
	}
	return redeem(t, c, req, cb)
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	c := testClient(base, webApp(), nil)
	tok := signIn(t, c, basicScopes)
	next, err := c.Refresh(context.Background(), tok.RefreshToken, []string{"User.Read", "offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	if sim.SecretsSent("refresh_token") != 1 {
		t.Error("a web profile must send its secret on refresh")
	}
	// Entra does not revoke a refresh token when it is used: the first one still works.
	again, err := c.Refresh(context.Background(), tok.RefreshToken, nil)
	if err != nil || again.RefreshToken == tok.RefreshToken || again.RefreshToken == next.RefreshToken {
		t.Fatalf("reused refresh token: %v", err)
	}
	var ee *EntraError
	// The rotated one still works, and its successor too.
	third, err := c.Refresh(context.Background(), next.RefreshToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Widening beyond the consent needs a new sign-in.
	_, err = c.Refresh(context.Background(), third.RefreshToken, []string{"Files.ReadWrite.All"})
	if !errors.As(err, &ee) || ee.Code() != 65001 || Explain(err, c.App()).Step != StepConsent {
		t.Errorf("widening: %v", err)
	}
	sim.RevokeRefreshTokens(testClientID)
	_, err = c.Refresh(context.Background(), third.RefreshToken, nil)
	if !errors.As(err, &ee) || ee.Code() != 70008 || Classify(err) != ClassConsent {
		t.Errorf("revoked: %v", err)
	}
	if _, err := c.Refresh(context.Background(), "", nil); Classify(err) != ClassConsent {
		t.Errorf("empty refresh token: %v", err)
	}
}

func TestMe(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	c := testClient(base, webApp(), nil)
	for _, at := range []string{"", "not-a-token"} {
		_, err := c.Me(context.Background(), at)
		var ge *GraphError
		if !errors.As(err, &ge) || ge.Status != 401 || ge.Code != "InvalidAuthenticationToken" || Classify(err) != ClassConsent {
			t.Errorf("token %q: %v", at, err)
		}
	}
	sim.SetAccessTokenLifetime(time.Millisecond)
	tok := signIn(t, c, basicScopes)
	time.Sleep(5 * time.Millisecond)
	_, err := c.Me(context.Background(), tok.AccessToken)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired token: %v", err)
	}
	noSecretIn(t, tok.AccessToken, err.Error())
	sim.SetAccessTokenLifetime(time.Hour)
	tok = signIn(t, c, []string{"openid", "Mail.Read"})
	_, err = c.Me(context.Background(), tok.AccessToken)
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Status != 403 || Explain(err, c.App()).Step != StepPermissions {
		t.Errorf("no User.Read: %v", err)
	}
}

func TestPartlyGrantedAndAdminOnly(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	sim.SetUserAdmin(simulator.DemoUPN, false)
	c := testClient(base, webApp(), nil)

	// Directory.Read.All is admin-only in the demo app: the redirect carries AADSTS90094.
	scopes := append([]string{"Directory.Read.All"}, basicScopes...)
	req, _ := c.NewAuthRequest(scopes, "http://localhost:53365/")
	cb, err := ParseRedirect(authorizeLocation(t, req.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = req.CodeFrom(cb)
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Code() != 90094 || ee.Err != "access_denied" {
		t.Fatalf("want 90094, got %v", err)
	}
	g := Explain(err, c.App())
	if g.Step != StepPermissions || Classify(err) != ClassConsent || !strings.Contains(g.PortalLink, "CallAnAPI") || !strings.Contains(g.Action, "adminconsent") {
		t.Errorf("guidance %+v", g)
	}

	// The administrator opens the admin consent link; afterwards the same sign-in works.
	loc := authorizeLocation(t, c.AdminConsentURL("http://localhost:53365/", "s1"))
	if !strings.Contains(loc, "admin_consent=True") || !strings.Contains(loc, "state=s1") {
		t.Fatalf("admin consent redirect %s", loc)
	}
	tok := signIn(t, c, scopes)
	if m := MissingScopes(scopes, tok.Scopes); len(m) != 0 {
		t.Errorf("missing %v", m)
	}
}

func TestWithheldScopes(t *testing.T) {
	t.Parallel()
	demo := simulator.DemoApp()
	demo.WithheldScopes = []string{"Mail.Send"}
	sim := simulator.New([]simulator.App{demo}, nil)
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	c := testClient(base, webApp(), nil)
	want := []string{"openid", "offline_access", "User.Read", "https://graph.microsoft.com/Mail.Send"}
	tok := signIn(t, c, want)
	if m := MissingScopes(want, tok.Scopes); len(m) != 1 || m[0] != "https://graph.microsoft.com/Mail.Send" {
		t.Errorf("missing %v from granted %v", m, tok.Scopes)
	}
}

func TestConsentDeclined(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	sim.SetConsentDeclined(true)
	c := testClient(base, webApp(), nil)
	req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
	cb, err := ParseRedirect(authorizeLocation(t, req.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = req.CodeFrom(cb)
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Code() != 65004 || ee.SubCode != "cancel" || !errors.Is(err, ErrDeclined) {
		t.Fatalf("want 65004, got %v", err)
	}
	if g := Explain(err, c.App()); g.Step != StepConsent || g.Title != "Consent declined" {
		t.Errorf("guidance %+v", g)
	}
}

func TestAuthorizePageErrors(t *testing.T) {
	t.Parallel()
	_, base := testSim(t)
	cases := []struct {
		name string
		app  App
		uri  string
		code int
		step Step
	}{
		{"redirect mismatch", webApp(), "http://localhost:53365/callback", 50011, StepRegister},
		{"unknown client", App{Tenant: testTenant, ClientID: "00000000-aaaa-4bbb-8ccc-dddddddddddd", Kind: KindWeb}, "http://localhost:53365/", 700016, StepIDs},
		{"no redirect registered", App{Tenant: testTenant, ClientID: publicClientID, Kind: KindWeb}, "http://localhost:53365/", 500113, StepRegister},
		{"single tenant on common", App{Tenant: "common", ClientID: testClientID, Kind: KindWeb}, "http://localhost:53365/", 50194, StepAccount},
		{"org app on consumers", App{Tenant: "consumers", ClientID: multiClientID, Kind: KindWeb}, "http://localhost:53365/", 9002332, StepAccount},
		{"personal app on organizations", App{Tenant: "organizations", ClientID: personalClient, Kind: KindWeb}, "http://localhost:53365/", 9002331, StepAccount},
		{"unknown tenant", App{Tenant: "99999999-aaaa-4bbb-8ccc-dddddddddddd", ClientID: testClientID, Kind: KindWeb}, "http://localhost:53365/", 90002, StepAccount},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient(base, tc.app, nil)
			req, err := c.NewAuthRequest(basicScopes, tc.uri)
			if err != nil {
				t.Fatal(err)
			}
			st, body := get(t, req.URL)
			if st == http.StatusFound || !strings.Contains(body, "AADSTS") {
				t.Fatalf("want an error page, got %d %s", st, body)
			}
			g := ExplainText(htmlText(body), tc.app)
			if g.Code != tc.code || g.Step != tc.step || g.Action == "" {
				t.Errorf("guidance %+v", g)
			}
			if tc.code == 50011 && !strings.Contains(g.Action, tc.uri) {
				t.Errorf("50011 action does not name %s: %s", tc.uri, g.Action)
			}
		})
	}
}

// htmlText is a crude tag stripper standing in for a user selecting the page's text.
func htmlText(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.NewReplacer("&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", "\"").Replace(b.String())
}

func TestConcurrentTokenCalls(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	c := testClient(base, webApp(), nil)
	tok := signIn(t, c, basicScopes)
	// Twenty goroutines share one refresher guarded by a mutex: exactly one refresh reaches
	// the server, which proves both the simulator's counting and the rotation contract.
	var mu sync.Mutex
	current := tok
	refreshed := false
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if refreshed {
				return
			}
			next, err := c.Refresh(context.Background(), current.RefreshToken, nil)
			if err != nil {
				t.Error(err)
				return
			}
			current, refreshed = next, true
		}()
	}
	wg.Wait()
	if n := sim.Count("token", "refresh_token"); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	// Unguarded concurrent refreshes with one token: all succeed, since using a refresh token
	// does not revoke it, and each gets a refresh token of its own.
	var wins, losses int
	var cmu sync.Mutex
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Refresh(context.Background(), current.RefreshToken, nil)
			cmu.Lock()
			defer cmu.Unlock()
			if err == nil {
				wins++
			} else if Classify(err) == ClassConsent {
				losses++
			}
		}()
	}
	wg.Wait()
	if wins != 20 || losses != 0 {
		t.Errorf("wins %d losses %d", wins, losses)
	}
}

// TestConsentAcrossResources consents to Graph and Outlook (IMAP) scopes in one sign-in, the
// way a mail script needs: the code yields a Graph token, and the refresh token then yields an
// Outlook token without another sign-in.
func TestConsentAcrossResources(t *testing.T) {
	t.Parallel()
	_, base := testSim(t)
	c := testClient(base, webApp(), keepAliveOff(5*time.Second))
	lb, err := ListenLoopback(0)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	imap := "https://outlook.office.com/IMAP.AccessAsUser.All"
	requested := []string{"User.Read", "offline_access", imap}
	req, err := c.NewAuthRequest(requested, lb.RedirectURI())
	if err != nil {
		t.Fatal(err)
	}
	lb.Expect(req.State)
	go func() { _, _, _ = browse(req.URL) }()
	cb, err := lb.Wait(ctxTimeout(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	code, err := req.CodeFrom(cb)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Exchange(context.Background(), req, code)
	if err != nil {
		t.Fatalf("redeeming a consent that spans two resources: %v", err)
	}
	if m := MissingScopes(requested, tok.Scopes); len(m) != 0 {
		t.Errorf("the Graph token cannot speak for Outlook scopes, yet %v were reported missing", m)
	}
	outlook, err := c.Refresh(context.Background(), tok.RefreshToken, []string{imap, "offline_access"})
	if err != nil {
		t.Fatalf("refreshing for the Outlook resource: %v", err)
	}
	if m := MissingScopes([]string{imap}, outlook.Scopes); len(m) != 0 {
		t.Errorf("Outlook token lacks %v (granted %v)", m, outlook.Scopes)
	}
	if ScopeResource(imap) != "https://outlook.office.com" || ScopeResource("Mail.Read") != "graph" ||
		ScopeResource("https://graph.microsoft.com/Mail.Read") != "graph" {
		t.Error("ScopeResource")
	}
}

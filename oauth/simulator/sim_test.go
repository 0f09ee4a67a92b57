package simulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func start(t *testing.T, apps ...App) (*Sim, string) {
	t.Helper()
	if len(apps) == 0 {
		apps = []App{DemoApp()}
	}
	s := New(apps, nil)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, base
}

var client = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func post(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := client.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

var descRE = regexp.MustCompile(`^AADSTS(\d+): .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

// entraShape checks an error body against Entra's exact shape and returns the AADSTS code.
func entraShape(t *testing.T, m map[string]any) int {
	t.Helper()
	for _, k := range []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"} {
		if _, ok := m[k]; !ok {
			t.Errorf("error body lacks %q: %v", k, m)
		}
	}
	desc, _ := m["error_description"].(string)
	if !descRE.MatchString(desc) {
		t.Errorf("description %q", desc)
	}
	codes, _ := m["error_codes"].([]any)
	if len(codes) != 1 {
		t.Fatalf("error_codes %v", m["error_codes"])
	}
	return int(codes[0].(float64))
}

func tokenURL(base, tenant string) string { return base + "/" + tenant + "/oauth2/v2.0/token" }

func TestClientCredentialsErrors(t *testing.T) {
	t.Parallel()
	s, base := start(t)
	ok := url.Values{"grant_type": {"client_credentials"}, "client_id": {DemoClientID},
		"client_secret": {DemoSecretValue}, "scope": {"https://graph.microsoft.com/.default"}}
	st, m := post(t, tokenURL(base, DemoTenantID), ok)
	if st != 200 || m["access_token"] == "" || m["refresh_token"] != nil {
		t.Fatalf("%d %v", st, m)
	}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name   string
		tenant string
		form   url.Values
		status int
		code   int
	}{
		{"wrong secret", DemoTenantID, with("client_secret", "nope8Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 401, 7000215},
		{"secret ID", DemoTenantID, with("client_secret", DemoSecretID), 401, 7000215},
		{"no secret", DemoTenantID, with("client_secret", ""), 401, 7000218},
		{"common", "common", ok, 400, 9001023},
		{"organizations", "organizations", ok, 400, 9001023},
		{"no .default", DemoTenantID, with("scope", "User.Read"), 400, 1002012},
		{"unknown client", DemoTenantID, with("client_id", "00000000-0000-4000-8000-000000000000"), 400, 700016},
		{"unknown tenant", "11111111-0000-4000-8000-000000000000", ok, 400, 90002},
		{"bad grant", DemoTenantID, with("grant_type", "password"), 400, 70003},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, m := post(t, tokenURL(base, tc.tenant), tc.form)
			if st != tc.status {
				t.Errorf("status %d", st)
			}
			if code := entraShape(t, m); code != tc.code {
				t.Errorf("code %d, want %d", code, tc.code)
			}
			if strings.Contains(m["error_description"].(string), DemoSecretValue) {
				t.Error("secret echoed")
			}
		})
	}
	_, m = post(t, tokenURL(base, DemoTenantID), with("client_secret", DemoSecretID))
	if !strings.Contains(m["error_description"].(string), "not the client secret ID") {
		t.Errorf("Secret ID text: %v", m["error_description"])
	}
	s.ExpireSecret(DemoClientID, DemoSecretValue)
	if _, m := post(t, tokenURL(base, DemoTenantID), ok); entraShape(t, m) != 7000222 {
		t.Error("expired secret accepted")
	}
	// Basic auth works as well as the body.
	_, base2 := start(t)
	req, _ := http.NewRequest(http.MethodPost, tokenURL(base2, DemoTenantID), strings.NewReader(url.Values{
		"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(DemoClientID, DemoSecretValue)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("basic auth: %d", resp.StatusCode)
	}
	if s.Count("token", "client_credentials") != len(cases)-1+3 || s.Count("token", "") != len(cases)+3 {
		t.Errorf("counts %d %d", s.Count("token", "client_credentials"), s.Count("token", ""))
	}
}

func authorize(t *testing.T, base string, q url.Values) *http.Response {
	t.Helper()
	resp, err := client.Get(base + "/" + DemoTenantID + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestAuthorizeAndPKCE(t *testing.T) {
	t.Parallel()
	s, base := start(t)
	verifier := "v3rifier-v3rifier-v3rifier-v3rifier-v3rifier-0123"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:40001/"},
		"scope": {"openid offline_access User.Read"}, "state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	resp := authorize(t, base, q)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Port() != "40001" || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %d %s", resp.StatusCode, loc)
	}
	code := loc.Query().Get("code")
	redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID}, "client_secret": {DemoSecretValue},
		"code": {code}, "redirect_uri": {"http://localhost:40001/"}, "code_verifier": {"wrong"}}
	if _, m := post(t, tokenURL(base, DemoTenantID), redeem); entraShape(t, m) != 501481 {
		t.Error("wrong verifier accepted")
	}
	redeem.Set("code_verifier", verifier)
	st, m := post(t, tokenURL(base, DemoTenantID), redeem)
	if st != 200 || m["refresh_token"] == nil || m["id_token"] == nil || m["scope"] != "openid User.Read" {
		t.Fatalf("%d %v", st, m)
	}
	if _, m := post(t, tokenURL(base, DemoTenantID), redeem); entraShape(t, m) != 54005 {
		t.Error("code redeemed twice")
	}
	if s.Count("authorize", "") != 1 {
		t.Errorf("authorize count %d", s.Count("authorize", ""))
	}
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	t.Parallel()
	s, base := start(t)
	q := url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {DemoRedirectURI},
		"scope": {"offline_access User.Read"}}
	loc, _ := url.Parse(authorize(t, base, q).Header.Get("Location"))
	_, m := post(t, tokenURL(base, DemoTenantID), url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID},
		"client_secret": {DemoSecretValue}, "code": {loc.Query().Get("code")}, "redirect_uri": {DemoRedirectURI}})
	rt1, _ := m["refresh_token"].(string)
	refresh := func(rt string, secret bool) (int, map[string]any) {
		f := url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "refresh_token": {rt}}
		if secret {
			f.Set("client_secret", DemoSecretValue)
		}
		return post(t, tokenURL(base, DemoTenantID), f)
	}
	if _, m := refresh(rt1, false); entraShape(t, m) != 7000218 {
		t.Error("confidential refresh without secret accepted")
	}
	st, m := refresh(rt1, true)
	rt2, _ := m["refresh_token"].(string)
	if st != 200 || rt2 == "" || rt2 == rt1 {
		t.Fatalf("rotation: %d %v", st, m)
	}
	// Using a refresh token does not revoke it: the old one still works and rotates again.
	if st, m := refresh(rt1, true); st != 200 || m["refresh_token"] == rt1 || m["refresh_token"] == rt2 {
		t.Errorf("a used refresh token must stay valid and rotate: %d %v", st, m)
	}
	s.RevokeRefreshTokens(DemoClientID)
	for _, rt := range []string{rt1, rt2} {
		if _, m := refresh(rt, true); entraShape(t, m) != 70008 {
			t.Error("revoked refresh token works")
		}
	}
}

func TestAuthorizePages(t *testing.T) {
	t.Parallel()
	s, base := start(t)
	cases := []struct {
		name string
		q    url.Values
		code string
	}{
		{"redirect mismatch", url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:53365/other"}, "scope": {"User.Read"}}, "AADSTS50011"},
		{"https localhost", url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {"https://localhost:53365/"}, "scope": {"User.Read"}}, "AADSTS50011"},
		{"unknown client", url.Values{"client_id": {"abc"}, "response_type": {"code"}, "redirect_uri": {DemoRedirectURI}, "scope": {"User.Read"}}, "AADSTS700016"},
		{"no redirect", url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "scope": {"User.Read"}}, "AADSTS900971"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := authorize(t, base, tc.q)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode == http.StatusFound || resp.Header.Get("Location") != "" {
				t.Fatal("error was redirected")
			}
			if !strings.Contains(string(body), tc.code) || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("page %s", body)
			}
		})
	}
	// Admin-only scope asked by an ordinary user: redirected with access_denied and AADSTS90094.
	s.SetUserAdmin(DemoUPN, false)
	q := url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {DemoRedirectURI},
		"scope": {"https://graph.microsoft.com/Directory.Read.All"}, "state": {"s"}}
	loc, _ := url.Parse(authorize(t, base, q).Header.Get("Location"))
	if loc.Query().Get("error") != "access_denied" || !strings.HasPrefix(loc.Query().Get("error_description"), "AADSTS90094:") || loc.Query().Get("state") != "s" {
		t.Errorf("admin-only: %s", loc)
	}
	// After admin consent it goes through.
	ac, _ := url.Parse(func() string {
		resp, err := client.Get(base + "/organizations/v2.0/adminconsent?client_id=" + DemoClientID + "&redirect_uri=" + url.QueryEscape(DemoRedirectURI) + "&state=a")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}())
	if ac.Query().Get("admin_consent") != "True" || ac.Query().Get("tenant") != DemoTenantID {
		t.Errorf("admin consent: %s", ac)
	}
	loc, _ = url.Parse(authorize(t, base, q).Header.Get("Location"))
	if loc.Query().Get("code") == "" {
		t.Errorf("after admin consent: %s", loc)
	}
	s.SetConsentDeclined(true)
	loc, _ = url.Parse(authorize(t, base, url.Values{"client_id": {DemoClientID}, "response_type": {"code"},
		"redirect_uri": {DemoRedirectURI}, "scope": {"User.Read"}}).Header.Get("Location"))
	if loc.Query().Get("error_subcode") != "cancel" || !strings.HasPrefix(loc.Query().Get("error_description"), "AADSTS65004:") {
		t.Errorf("declined: %s", loc)
	}
}

func TestDeviceCodeAndPublicClient(t *testing.T) {
	t.Parallel()
	pub := App{ClientID: "6b1d3f5a-9c2e-4e7b-8a4d-1f3c5e7a9b2d", TenantID: DemoTenantID, PublicClient: true,
		Secrets: []Secret{{ID: "x", Value: "pubsecret-value-0000000000"}}}
	s, base := start(t, DemoApp(), pub)
	s.SetDeviceApproval(1)
	s.SetDeviceSlowDown(1)
	st, m := post(t, base+"/"+DemoTenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {pub.ClientID}, "scope": {"offline_access User.Read"}})
	if st != 200 || m["interval"].(float64) != 5 || m["expires_in"].(float64) != 900 || !strings.Contains(m["message"].(string), m["user_code"].(string)) {
		t.Fatalf("%d %v", st, m)
	}
	dc := m["device_code"].(string)
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {pub.ClientID}, "device_code": {dc}}
	want := []string{"slow_down", "authorization_pending", ""}
	var rt string
	for _, w := range want {
		_, m := post(t, tokenURL(base, DemoTenantID), poll)
		if got, _ := m["error"].(string); got != w {
			t.Fatalf("poll: %v, want %q", m, w)
		}
		if w == "" {
			rt, _ = m["refresh_token"].(string)
		}
	}
	if _, m := post(t, tokenURL(base, DemoTenantID), poll); m["error"] != "invalid_grant" {
		t.Errorf("device code reused: %v", m)
	}
	// Refreshing a public token with the secret: 700025.
	f := url.Values{"grant_type": {"refresh_token"}, "client_id": {pub.ClientID}, "refresh_token": {rt}, "client_secret": {"pubsecret-value-0000000000"}}
	if _, m := post(t, tokenURL(base, DemoTenantID), f); entraShape(t, m) != 700025 {
		t.Errorf("public refresh with secret: %v", m)
	}
	// The demo app has public client flows off: polling without a secret is 7000218.
	_, m = post(t, base+"/"+DemoTenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {DemoClientID}, "scope": {"User.Read"}})
	_, m = post(t, tokenURL(base, DemoTenantID), url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {DemoClientID}, "device_code": {m["device_code"].(string)}})
	if entraShape(t, m) != 7000218 {
		t.Errorf("confidential device poll: %v", m)
	}
	if s.Count("token", "device_code") != 5 || s.Count("devicecode", "") != 2 || s.SecretsSent("device_code") != 0 || s.SecretsSent("refresh_token") != 1 {
		t.Errorf("counts %d %d", s.Count("token", "device_code"), s.Count("devicecode", ""))
	}
}

func TestGraphMe(t *testing.T) {
	t.Parallel()
	s, base := start(t)
	me := func(tok string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1.0/me", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	for _, tok := range []string{"", "garbage"} {
		st, m := me(tok)
		e, _ := m["error"].(map[string]any)
		if st != 401 || e["code"] != "InvalidAuthenticationToken" || e["innerError"] == nil {
			t.Errorf("%q: %d %v", tok, st, m)
		}
	}
	s.SetAccessTokenLifetime(time.Millisecond)
	q := url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {DemoRedirectURI}, "scope": {"User.Read"}}
	loc, _ := url.Parse(authorize(t, base, q).Header.Get("Location"))
	_, m := post(t, tokenURL(base, DemoTenantID), url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID},
		"client_secret": {DemoSecretValue}, "code": {loc.Query().Get("code")}, "redirect_uri": {DemoRedirectURI}})
	time.Sleep(3 * time.Millisecond)
	st, body := me(m["access_token"].(string))
	if st != 401 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "expired") {
		t.Errorf("expired: %d %v", st, body)
	}
	info, ok := s.AccessToken(m["access_token"].(string))
	if !ok || info.UserUPN != "ada@demo.example" || info.AppOnly {
		t.Errorf("info %+v", info)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s, base := start(t)
	s.AddFault(Fault{Endpoint: "token", Status: 500, Body: "{not json", Times: 2})
	for i := 0; i < 2; i++ {
		resp, err := client.PostForm(tokenURL(base, DemoTenantID), url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || string(b) != "{not json" {
			t.Errorf("fault %d: %d %s", i, resp.StatusCode, b)
		}
	}
	if st, _ := post(t, tokenURL(base, DemoTenantID), url.Values{"grant_type": {"client_credentials"}}); st == 500 {
		t.Error("fault outlived Times")
	}
	s.AddFault(Fault{Endpoint: "me", Delay: 50 * time.Millisecond, Status: 503, Body: "busy"})
	for i := 0; i < 3; i++ {
		start := time.Now()
		resp, err := client.Get(base + "/v1.0/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || time.Since(start) < 50*time.Millisecond {
			t.Errorf("delayed fault: %d after %v", resp.StatusCode, time.Since(start))
		}
	}
	s.ClearFaults()
	resp, err := client.Get(base + "/v1.0/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("after ClearFaults: %d", resp.StatusCode)
	}
	if s.Count("me", "") != 4 {
		t.Errorf("me count %d", s.Count("me", ""))
	}
}

func TestHandlerAndConcurrency(t *testing.T) {
	t.Parallel()
	s := New([]App{DemoApp()}, nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.PostForm(tokenURL(srv.URL, DemoTenantID), url.Values{"grant_type": {"client_credentials"},
				"client_id": {DemoClientID}, "client_secret": {DemoSecretValue}, "scope": {"https://graph.microsoft.com/.default"}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if n := s.Count("token", "client_credentials"); n != 20 {
		t.Errorf("count %d", n)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close of an unstarted sim: %v", err)
	}
}

func TestDemoApp(t *testing.T) {
	t.Parallel()
	a := DemoApp()
	if len(a.Secrets) != 1 || !regexp.MustCompile(`^[A-Za-z0-9~._-]{3}8Q~[A-Za-z0-9~._-]{34}$`).MatchString(a.Secrets[0].Value) {
		t.Errorf("secret value format: %q", a.Secrets[0].Value)
	}
	if !isGUID(a.ClientID) || !isGUID(a.TenantID) || !isGUID(a.Secrets[0].ID) || a.PublicClient || a.RedirectURIs[0] != "http://localhost:53365/" {
		t.Errorf("demo app %+v", a)
	}
	if u := DemoUsers(); len(u) != 1 || u[0].DisplayName != "Ada Demo" || u[0].UPN != "ada@demo.example" {
		t.Errorf("demo users %+v", u)
	}
	if !redirectMatches("http://localhost/", "http://localhost:1234") || redirectMatches("http://localhost/a", "http://localhost:1/b") ||
		redirectMatches("http://127.0.0.1:1/", "http://127.0.0.1:2/") {
		t.Error("redirectMatches")
	}
}

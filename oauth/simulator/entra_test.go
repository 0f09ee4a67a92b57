package simulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/assets"
)

// The apps and tenants of the tests below. Every answer comes from a request over real HTTP
// against the registration and tenant state, never from a prepared body.
const (
	desktopClientID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" // Mobile and desktop redirect URIs
	spaClientID     = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e" // single-page application
	multiClientID   = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f" // multi-tenant, Web
	bareClientID    = "4d5e6f7a-8b9c-4d0e-9f2a-3b4c5d6e7f80" // no redirect URI at all
	customerTenant  = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a" // where the multi-tenant app is new
	otherTenant     = "8e7d6c5b-4a39-4281-9f60-5e4d3c2b1a0f"
	ordinaryUPN     = "bo@demo.example"
	customerUPN     = "cy@fabrikam.example"
	multiSecret     = "mlt8Q~multiTenantSecretValue0000000000000"
	desktopSecret   = "dsk8Q~desktopSecretThatMustNeverBeSent00"
)

type world struct {
	*Sim
	base string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	apps := []App{
		DemoApp(),
		{ClientID: desktopClientID, TenantID: DemoTenantID, Name: "desktop", Audience: "single",
			PublicRedirectURIs: []string{"http://localhost/desk", "http://127.0.0.1:8400/"},
			Secrets:            []Secret{{ID: "d", Value: desktopSecret}}},
		{ClientID: spaClientID, TenantID: DemoTenantID, Name: "spa", Audience: "single",
			SPARedirectURIs: []string{"http://localhost:3000/spa"}},
		{ClientID: multiClientID, TenantID: DemoTenantID, Name: "multi", Audience: "multi",
			RedirectURIs: []string{DemoRedirectURI}, Secrets: []Secret{{ID: "m", Value: multiSecret}}},
		{ClientID: bareClientID, TenantID: DemoTenantID, Name: "bare", Audience: "single"},
	}
	users := []User{
		{ID: "u-bo", DisplayName: "Bo Ordinary", UPN: ordinaryUPN},
		DemoUsers()[0],
		{ID: "u-cy", DisplayName: "Cy Customer", UPN: customerUPN, TenantID: customerTenant},
	}
	s := New(apps, users)
	s.AddTenant(Tenant{ID: customerTenant, Domains: []string{"fabrikam.example"}})
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &world{s, base}
}

var pkceVerifier = "pkce-verifier-pkce-verifier-pkce-verifier-0123456789"

func pkceChallenge() string {
	sum := sha256.Sum256([]byte(pkceVerifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// signIn runs /authorize and returns the redirect's query, or the error page's text.
func (w *world) signIn(t *testing.T, tenant, clientID, redirect, scope string, extra url.Values) (url.Values, string) {
	t.Helper()
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {scope},
		"code_challenge": {pkceChallenge()}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := client.Get(w.base + "/" + tenant + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusFound {
		return nil, string(body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query(), ""
}

// code signs in and fails the test unless a code comes back.
func (w *world) code(t *testing.T, tenant, clientID, redirect, scope string, extra url.Values) string {
	t.Helper()
	q, page := w.signIn(t, tenant, clientID, redirect, scope, extra)
	if q.Get("code") == "" {
		t.Fatalf("no code for %s: %v %s", scope, q, page)
	}
	return q.Get("code")
}

// tokenReq posts to the token endpoint with optional headers.
func (w *world) tokenReq(t *testing.T, tenant string, form url.Values, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tokenURL(w.base, tenant), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
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

func redeemForm(clientID, code, redirect, secret string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {pkceVerifier}}
	if secret != "" {
		f.Set("client_secret", secret)
	}
	return f
}

func refreshForm(clientID, rt, secret, scope string) url.Values {
	f := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}}
	if secret != "" {
		f.Set("client_secret", secret)
	}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

func appOnlyForm(clientID, secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {"https://graph.microsoft.com/.default"}}
}

func wantCode(t *testing.T, what string, m map[string]any, code int) {
	t.Helper()
	if got := entraShape(t, m); got != code {
		t.Errorf("%s: AADSTS%d, want %d (%v)", what, got, code, m["error_description"])
	}
}

func wantOK(t *testing.T, what string, st int, m map[string]any) {
	t.Helper()
	if st != http.StatusOK || m["access_token"] == nil {
		t.Fatalf("%s: %d %v", what, st, m)
	}
}

// TestPlatformsDecideTheClientType: the platform of the redirect URI a sign-in used decides
// what the token endpoint demands (microsoft-identity.md §1 "Client type decided by redirect
// type", §2 SPA rule).
func TestPlatformsDecideTheClientType(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const origin = "http://localhost:3000"

	// Mobile and desktop: a public client. The port of http://localhost is ignored here too.
	desk := "http://localhost:49152/desk"
	c := w.code(t, DemoTenantID, desktopClientID, desk, "offline_access User.Read", nil)
	_, m := w.tokenReq(t, DemoTenantID, redeemForm(desktopClientID, c, desk, desktopSecret))
	wantCode(t, "desktop code with a secret", m, 700025)
	_, m = w.tokenReq(t, DemoTenantID, redeemForm(desktopClientID, c, desk, ""), "Origin", origin)
	wantCode(t, "desktop code with an Origin header", m, 9002326)
	st, m := w.tokenReq(t, DemoTenantID, redeemForm(desktopClientID, c, desk, ""))
	wantOK(t, "desktop code without a secret", st, m)
	rt := m["refresh_token"].(string)
	_, m = w.tokenReq(t, DemoTenantID, refreshForm(desktopClientID, rt, desktopSecret, ""))
	wantCode(t, "desktop refresh with a secret", m, 700025)
	st, m = w.tokenReq(t, DemoTenantID, refreshForm(desktopClientID, rt, "", ""))
	wantOK(t, "desktop refresh", st, m)
	if _, page := w.signIn(t, DemoTenantID, desktopClientID, "http://localhost:49152/other", "User.Read", nil); !strings.Contains(page, "AADSTS50011") {
		t.Errorf("another path matched: %s", page)
	}
	// The port rule is documented for localhost only; 127.0.0.1 is compared exactly.
	if _, page := w.signIn(t, DemoTenantID, desktopClientID, "http://127.0.0.1:8401/", "User.Read", nil); !strings.Contains(page, "AADSTS50011") {
		t.Errorf("127.0.0.1 with another port matched: %s", page)
	}
	w.code(t, DemoTenantID, desktopClientID, "http://127.0.0.1:8400/", "User.Read", nil)

	// Single-page application: public, and redeemed cross-origin only.
	spa := "http://localhost:4000/spa"
	c = w.code(t, DemoTenantID, spaClientID, spa, "offline_access User.Read", nil)
	_, m = w.tokenReq(t, DemoTenantID, redeemForm(spaClientID, c, spa, ""))
	wantCode(t, "SPA code without Origin", m, 9002327)
	_, m = w.tokenReq(t, DemoTenantID, redeemForm(spaClientID, c, spa, "some-secret"), "Origin", origin)
	wantCode(t, "SPA code with a secret", m, 700025)
	st, m = w.tokenReq(t, DemoTenantID, redeemForm(spaClientID, c, spa, ""), "Origin", origin)
	wantOK(t, "SPA code", st, m)
	rt = m["refresh_token"].(string)
	_, m = w.tokenReq(t, DemoTenantID, refreshForm(spaClientID, rt, "", ""))
	wantCode(t, "SPA refresh without Origin", m, 9002327)
	st, m = w.tokenReq(t, DemoTenantID, refreshForm(spaClientID, rt, "", ""), "Origin", origin)
	wantOK(t, "SPA refresh", st, m)
	w.AgeRefreshTokens(spaClientID, 25*time.Hour)
	_, m = w.tokenReq(t, DemoTenantID, refreshForm(spaClientID, rt, "", ""), "Origin", origin)
	wantCode(t, "SPA refresh after 24 hours", m, 700084)
	q := url.Values{"code_challenge": {""}, "code_challenge_method": {""}}
	c = w.code(t, DemoTenantID, spaClientID, spa, "User.Read", q)
	_, m = w.tokenReq(t, DemoTenantID, redeemForm(spaClientID, c, spa, ""), "Origin", origin)
	wantCode(t, "SPA code without PKCE", m, 9002325)

	// Web: confidential, and never cross-origin.
	c = w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "offline_access User.Read", nil)
	_, m = w.tokenReq(t, DemoTenantID, redeemForm(DemoClientID, c, DemoRedirectURI, DemoSecretValue), "Origin", origin)
	wantCode(t, "Web code with an Origin header", m, 9002326)
	_, m = w.tokenReq(t, DemoTenantID, redeemForm(DemoClientID, c, DemoRedirectURI, ""))
	wantCode(t, "Web code without a secret", m, 7000218)
	st, m = w.tokenReq(t, DemoTenantID, redeemForm(DemoClientID, c, DemoRedirectURI, DemoSecretValue))
	wantOK(t, "Web code", st, m)
	_, m = w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, m["refresh_token"].(string), "", ""))
	wantCode(t, "Web refresh without a secret", m, 7000218)
	_, m = w.tokenReq(t, DemoTenantID, appOnlyForm(DemoClientID, DemoSecretValue), "Origin", origin)
	wantCode(t, "client credentials with an Origin header", m, 9002326)
}

// TestServicePrincipalsByConsent: a multi-tenant app has a service principal in its home
// tenant from registration and gets one elsewhere only by consent; app-only tokens need it.
func TestServicePrincipalsByConsent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if !w.HasServicePrincipal(DemoTenantID, multiClientID) || w.HasServicePrincipal(customerTenant, multiClientID) {
		t.Fatal("service principals at the start")
	}
	st, m := w.tokenReq(t, DemoTenantID, appOnlyForm(multiClientID, multiSecret))
	wantOK(t, "home tenant", st, m)
	for _, tenant := range []string{customerTenant, "fabrikam.example"} {
		_, m = w.tokenReq(t, tenant, appOnlyForm(multiClientID, multiSecret))
		wantCode(t, "no service principal in "+tenant, m, 7000229)
		if !strings.Contains(m["error_description"].(string), multiClientID) {
			t.Errorf("7000229 does not name the app: %v", m["error_description"])
		}
	}
	// The secret is checked first: a wrong one is still 7000215.
	_, m = w.tokenReq(t, customerTenant, appOnlyForm(multiClientID, "abc8Q~wrongwrongwrongwrongwrongwrongwron"))
	wantCode(t, "wrong secret", m, 7000215)
	_, m = w.tokenReq(t, "nowhere.example", appOnlyForm(multiClientID, multiSecret))
	wantCode(t, "unknown domain", m, 90002)
	_, m = w.tokenReq(t, customerTenant, appOnlyForm(DemoClientID, DemoSecretValue))
	wantCode(t, "single-tenant app elsewhere", m, 700016)
	if _, page := w.signIn(t, customerTenant, DemoClientID, DemoRedirectURI, "User.Read", nil); !strings.Contains(page, "AADSTS700016") {
		t.Errorf("single-tenant app signed in elsewhere: %s", page)
	}

	// A customer user's consent creates the service principal in the customer tenant.
	w.code(t, customerTenant, multiClientID, DemoRedirectURI, "User.Read", url.Values{"login_hint": {customerUPN}})
	if !w.HasServicePrincipal(customerTenant, multiClientID) {
		t.Fatal("user consent created no service principal")
	}
	st, m = w.tokenReq(t, customerTenant, appOnlyForm(multiClientID, multiSecret))
	wantOK(t, "after user consent", st, m)

	// So does an administrator's consent through the admin consent endpoint.
	w.AddTenant(Tenant{ID: otherTenant})
	resp, err := client.Get(w.base + "/" + otherTenant + "/v2.0/adminconsent?client_id=" + multiClientID + "&redirect_uri=" + url.QueryEscape(DemoRedirectURI))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("admin_consent") != "True" || loc.Query().Get("tenant") != otherTenant || !w.HasServicePrincipal(otherTenant, multiClientID) {
		t.Fatalf("admin consent: %s", loc)
	}
	st, m = w.tokenReq(t, otherTenant, appOnlyForm(multiClientID, multiSecret))
	wantOK(t, "after admin consent", st, m)
	// A customer user cannot sign in to the home tenant with the app.
	if _, page := w.signIn(t, DemoTenantID, multiClientID, DemoRedirectURI, "User.Read", url.Values{"login_hint": {customerUPN}}); !strings.Contains(page, "AADSTS50020") {
		t.Errorf("a user of another tenant signed in: %s", page)
	}
}

// TestRefreshFirstResourceAndLifetime: one resource per token, the first one named, for
// refresh as for redemption; a refresh token lives until 90 days of inactivity.
func TestRefreshFirstResourceAndLifetime(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	imap := "https://outlook.office.com/IMAP.AccessAsUser.All"
	c := w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "openid offline_access User.Read "+imap+" Mail.Send",
		url.Values{"login_hint": {DemoUPN}}) // IMAP needs an admin on the default policy
	st, m := w.tokenReq(t, DemoTenantID, redeemForm(DemoClientID, c, DemoRedirectURI, DemoSecretValue))
	wantOK(t, "redeem", st, m)
	if m["scope"] != "openid User.Read Mail.Send" {
		t.Errorf("code redemption scope %q", m["scope"])
	}
	rt := m["refresh_token"].(string)
	st, m = w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, rt, DemoSecretValue, ""))
	wantOK(t, "refresh without scope", st, m)
	if strings.Contains(m["scope"].(string), "outlook") || !strings.Contains(m["scope"].(string), "User.Read") {
		t.Errorf("a refresh without scope must yield the first resource only: %q", m["scope"])
	}
	st, m = w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, rt, DemoSecretValue, imap+" User.Read offline_access"))
	wantOK(t, "refresh naming Outlook first", st, m)
	if m["scope"] != imap {
		t.Errorf("a refresh across resources must yield the first named: %q", m["scope"])
	}
	info, _ := w.AccessToken(m["access_token"].(string))
	if len(info.Scopes) != 1 || info.Scopes[0] != imap {
		t.Errorf("token scopes %v", info.Scopes)
	}
	w.AgeRefreshTokens(DemoClientID, 89*24*time.Hour)
	st, m = w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, rt, DemoSecretValue, ""))
	wantOK(t, "refresh after 89 days", st, m)
	fresh := m["refresh_token"].(string)
	w.AgeRefreshTokens(DemoClientID, 2*24*time.Hour)
	_, m = w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, rt, DemoSecretValue, ""))
	wantCode(t, "refresh after 91 days", m, 700082)
	st, m = w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, fresh, DemoSecretValue, ""))
	wantOK(t, "the rotated token's own window", st, m)
}

// TestUserConsentPolicy: tenants apply their user-consent setting; an ordinary user is refused
// what it withholds (90094, or 90095 with the admin consent workflow), an admin is not.
func TestUserConsentPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	as := func(upn string) url.Values { return url.Values{"login_hint": {upn}} }
	refused := func(what, upn, scope string, code int) {
		t.Helper()
		q, page := w.signIn(t, DemoTenantID, DemoClientID, DemoRedirectURI, scope, as(upn))
		if q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS"+strconv.Itoa(code)+":") {
			t.Errorf("%s: %v %s", what, q, page)
		}
	}
	// The default: Microsoft manages consent.
	refused("Mail.Read by a user", ordinaryUPN, "User.Read Mail.Read", 90094)
	refused("Files.ReadWrite.All by a user", ordinaryUPN, "Files.ReadWrite.All", 90094)
	refused("Directory.Read.All by a user", ordinaryUPN, "Directory.Read.All", 90094)
	w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "openid offline_access User.Read Mail.Send", as(ordinaryUPN))
	w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "User.Read Mail.Read Directory.Read.All", as(DemoUPN))
	// The device flow has no page to redirect from: the request is refused with 65001.
	_, m := post(t, w.base+"/"+DemoTenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {DemoClientID}, "scope": {"Mail.Read"}})
	wantCode(t, "device code for Mail.Read", m, 65001)

	w.SetConsentPolicy(DemoTenantID, PolicyAllowUserConsent)
	w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "User.Read Mail.Read", as(ordinaryUPN))
	refused("admin-only under allow", ordinaryUPN, "Directory.Read.All", 90094)
	w.SetConsentPolicy(DemoTenantID, PolicyNoUserConsent)
	refused("User.Read with no user consent", ordinaryUPN, "User.Read", 90094)
	w.AddTenant(Tenant{ID: DemoTenantID, AdminConsentWorkflow: true})
	refused("with the admin consent workflow", ordinaryUPN, "User.Read Mail.Read", 90095)

	w.GrantAdminConsent(DemoClientID)
	w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "User.Read Mail.Read Directory.Read.All", as(ordinaryUPN))
}

// TestCatalogueAgreesWithThePolicy: the wizard's permission table and the simulator's tenants
// say the same about every permission.
func TestCatalogueAgreesWithThePolicy(t *testing.T) {
	t.Parallel()
	for _, p := range assets.Permissions() {
		if got := ConsentRuleOf(p.FullScope()); string(got) != string(p.UserConsent) {
			t.Errorf("%s: simulator %q, catalogue %q", p.FullScope(), got, p.UserConsent)
		}
	}
}

// TestReadmeTroubleshootingTable produces every code of the README's "Troubleshooting by
// AADSTS code" table from the simulator's state, over HTTP.
func TestReadmeTroubleshootingTable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(raw)
	i := strings.Index(section, "## Troubleshooting by AADSTS code")
	if i < 0 {
		t.Fatal("README has no troubleshooting table")
	}
	section = section[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	var codes []int
	for _, m := range regexp.MustCompile(`(?m)^\| ([0-9, ]+) \|`).FindAllStringSubmatch(section, -1) {
		for _, f := range strings.Split(m[1], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				t.Fatalf("row %q", m[0])
			}
			codes = append(codes, n)
		}
	}
	if len(codes) < 10 {
		t.Fatalf("only %d codes found in the table", len(codes))
	}
	scenarios := map[int]func(t *testing.T, w *world) string{
		50011: func(t *testing.T, w *world) string {
			_, page := w.signIn(t, DemoTenantID, DemoClientID, "http://localhost:53365/other", "User.Read", nil)
			return page
		},
		500113: func(t *testing.T, w *world) string {
			_, page := w.signIn(t, DemoTenantID, bareClientID, DemoRedirectURI, "User.Read", nil)
			return page
		},
		7000215: func(t *testing.T, w *world) string {
			_, m := w.tokenReq(t, DemoTenantID, appOnlyForm(DemoClientID, DemoSecretID))
			return desc(m)
		},
		7000222: func(t *testing.T, w *world) string {
			w.ExpireSecret(DemoClientID, DemoSecretValue)
			_, m := w.tokenReq(t, DemoTenantID, appOnlyForm(DemoClientID, DemoSecretValue))
			return desc(m)
		},
		7000218: func(t *testing.T, w *world) string {
			_, m := post(t, w.base+"/"+DemoTenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {DemoClientID}, "scope": {"User.Read"}})
			_, m = w.tokenReq(t, DemoTenantID, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
				"client_id": {DemoClientID}, "device_code": {str(m["device_code"])}})
			return desc(m)
		},
		700025: func(t *testing.T, w *world) string {
			c := w.code(t, DemoTenantID, desktopClientID, "http://localhost:5000/desk", "User.Read", nil)
			_, m := w.tokenReq(t, DemoTenantID, redeemForm(desktopClientID, c, "http://localhost:5000/desk", desktopSecret))
			return desc(m)
		},
		700016: func(t *testing.T, w *world) string {
			_, m := w.tokenReq(t, customerTenant, appOnlyForm(DemoClientID, DemoSecretValue))
			return desc(m)
		},
		50194: func(t *testing.T, w *world) string {
			_, page := w.signIn(t, "common", DemoClientID, DemoRedirectURI, "User.Read", nil)
			return page
		},
		65001: func(t *testing.T, w *world) string {
			c := w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "offline_access User.Read", nil)
			_, m := w.tokenReq(t, DemoTenantID, redeemForm(DemoClientID, c, DemoRedirectURI, DemoSecretValue))
			_, m = w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, str(m["refresh_token"]), DemoSecretValue, "Files.Read"))
			return desc(m)
		},
		90094: func(t *testing.T, w *world) string {
			q, page := w.signIn(t, DemoTenantID, DemoClientID, DemoRedirectURI, "Mail.Read", url.Values{"login_hint": {ordinaryUPN}})
			return q.Get("error_description") + page
		},
		70008: func(t *testing.T, w *world) string {
			rt := w.webRefreshToken(t)
			w.RevokeRefreshTokens(DemoClientID)
			_, m := w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, rt, DemoSecretValue, ""))
			return desc(m)
		},
		700082: func(t *testing.T, w *world) string {
			rt := w.webRefreshToken(t)
			w.AgeRefreshTokens(DemoClientID, 91*24*time.Hour)
			_, m := w.tokenReq(t, DemoTenantID, refreshForm(DemoClientID, rt, DemoSecretValue, ""))
			return desc(m)
		},
		53003: func(t *testing.T, w *world) string {
			w.AddTenant(Tenant{ID: customerTenant, BlockDeviceCode: true})
			w.SetDeviceApproval(0)
			_, m := post(t, w.base+"/"+customerTenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {multiClientID}, "scope": {"User.Read"}})
			_, m = w.tokenReq(t, customerTenant, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
				"client_id": {multiClientID}, "client_secret": {multiSecret}, "device_code": {str(m["device_code"])}})
			return desc(m)
		},
	}
	for _, code := range codes {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			scenario, ok := scenarios[code]
			if !ok {
				t.Fatalf("no simulator scenario produces AADSTS%d, which the README lists", code)
			}
			if got := scenario(t, newWorld(t)); !strings.Contains(got, "AADSTS"+strconv.Itoa(code)+":") {
				t.Errorf("the scenario for %d answered %q", code, got)
			}
		})
	}
}

// webRefreshToken signs the demo user in through the Web redirect URI.
func (w *world) webRefreshToken(t *testing.T) string {
	t.Helper()
	c := w.code(t, DemoTenantID, DemoClientID, DemoRedirectURI, "offline_access User.Read", nil)
	st, m := w.tokenReq(t, DemoTenantID, redeemForm(DemoClientID, c, DemoRedirectURI, DemoSecretValue))
	wantOK(t, "sign-in", st, m)
	return m["refresh_token"].(string)
}

func desc(m map[string]any) string { return str(m["error_description"]) }

func str(v any) string {
	s, _ := v.(string)
	return s
}

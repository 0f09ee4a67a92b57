package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/m365creds/m365creds/internal/sanitize"
)

// App is what the package needs to know about an app registration and the profile using it.
type App struct {
	Cloud        Cloud
	Tenant       string // authority segment: tenant GUID, domain, common, organizations or consumers
	ClientID     string
	ClientSecret string // empty for public clients
	Kind         Kind
	RedirectURI  string
}

// Token is a token answer from Microsoft.
type Token struct {
	AccessToken, RefreshToken, TokenType, IDToken string
	Expiry                                        time.Time
	Scopes                                        []string // granted, from the answer's "scope"
}

// Client talks to one cloud's sign-in endpoints and Graph for one app.
type Client struct {
	app   App
	hc    *http.Client
	hosts Hosts
	// pollUnit is the length of one "second" of the device code interval. Tests shrink it so
	// polling, slow_down and expiry run in milliseconds against the simulator.
	pollUnit time.Duration
}

// DefaultHTTPTimeout bounds each request when NewClient gets no HTTP client.
const DefaultHTTPTimeout = 30 * time.Second

// NewClient returns a client for app. hc may be nil for a client with a 30 s timeout. Whatever
// client is given, the Origin header is removed from every request: Entra refuses confidential
// clients that send one (AADSTS9002326). A 429 answer with Retry-After is retried once when
// the wait fits in the request's time-out.
func NewClient(app App, hc *http.Client) *Client {
	return NewClientAt(app, hc, Endpoints{})
}

// NewClientAt is NewClient with the sign-in and Graph hosts replaced by ep (the simulator).
func NewClientAt(app App, hc *http.Client, ep Endpoints) *Client {
	var base http.Client
	if hc != nil {
		base = *hc
	} else {
		base.Timeout = DefaultHTTPTimeout
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	base.Transport = transport{rt}
	if strings.TrimSpace(app.Tenant) == "" {
		app.Tenant = "organizations"
	}
	return &Client{app: app, hc: &base, hosts: HostsFor(app.Cloud).With(ep), pollUnit: time.Second}
}

// transport strips the Origin header and retries once on throttling; see NewClient.
type transport struct{ next http.RoundTripper }

// CloseIdleConnections passes through, so http.Client.CloseIdleConnections keeps working.
func (t transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Origin") != "" {
		r = r.Clone(r.Context())
		r.Header.Del("Origin")
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	wait, ok := retryWait(r.Context(), resp.Header.Get("Retry-After"), time.Now())
	if !ok || (r.Body != nil && r.GetBody == nil) {
		return resp, nil
	}
	retry := r.Clone(r.Context())
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-r.Context().Done():
		return nil, r.Context().Err()
	case <-timer.C:
	}
	return t.next.RoundTrip(retry)
}

// maxRetryWait bounds the wait a Retry-After can impose on a request without a deadline.
const maxRetryWait = 30 * time.Second

// retryMargin is left for the retried request itself: waiting until just before the deadline
// only to time out would make the user wait for nothing.
const retryMargin = time.Second

// retryWait reads Retry-After (delay-seconds or an HTTP date, RFC 9110 §10.2.3) and says
// whether waiting that long still leaves time for the retry before ctx's deadline.
func retryWait(ctx context.Context, header string, now time.Time) (time.Duration, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	var wait time.Duration
	if secs, err := strconv.Atoi(header); err == nil {
		if secs < 0 {
			return 0, false
		}
		wait = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(header); err == nil {
		wait = max(at.Sub(now), 0)
	} else {
		return 0, false
	}
	if wait > maxRetryWait {
		return 0, false
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(wait+retryMargin).After(deadline) {
		return 0, false
	}
	return wait, true
}

// App returns the app the client was made for.
func (c *Client) App() App { return c.app }

// SetPollUnit changes the length of one "second" of the device-code interval, so tests can
// run polling, slow_down and expiry in milliseconds against the simulator.
func (c *Client) SetPollUnit(d time.Duration) { c.pollUnit = d }

// Hosts returns the hosts the client talks to.
func (c *Client) Hosts() Hosts { return c.hosts }

func (c *Client) endpoint(path string) string {
	return c.hosts.Login + "/" + url.PathEscape(c.app.Tenant) + path
}

// AuthorizeURL is the app's authorize endpoint in its cloud and tenant; TokenURL and
// DeviceCodeURL are its siblings.
func (c *Client) AuthorizeURL() string { return c.endpoint("/oauth2/v2.0/authorize") }

// TokenURL is the token endpoint.
func (c *Client) TokenURL() string { return c.endpoint("/oauth2/v2.0/token") }

// DeviceCodeURL is the device authorization endpoint.
func (c *Client) DeviceCodeURL() string { return c.endpoint("/oauth2/v2.0/devicecode") }

func (c *Client) loginHost() string {
	if u, err := url.Parse(c.hosts.Login); err == nil && u.Host != "" {
		return u.Host
	}
	return c.hosts.Login
}

// config builds the x/oauth2 configuration. The secret is only set for web profiles: device
// code tokens are public-client tokens and Entra rejects a secret on them (AADSTS700025).
func (c *Client) config(redirectURI string, scopes []string) *oauth2.Config {
	cfg := &oauth2.Config{
		ClientID: c.app.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       c.AuthorizeURL(),
			TokenURL:      c.TokenURL(),
			DeviceAuthURL: c.DeviceCodeURL(),
			// Explicit, so x/oauth2 never probes with Basic auth first.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURI,
		Scopes:      scopes,
	}
	if c.sendsSecret() {
		cfg.ClientSecret = c.app.ClientSecret
	}
	return cfg
}

func (c *Client) sendsSecret() bool {
	return c.app.Kind != KindPublic && c.app.ClientSecret != ""
}

func (c *Client) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.hc)
}

// AuthRequest is one browser sign-in attempt. State and Verifier must stay in memory only.
type AuthRequest struct {
	URL, State, Verifier, RedirectURI string
	Scopes                            []string
}

// NewAuthRequest prepares a sign-in: authorization code with PKCE (S256), a random state,
// response_mode=query (so the paste flow can read the address bar) and prompt=select_account.
func (c *Client) NewAuthRequest(scopes []string, redirectURI string) (*AuthRequest, error) {
	if len(scopes) == 0 {
		return nil, errors.New("no permissions to request")
	}
	if strings.Contains(strings.ToLower(redirectURI), "nativeclient") {
		return nil, ErrNativeClient
	}
	if _, err := url.Parse(redirectURI); err != nil || redirectURI == "" {
		return nil, fmt.Errorf("redirect URI %q is not a valid address", redirectURI)
	}
	state, err := randomString(24)
	if err != nil {
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	cfg := c.config(redirectURI, scopes)
	u := cfg.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("response_mode", "query"),
		oauth2.SetAuthURLParam("prompt", "select_account"))
	return &AuthRequest{URL: u, State: state, Verifier: verifier, RedirectURI: redirectURI,
		Scopes: append([]string(nil), scopes...)}, nil
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("no randomness for the sign-in state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Exchange redeems the code of a finished sign-in, with the request's verifier and redirect URI.
func (c *Client) Exchange(ctx context.Context, req *AuthRequest, code string) (*Token, error) {
	if req == nil || code == "" {
		return nil, ErrNoCode
	}
	cfg := c.config(req.RedirectURI, req.Scopes)
	tok, err := cfg.Exchange(c.ctx(ctx), code, oauth2.VerifierOption(req.Verifier))
	if err != nil {
		return nil, convertErr("token", c.loginHost(), err, code, req.Verifier, c.app.ClientSecret)
	}
	return fromOAuth2(tok), nil
}

func fromOAuth2(t *oauth2.Token) *Token {
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, Expiry: t.Expiry}
	if s, ok := t.Extra("id_token").(string); ok {
		out.IDToken = s
	}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scopes = strings.Fields(s)
	}
	return out
}

// tokenJSON is the token endpoint's success answer.
type tokenJSON struct {
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
	TokenType    string          `json:"token_type"`
	IDToken      string          `json:"id_token"`
	Scope        string          `json:"scope"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
}

func (t tokenJSON) token(now time.Time) *Token {
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType,
		IDToken: t.IDToken, Scopes: strings.Fields(t.Scope)}
	s := strings.Trim(string(t.ExpiresIn), `"`)
	var secs int64
	if _, err := fmt.Sscan(s, &secs); err == nil && secs > 0 {
		out.Expiry = now.Add(time.Duration(secs) * time.Second)
	}
	return out
}

// post sends a form to a login endpoint and returns the body of a 2xx answer, or the decoded
// error. secrets are masked in any error text.
func (c *Client) post(ctx context.Context, endpoint, target string, form url.Values, secrets ...string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, convertErr(endpoint, c.loginHost(), err, secrets...)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, convertErr(endpoint, c.loginHost(), err, secrets...)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, DecodeError(endpoint, resp.StatusCode, body, secrets...)
	}
	return body, nil
}

// postToken is post for answers that must be a token.
func (c *Client) postToken(ctx context.Context, form url.Values, secrets ...string) (*Token, error) {
	body, err := c.post(ctx, "token", c.TokenURL(), form, secrets...)
	if err != nil {
		return nil, err
	}
	return parseToken(body, secrets)
}

func parseToken(body []byte, secrets []string) (*Token, error) {
	var tj tokenJSON
	if err := json.Unmarshal(body, &tj); err != nil {
		return nil, &ResponseError{Endpoint: "token", Status: 200, Reason: "the answer is not valid JSON"}
	}
	if tj.AccessToken == "" {
		// Some servers answer 200 with an error body.
		if err := DecodeError("token", 200, body, secrets...); !isResponseErr(err) {
			return nil, err
		}
		return nil, &ResponseError{Endpoint: "token", Status: 200, Reason: "the answer has no access token"}
	}
	return tj.token(time.Now()), nil
}

func isResponseErr(err error) bool {
	var re *ResponseError
	return errors.As(err, &re)
}

// Refresh redeems a refresh token. The answer carries a new refresh token (Entra rotates them);
// the caller must save it every time. The secret is sent only for web profiles.
func (c *Client) Refresh(ctx context.Context, refreshToken string, scopes []string) (*Token, error) {
	if refreshToken == "" {
		return nil, &EntraError{Err: "invalid_grant", Codes: []int{70000},
			Description: "No refresh token is stored; sign in again."}
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {c.app.ClientID},
		"refresh_token": {refreshToken},
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if c.app.Kind == KindWeb && c.app.ClientSecret != "" {
		form.Set("client_secret", c.app.ClientSecret)
	}
	tok, err := c.postToken(ctx, form, refreshToken, c.app.ClientSecret)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// ClientCredentials gets an app-only token for Graph (<GraphResource>/.default). It needs the
// tenant ID or domain; the shared endpoints cannot serve it.
func (c *Client) ClientCredentials(ctx context.Context) (*Token, error) {
	return c.ClientCredentialsFor(ctx, c.hosts.GraphResource)
}

// ClientCredentialsFor gets an app-only token for a resource: Graph, or another such as
// Exchange Online for IMAP.AccessAsApp ("<resource>/.default"; microsoft-identity.md §11).
func (c *Client) ClientCredentialsFor(ctx context.Context, resource string) (*Token, error) {
	if isSharedTenant(c.app.Tenant) {
		return nil, ErrTenantRequired
	}
	if c.app.ClientSecret == "" {
		return nil, &EntraError{Err: "invalid_client", Codes: []int{7000218},
			Description: "No client secret is set for this app."}
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.app.ClientID},
		"client_secret": {c.app.ClientSecret},
		"scope":         {strings.TrimRight(resource, "/") + "/.default"},
	}
	return c.postToken(ctx, form, c.app.ClientSecret)
}

// CheckSecret tests the client ID and secret with one client-credentials request before the
// user spends time in the browser. It shows up as an app sign-in in the tenant's logs. With a
// shared tenant (common, organizations, consumers) it returns ErrCheckSkipped. So it does when
// a multi-tenant app has no service principal in the tenant yet (AADSTS7000229): the app was
// found and the secret was not what failed, and the sign-in about to follow creates the
// service principal by consent. AADSTS700016 still fails the check, since it also means a
// mistyped client ID or tenant, which the sign-in could only show on Microsoft's own page.
func (c *Client) CheckSecret(ctx context.Context) error {
	if isSharedTenant(c.app.Tenant) {
		return ErrCheckSkipped
	}
	_, err := c.ClientCredentials(ctx)
	var ee *EntraError
	if errors.As(err, &ee) && ee.Code() == 7000229 {
		return ErrCheckSkipped
	}
	return err
}

// AdminConsentURL is the link an administrator opens to grant the app's configured permissions
// for the whole organisation. Shared tenants are replaced by organizations, since personal
// accounts cannot grant admin consent.
func (c *Client) AdminConsentURL(redirectURI, state string) string {
	return c.AdminConsentURLFor(redirectURI, state, nil)
}

// AdminConsentURLFor is AdminConsentURL for named delegated scopes: Graph's short names are
// qualified with this cloud's Graph resource, and the OpenID Connect scopes, which need no
// consent, are left out. No scopes (or none left) means the configured ones (/.default).
func (c *Client) AdminConsentURLFor(redirectURI, state string, scopes []string) string {
	tenant := c.app.Tenant
	if isSharedTenant(tenant) {
		tenant = "organizations"
	}
	var list []string
	for _, sc := range scopes {
		switch low := strings.ToLower(sc); {
		case low == "openid" || low == "profile" || low == "email" || low == "offline_access":
		case strings.Contains(sc, "://"):
			list = append(list, sc)
		default:
			list = append(list, strings.TrimRight(c.hosts.GraphResource, "/")+"/"+sc)
		}
	}
	if len(list) == 0 {
		list = []string{c.hosts.GraphResource + "/.default"}
	}
	q := url.Values{
		"client_id": {c.app.ClientID},
		"scope":     {strings.Join(list, " ")},
	}
	if redirectURI != "" {
		q.Set("redirect_uri", redirectURI)
	}
	if state != "" {
		q.Set("state", state)
	}
	return c.hosts.Login + "/" + url.PathEscape(tenant) + "/v2.0/adminconsent?" + q.Encode()
}

// maxUserFieldLen is longer than any user principal name (113 characters) or display name
// (256) Entra accepts.
const maxUserFieldLen = 300

// User is the signed-in account as Graph reports it, cleaned of control characters.
type User struct{ ID, DisplayName, UserPrincipalName, Mail string }

// Me reads the signed-in user from Graph: GET <graph>/v1.0/me.
func (c *Client) Me(ctx context.Context, accessToken string) (*User, error) {
	target := c.hosts.Graph + "/v1.0/me?$select=id,displayName,userPrincipalName,mail"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	host := req.URL.Host
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, convertErr("graph", host, err, accessToken)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, convertErr("graph", host, err, accessToken)
	}
	if resp.StatusCode != http.StatusOK {
		var gb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(body, &gb) != nil && resp.StatusCode >= 500 {
			return nil, &ResponseError{Endpoint: "graph", Status: resp.StatusCode, Reason: "an error page"}
		}
		return nil, &GraphError{Status: resp.StatusCode, Code: sanitize.Line(gb.Error.Code, maxCodeLen),
			Message: sanitize.Line(redact(gb.Error.Message, []string{accessToken}), maxDescriptionLen)}
	}
	var u struct {
		ID                string `json:"id"`
		DisplayName       string `json:"displayName"`
		UserPrincipalName string `json:"userPrincipalName"`
		Mail              string `json:"mail"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, &ResponseError{Endpoint: "graph", Status: resp.StatusCode, Reason: "the answer is not valid JSON"}
	}
	// These fields are whatever the directory holds (a display name is free text), and they
	// are printed and stored: keep them to one clean line of a sensible length.
	return &User{ID: sanitize.Line(u.ID, maxCodeLen), DisplayName: sanitize.Line(u.DisplayName, maxUserFieldLen),
		UserPrincipalName: sanitize.Line(u.UserPrincipalName, maxUserFieldLen), Mail: sanitize.Line(u.Mail, maxUserFieldLen)}, nil
}

// oidcScopes are granted implicitly and often left out of the answer's scope list.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// ScopeResource is the resource a scope belongs to: its URL prefix, or Microsoft Graph for a
// short name such as Mail.Read.
func ScopeResource(scope string) string {
	l := strings.ToLower(strings.TrimSpace(scope))
	if i := strings.LastIndex(l, "/"); strings.HasPrefix(l, "https://") && i > len("https://") {
		if r := l[:i]; !slices.Contains(graphResources, r+"/") {
			return r
		}
	}
	return "graph"
}

// SingleResource keeps the OIDC scopes and the scopes of the first resource named: what one
// token request may ask for.
func SingleResource(scopes []string) []string {
	first := ScopeResource(firstResourceScope(scopes))
	var out []string
	for _, s := range scopes {
		if oidcScopes[NormalizeScope(s)] || ScopeResource(s) == first {
			out = append(out, s)
		}
	}
	return out
}

func firstResourceScope(scopes []string) string {
	for _, s := range scopes {
		if !oidcScopes[NormalizeScope(s)] {
			return s
		}
	}
	return ""
}

// NormalizeScope lowercases a scope and strips any cloud's Graph prefix, so
// "https://graph.microsoft.com/Mail.Read" and "mail.read" compare equal.
func NormalizeScope(s string) string {
	s = strings.TrimSpace(s)
	l := strings.ToLower(s)
	for _, p := range graphResources {
		if strings.HasPrefix(l, p) {
			return l[len(p):]
		}
	}
	return l
}

// MissingScopes returns the requested scopes that were not granted, in request order, spelled
// as requested. The OIDC scopes and .default are not checked: Microsoft often leaves them out.
// A token is for one resource, so requested scopes of other resources (IMAP and SMTP with
// Graph, say) cannot be judged from it and are not reported.
func MissingScopes(requested, granted []string) []string {
	have := make(map[string]bool, len(granted))
	resources := map[string]bool{}
	for _, g := range granted {
		have[NormalizeScope(g)] = true
		resources[ScopeResource(g)] = true
	}
	if len(granted) == 0 {
		resources[ScopeResource(firstResourceScope(requested))] = true
	}
	var missing []string
	seen := map[string]bool{}
	for _, r := range requested {
		n := NormalizeScope(r)
		if n == "" || oidcScopes[n] || strings.HasSuffix(n, ".default") || seen[n] || !resources[ScopeResource(r)] {
			continue
		}
		seen[n] = true
		if !have[n] {
			missing = append(missing, strings.TrimSpace(r))
		}
	}
	return missing
}

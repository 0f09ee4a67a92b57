// Package simulator is an in-process stand-in for Microsoft Entra ID's v2.0 endpoints and the
// Graph /me call. It serves real HTTP, answers errors in Entra's exact JSON shape, and shows the
// errors Microsoft shows on its own pages (redirect mismatch, unknown app) as HTML pages rather
// than redirects. Tests use it to run every flow end to end; `m365creds demo` embeds it.
//
// Paths are Microsoft's: /{tenant}/oauth2/v2.0/authorize, /token, /devicecode,
// /{tenant}/v2.0/adminconsent, /devicelogin and /v1.0/me, all on one base URL, so pointing both
// M365CREDS_LOGIN_URL and M365CREDS_GRAPH_URL at it is enough.
package simulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// App is an app registration as the portal would hold it.
type App struct {
	ClientID, TenantID, Name string
	// Audience is the supported account types: "single", "multi", "multi-personal" or
	// "personal" (the same words as oauth.Audience). Empty means "single".
	Audience string
	Secrets  []Secret
	// The redirect URIs of each platform on the Authentication blade. The platform of the URI
	// a sign-in used decides the client type of its code and tokens (microsoft-identity.md §1,
	// "Client type decided by redirect type"): Web is a confidential client (secret required,
	// no Origin header), SPA a public client whose tokens are redeemed cross-origin only (an
	// Origin header is required), Mobile and desktop a public client (no secret allowed).
	RedirectURIs       []string // platform Web (Graph: web.redirectUris)
	SPARedirectURIs    []string // platform Single-page application (spa.redirectUris)
	PublicRedirectURIs []string // platform Mobile and desktop applications (publicClient.redirectUris)
	// PublicClient is "Allow public client flows" (Graph: isFallbackPublicClient). It decides
	// the client type when no redirect URI is involved (device code): on, the client is public
	// and must not send a secret (AADSTS700025); off, it is confidential and must send one
	// (AADSTS7000218).
	PublicClient bool
	// AdminOnlyScopes need an administrator's consent in this app, on top of the Graph
	// permissions that always do (see ConsentRule); a user who is not an administrator is
	// refused them at /authorize with AADSTS90094 until an admin has consented.
	AdminOnlyScopes []string
	// ApplicationPermissions are the app roles granted to client-credentials tokens.
	ApplicationPermissions []string
	// WithheldScopes are left out of what is granted, to simulate "partly granted".
	WithheldScopes []string
}

// Secret is a client secret: ID is the portal's "Secret ID", Value the secret itself.
type Secret struct {
	ID, Value string
	Expires   time.Time // zero: never
}

// User is an account that can sign in.
type User struct {
	ID, DisplayName, UPN string
	Personal             bool // a personal Microsoft account
	// Admin is a directory role that may consent for others (Global, Privileged Role, Cloud
	// Application or Application Administrator): the tenant's user-consent policy does not
	// limit what an admin consents to.
	Admin bool
	// TenantID is the user's home tenant. Empty: a member of whichever tenant a request names
	// (the app's home tenant on the shared endpoints).
	TenantID string
}

// Fault makes an endpoint misbehave. Endpoint is "authorize", "token", "devicecode", "me",
// "adminconsent", "devicelogin" or "graph" (the app registration calls of graph.go). Delay is waited first (or until the client gives up); then,
// if Status is set, Status and Body are answered instead of the real handler. Times is how
// many requests are affected; 0 means all until ClearFaults.
type Fault struct {
	Endpoint string
	Status   int
	Body     string
	Delay    time.Duration
	Times    int
}

// Sim is a running or ready-to-run simulator. All methods are safe for concurrent use.
type Sim struct {
	mux http.Handler

	mu          sync.Mutex
	apps        map[string]*App // by lower-case client ID
	users       []User
	tenants     map[string]*tenant // by lower-case tenant ID
	codes       map[string]*codeGrant
	refresh     map[string]*refreshGrant
	access      map[string]*accessGrant
	devices     map[string]*deviceGrant
	faults      []*Fault
	counts      map[string]int
	secretsSent map[string]int
	origins     int
	graph       *graphState // directory objects only Graph shows

	atLifetime     time.Duration
	deviceApproval int
	deviceInterval int
	deviceExpireAt int // pending polls before expired_token; 0 = never
	deviceSlowDown int // first polls answered slow_down
	declineConsent bool

	srv    *http.Server
	ln     net.Listener
	served chan struct{}
}

// New returns a simulator for the given apps and users. With no users it has DemoUsers.
func New(apps []App, users []User) *Sim {
	if len(users) == 0 {
		users = DemoUsers()
	}
	s := &Sim{
		apps:           map[string]*App{},
		users:          append([]User(nil), users...),
		codes:          map[string]*codeGrant{},
		refresh:        map[string]*refreshGrant{},
		access:         map[string]*accessGrant{},
		devices:        map[string]*deviceGrant{},
		tenants:        map[string]*tenant{},
		counts:         map[string]int{},
		secretsSent:    map[string]int{},
		atLifetime:     time.Hour,
		deviceInterval: 5,
		graph:          newGraphState(),
	}
	for i := range apps {
		a := cloneApp(apps[i])
		s.apps[strings.ToLower(a.ClientID)] = &a
		s.graph.registerPortalApp(&a)
		if a.TenantID == "" || a.Audience == "personal" {
			continue
		}
		// Registering an app in the portal also creates its service principal (enterprise
		// application) in the home tenant; other tenants get one only by consent.
		t := s.ensureTenant(a.TenantID)
		t.servicePrincipals[strings.ToLower(a.ClientID)] = true
	}
	s.routes()
	return s
}

func cloneApp(a App) App {
	a.Secrets = append([]Secret(nil), a.Secrets...)
	a.RedirectURIs = append([]string(nil), a.RedirectURIs...)
	a.SPARedirectURIs = append([]string(nil), a.SPARedirectURIs...)
	a.PublicRedirectURIs = append([]string(nil), a.PublicRedirectURIs...)
	a.AdminOnlyScopes = append([]string(nil), a.AdminOnlyScopes...)
	a.ApplicationPermissions = append([]string(nil), a.ApplicationPermissions...)
	a.WithheldScopes = append([]string(nil), a.WithheldScopes...)
	return a
}

func (s *Sim) routes() {
	m := http.NewServeMux()
	m.Handle("GET /{tenant}/oauth2/v2.0/authorize", s.wrap("authorize", s.authorize))
	m.Handle("POST /{tenant}/oauth2/v2.0/token", s.wrap("token", s.token))
	m.Handle("POST /{tenant}/oauth2/v2.0/devicecode", s.wrap("devicecode", s.deviceCode))
	m.Handle("GET /{tenant}/v2.0/adminconsent", s.wrap("adminconsent", s.adminConsent))
	m.Handle("GET /{tenant}/adminconsent", s.wrap("adminconsent", s.adminConsent))
	m.Handle("/devicelogin", s.wrap("devicelogin", s.deviceLogin))
	m.Handle("GET /v1.0/me", s.wrap("me", s.me))
	m.Handle("GET /{tenant}/v2.0/.well-known/openid-configuration", s.wrap("discovery", s.discovery))
	s.mux = s.graphRoutes(m)
}

// Handler serves the simulator, for use with httptest or another server.
func (s *Sim) Handler() http.Handler { return s.mux }

// Start serves on 127.0.0.1 on a free port and returns the base URL, e.g.
// "http://127.0.0.1:41234".
func (s *Sim) Start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", errors.New("simulator already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.served = make(chan struct{})
	srv, served := s.srv, s.served
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops a started simulator; requests in flight get two seconds.
func (s *Sim) Close() error {
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-served
	return err
}

// AddFault makes an endpoint misbehave; see Fault.
func (s *Sim) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes all faults.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Count is the number of requests an endpoint has seen. For "token", grantType narrows it to
// "authorization_code", "refresh_token", "client_credentials" or "device_code"; "" counts all.
func (s *Sim) Count(endpoint, grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if grantType == "" {
		return s.counts[endpoint]
	}
	return s.counts[endpoint+"|"+shortGrant(grantType)]
}

// SecretsSent is the number of token requests of a grant type that carried a client secret
// (in the body or as Basic auth); "" counts all grant types.
func (s *Sim) SecretsSent(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if grantType == "" {
		n := 0
		for _, v := range s.secretsSent {
			n += v
		}
		return n
	}
	return s.secretsSent[shortGrant(grantType)]
}

// OriginHeaders is the number of requests that carried an Origin header (which Entra refuses
// for confidential clients).
func (s *Sim) OriginHeaders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.origins
}

// RevokeRefreshTokens invalidates every refresh token of the app, as an administrator's "revoke
// sessions" does: the next refresh fails with AADSTS70008 (invalid_grant). Using a refresh
// token does not revoke it (see redeemRefresh).
func (s *Sim) RevokeRefreshTokens(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.refresh {
		if strings.EqualFold(g.clientID, clientID) {
			g.revoked = true
		}
	}
}

// ExpireSecret moves a secret's expiry into the past, so it fails with AADSTS7000222.
func (s *Sim) ExpireSecret(clientID, secretValue string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[strings.ToLower(clientID)]; a != nil {
		for i := range a.Secrets {
			if a.Secrets[i].Value == secretValue {
				a.Secrets[i].Expires = time.Now().Add(-time.Minute)
			}
		}
	}
}

// SetAccessTokenLifetime sets the lifetime of access tokens issued from now on (default 1h).
func (s *Sim) SetAccessTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.atLifetime = d
}

// SetDeviceApproval decides the device flow's outcome: approved after that many
// authorization_pending answers (0: at the first poll), or declined for -1. Approval on the
// /devicelogin page also works.
func (s *Sim) SetDeviceApproval(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceApproval = polls
}

// SetDeviceInterval sets the polling interval, in seconds, the devicecode endpoint announces
// (default 5). 0 announces 0: clients should then use their own minimum.
func (s *Sim) SetDeviceInterval(seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceInterval = seconds
}

// SetDeviceExpiry makes device codes answer expired_token after that many pending polls
// (0: never).
func (s *Sim) SetDeviceExpiry(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceExpireAt = polls
}

// SetDeviceSlowDown makes the first n polls of each device code answer slow_down.
func (s *Sim) SetDeviceSlowDown(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceSlowDown = n
}

// SetConsentDeclined makes the user press Cancel on the consent page: /authorize redirects with
// error=access_denied, error_subcode=cancel and AADSTS65004.
func (s *Sim) SetConsentDeclined(declined bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.declineConsent = declined
}

// GrantAdminConsent records admin consent for the app in its home tenant, as the admin
// consent endpoint does.
func (s *Sim) GrantAdminConsent(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[strings.ToLower(clientID)]; a != nil && a.TenantID != "" {
		s.ensureTenant(a.TenantID).consentForAll(a.ClientID)
	}
}

// GrantAdminConsentIn records an administrator's consent for the app in another tenant, which
// also creates the app's service principal there. The tenant is created if it is new.
func (s *Sim) GrantAdminConsentIn(tenantID, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureTenant(tenantID).consentForAll(clientID)
}

// TokenInfo describes an access token the simulator issued.
type TokenInfo struct {
	ClientID, UserUPN string
	Scopes, Roles     []string
	Expiry            time.Time
	AppOnly           bool
	// Resource is the API the token is for (its audience), such as https://graph.microsoft.com
	// or https://outlook.office.com: Entra issues each access token for one resource
	// (microsoft-identity.md §11).
	Resource string
}

// AccessToken looks up an access token the simulator issued.
func (s *Sim) AccessToken(token string) (TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.access[token]
	if !ok {
		return TokenInfo{}, false
	}
	return TokenInfo{ClientID: g.clientID, UserUPN: g.user.UPN, Scopes: append([]string(nil), g.scopes...),
		Roles: append([]string(nil), g.roles...), Expiry: g.expiry, AppOnly: g.appOnly,
		Resource: g.resource()}, true
}

// wrap counts the request, records secrets and Origin headers, and applies faults.
func (s *Sim) wrap(endpoint string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grant := ""
		secret := false
		if endpoint == "token" {
			_ = r.ParseForm()
			grant = shortGrant(r.PostForm.Get("grant_type"))
			_, _, basic := r.BasicAuth()
			secret = r.PostForm.Get("client_secret") != "" || basic
		}
		s.mu.Lock()
		s.counts[endpoint]++
		if grant != "" {
			s.counts[endpoint+"|"+grant]++
			if secret {
				s.secretsSent[grant]++
			}
		}
		if r.Header.Get("Origin") != "" {
			s.origins++
		}
		var fault *Fault
		for i, f := range s.faults {
			if f.Endpoint != endpoint {
				continue
			}
			cp := *f
			fault = &cp
			if f.Times > 0 {
				f.Times--
				if f.Times == 0 {
					s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				}
			}
			break
		}
		s.mu.Unlock()
		if fault != nil {
			if fault.Delay > 0 {
				t := time.NewTimer(fault.Delay)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return
				}
			}
			if fault.Status != 0 {
				ct := "text/html; charset=utf-8"
				if b := strings.TrimSpace(fault.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
					ct = "application/json; charset=utf-8"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(fault.Status)
				_, _ = w.Write([]byte(fault.Body))
				return
			}
		}
		h(w, r)
	})
}

func shortGrant(g string) string {
	if g == "urn:ietf:params:oauth:grant-type:device_code" {
		return "device_code"
	}
	return g
}

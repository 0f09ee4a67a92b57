package simulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

type refreshGrant struct {
	clientID string
	tenant   string // lower-case segment the tokens were issued through
	user     User
	scopes   []string
	public   bool // a public client's token (device flow, SPA, Mobile and desktop): no secret
	spa      bool // redeemed cross-origin: refreshed with an Origin header, 24-hour lifetime
	issued   time.Time
	revoked  bool
}

// clientKind is how a token request must authenticate and whether it is cross-origin.
type clientKind struct{ public, spa bool }

var confidential = clientKind{}

type accessGrant struct {
	clientID string
	user     User
	scopes   []string
	roles    []string
	expiry   time.Time
	appOnly  bool
	tenantID string // the directory the token was issued in, "" for none (personal accounts)
	audience string // the resource of an app-only token's /.default scope
}

// resource is the API the token was issued for: a delegated token's scopes all belong to one.
func (g *accessGrant) resource() string {
	if g.audience != "" {
		return g.audience
	}
	for _, sc := range g.scopes {
		if !oidc[strings.ToLower(sc)] {
			return resourceOf(sc)
		}
	}
	return resourceOf("")
}

type deviceGrant struct {
	clientID, tenant, userCode string
	scopes                     []string
	polls                      int // pending answers given
	slowDowns                  int
	approved                   bool
	done                       bool
	expires                    time.Time
}

// clientAuth checks the client's secret for a request: confidential requests need a valid,
// unexpired one; public ones must have none. Callers hold s.mu.
func (s *Sim) clientAuth(a *App, r *http.Request, public bool) *aadError {
	secret := r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && secret == "" {
		if !strings.EqualFold(u, a.ClientID) {
			return errUnknownClient(u, r.PathValue("tenant"))
		}
		secret = p
	}
	if public {
		if secret != "" || r.PostForm.Get("client_assertion") != "" {
			return errPublicWithSecret()
		}
		return nil
	}
	if secret == "" {
		return errSecretRequired()
	}
	for _, sec := range a.Secrets {
		if subtle.ConstantTimeCompare([]byte(sec.Value), []byte(secret)) == 1 {
			if !s.secretActive(sec) {
				// A secret just added through Graph has not reached the token endpoint yet.
				return errInvalidSecret(a.ClientID)
			}
			if !sec.Expires.IsZero() && time.Now().After(sec.Expires) {
				return errExpiredSecret(a.ClientID)
			}
			return nil
		}
	}
	// Microsoft's text for a Secret ID sent as the secret is the same as for any wrong value:
	// it already says "the client secret value, not the client secret ID".
	return errInvalidSecret(a.ClientID)
}

func (s *Sim) token(w http.ResponseWriter, r *http.Request) {
	// wrap has parsed the form.
	tenant := r.PathValue("tenant")
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID := r.PostForm.Get("client_id")
	if clientID == "" {
		if u, _, ok := r.BasicAuth(); ok {
			clientID = u
		}
	}
	grantType := r.PostForm.Get("grant_type")
	if grantType == "" {
		writeJSONError(w, r, errMissingParam("grant_type"))
		return
	}
	// The endpoint rules for app-only tokens come before anything about the app.
	if shortGrant(grantType) == "client_credentials" && sharedTenant(tenant) {
		writeJSONError(w, r, newErr(400, "invalid_request", 9001023, "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."))
		return
	}
	a, named, e := s.lookupApp(clientID, tenant)
	if e != nil {
		writeJSONError(w, r, e)
		return
	}
	switch shortGrant(grantType) {
	case "authorization_code":
		e = s.redeemCode(w, r, a, tenant)
	case "refresh_token":
		e = s.redeemRefresh(w, r, a)
	case "client_credentials":
		e = s.clientCredentials(w, r, a, named)
	case "device_code":
		e = s.redeemDevice(w, r, a)
	default:
		e = newErr(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grantType)
	}
	if e != nil {
		writeJSONError(w, r, e)
	}
}

// checkOrigin applies the cross-origin rules: a single-page app's code and tokens are redeemed
// only with an Origin header (AADSTS9002327, seen in AzureAD/microsoft-authentication-library-
// for-js#2482), and any other client type is refused one (AADSTS9002326; microsoft-identity.md
// §2: "prevents the use of client credentials in all flows in the presence of an Origin header").
func checkOrigin(r *http.Request, k clientKind) *aadError {
	origin := r.Header.Get("Origin") != ""
	switch {
	case k.spa && !origin:
		return newErr(400, "invalid_request", 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.")
	case !k.spa && origin:
		return newErr(400, "invalid_request", 9002326, "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '%s'.", r.Header.Get("Origin"))
	}
	return nil
}

// kindOf is the client type of a redirect URI's platform (microsoft-identity.md §1, "Client
// type decided by redirect type").
func kindOf(platform string) clientKind {
	switch platform {
	case platformSPA:
		return clientKind{public: true, spa: true}
	case platformPublic:
		return clientKind{public: true}
	}
	return confidential
}

func (s *Sim) redeemCode(w http.ResponseWriter, r *http.Request, a *App, tenant string) *aadError {
	code := r.PostForm.Get("code")
	if code == "" {
		return errMissingParam("code")
	}
	g := s.codes[code]
	kind := confidential
	if g != nil && strings.EqualFold(g.clientID, a.ClientID) {
		kind = kindOf(g.platform)
	}
	if e := checkOrigin(r, kind); e != nil {
		return e
	}
	if e := s.clientAuth(a, r, kind.public); e != nil {
		return e
	}
	switch {
	case g == nil || !strings.EqualFold(g.clientID, a.ClientID):
		return newErr(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	case g.used:
		return newErr(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case time.Now().After(g.expires):
		return newErr(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case !strings.EqualFold(g.tenant, tenant):
		return newErr(400, "invalid_grant", 700005, "Provided Authorization Code is intended to use against other tenant, thus rejected.")
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		return newErr(400, "invalid_grant", 70000, "The redirect_uri does not match the one the authorization code was issued for.")
	}
	if kind.spa && g.challenge == "" {
		// PKCE is "required by the Microsoft identity platform for single page apps" (`authcode`).
		return newErr(400, "invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.")
	}
	if g.challenge != "" {
		v := r.PostForm.Get("code_verifier")
		want := v
		if g.method == "S256" {
			sum := sha256.Sum256([]byte(v))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if v == "" || subtle.ConstantTimeCompare([]byte(want), []byte(g.challenge)) != 1 {
			return newErr(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	g.used = true
	// The access token is for one resource; the refresh token keeps the whole consent, so a
	// refresh can ask for the other resources' scopes.
	s.issueFrom(w, r, a, g.user, firstResource(g.scopes), kind, g.scopes, g.tenant)
	return nil
}

// redeemRefresh follows microsoft-identity.md §2 (`rt`): a refresh token "replaces itself with
// a fresh token upon every use" but is not "revoked when used", so the old one keeps working
// until it is revoked or its inactivity window (90 days; 24 hours for SPAs) runs out. A refresh
// token is not tied to a resource: without scope it yields the first resource of the consent,
// and with scopes of several resources "a token for the resource specified in the first scope".
func (s *Sim) redeemRefresh(w http.ResponseWriter, r *http.Request, a *App) *aadError {
	rt := r.PostForm.Get("refresh_token")
	if rt == "" {
		return errMissingParam("refresh_token")
	}
	g := s.refresh[rt]
	if g == nil || !strings.EqualFold(g.clientID, a.ClientID) {
		return newErr(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	}
	kind := clientKind{public: g.public, spa: g.spa}
	if e := checkOrigin(r, kind); e != nil {
		return e
	}
	if e := s.clientAuth(a, r, g.public); e != nil {
		return e
	}
	switch {
	case g.revoked:
		return newErr(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case g.spa && time.Since(g.issued) > refreshLifetime(true):
		return newErr(400, "invalid_grant", 700084, "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page.")
	case time.Since(g.issued) > refreshLifetime(false):
		return newErr(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.", g.issued.UTC().Format(time.RFC3339))
	}
	scopes := firstResource(g.scopes)
	if req := strings.Fields(r.PostForm.Get("scope")); len(req) > 0 {
		if e := checkScopeSyntax(req); e != nil {
			return e
		}
		for _, sc := range req {
			if !oidc[strings.ToLower(sc)] && !containsScope(g.scopes, sc) {
				return newErr(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", a.ClientID, a.Name)
			}
		}
		scopes = firstResource(grant(req, nil))
	}
	s.issueFrom(w, r, a, g.user, scopes, kind, g.scopes, g.tenant)
	return nil
}

func sharedTenant(t string) bool {
	switch strings.ToLower(t) {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}

func (s *Sim) clientCredentials(w http.ResponseWriter, r *http.Request, a *App, t *tenant) *aadError {
	if e := checkOrigin(r, confidential); e != nil {
		return e
	}
	if e := s.clientAuth(a, r, false); e != nil {
		return e
	}
	if t != nil && !t.servicePrincipals[strings.ToLower(a.ClientID)] {
		// Since service-principal-less authentication was retired (field-2026.md §1;
		// learn.microsoft.com/entra/identity-platform/retire-service-principal-less-authentication),
		// an app-only token needs the app's service principal in the target tenant. The app
		// itself was found (in its home tenant), so the answer names it; wording as captured in
		// Azure/azure-sdk-for-net#46762.
		return newErr(400, "invalid_client", 7000229, "The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", a.ClientID, t.ID)
	}
	if t != nil && t.disabled[strings.ToLower(a.ClientID)] {
		return newErr(400, "unauthorized_client", 7000112, "Application '%s'(%s) is disabled.", a.ClientID, a.Name)
	}
	scope := r.PostForm.Get("scope")
	if scope == "" {
		return errMissingParam("scope")
	}
	if f := strings.Fields(scope); len(f) != 1 || !strings.HasSuffix(strings.ToLower(f[0]), "/.default") {
		return newErr(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
	}
	at := randomToken("sim-at.", 32)
	s.access[at] = &accessGrant{clientID: a.ClientID, roles: append([]string(nil), a.ApplicationPermissions...),
		expiry: time.Now().Add(s.atLifetime), appOnly: true, tenantID: t.ID,
		audience: strings.ToLower(strings.TrimSuffix(strings.Fields(scope)[0], "/.default"))}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(s.atLifetime / time.Second),
		"ext_expires_in": int(s.atLifetime / time.Second),
		"access_token":   at,
	})
	return nil
}

func (s *Sim) redeemDevice(w http.ResponseWriter, r *http.Request, a *App) *aadError {
	dc := r.PostForm.Get("device_code")
	if dc == "" {
		return errMissingParam("device_code")
	}
	// A device code sends no redirect URI, so the "Allow public client flows" switch decides
	// whether the client is public (no secret allowed) or confidential (secret required).
	if e := checkOrigin(r, confidential); e != nil {
		return e
	}
	if e := s.clientAuth(a, r, a.PublicClient); e != nil {
		return e
	}
	d := s.devices[dc]
	if d == nil || !strings.EqualFold(d.clientID, a.ClientID) {
		return newErr(400, "invalid_grant", 70018, "The provided value for the input parameter 'device_code' is not valid.")
	}
	if d.done {
		return newErr(400, "invalid_grant", 90120, "The request was already authorized or declined.")
	}
	if d.slowDowns < s.deviceSlowDown {
		d.slowDowns++
		return &aadError{status: 400, err: "slow_down", text: "Polling too fast; slow down."}
	}
	switch {
	case time.Now().After(d.expires) || (s.deviceExpireAt > 0 && d.polls >= s.deviceExpireAt && !d.approved):
		d.done = true
		return newErr(400, "expired_token", 70019, "Verification code expired.")
	case s.deviceApproval < 0 && !d.approved:
		d.done = true
		return newErr(400, "authorization_declined", 70000, "The user declined the authorization request.")
	case !d.approved && d.polls < s.deviceApproval:
		d.polls++
		return newErr(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	d.done = true
	named, _ := s.resolveTenant(d.tenant)
	user, e := s.pickUser(a, "", named)
	if e != nil {
		return e
	}
	home := s.signInTenant(named, a, user)
	if home != nil && home.BlockDeviceCode {
		return newErr(400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
	}
	if home != nil {
		home.servicePrincipals[strings.ToLower(a.ClientID)] = true
	}
	granted := grant(d.scopes, a.WithheldScopes)
	s.issueFrom(w, r, a, user, granted, clientKind{public: a.PublicClient}, granted, strings.ToLower(d.tenant))
	return nil
}

func (s *Sim) deviceCode(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	tenant := r.PathValue("tenant")
	s.mu.Lock()
	defer s.mu.Unlock()
	a, named, e := s.lookupApp(r.PostForm.Get("client_id"), tenant)
	if e != nil {
		writeJSONError(w, r, e)
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	if len(scopes) == 0 {
		writeJSONError(w, r, errMissingParam("scope"))
		return
	}
	if e := checkScopes(scopes); e != nil {
		writeJSONError(w, r, e)
		return
	}
	// The user who will enter the code is refused what the tenant's policy withholds; the
	// device flow has no consent page to redirect from, so it answers 65001 at once.
	if user, ue := s.pickUser(a, "", named); ue == nil {
		home := s.signInTenant(named, a, user)
		if refused := s.withoutGranted(home, a, user, refusedConsent(a, home, user, scopes)); len(refused) > 0 {
			writeJSONError(w, r, newErr(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", a.ClientID, a.Name))
			return
		}
	}
	const expiresIn = 900
	userCode := userCodeString()
	dc := randomToken("sim-dc.", 32)
	s.devices[dc] = &deviceGrant{clientID: a.ClientID, tenant: tenant, userCode: userCode, scopes: scopes,
		expires: time.Now().Add(expiresIn * time.Second)}
	uri := baseURL(r) + "/devicelogin"
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        userCode,
		"device_code":      dc,
		"verification_uri": uri,
		"expires_in":       expiresIn,
		"interval":         s.deviceInterval,
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", uri, userCode),
	})
}

func userCodeString() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	raw := randomToken("", 9)
	var b strings.Builder
	for i := 0; i < 9; i++ {
		b.WriteByte(alphabet[int(raw[i])%len(alphabet)])
	}
	return b.String()
}

// issueFrom answers with new tokens for scopes; the new refresh token keeps consented, the
// scopes of the original consent, so a narrower refresh can be widened again later. Callers
// hold s.mu.
func (s *Sim) issueFrom(w http.ResponseWriter, r *http.Request, a *App, u User, scopes []string, kind clientKind, consented []string, tenant string) {
	at := randomToken("sim-at.", 32)
	var resource []string
	hasOffline, hasOpenID := false, false
	for _, sc := range scopes {
		switch strings.ToLower(sc) {
		case "offline_access":
			hasOffline = true
			continue
		case "openid":
			hasOpenID = true
		}
		resource = append(resource, sc)
	}
	s.access[at] = &accessGrant{clientID: a.ClientID, user: u, scopes: resource, expiry: time.Now().Add(s.atLifetime),
		tenantID: s.directoryOf(tenant, a, u)}
	body := map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(resource, " "),
		"expires_in":     int(s.atLifetime / time.Second),
		"ext_expires_in": int(s.atLifetime / time.Second),
		"access_token":   at,
	}
	if hasOffline || containsScope(consented, "offline_access") {
		rt := randomToken("sim-rt.", 48)
		s.refresh[rt] = &refreshGrant{clientID: a.ClientID, tenant: tenant, user: u, scopes: append([]string(nil), consented...),
			public: kind.public, spa: kind.spa, issued: time.Now()}
		body["refresh_token"] = rt
	}
	if hasOpenID {
		body["id_token"] = idToken(a, u, tenant)
	}
	if r.PostForm.Get("client_info") == "1" {
		// MSAL asks for client_info=1 and Entra then returns the user's object and tenant IDs
		// (base64url JSON {"uid","utid"}), which MSAL's token cache keys accounts by
		// (home_account_id = uid.utid; MSAL Go's accesstokens.TokenResponse.ClientInfo).
		body["client_info"] = clientInfo(u, tenant, a)
	}
	writeJSON(w, http.StatusOK, body)
}

// idToken is an unsigned JWT with the claims apps read; nothing should trust it. tid is the
// tenant the user signed in to ("ID token claims reference": "Represents the tenant that the
// user is signing in to"), which for a multi-tenant app is not the app's home tenant.
func idToken(a *App, u User, tenant string) string {
	tid := a.TenantID
	if isGUIDish(tenant) {
		tid = tenant
	} else if u.TenantID != "" {
		tid = u.TenantID
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	return enc(map[string]string{"typ": "JWT", "alg": "none"}) + "." + enc(map[string]any{
		"aud": a.ClientID, "iss": "https://login.microsoftonline.com/" + tid + "/v2.0",
		"iat": now, "nbf": now, "exp": now + 3600, "name": u.DisplayName, "oid": u.ID,
		"preferred_username": u.UPN, "tid": tid, "ver": "2.0",
		// sub is always present in an ID token (OpenID Connect Core §2; Microsoft's "ID token
		// claims reference": a pairwise identifier per user and app).
		"sub": base64.RawURLEncoding.EncodeToString([]byte(u.ID + "/" + a.ClientID)),
	}) + "."
}

// clientInfo is the client_info value of a token answer.
func clientInfo(u User, tenant string, a *App) string {
	utid := tenant
	if utid == "" || !isGUIDish(utid) {
		utid = a.TenantID
	}
	b, _ := json.Marshal(map[string]string{"uid": u.ID, "utid": utid})
	return base64.RawURLEncoding.EncodeToString(b)
}

func isGUIDish(s string) bool { return len(s) == 36 && strings.Count(s, "-") == 4 }

// me is Graph's GET /v1.0/me.
func (s *Sim) me(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	token := ""
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		token = strings.TrimSpace(auth[7:])
	}
	s.mu.Lock()
	g := s.access[token]
	s.mu.Unlock()
	switch {
	case token == "":
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	case g == nil:
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed, there are no dots (.).")
	case time.Now().After(g.expiry):
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
	case g.appOnly:
		graphError(w, r, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
	case !containsScope(g.scopes, "User.Read") && !containsScope(g.scopes, "User.ReadWrite") &&
		!containsScope(g.scopes, "User.Read.All") && !containsScope(g.scopes, "Directory.Read.All"):
		graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	default:
		writeJSON(w, http.StatusOK, map[string]any{
			"@odata.context":    baseURL(r) + "/v1.0/$metadata#users/$entity",
			"id":                g.user.ID,
			"displayName":       g.user.DisplayName,
			"userPrincipalName": g.user.UPN,
			"mail":              g.user.UPN,
		})
	}
}

func graphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = guid()
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]string{
			"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": guid(), "client-request-id": crid,
		},
	}})
}

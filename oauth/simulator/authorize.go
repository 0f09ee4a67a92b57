package simulator

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// codeLifetime is how long an authorization code can be redeemed (Microsoft: about 10 minutes).
const codeLifetime = 10 * time.Minute

type codeGrant struct {
	clientID, tenant, redirectURI string
	platform                      string // of the redirect URI: platformWeb, platformSPA or platformPublic
	challenge, method             string
	scopes                        []string // granted
	user                          User
	used                          bool
	expires                       time.Time
}

// lookupApp finds the app and the directory the {tenant} segment names (nil for the shared
// endpoints), and checks the segment against the app's audience. Callers hold s.mu.
func (s *Sim) lookupApp(clientID, tenantSeg string) (*App, *tenant, *aadError) {
	if clientID == "" {
		return nil, nil, errMissingParam("client_id")
	}
	t, e := s.resolveTenant(tenantSeg)
	if e != nil {
		return nil, nil, e
	}
	a := s.apps[strings.ToLower(clientID)]
	if a == nil || !s.propagated(a) {
		// An app created through Graph is unknown here until it has propagated.
		return nil, nil, errUnknownClient(clientID, tenantSeg)
	}
	seg := strings.ToLower(tenantSeg)
	name := a.Name
	switch a.Audience {
	case "multi":
		if seg == "consumers" {
			return nil, nil, newErr(400, "invalid_request", 9002332, "Application '%s'(%s) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.", a.ClientID, name)
		}
	case "multi-personal":
	case "personal":
		if seg != "consumers" && seg != "common" {
			return nil, nil, newErr(400, "invalid_request", 9002331, "Application '%s'(%s) is configured for use by Microsoft Account users only. Please use the /consumers endpoint to serve this request.", a.ClientID, name)
		}
	default: // single tenant
		switch {
		case seg == "common" || seg == "organizations":
			return nil, nil, newErr(400, "invalid_request", 50194, "Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", a.ClientID, name)
		case seg == "consumers":
			return nil, nil, newErr(400, "invalid_request", 9002332, "Application '%s'(%s) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.", a.ClientID, name)
		case t != nil && !strings.EqualFold(t.ID, a.TenantID):
			// A single-tenant app exists only in its home directory.
			return nil, nil, errUnknownClient(clientID, tenantSeg)
		}
	}
	return a, t, nil
}

// Platforms of redirect URIs, in the order Entra's choice is simulated when several match.
const (
	platformWeb    = "web"
	platformSPA    = "spa"
	platformPublic = "public"
)

// matchRedirect finds the registered redirect URI a request's redirect_uri matches and its
// platform. An exact match wins over one that differs only in the loopback port.
func matchRedirect(a *App, requested string) (string, bool) {
	lists := []struct {
		platform string
		uris     []string
	}{{platformWeb, a.RedirectURIs}, {platformSPA, a.SPARedirectURIs}, {platformPublic, a.PublicRedirectURIs}}
	for _, l := range lists {
		for _, reg := range l.uris {
			if reg == requested {
				return l.platform, true
			}
		}
	}
	for _, l := range lists {
		for _, reg := range l.uris {
			if redirectMatches(reg, requested) {
				return l.platform, true
			}
		}
	}
	return "", false
}

func hasRedirectURIs(a *App) bool {
	return len(a.RedirectURIs)+len(a.SPARedirectURIs)+len(a.PublicRedirectURIs) > 0
}

// redirectMatches compares like Entra: exactly, except that the port of http://localhost
// addresses is ignored, on every platform, and an empty path equals "/" (microsoft-identity.md
// §1, "Port ignored for loopback" and "Web vs Mobile/desktop"). The path still counts, and
// 127.0.0.1 and https://localhost are compared exactly, since the port rule for them is
// unconfirmed.
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	a, err1 := url.Parse(registered)
	b, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil {
		return false
	}
	if a.Scheme != "http" || b.Scheme != "http" || a.Hostname() != "localhost" || b.Hostname() != "localhost" {
		return false
	}
	pa, pb := a.EscapedPath(), b.EscapedPath()
	if pa == "" {
		pa = "/"
	}
	if pb == "" {
		pb = "/"
	}
	return pa == pb && a.RawQuery == b.RawQuery
}

// pickUser is the account that signs in: the hinted one, else the first the app and tenant
// accept. Callers hold s.mu.
func (s *Sim) pickUser(a *App, hint string, t *tenant) (User, *aadError) {
	for _, u := range s.users {
		if hint != "" && strings.EqualFold(u.UPN, hint) {
			return u, s.userAllowed(a, u, t)
		}
	}
	for _, u := range s.users {
		if s.userAllowed(a, u, t) == nil {
			return u, nil
		}
	}
	return s.users[0], s.userAllowed(a, s.users[0], t)
}

func (s *Sim) userAllowed(a *App, u User, t *tenant) *aadError {
	if t != nil && u.TenantID != "" && !u.Personal && !strings.EqualFold(u.TenantID, t.ID) {
		return newErr(400, "invalid_request", 50020, "User account '%s' from identity provider 'https://sts.windows.net/%s/' does not exist in tenant '%s' and cannot access the application '%s'(%s) in that tenant. The account needs to be added as an external user in the tenant first.", u.UPN, u.TenantID, t.ID, a.ClientID, a.Name)
	}
	personalOK := a.Audience == "personal" || a.Audience == "multi-personal"
	if u.Personal && !personalOK {
		return newErr(400, "invalid_request", 500200, "User account '%s' from identity provider 'live.com' is a personal Microsoft account. Personal Microsoft accounts are not supported for this application unless explicitly invited to an organization. Try signing out and signing back in with an organizational account.", u.UPN)
	}
	if !u.Personal && a.Audience == "personal" {
		return newErr(400, "invalid_request", 50020, "User account '%s' from identity provider 'https://sts.windows.net/%s/' does not exist in tenant 'Microsoft Accounts' and cannot access the application '%s'(%s) in that tenant.", u.UPN, a.TenantID, a.ClientID, a.Name)
	}
	return nil
}

func (s *Sim) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tenant := r.PathValue("tenant")
	s.mu.Lock()
	defer s.mu.Unlock()
	a, named, e := s.lookupApp(q.Get("client_id"), tenant)
	if e != nil {
		writeErrorPage(w, r, e)
		return
	}
	redirect := q.Get("redirect_uri")
	if !hasRedirectURIs(a) {
		writeErrorPage(w, r, newErr(400, "invalid_request", 500113, "No reply address is registered for the application."))
		return
	}
	if redirect == "" {
		writeErrorPage(w, r, newErr(400, "invalid_request", 900971, "No reply address provided."))
		return
	}
	platform, matched := matchRedirect(a, redirect)
	if !matched {
		writeErrorPage(w, r, newErr(400, "invalid_request", 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirect, a.ClientID))
		return
	}
	state := q.Get("state")
	if rt := q.Get("response_type"); rt != "code" {
		redirectError(w, r, redirect, state, newErr(400, "unsupported_response_type", 700054, "response_type '%s' is not enabled for the application.", rt), "")
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if len(scopes) == 0 {
		redirectError(w, r, redirect, state, newErr(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."), "")
		return
	}
	// Consent may cover several resources at once (Graph and Outlook's IMAP, say); only a
	// token request is limited to one.
	if e := checkScopeSyntax(scopes); e != nil {
		redirectError(w, r, redirect, state, e, "")
		return
	}
	method := q.Get("code_challenge_method")
	challenge := q.Get("code_challenge")
	if challenge != "" && method == "" {
		method = "plain"
	}
	if method != "" && method != "S256" && method != "plain" {
		redirectError(w, r, redirect, state, newErr(400, "invalid_request", 501491, "Invalid code_challenge_method: '%s'.", method), "")
		return
	}
	user, e := s.pickUser(a, q.Get("login_hint"), named)
	if e != nil {
		writeErrorPage(w, r, e)
		return
	}
	if s.declineConsent {
		redirectError(w, r, redirect, state, newErr(400, "access_denied", 65004, "User declined to consent to access the app."), "cancel")
		return
	}
	home := s.signInTenant(named, a, user)
	if refused := s.withoutGranted(home, a, user, refusedConsent(a, home, user, scopes)); len(refused) > 0 {
		redirectError(w, r, redirect, state, errAdminConsentNeeded(home, refused), "")
		return
	}
	if home != nil {
		// The user's consent creates the app's service principal in the user's directory.
		home.servicePrincipals[strings.ToLower(a.ClientID)] = true
	}
	code := randomToken("0.sim-code.", 48)
	s.codes[code] = &codeGrant{
		clientID: a.ClientID, tenant: strings.ToLower(tenant), redirectURI: redirect, platform: platform,
		challenge: challenge, method: method,
		scopes: grant(scopes, a.WithheldScopes), user: user,
		expires: time.Now().Add(codeLifetime),
	}
	out := url.Values{"code": {code}, "session_state": {guid()}}
	if state != "" {
		out.Set("state", state)
	}
	target := appendQuery(redirect, out)
	if q.Get("response_mode") == "fragment" {
		target = redirect + "#" + out.Encode()
	}
	http.Redirect(w, r, target, http.StatusFound) //nolint:gosec // target is a registered redirect URI, checked above

}

// checkScopeSyntax rejects scopes no app could have registered.
func checkScopeSyntax(scopes []string) *aadError {
	for _, sc := range scopes {
		if strings.ContainsAny(sc, "<>\"") {
			return newErr(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid.", sc)
		}
	}
	return nil
}

// resourceOf is the resource a scope belongs to; short names are Graph's.
func resourceOf(sc string) string {
	n := strings.ToLower(sc)
	if i := strings.LastIndex(n, "/"); strings.HasPrefix(n, "https://") && i > len("https://") {
		return n[:i]
	} else if strings.HasPrefix(n, "api://") {
		return n
	}
	return "https://graph.microsoft.com"
}

// firstResource keeps the OIDC scopes and the scopes of the first resource named, which is
// what Entra issues a token for when a consent covered several.
func firstResource(scopes []string) []string {
	var out []string
	first := ""
	for _, sc := range scopes {
		if oidc[strings.ToLower(sc)] {
			out = append(out, sc)
			continue
		}
		if first == "" {
			first = resourceOf(sc)
		}
		if resourceOf(sc) == first {
			out = append(out, sc)
		}
	}
	return out
}

// checkScopes rejects scope lists that mix resources, like Entra's token endpoint does.
func checkScopes(scopes []string) *aadError {
	if e := checkScopeSyntax(scopes); e != nil {
		return e
	}
	resources := map[string]bool{}
	for _, sc := range scopes {
		if !oidc[strings.ToLower(sc)] {
			resources[resourceOf(sc)] = true
		}
	}
	if len(resources) > 1 {
		return newErr(400, "invalid_scope", 700022, "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", strings.Join(scopes, " "))
	}
	return nil
}

var oidc = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// normScope lowercases a scope and strips the Graph prefix.
func normScope(s string) string {
	l := strings.ToLower(strings.TrimSpace(s))
	return strings.TrimPrefix(l, "https://graph.microsoft.com/")
}

func containsScope(list []string, sc string) bool {
	n := normScope(sc)
	for _, l := range list {
		if normScope(l) == n {
			return true
		}
	}
	return false
}

// grant is what consent yields: the requested scopes minus the withheld ones, Graph scopes
// spelled short the way Entra's scope answer spells them.
func grant(requested, withheld []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, sc := range requested {
		if containsScope(withheld, sc) {
			continue
		}
		name := sc
		if strings.HasPrefix(strings.ToLower(sc), "https://graph.microsoft.com/") {
			name = sc[len("https://graph.microsoft.com/"):]
		}
		if seen[strings.ToLower(name)] {
			continue
		}
		seen[strings.ToLower(name)] = true
		out = append(out, name)
	}
	return out
}

func (s *Sim) adminConsent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tenant := r.PathValue("tenant")
	s.mu.Lock()
	defer s.mu.Unlock()
	// Admin consent runs against organizations or the tenant, whatever the app's audience.
	a := s.apps[strings.ToLower(q.Get("client_id"))]
	switch {
	case a == nil:
		writeErrorPage(w, r, errUnknownClient(q.Get("client_id"), tenant))
		return
	case strings.EqualFold(tenant, "consumers") || strings.EqualFold(tenant, "common"):
		writeErrorPage(w, r, newErr(400, "invalid_request", 90019, "No tenant-identifying information found in either the request or implied by any provided credentials."))
		return
	}
	// The administrator signs in to the named directory; on organizations, the app's home.
	target, e := s.resolveTenant(tenant)
	if e != nil {
		writeErrorPage(w, r, e)
		return
	}
	if target == nil {
		target = s.ensureTenant(a.TenantID)
	}
	if (a.Audience == "" || a.Audience == "single") && !strings.EqualFold(target.ID, a.TenantID) {
		writeErrorPage(w, r, errUnknownClient(a.ClientID, tenant))
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(a.RedirectURIs) > 0 {
		redirect = a.RedirectURIs[0]
	}
	if _, ok := matchRedirect(a, redirect); !ok {
		writeErrorPage(w, r, newErr(400, "invalid_request", 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", redirect, a.ClientID))
		return
	}
	if target.AdminDeclines {
		// A declined v2 admin consent still carries admin_consent=True, with the error beside
		// it (microsoft-identity.md §4, MS `adminconsent`: "check error first").
		id := newIDs(r)
		e := newErr(400, "consent_required", 65004, "User declined to consent to access the app.")
		out := url.Values{"admin_consent": {"True"}, "error": {e.err}, "error_description": {e.description(id)}}
		if st := q.Get("state"); st != "" {
			out.Set("state", st)
		}
		http.Redirect(w, r, appendQuery(redirect, out), http.StatusFound) //nolint:gosec // redirect was matched against the registered ones above
		return
	}
	// Admin consent creates the service principal and grants for every user of the tenant.
	target.consentForAll(a.ClientID)
	out := url.Values{"admin_consent": {"True"}, "tenant": {target.ID}}
	if st := q.Get("state"); st != "" {
		out.Set("state", st)
	}
	if sc := q.Get("scope"); sc != "" {
		out.Set("scope", sc)
	}
	http.Redirect(w, r, appendQuery(redirect, out), http.StatusFound) //nolint:gosec // redirect was matched against the registered ones above
}

// deviceLoginPage is parsed on first use: every m365creds command links the simulator (for the demo),
// and parsing at start-up would slow down all of them.
var deviceLoginPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("dl").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Enter code</title></head>
<body style="font-family:'Segoe UI',sans-serif;max-width:30rem;margin:3rem auto">
<h1>Enter code</h1>
{{if .Msg}}<p>{{.Msg}}</p>{{end}}
<form method="post" action="/devicelogin">
<p>Enter the code displayed on your app or device.</p>
<input name="otc" autocomplete="off" autofocus> <button type="submit">Next</button>
</form>
<p>(Microsoft Entra ID simulator of m365creds)</p>
</body></html>
`))
})

// deviceLogin is the page behind the verification URI: entering the code approves it.
func (s *Sim) deviceLogin(w http.ResponseWriter, r *http.Request) {
	msg := ""
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		code := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("otc")))
		s.mu.Lock()
		found := false
		for _, d := range s.devices {
			if d.userCode == code && !d.done {
				d.approved = true
				found = true
			}
		}
		s.mu.Unlock()
		msg = "That code wasn't found or has expired. Check the code and try again."
		if found {
			msg = "You have signed in to the application on your device. You may now close this window."
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = deviceLoginPage().Execute(w, map[string]string{"Msg": msg})
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		isHex := c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		if !isHex {
			return false
		}
	}
	return true
}

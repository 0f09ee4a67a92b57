package simulator

// The Microsoft Graph calls that register an app: create the application, its service principal,
// owners, client secrets (addPassword / removePassword), admin consent for delegated permissions
// (oauth2PermissionGrants) and for application permissions (appRoleAssignedTo). Behaviour follows
// microsoft-identity.md §9 and Microsoft's Graph API reference pages, named at each handler.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Fixed identities of Microsoft's own apps and of the demo's Graph objects.
const (
	// GraphCLIClientID is "Microsoft Graph Command Line Tools", the public client the Graph
	// PowerShell SDK (Connect-MgGraph) signs in with.
	GraphCLIClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
	// GraphAppID is Microsoft Graph's resourceAppId (microsoft-identity.md §8).
	GraphAppID = "00000003-0000-0000-c000-000000000000"
	// DemoObjectID is the demo app's object ID: a GUID of its own, distinct from its client ID,
	// as on the portal's Overview page.
	DemoObjectID = "c47e1b93-6d2a-4f85-b0e3-8a9d2c4f6e71"
	// DemoMemberUPN is an ordinary member of the demo tenant (no administrator role).
	DemoMemberUPN = "bea@demo.example"
)

// GraphCLIApp is Microsoft Graph Command Line Tools as Entra knows it: a multi-tenant public
// client that also accepts personal accounts, with http://localhost under Mobile and desktop
// (the port is ignored, microsoft-identity.md §1) and public client flows on, so that auth
// code with PKCE and no secret, and the device flow, both work. It has no home tenant in the
// simulator: its service principal appears in a tenant on first consent there.
func GraphCLIApp() App {
	return App{ClientID: GraphCLIClientID, Name: "Microsoft Graph Command Line Tools", Audience: "multi-personal",
		PublicRedirectURIs: []string{"http://localhost"}, PublicClient: true}
}

// DemoMember is an ordinary member of the demo tenant. Whether she may register apps depends on
// the tenant's "Users can register applications" switch (SetUsersCanRegisterApps).
func DemoMember() User {
	return User{ID: "9b2e4c6a-8d1f-4e3b-a5c7-1f3d5b7a9c2e", DisplayName: "Bea Member", UPN: DemoMemberUPN, TenantID: DemoTenantID}
}

// AppManagementPolicy is a tenant's default app management policy for client secrets (Graph
// tenantAppManagementPolicy, passwordCredentialConfiguration; microsoft-identity.md §6).
type AppManagementPolicy struct {
	// ForbidSecrets is restrictionType passwordAddition: no new client secrets.
	ForbidSecrets bool
	// MaxSecretLifetime is restrictionType passwordLifetime with maxLifetime; 0: no limit.
	MaxSecretLifetime time.Duration
}

type graphApp struct {
	objectID, appID, tenantID string
	owners                    []string // user object IDs
	required                  []requiredAccessJSON
	secretNames               map[string]string    // key ID → displayName
	secretStarts              map[string]time.Time // key ID → startDateTime
}

type permissionGrant struct {
	id, clientAppID, principal string // principal "" for AllPrincipals
	scopes                     []string
}

type tenantPolicy struct {
	AppManagementPolicy
	id string
}

// graphState is the directory data only Graph shows. Guarded by Sim.mu.
type graphState struct {
	apps           map[string]*graphApp          // by lower-case object ID
	spIDs          map[string]string             // lower "tenant|appID" → service principal object ID
	noUserApps     map[string]bool               // lower tenant ID → users may not register apps
	policies       map[string]*tenantPolicy      // lower tenant ID
	grants         map[string][]*permissionGrant // lower tenant ID
	roleAssigned   map[string]bool               // lower "tenant|clientAppID|roleID"
	propagation    time.Duration
	appVisibleAt   map[string]time.Time // lower client ID
	secretActiveAt map[string]time.Time // key ID
}

func newGraphState() *graphState {
	return &graphState{apps: map[string]*graphApp{}, spIDs: map[string]string{}, noUserApps: map[string]bool{},
		policies: map[string]*tenantPolicy{}, grants: map[string][]*permissionGrant{}, roleAssigned: map[string]bool{},
		appVisibleAt: map[string]time.Time{}, secretActiveAt: map[string]time.Time{}}
}

// registerPortalApp gives an app registered through New an application object, as the portal
// creates one. Callers hold s.mu.
func (g *graphState) registerPortalApp(a *App) {
	if a.TenantID == "" {
		return
	}
	id := guid()
	if strings.EqualFold(a.ClientID, DemoClientID) {
		id = DemoObjectID
	}
	g.apps[strings.ToLower(id)] = &graphApp{objectID: id, appID: a.ClientID, tenantID: a.TenantID,
		secretNames: map[string]string{}, secretStarts: map[string]time.Time{}}
}

// SetUsersCanRegisterApps is Entra's "Users can register applications" switch (Graph
// authorizationPolicy.defaultUserRolePermissions.allowedToCreateApps; microsoft-identity.md §9,
// "Who can register"). It is on by default; off, only administrators may create apps.
func (s *Sim) SetUsersCanRegisterApps(tenantID string, allowed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureTenant(tenantID)
	s.graph.noUserApps[strings.ToLower(tenantID)] = !allowed
}

// SetAppManagementPolicy sets the tenant's default app management policy for client secrets.
func (s *Sim) SetAppManagementPolicy(tenantID string, p AppManagementPolicy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureTenant(tenantID)
	s.graph.policies[strings.ToLower(tenantID)] = &tenantPolicy{AppManagementPolicy: p, id: guid()}
}

// SetPropagationDelay makes apps created and secrets added through Graph from now on unknown
// to the sign-in and token endpoints for d: an app answers AADSTS700016, a secret AADSTS7000215.
// New secrets are reported to take from seconds to over a minute to work (field-2026.md §1:
// microsoftgraph/microsoft-graph-docs#17966, 4–18 s; hashicorp/vault-plugin-secrets-azure
// retries for up to 80 s).
func (s *Sim) SetPropagationDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph.propagation = d
}

// Propagate ends the propagation delay of every app and secret created so far: what the
// service does once its delay is over, at a moment the caller picks. Tests use it to see
// both sides of the delay without racing a clock.
func (s *Sim) Propagate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.graph.appVisibleAt)
	clear(s.graph.secretActiveAt)
}

// SetUserTenant makes a directory the user's home tenant, so that sign-ins through the shared
// endpoints (organizations, common) land there, as a real account's do.
func (s *Sim) SetUserTenant(upn, tenantID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureTenant(tenantID)
	for i := range s.users {
		if strings.EqualFold(s.users[i].UPN, upn) {
			s.users[i].TenantID = tenantID
		}
	}
}

// ObjectIDOf is the application object ID of the app with this client ID, or "".
func (s *Sim) ObjectIDOf(clientID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ga := range s.graph.apps {
		if strings.EqualFold(ga.appID, clientID) {
			return ga.objectID
		}
	}
	return ""
}

// App returns a copy of the app with this client ID as the simulator holds it.
func (s *Sim) App(clientID string) (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[strings.ToLower(clientID)]
	if a == nil {
		return App{}, false
	}
	return cloneApp(*a), true
}

// propagated reports whether the sign-in endpoints know the app yet. Callers hold s.mu.
func (s *Sim) propagated(a *App) bool {
	at, ok := s.graph.appVisibleAt[strings.ToLower(a.ClientID)]
	return !ok || !time.Now().Before(at)
}

// secretActive reports whether a secret has reached the token endpoint yet. Callers hold s.mu.
func (s *Sim) secretActive(sec Secret) bool {
	at, ok := s.graph.secretActiveAt[sec.ID]
	return !ok || !time.Now().Before(at)
}

// withoutGranted drops from refused the scopes an oauth2PermissionGrant already covers for
// this app and user in the tenant: a granted permission is not asked for again at sign-in.
// Callers hold s.mu.
func (s *Sim) withoutGranted(t *tenant, a *App, u User, refused []string) []string {
	if t == nil || len(refused) == 0 {
		return refused
	}
	var out []string
	for _, sc := range refused {
		covered := false
		for _, g := range s.graph.grants[strings.ToLower(t.ID)] {
			if strings.EqualFold(g.clientAppID, a.ClientID) && (g.principal == "" || strings.EqualFold(g.principal, u.ID)) &&
				containsScope(g.scopes, sc) {
				covered = true
			}
		}
		if !covered {
			out = append(out, sc)
		}
	}
	return out
}

// directoryOf is the directory a token is issued in: the one the sign-in landed in. Callers
// hold s.mu.
func (s *Sim) directoryOf(seg string, a *App, u User) string {
	named, _ := s.resolveTenant(seg)
	if t := s.signInTenant(named, a, u); t != nil {
		return t.ID
	}
	return ""
}

// graphRoleIDs are application permissions (app roles) of Microsoft Graph by ID, from Graph's
// service principal (permissions-ids.md; microsoft-identity.md §8 gives the delegated IDs).
var graphRoleIDs = map[string]string{
	"810c84a8-4a9e-49e6-bf7d-12d183f40d01": "Mail.Read",
	"e2a3a72e-5f79-4c64-b1b1-878b674786c9": "Mail.ReadWrite",
	"b633e1c5-b582-4048-a93e-9f11b44c7e96": "Mail.Send",
	"40f97065-369a-49f4-947c-6a255697ae91": "MailboxSettings.Read",
	"798ee544-9d2d-430c-a058-570e29e34338": "Calendars.Read",
	"ef54d2bf-783f-4e0f-bca1-3210c0444d99": "Calendars.ReadWrite",
	"089fe4d0-434a-44c5-8827-41ba8a0b17f5": "Contacts.Read",
	"6918b873-d17a-4dc1-b314-35f528134491": "Contacts.ReadWrite",
	"5b567255-7703-4780-807c-7be8301ae99b": "Group.Read.All",
	"62a82d76-70ea-41e2-9197-370581804d09": "Group.ReadWrite.All",
	"7ab1d382-f21e-4acd-a863-ba3e13f7da61": "Directory.Read.All",
	"df021288-bdef-4463-88db-98f22de89214": "User.Read.All",
	"741f803b-c850-494e-b5df-cde7c675a1ca": "User.ReadWrite.All",
	"01d4889c-1287-42c6-ac1f-5d1e02578ef6": "Files.Read.All",
	"75359482-378d-4052-8f01-80520e7db3cd": "Files.ReadWrite.All",
	"332a536c-c7ef-4017-ab91-336970924f0d": "Sites.Read.All",
	"9492366f-7969-46a4-8d15-ed1a20078fff": "Sites.ReadWrite.All",
	"9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30": "Application.Read.All",
	"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9": "Application.ReadWrite.All",
}

// graphRoutes adds the Graph endpoints to m. Graph's alternate key syntax,
// applications(appId='…'), is one path segment that a pattern cannot take apart, and
// "/v1.0/{key}" would overlap "/{tenant}/adminconsent", so those requests are picked out before
// m sees them.
func (s *Sim) graphRoutes(m *http.ServeMux) http.Handler {
	byKey := s.wrap("graph", s.getByKey)
	m.Handle("POST /v1.0/applications", s.wrap("graph", s.createApplication))
	m.Handle("POST /v1.0/myorganization/applications", s.wrap("graph", s.createApplication))
	m.Handle("POST /v1.0/servicePrincipals", s.wrap("graph", s.createServicePrincipal))
	m.Handle("POST /v1.0/applications/{id}/owners/$ref", s.wrap("graph", s.addOwner))
	m.Handle("POST /v1.0/applications/{id}/addPassword", s.wrap("graph", s.addPassword))
	m.Handle("POST /v1.0/applications/{id}/removePassword", s.wrap("graph", s.removePassword))
	m.Handle("POST /v1.0/oauth2PermissionGrants", s.wrap("graph", s.createPermissionGrant))
	m.Handle("GET /v1.0/oauth2PermissionGrants", s.wrap("graph", s.listPermissionGrants))
	m.Handle("PATCH /v1.0/oauth2PermissionGrants/{id}", s.wrap("graph", s.updatePermissionGrant))
	m.Handle("POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo", s.wrap("graph", s.assignAppRole))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/")
		if ok && r.Method == http.MethodGet && !strings.Contains(rest, "/") && strings.Contains(rest, "(") {
			byKey.ServeHTTP(w, r)
			return
		}
		m.ServeHTTP(w, r)
	})
}

// caller is who makes a Graph request.
type caller struct {
	grant  *accessGrant
	user   User // current directory data of the signed-in user; zero for app-only
	tenant *tenant
}

const insufficientPrivileges = "Insufficient privileges to complete the operation."

// graphCaller checks the bearer token like Graph: present, issued here, unexpired, for Graph,
// carrying one of perms (a delegated scope, or an app role for app-only tokens), and issued in
// a directory. Callers hold s.mu.
func (s *Sim) graphCaller(w http.ResponseWriter, r *http.Request, perms ...string) (*caller, bool) {
	auth := r.Header.Get("Authorization")
	token := ""
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		token = strings.TrimSpace(auth[7:])
	}
	g := s.access[token]
	switch {
	case token == "":
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return nil, false
	case g == nil:
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed, there are no dots (.).")
		return nil, false
	case time.Now().After(g.expiry):
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return nil, false
	}
	for _, sc := range g.scopes {
		if !oidc[strings.ToLower(sc)] && resourceOf(sc) != "https://graph.microsoft.com" {
			graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
			return nil, false
		}
	}
	held := g.scopes
	if g.appOnly {
		held = g.roles
	}
	ok := false
	for _, p := range perms {
		ok = ok || containsScope(held, p)
	}
	if !ok {
		graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", insufficientPrivileges)
		return nil, false
	}
	c := &caller{grant: g}
	if !g.appOnly {
		c.user = g.user
		for _, u := range s.users {
			if u.ID == g.user.ID && strings.EqualFold(u.UPN, g.user.UPN) {
				c.user = u // directory roles count as they are now, not as they were at sign-in
			}
		}
	}
	if g.tenantID != "" {
		c.tenant = s.tenants[strings.ToLower(g.tenantID)]
	}
	if c.tenant == nil {
		// Personal accounts have no directory to register apps in (microsoft-identity.md §9;
		// the portal's wording, reported by third parties, is UNCONFIRMED from a Microsoft source).
		graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "The ability to create applications outside of a directory has been deprecated. You may get a new directory by joining the M365 Developer Program or signing up for Azure.")
		return nil, false
	}
	return c, true
}

func (c *caller) admin() bool { return c.grant.appOnly || c.user.Admin }

// readBody decodes a JSON request body, answering Graph's error for an unreadable one.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return false
	}
	return true
}

func notFound(w http.ResponseWriter, r *http.Request, what string) {
	graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", what))
}

type redirectsJSON struct {
	RedirectURIs []string `json:"redirectUris"`
}

type resourceAccessJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type requiredAccessJSON struct {
	ResourceAppID  string               `json:"resourceAppId"`
	ResourceAccess []resourceAccessJSON `json:"resourceAccess"`
}

type passwordJSON struct {
	CustomKeyIdentifier *string   `json:"customKeyIdentifier"`
	DisplayName         string    `json:"displayName"`
	EndDateTime         time.Time `json:"endDateTime"`
	Hint                string    `json:"hint"`
	KeyID               string    `json:"keyId"`
	SecretText          *string   `json:"secretText"`
	StartDateTime       time.Time `json:"startDateTime"`
}

var audienceNames = map[string]string{
	"AzureADMyOrg": "single", "AzureADMultipleOrgs": "multi",
	"AzureADandPersonalMicrosoftAccount": "multi-personal", "PersonalMicrosoftAccount": "personal",
}

func audienceName(a string) string {
	for k, v := range audienceNames {
		if v == a {
			return k
		}
	}
	return "AzureADMyOrg"
}

// createApplication is POST /applications (Graph "Create application", microsoft-identity.md
// §9): displayName is required, signInAudience defaults to AzureADMyOrg, passwordCredentials
// may not be given (use addPassword). Delegated AppRegistration.Create or
// Application.ReadWrite.All; users need "Users can register applications" or an admin role.
func (s *Sim) createApplication(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.graphCaller(w, r, "Application.ReadWrite.All", "AppRegistration.Create", "Application.ReadWrite.OwnedBy")
	if !ok {
		return
	}
	if !c.admin() && s.graph.noUserApps[strings.ToLower(c.tenant.ID)] {
		graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", insufficientPrivileges)
		return
	}
	var body struct {
		DisplayName            string               `json:"displayName"`
		SignInAudience         string               `json:"signInAudience"`
		Web                    *redirectsJSON       `json:"web"`
		PublicClient           *redirectsJSON       `json:"publicClient"`
		SPA                    *redirectsJSON       `json:"spa"`
		IsFallbackPublicClient *bool                `json:"isFallbackPublicClient"`
		RequiredResourceAccess []requiredAccessJSON `json:"requiredResourceAccess"`
		PasswordCredentials    json.RawMessage      `json:"passwordCredentials"`
	}
	if !readBody(w, r, &body) {
		return
	}
	if pc := strings.TrimSpace(string(body.PasswordCredentials)); pc != "" && pc != "null" && pc != "[]" {
		// "Adding passwordCredential when creating applications is not supported."
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Adding passwordCredentials when creating applications is not supported. Use the addPassword method to add passwords or secrets for an application.")
		return
	}
	if strings.TrimSpace(body.DisplayName) == "" {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'.")
		return
	}
	aud := "single"
	if body.SignInAudience != "" {
		var known bool
		if aud, known = audienceNames[body.SignInAudience]; !known {
			graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource 'Application'.")
			return
		}
	}
	uris := func(p *redirectsJSON) []string {
		if p == nil {
			return nil
		}
		return append([]string(nil), p.RedirectURIs...)
	}
	a := App{ClientID: guid(), TenantID: c.tenant.ID, Name: body.DisplayName, Audience: aud,
		RedirectURIs: uris(body.Web), PublicRedirectURIs: uris(body.PublicClient), SPARedirectURIs: uris(body.SPA),
		PublicClient: body.IsFallbackPublicClient != nil && *body.IsFallbackPublicClient}
	for _, list := range [][]string{a.RedirectURIs, a.PublicRedirectURIs, a.SPARedirectURIs} {
		for _, u := range list {
			if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
				graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'redirectUris' of resource 'Application'.")
				return
			}
		}
	}
	for _, ra := range body.RequiredResourceAccess {
		for _, x := range ra.ResourceAccess {
			if x.Type != "Scope" && x.Type != "Role" {
				graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'resourceAccess' of resource 'Application'.")
				return
			}
		}
	}
	ga := &graphApp{objectID: guid(), appID: a.ClientID, tenantID: c.tenant.ID, required: body.RequiredResourceAccess,
		secretNames: map[string]string{}, secretStarts: map[string]time.Time{}}
	if !c.grant.appOnly {
		// The signed-in user who creates an app becomes its owner, as in the portal
		// (microsoft-identity.md §9: users "manage all aspects of applications they create").
		ga.owners = []string{c.user.ID}
	}
	s.apps[strings.ToLower(a.ClientID)] = &a
	s.graph.apps[strings.ToLower(ga.objectID)] = ga
	if d := s.graph.propagation; d > 0 {
		s.graph.appVisibleAt[strings.ToLower(a.ClientID)] = time.Now().Add(d)
	}
	writeJSON(w, http.StatusCreated, s.applicationJSON(r, &a, ga))
}

func (s *Sim) applicationJSON(r *http.Request, a *App, ga *graphApp) map[string]any {
	creds := []passwordJSON{}
	for _, sec := range a.Secrets {
		hint := sec.Value
		if len(hint) > 3 {
			hint = hint[:3]
		}
		creds = append(creds, passwordJSON{DisplayName: ga.secretNames[sec.ID], EndDateTime: sec.Expires.UTC(),
			Hint: hint, KeyID: sec.ID, StartDateTime: ga.secretStarts[sec.ID].UTC()})
	}
	req := ga.required
	if req == nil {
		req = []requiredAccessJSON{}
	}
	orEmpty := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return map[string]any{
		"@odata.context":         baseURL(r) + "/v1.0/$metadata#applications/$entity",
		"id":                     ga.objectID,
		"appId":                  a.ClientID,
		"displayName":            a.Name,
		"signInAudience":         audienceName(a.Audience),
		"isFallbackPublicClient": a.PublicClient,
		"web":                    map[string]any{"redirectUris": orEmpty(a.RedirectURIs)},
		"publicClient":           map[string]any{"redirectUris": orEmpty(a.PublicRedirectURIs)},
		"spa":                    map[string]any{"redirectUris": orEmpty(a.SPARedirectURIs)},
		"requiredResourceAccess": req,
		"passwordCredentials":    creds,
	}
}

// appInTenant finds an application by object ID in the caller's directory. An app ID is not an
// object ID, so it is not found (Graph: 404 Request_ResourceNotFound). Callers hold s.mu.
// adminCaller is the caller of a Graph call only administrators may make (grants, role
// assignments): Graph answers anyone else 403 Authorization_RequestDenied. Callers hold s.mu.
func (s *Sim) adminCaller(w http.ResponseWriter, r *http.Request, perms ...string) (*caller, bool) {
	c, ok := s.graphCaller(w, r, perms...)
	if !ok {
		return nil, false
	}
	if !c.admin() {
		graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", insufficientPrivileges)
		return nil, false
	}
	return c, true
}

// managedApp finds the application {id} names for a Graph call that changes it: the caller
// needs one of perms and must own the app or be an administrator, as Graph requires;
// otherwise the answer has been written and ok is false. Callers hold s.mu.
func (s *Sim) managedApp(w http.ResponseWriter, r *http.Request, perms ...string) (*App, *graphApp, *caller, bool) {
	c, ok := s.graphCaller(w, r, perms...)
	if !ok {
		return nil, nil, nil, false
	}
	id := r.PathValue("id")
	a, ga := s.appInTenant(c, id)
	if ga == nil {
		notFound(w, r, id)
		return nil, nil, nil, false
	}
	if !c.mayManage(ga) {
		graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", insufficientPrivileges)
		return nil, nil, nil, false
	}
	return a, ga, c, true
}

func (s *Sim) appInTenant(c *caller, objectID string) (*App, *graphApp) {
	ga := s.graph.apps[strings.ToLower(objectID)]
	if ga == nil || !strings.EqualFold(ga.tenantID, c.tenant.ID) {
		return nil, nil
	}
	a := s.apps[strings.ToLower(ga.appID)]
	if a == nil {
		return nil, nil
	}
	return a, ga
}

// mayManage: owners and administrators manage an app (microsoft-identity.md §9). Callers
// hold s.mu.
func (c *caller) mayManage(ga *graphApp) bool {
	return c.admin() || slices.ContainsFunc(ga.owners, func(o string) bool { return strings.EqualFold(o, c.user.ID) })
}

// keyArg parses Graph's alternate key segment, e.g. applications(appId='…').
func keyArg(seg, collection string) (string, bool) {
	seg, _ = url.PathUnescape(seg)
	prefix := strings.ToLower(collection + "(appId='")
	if !strings.HasPrefix(strings.ToLower(seg), prefix) || !strings.HasSuffix(seg, "')") {
		return "", false
	}
	return seg[len(prefix) : len(seg)-2], true
}

// getByKey serves GET /applications(appId='…') and GET /servicePrincipals(appId='…') (Graph
// "Get application" / "Get servicePrincipal", alternate key appId).
func (s *Sim) getByKey(w http.ResponseWriter, r *http.Request) {
	seg := strings.TrimPrefix(r.URL.Path, "/v1.0/")
	if appID, ok := keyArg(seg, "applications"); ok {
		s.getApplication(w, r, appID)
		return
	}
	if appID, ok := keyArg(seg, "servicePrincipals"); ok {
		s.getServicePrincipal(w, r, appID)
		return
	}
	graphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg))
}

func (s *Sim) getApplication(w http.ResponseWriter, r *http.Request, appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.graphCaller(w, r, "Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All")
	if !ok {
		return
	}
	for _, ga := range s.graph.apps {
		if strings.EqualFold(ga.appID, appID) && strings.EqualFold(ga.tenantID, c.tenant.ID) {
			if a := s.apps[strings.ToLower(ga.appID)]; a != nil {
				writeJSON(w, http.StatusOK, s.applicationJSON(r, a, ga))
				return
			}
		}
	}
	notFound(w, r, "applications(appId='"+appID+"')")
}

// spObjectID is the object ID of the app's service principal in the tenant, or "" when it has
// none. Microsoft Graph's own service principal is in every tenant. Callers hold s.mu.
func (s *Sim) spObjectID(t *tenant, appID string) string {
	if !strings.EqualFold(appID, GraphAppID) && !t.servicePrincipals[strings.ToLower(appID)] {
		return ""
	}
	k := strings.ToLower(t.ID + "|" + appID)
	if id := s.graph.spIDs[k]; id != "" {
		return id
	}
	id := guid()
	s.graph.spIDs[k] = id
	return id
}

// spByObjectID finds a service principal in the tenant by object ID: its app ID, or "".
// Callers hold s.mu.
func (s *Sim) spByObjectID(t *tenant, objectID string) string {
	s.spObjectID(t, GraphAppID)
	for k, id := range s.graph.spIDs {
		tenantID, appID, _ := strings.Cut(k, "|")
		if strings.EqualFold(id, objectID) && tenantID == strings.ToLower(t.ID) && s.spObjectID(t, appID) != "" {
			return appID
		}
	}
	return ""
}

func (s *Sim) servicePrincipalJSON(r *http.Request, t *tenant, appID string) map[string]any {
	name, owner := "", ""
	if a := s.apps[strings.ToLower(appID)]; a != nil {
		name, owner = a.Name, a.TenantID
	}
	out := map[string]any{
		"@odata.context":         baseURL(r) + "/v1.0/$metadata#servicePrincipals/$entity",
		"id":                     s.spObjectID(t, appID),
		"appId":                  appID,
		"displayName":            name,
		"appOwnerOrganizationId": owner,
		"servicePrincipalType":   "Application",
	}
	if strings.EqualFold(appID, GraphAppID) {
		out["displayName"] = "Microsoft Graph"
		roles := []map[string]any{}
		for id, v := range graphRoleIDs {
			roles = append(roles, map[string]any{"id": id, "value": v, "isEnabled": true, "allowedMemberTypes": []string{"Application"}})
		}
		slices.SortFunc(roles, func(a, b map[string]any) int { return strings.Compare(a["value"].(string), b["value"].(string)) })
		out["appRoles"] = roles
	}
	return out
}

func (s *Sim) getServicePrincipal(w http.ResponseWriter, r *http.Request, appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.graphCaller(w, r, "Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All")
	if !ok {
		return
	}
	if s.spObjectID(c.tenant, appID) == "" {
		notFound(w, r, "servicePrincipals(appId='"+appID+"')")
		return
	}
	writeJSON(w, http.StatusOK, s.servicePrincipalJSON(r, c.tenant, appID))
}

// createServicePrincipal is POST /servicePrincipals {appId} (Graph "Create servicePrincipal").
// A second one for the same app answers 409 Request_MultipleObjectsWithSameKeyValue (wording
// as captured in Azure/reliable-web-app-pattern-java#185).
func (s *Sim) createServicePrincipal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.graphCaller(w, r, "Application.ReadWrite.All")
	if !ok {
		return
	}
	var body struct {
		AppID string `json:"appId"`
	}
	if !readBody(w, r, &body) {
		return
	}
	a := s.apps[strings.ToLower(body.AppID)]
	if a == nil || a.Audience == "personal" ||
		((a.Audience == "" || a.Audience == "single") && !strings.EqualFold(a.TenantID, c.tenant.ID)) {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest",
			fmt.Sprintf("The appId '%s' of the service principal does not reference a valid application object.", body.AppID))
		return
	}
	owned := false
	for _, ga := range s.graph.apps {
		if strings.EqualFold(ga.appID, a.ClientID) && strings.EqualFold(ga.tenantID, c.tenant.ID) && c.mayManage(ga) {
			owned = true
		}
	}
	if !owned && !c.admin() {
		graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", insufficientPrivileges)
		return
	}
	if s.spObjectID(c.tenant, a.ClientID) != "" {
		graphError(w, r, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue",
			fmt.Sprintf("The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", a.ClientID))
		return
	}
	c.tenant.servicePrincipals[strings.ToLower(a.ClientID)] = true
	writeJSON(w, http.StatusCreated, s.servicePrincipalJSON(r, c.tenant, a.ClientID))
}

// addOwner is POST /applications/{id}/owners/$ref with {"@odata.id": ".../directoryObjects/{id}"}
// (Graph "Add owner"); an existing owner answers 400 "already exist".
func (s *Sim) addOwner(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ga, _, ok := s.managedApp(w, r, "Application.ReadWrite.All")
	if !ok {
		return
	}
	var body struct {
		Ref string `json:"@odata.id"`
	}
	if !readBody(w, r, &body) {
		return
	}
	userID := body.Ref[strings.LastIndex(body.Ref, "/")+1:]
	if !slices.ContainsFunc(s.users, func(u User) bool { return strings.EqualFold(u.ID, userID) }) || userID == "" {
		notFound(w, r, userID)
		return
	}
	if slices.ContainsFunc(ga.owners, func(o string) bool { return strings.EqualFold(o, userID) }) {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'owners'.")
		return
	}
	ga.owners = append(ga.owners, userID)
	w.WriteHeader(http.StatusNoContent)
}

// secretAlphabet is the character set of today's client secrets (microsoft-identity.md §6).
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"

// newSecretText makes a secret in today's 40-character format: three characters, "8Q~", 34 more.
func newSecretText() string {
	raw := []byte(randomToken("", 48))
	var b strings.Builder
	for i := 0; i < 37; i++ {
		if i == 3 {
			b.WriteString("8Q~")
		}
		b.WriteByte(secretAlphabet[int(raw[i])%len(secretAlphabet)])
	}
	return b.String()
}

// addPassword is POST /applications/{id}/addPassword (Graph "application: addPassword",
// microsoft-identity.md §6 and §9): endDateTime defaults to start + 2 years, the answer carries
// secretText once, hint is its first three characters. A tenant app management policy refuses
// with CredentialTypeNotAllowedAsPerAppPolicy (secrets blocked) or
// CredentialInvalidLifetimeAsPerAppPolicy (too long), as captured in
// OfficeDev/microsoft-365-agents-toolkit#10998 and Azure/azure-cli#28522.
func (s *Sim) addPassword(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ga, c, ok := s.managedApp(w, r, "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
	if !ok {
		return
	}
	var body struct {
		PasswordCredential struct {
			DisplayName   string     `json:"displayName"`
			StartDateTime *time.Time `json:"startDateTime"`
			EndDateTime   *time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if !readBody(w, r, &body) {
		return
	}
	start := time.Now().UTC().Truncate(time.Second)
	if p := body.PasswordCredential.StartDateTime; p != nil {
		start = p.UTC()
	}
	end := start.AddDate(2, 0, 0)
	if p := body.PasswordCredential.EndDateTime; p != nil {
		end = p.UTC()
	}
	if !end.After(start) {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Key credential end date is invalid.")
		return
	}
	if p := s.graph.policies[strings.ToLower(c.tenant.ID)]; p != nil {
		switch {
		case p.ForbidSecrets:
			// The code is Microsoft's; the sentence is worded after the lifetime error's.
			msg := fmt.Sprintf("Credential type not allowed as per assigned policy '%s'.", p.id)
			graphErrorDetails(w, r, http.StatusBadRequest, "CredentialTypeNotAllowedAsPerAppPolicy", msg, "CredentialTypeNotAllowed", "PasswordCredentials")
			return
		case p.MaxSecretLifetime > 0 && end.Sub(start) > p.MaxSecretLifetime:
			msg := fmt.Sprintf("Credential lifetime exceeds the max value allowed as per assigned policy '%s'.", p.id)
			graphErrorDetails(w, r, http.StatusBadRequest, "CredentialInvalidLifetimeAsPerAppPolicy", msg, "InvalidKeyEndDate", "EndDate")
			return
		}
	}
	text := newSecretText()
	keyID := guid()
	a.Secrets = append(a.Secrets, Secret{ID: keyID, Value: text, Expires: end})
	ga.secretNames[keyID] = body.PasswordCredential.DisplayName
	ga.secretStarts[keyID] = start
	if d := s.graph.propagation; d > 0 {
		s.graph.secretActiveAt[keyID] = time.Now().Add(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":      baseURL(r) + "/v1.0/$metadata#microsoft.graph.passwordCredential",
		"customKeyIdentifier": nil,
		"displayName":         body.PasswordCredential.DisplayName,
		"endDateTime":         end,
		"hint":                text[:3],
		"keyId":               keyID,
		"secretText":          text,
		"startDateTime":       start,
	})
}

// removePassword is POST /applications/{id}/removePassword {keyId} (Graph "application:
// removePassword"): 204, and the secret stops working at once.
func (s *Sim) removePassword(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, _, ok := s.managedApp(w, r, "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
	if !ok {
		return
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if !readBody(w, r, &body) {
		return
	}
	i := slices.IndexFunc(a.Secrets, func(sec Secret) bool { return strings.EqualFold(sec.ID, body.KeyID) })
	if i < 0 {
		// Graph refuses an unknown key ID; this wording is the simulator's own.
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("No password credential with keyId '%s' exists on the application.", body.KeyID))
		return
	}
	a.Secrets = slices.Delete(a.Secrets, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

// createPermissionGrant is POST /oauth2PermissionGrants (Graph "Create oauth2PermissionGrant",
// as CLI for Microsoft 365 uses it, microsoft-identity.md §9): clientId and resourceId are
// service principal object IDs, consentType AllPrincipals grants for every user. Only
// administrators may grant; a second grant for the same pair answers 409.
func (s *Sim) createPermissionGrant(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.adminCaller(w, r, "DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All")
	if !ok {
		return
	}
	var body struct {
		ClientID    string  `json:"clientId"`
		ConsentType string  `json:"consentType"`
		PrincipalID *string `json:"principalId"`
		ResourceID  string  `json:"resourceId"`
		Scope       string  `json:"scope"`
	}
	if !readBody(w, r, &body) {
		return
	}
	principal := ""
	switch body.ConsentType {
	case "AllPrincipals":
	case "Principal":
		if body.PrincipalID != nil {
			principal = *body.PrincipalID
		}
		if principal == "" {
			graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'principalId' of resource 'OAuth2PermissionGrant'.")
			return
		}
	default:
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'.")
		return
	}
	clientApp := s.spByObjectID(c.tenant, body.ClientID)
	if clientApp == "" {
		notFound(w, r, body.ClientID)
		return
	}
	if !strings.EqualFold(s.spByObjectID(c.tenant, body.ResourceID), GraphAppID) {
		notFound(w, r, body.ResourceID)
		return
	}
	k := strings.ToLower(c.tenant.ID)
	for _, g := range s.graph.grants[k] {
		if strings.EqualFold(g.clientAppID, clientApp) && strings.EqualFold(g.principal, principal) {
			graphError(w, r, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
			return
		}
	}
	g := &permissionGrant{id: randomToken("", 24), clientAppID: clientApp, principal: principal, scopes: strings.Fields(body.Scope)}
	s.graph.grants[k] = append(s.graph.grants[k], g)
	var pid any
	if principal != "" {
		pid = principal
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"@odata.context": baseURL(r) + "/v1.0/$metadata#oauth2PermissionGrants/$entity",
		"id":             g.id, "clientId": body.ClientID, "consentType": body.ConsentType,
		"principalId": pid, "resourceId": body.ResourceID, "scope": strings.Join(g.scopes, " "),
	})
}

func (s *Sim) grantJSON(t *tenant, g *permissionGrant) map[string]any {
	var pid any
	consent := "AllPrincipals"
	if g.principal != "" {
		pid, consent = g.principal, "Principal"
	}
	return map[string]any{"id": g.id, "clientId": s.spObjectID(t, g.clientAppID), "consentType": consent,
		"principalId": pid, "resourceId": s.spObjectID(t, GraphAppID), "scope": strings.Join(g.scopes, " ")}
}

var filterEq = regexp.MustCompile(`(?i)\b(clientId|resourceId)\s+eq\s+'([^']*)'`)

// listPermissionGrants is GET /oauth2PermissionGrants with an optional $filter on clientId and
// resourceId (Graph "List oauth2PermissionGrants").
func (s *Sim) listPermissionGrants(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.graphCaller(w, r, "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
	if !ok {
		return
	}
	want := map[string]string{}
	for _, m := range filterEq.FindAllStringSubmatch(r.URL.Query().Get("$filter"), -1) {
		want[strings.ToLower(m[1])] = m[2]
	}
	out := []map[string]any{}
	for _, g := range s.graph.grants[strings.ToLower(c.tenant.ID)] {
		j := s.grantJSON(c.tenant, g)
		if id, ok := want["clientid"]; ok && !strings.EqualFold(j["clientId"].(string), id) {
			continue
		}
		if id, ok := want["resourceid"]; ok && !strings.EqualFold(j["resourceId"].(string), id) {
			continue
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": baseURL(r) + "/v1.0/$metadata#oauth2PermissionGrants", "value": out})
}

// updatePermissionGrant is PATCH /oauth2PermissionGrants/{id} {scope} (Graph "Update a
// delegated permission grant"): the scope list is replaced. Administrators only.
func (s *Sim) updatePermissionGrant(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.adminCaller(w, r, "DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All")
	if !ok {
		return
	}
	id := r.PathValue("id")
	var g *permissionGrant
	for _, x := range s.graph.grants[strings.ToLower(c.tenant.ID)] {
		if x.id == id {
			g = x
		}
	}
	if g == nil {
		notFound(w, r, id)
		return
	}
	var body struct {
		Scope string `json:"scope"`
	}
	if !readBody(w, r, &body) {
		return
	}
	g.scopes = strings.Fields(body.Scope)
	w.WriteHeader(http.StatusNoContent)
}

// assignAppRole is POST /servicePrincipals/{id}/appRoleAssignedTo (Graph "Grant an
// appRoleAssignment for a service principal"): {id} and resourceId are the resource's service
// principal, principalId the client's. Only administrators may assign; the role then appears in
// the client's app-only tokens.
func (s *Sim) assignAppRole(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.adminCaller(w, r, "AppRoleAssignment.ReadWrite.All")
	if !ok {
		return
	}
	id := r.PathValue("id")
	if !strings.EqualFold(s.spByObjectID(c.tenant, id), GraphAppID) {
		notFound(w, r, id)
		return
	}
	var body struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if !readBody(w, r, &body) {
		return
	}
	if !strings.EqualFold(body.ResourceID, id) {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.")
		return
	}
	clientApp := s.spByObjectID(c.tenant, body.PrincipalID)
	a := s.apps[strings.ToLower(clientApp)]
	if clientApp == "" || a == nil {
		notFound(w, r, body.PrincipalID)
		return
	}
	role, known := graphRoleIDs[strings.ToLower(body.AppRoleID)]
	if !known {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Permission being assigned was not found on application '%s'.", GraphAppID))
		return
	}
	k := strings.ToLower(c.tenant.ID + "|" + clientApp + "|" + body.AppRoleID)
	if s.graph.roleAssigned[k] {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned already exists on the object")
		return
	}
	s.graph.roleAssigned[k] = true
	if !containsScope(a.ApplicationPermissions, role) {
		a.ApplicationPermissions = append(a.ApplicationPermissions, role)
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"@odata.context": baseURL(r) + "/v1.0/$metadata#servicePrincipals('" + id + "')/appRoleAssignedTo/$entity",
		"id":             randomToken("", 24), "appRoleId": strings.ToLower(body.AppRoleID),
		"principalId": body.PrincipalID, "principalType": "ServicePrincipal", "principalDisplayName": a.Name,
		"resourceId": id, "resourceDisplayName": "Microsoft Graph",
	})
}

// graphErrorDetails is graphError with Graph's details list, as the app management policy
// errors carry it.
func graphErrorDetails(w http.ResponseWriter, r *http.Request, status int, code, msg, detailCode, target string) {
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = guid()
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"details": []map[string]string{{"code": detailCode, "message": msg, "target": target}},
		"innerError": map[string]string{
			"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": guid(), "client-request-id": crid,
		},
	}})
}

package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/m365creds/m365creds/internal/sanitize"
)

// The Microsoft Graph calls that register an app without the portal (microsoft-identity.md §9).
// Each takes an access token for Microsoft Graph that the caller got by signing in, and talks to
// the cloud's Graph host.

// GraphAppID is Microsoft Graph's application ID: the resourceAppId of its permissions.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// Sign-in audiences of an application (Graph signInAudience).
const (
	AudienceMyOrg            = "AzureADMyOrg"
	AudienceMultipleOrgs     = "AzureADMultipleOrgs"
	AudienceOrgsAndPersonal  = "AzureADandPersonalMicrosoftAccount"
	AudiencePersonalAccounts = "PersonalMicrosoftAccount"
)

// AppSpec is what an application is created with.
type AppSpec struct {
	DisplayName string
	// SignInAudience is one of the Audience constants; empty means AzureADMyOrg.
	SignInAudience                                       string
	WebRedirectURIs, PublicRedirectURIs, SPARedirectURIs []string
	PublicClient                                         bool // "Allow public client flows" (isFallbackPublicClient)
	RequiredAccess                                       []ResourceAccess
}

// ResourceAccess is the permissions requested of one API (requiredResourceAccess), by ID.
type ResourceAccess struct {
	ResourceAppID string
	Scopes, Roles []string // delegated permission IDs and app role IDs (GUIDs)
}

// Application is an app registration as Graph returns it.
type Application struct {
	ObjectID, AppID, DisplayName string
	// Passwords are the app's client secrets without their values (Graph never returns them
	// again): key ID, hint (first three characters) and end date, for rotation.
	Passwords []Password
}

// ServicePrincipal is an app's enterprise application in a tenant.
type ServicePrincipal struct{ ObjectID, AppID string }

// Password is a client secret. SecretText is set only in AddPassword's answer.
type Password struct {
	KeyID, SecretText, Hint, DisplayName string
	End                                  time.Time
}

// Graph operations, as GraphError.Op names them.
//
//nolint:gosec // descriptions of operations, not credentials
const (
	OpCreateApplication      = "create the application"
	OpGetApplication         = "read the application"
	OpCreateServicePrincipal = "create the service principal"
	OpGetServicePrincipal    = "read the service principal"
	OpAddOwner               = "add an owner"
	OpAddPassword            = "add a client secret"
	OpRemovePassword         = "remove a client secret"
	OpGrantDelegated         = "grant admin consent for delegated permissions"
	OpAssignAppRole          = "grant an application permission"
)

// Errors a Graph call can be tested for with errors.Is.
var (
	// ErrRegistrationDenied: the signed-in user may not register applications in the tenant.
	ErrRegistrationDenied = errors.New("the account may not register applications in this tenant")
	// ErrAdminRequired: granting consent or application permissions needs an administrator.
	ErrAdminRequired = errors.New("an administrator is needed for this")
	// ErrSecretsForbidden: the tenant's app management policy blocks client secrets.
	ErrSecretsForbidden = errors.New("the tenant's policy does not allow client secrets")
	// ErrSecretLifetime: the secret's lifetime is longer than the tenant's policy allows.
	ErrSecretLifetime = errors.New("the secret's lifetime is longer than the tenant's policy allows")
	// ErrGraphNotFound: the object does not exist (or is not visible) in the tenant.
	ErrGraphNotFound = errors.New("not found in the directory")
	// ErrGraphConflict: the object exists already.
	ErrGraphConflict = errors.New("already exists in the directory")
)

// Is maps Graph's codes to the errors above. Authorization_RequestDenied means "no right to
// register apps" on create and "needs an administrator" on consent and role grants.
func (e *GraphError) Is(target error) bool {
	denied := e.Code == "Authorization_RequestDenied" || (e.Code == "" && e.Status == http.StatusForbidden)
	switch target {
	case ErrRegistrationDenied:
		return denied && e.Op == OpCreateApplication
	case ErrAdminRequired:
		return denied && (e.Op == OpGrantDelegated || e.Op == OpAssignAppRole)
	case ErrSecretsForbidden:
		return e.Code == "CredentialTypeNotAllowedAsPerAppPolicy"
	case ErrSecretLifetime:
		return e.Code == "CredentialInvalidLifetimeAsPerAppPolicy"
	case ErrGraphNotFound:
		return e.Code == "Request_ResourceNotFound" || e.Status == http.StatusNotFound
	case ErrGraphConflict:
		return e.Code == "Request_MultipleObjectsWithSameKeyValue" || e.Status == http.StatusConflict
	}
	return false
}

func (c *Client) graphURL(path string) string { return c.hosts.Graph + "/v1.0" + path }

// graphCall sends one Graph request with a JSON body (in may be nil) and decodes a 2xx answer
// into out (may be nil). The token is masked in any error text, and so are secrets.
func (c *Client) graphCall(ctx context.Context, op, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.graphURL(path), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	host := req.URL.Host
	resp, err := c.hc.Do(req)
	if err != nil {
		return convertErr("graph", host, err, token)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return convertErr("graph", host, err, token)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeGraphError(op, resp.StatusCode, raw, token)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &ResponseError{Endpoint: "graph", Status: resp.StatusCode, Reason: "the answer is not valid JSON"}
	}
	return nil
}

// decodeGraphError reads Graph's error shape: {"error":{"code","message","details":[{"code"}],
// "innerError":{"request-id"}}}.
func decodeGraphError(op string, status int, body []byte, secrets ...string) error {
	var gb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details []struct {
				Code string `json:"code"`
			} `json:"details"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &gb) != nil && status >= 500 {
		return &ResponseError{Endpoint: "graph", Status: status, Reason: "an error page"}
	}
	e := &GraphError{Status: status, Op: op, Code: sanitize.Line(gb.Error.Code, maxCodeLen),
		Message:   sanitize.Line(redact(gb.Error.Message, secrets), maxDescriptionLen),
		RequestID: sanitize.Line(gb.Error.InnerError.RequestID, maxCodeLen)}
	for _, d := range gb.Error.Details {
		if code := sanitize.Line(d.Code, maxCodeLen); code != "" {
			e.Details = append(e.Details, code)
		}
	}
	return e
}

// checkID refuses IDs that are not GUIDs before they are put into a Graph address.
func checkID(what, id string) error {
	if !isGUID(strings.TrimSpace(id)) {
		return fmt.Errorf("%s %q is not a GUID", what, sanitize.Line(id, 60))
	}
	return nil
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
	DisplayName string    `json:"displayName"`
	EndDateTime time.Time `json:"endDateTime"`
	Hint        string    `json:"hint"`
	KeyID       string    `json:"keyId"`
	SecretText  string    `json:"secretText"`
}

func (p passwordJSON) password() Password {
	return Password{KeyID: sanitize.Line(p.KeyID, maxCodeLen), SecretText: p.SecretText,
		Hint: sanitize.Line(p.Hint, 10), DisplayName: sanitize.Line(p.DisplayName, maxUserFieldLen), End: p.EndDateTime}
}

type applicationJSON struct {
	ID                  string         `json:"id"`
	AppID               string         `json:"appId"`
	DisplayName         string         `json:"displayName"`
	PasswordCredentials []passwordJSON `json:"passwordCredentials"`
}

func (a applicationJSON) application() *Application {
	out := &Application{ObjectID: sanitize.Line(a.ID, maxCodeLen), AppID: sanitize.Line(a.AppID, maxCodeLen),
		DisplayName: sanitize.Line(a.DisplayName, maxUserFieldLen)}
	for _, p := range a.PasswordCredentials {
		pw := p.password()
		pw.SecretText = ""
		out.Passwords = append(out.Passwords, pw)
	}
	return out
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// CreateApplication registers an application: POST /applications.
func (c *Client) CreateApplication(ctx context.Context, graphToken string, spec AppSpec) (*Application, error) {
	if strings.TrimSpace(spec.DisplayName) == "" {
		return nil, errors.New("the application needs a name")
	}
	aud := spec.SignInAudience
	if aud == "" {
		aud = AudienceMyOrg
	}
	body := map[string]any{
		"displayName":            spec.DisplayName,
		"signInAudience":         aud,
		"isFallbackPublicClient": spec.PublicClient,
		"web":                    redirectsJSON{RedirectURIs: nonNil(spec.WebRedirectURIs)},
		"publicClient":           redirectsJSON{RedirectURIs: nonNil(spec.PublicRedirectURIs)},
		"spa":                    redirectsJSON{RedirectURIs: nonNil(spec.SPARedirectURIs)},
	}
	required := []requiredAccessJSON{}
	for _, ra := range spec.RequiredAccess {
		r := requiredAccessJSON{ResourceAppID: ra.ResourceAppID, ResourceAccess: []resourceAccessJSON{}}
		for _, id := range ra.Scopes {
			r.ResourceAccess = append(r.ResourceAccess, resourceAccessJSON{ID: id, Type: "Scope"})
		}
		for _, id := range ra.Roles {
			r.ResourceAccess = append(r.ResourceAccess, resourceAccessJSON{ID: id, Type: "Role"})
		}
		required = append(required, r)
	}
	body["requiredResourceAccess"] = required
	var out applicationJSON
	if err := c.graphCall(ctx, OpCreateApplication, http.MethodPost, "/applications", graphToken, body, &out); err != nil {
		return nil, err
	}
	return out.application(), nil
}

// ApplicationByAppID reads an application by its application (client) ID:
// GET /applications(appId='…').
func (c *Client) ApplicationByAppID(ctx context.Context, graphToken, appID string) (*Application, error) {
	if err := checkID("application ID", appID); err != nil {
		return nil, err
	}
	var out applicationJSON
	path := "/applications(appId='" + strings.TrimSpace(appID) + "')"
	if err := c.graphCall(ctx, OpGetApplication, http.MethodGet, path, graphToken, nil, &out); err != nil {
		return nil, err
	}
	return out.application(), nil
}

type servicePrincipalJSON struct {
	ID    string `json:"id"`
	AppID string `json:"appId"`
}

func (s servicePrincipalJSON) sp() *ServicePrincipal {
	return &ServicePrincipal{ObjectID: sanitize.Line(s.ID, maxCodeLen), AppID: sanitize.Line(s.AppID, maxCodeLen)}
}

// CreateServicePrincipal creates the app's service principal in the signed-in tenant: POST
// /servicePrincipals. If it exists already (Graph answers 409), the existing one is returned.
func (c *Client) CreateServicePrincipal(ctx context.Context, graphToken, appID string) (*ServicePrincipal, error) {
	if err := checkID("application ID", appID); err != nil {
		return nil, err
	}
	var out servicePrincipalJSON
	err := c.graphCall(ctx, OpCreateServicePrincipal, http.MethodPost, "/servicePrincipals", graphToken,
		map[string]string{"appId": strings.TrimSpace(appID)}, &out)
	if errors.Is(err, ErrGraphConflict) {
		return c.ServicePrincipalByAppID(ctx, graphToken, appID)
	}
	if err != nil {
		return nil, err
	}
	return out.sp(), nil
}

// ServicePrincipalByAppID reads an app's service principal in the signed-in tenant:
// GET /servicePrincipals(appId='…'). None there is ErrGraphNotFound.
func (c *Client) ServicePrincipalByAppID(ctx context.Context, graphToken, appID string) (*ServicePrincipal, error) {
	if err := checkID("application ID", appID); err != nil {
		return nil, err
	}
	var out servicePrincipalJSON
	path := "/servicePrincipals(appId='" + strings.TrimSpace(appID) + "')"
	if err := c.graphCall(ctx, OpGetServicePrincipal, http.MethodGet, path, graphToken, nil, &out); err != nil {
		return nil, err
	}
	return out.sp(), nil
}

// alreadyThere reports Graph's 400 for a reference or assignment that exists already.
func alreadyThere(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && ge.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ge.Message), "already exist")
}

// AddOwner makes a user an owner of the application: POST /applications/{id}/owners/$ref.
// appObjectID is the application's object ID, not its app ID. A user who is an owner already
// is not an error.
func (c *Client) AddOwner(ctx context.Context, graphToken, appObjectID, userObjectID string) error {
	if err := checkID("application object ID", appObjectID); err != nil {
		return err
	}
	if err := checkID("user object ID", userObjectID); err != nil {
		return err
	}
	ref := map[string]string{"@odata.id": c.graphURL("/directoryObjects/" + strings.TrimSpace(userObjectID))}
	err := c.graphCall(ctx, OpAddOwner, http.MethodPost, "/applications/"+strings.TrimSpace(appObjectID)+"/owners/$ref", graphToken, ref, nil)
	if alreadyThere(err) {
		return nil
	}
	return err
}

// AddPassword adds a client secret ending at end (zero: Graph's default, two years):
// POST /applications/{id}/addPassword. The answer's SecretText is the only time Graph shows it.
func (c *Client) AddPassword(ctx context.Context, graphToken, appObjectID, displayName string, end time.Time) (*Password, error) {
	if err := checkID("application object ID", appObjectID); err != nil {
		return nil, err
	}
	cred := map[string]any{"displayName": displayName}
	if !end.IsZero() {
		cred["endDateTime"] = end.UTC().Format(time.RFC3339)
	}
	var out passwordJSON
	err := c.graphCall(ctx, OpAddPassword, http.MethodPost, "/applications/"+strings.TrimSpace(appObjectID)+"/addPassword",
		graphToken, map[string]any{"passwordCredential": cred}, &out)
	if err != nil {
		return nil, err
	}
	if out.SecretText == "" || out.KeyID == "" {
		return nil, &ResponseError{Endpoint: "graph", Status: http.StatusOK, Reason: "the answer has no secret"}
	}
	pw := out.password()
	return &pw, nil
}

// RemovePassword removes a client secret by its key ID: POST /applications/{id}/removePassword.
func (c *Client) RemovePassword(ctx context.Context, graphToken, appObjectID, keyID string) error {
	if err := checkID("application object ID", appObjectID); err != nil {
		return err
	}
	if err := checkID("secret key ID", keyID); err != nil {
		return err
	}
	return c.graphCall(ctx, OpRemovePassword, http.MethodPost, "/applications/"+strings.TrimSpace(appObjectID)+"/removePassword",
		graphToken, map[string]string{"keyId": strings.TrimSpace(keyID)}, nil)
}

// GrantDelegated grants admin consent for delegated permissions (scope names such as
// Mail.Read) for every user of the tenant: POST /oauth2PermissionGrants with consentType
// AllPrincipals. clientSPID and resourceSPID are service principal object IDs. When the pair
// has a grant already (Graph answers 409), the missing scopes are added to it.
func (c *Client) GrantDelegated(ctx context.Context, graphToken, clientSPID, resourceSPID string, scopes []string) error {
	if err := checkID("client service principal ID", clientSPID); err != nil {
		return err
	}
	if err := checkID("resource service principal ID", resourceSPID); err != nil {
		return err
	}
	var names []string
	for _, s := range scopes {
		if n := shortScopeName(s); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return errors.New("no permissions to grant")
	}
	clientSPID, resourceSPID = strings.TrimSpace(clientSPID), strings.TrimSpace(resourceSPID)
	body := map[string]any{"clientId": clientSPID, "consentType": "AllPrincipals", "principalId": nil,
		"resourceId": resourceSPID, "scope": strings.Join(names, " ")}
	err := c.graphCall(ctx, OpGrantDelegated, http.MethodPost, "/oauth2PermissionGrants", graphToken, body, nil)
	if !errors.Is(err, ErrGraphConflict) {
		return err
	}
	return c.widenGrant(ctx, graphToken, clientSPID, resourceSPID, names)
}

// widenGrant adds scopes to the existing AllPrincipals grant of the pair: GET
// /oauth2PermissionGrants?$filter=…, then PATCH its scope.
func (c *Client) widenGrant(ctx context.Context, graphToken, clientSPID, resourceSPID string, names []string) error {
	var list struct {
		Value []struct {
			ID          string `json:"id"`
			ConsentType string `json:"consentType"`
			Scope       string `json:"scope"`
		} `json:"value"`
	}
	filter := url.Values{"$filter": {"clientId eq '" + clientSPID + "' and resourceId eq '" + resourceSPID + "'"}}
	if err := c.graphCall(ctx, OpGrantDelegated, http.MethodGet, "/oauth2PermissionGrants?"+filter.Encode(), graphToken, nil, &list); err != nil {
		return err
	}
	for _, g := range list.Value {
		if g.ConsentType != "AllPrincipals" {
			continue
		}
		scopes := strings.Fields(g.Scope)
		have := map[string]bool{}
		for _, s := range scopes {
			have[strings.ToLower(s)] = true
		}
		missing := false
		for _, n := range names {
			if !have[strings.ToLower(n)] {
				scopes = append(scopes, n)
				have[strings.ToLower(n)] = true
				missing = true
			}
		}
		if !missing {
			return nil
		}
		return c.graphCall(ctx, OpGrantDelegated, http.MethodPatch, "/oauth2PermissionGrants/"+url.PathEscape(g.ID), graphToken,
			map[string]string{"scope": strings.Join(scopes, " ")}, nil)
	}
	return &GraphError{Status: http.StatusConflict, Op: OpGrantDelegated, Code: "Request_MultipleObjectsWithSameKeyValue",
		Message: "A permission grant exists, but not one for all users."}
}

// shortScopeName strips a Graph resource prefix: a grant's scope lists bare permission names.
func shortScopeName(s string) string {
	s = strings.TrimSpace(s)
	l := strings.ToLower(s)
	for _, p := range graphResources {
		if strings.HasPrefix(l, p) {
			return s[len(p):]
		}
	}
	return s
}

// AssignAppRole grants an application permission (app role appRoleID of the resource) to the
// client: POST /servicePrincipals/{resource}/appRoleAssignedTo. An assignment that exists
// already is not an error.
func (c *Client) AssignAppRole(ctx context.Context, graphToken, resourceSPID, clientSPID, appRoleID string) error {
	for _, id := range [][2]string{{"resource service principal ID", resourceSPID}, {"client service principal ID", clientSPID}, {"app role ID", appRoleID}} {
		if err := checkID(id[0], id[1]); err != nil {
			return err
		}
	}
	body := map[string]string{"principalId": strings.TrimSpace(clientSPID), "resourceId": strings.TrimSpace(resourceSPID),
		"appRoleId": strings.TrimSpace(appRoleID)}
	err := c.graphCall(ctx, OpAssignAppRole, http.MethodPost, "/servicePrincipals/"+url.PathEscape(strings.TrimSpace(resourceSPID))+"/appRoleAssignedTo",
		graphToken, body, nil)
	if alreadyThere(err) {
		return nil
	}
	return err
}

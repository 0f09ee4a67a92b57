package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const cliRedirect = "http://localhost:41999/"

// graphWorld has the demo app, Microsoft Graph Command Line Tools, Ada (admin) and Bea (member).
func graphWorld(t *testing.T) *world {
	t.Helper()
	s := New([]App{DemoApp(), GraphCLIApp()}, append(DemoUsers(), DemoMember()))
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &world{s, base}
}

// graphToken signs upn in to Graph Command Line Tools (auth code + PKCE, no secret) in the demo
// tenant and returns the access token.
func (w *world) graphToken(t *testing.T, upn, scope string) string {
	t.Helper()
	code := w.code(t, DemoTenantID, GraphCLIClientID, cliRedirect, scope, url.Values{"login_hint": {upn}})
	st, m := w.tokenReq(t, DemoTenantID, redeemForm(GraphCLIClientID, code, cliRedirect, ""))
	wantOK(t, "bootstrap token", st, m)
	return m["access_token"].(string)
}

const adminScopes = "openid offline_access User.Read Application.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All AppRoleAssignment.ReadWrite.All"

// gcall sends a Graph request and returns the status and the decoded answer (nil for none).
func (w *world) gcall(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.base+"/v1.0"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(b) == 0 {
		return resp.StatusCode, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// graphCode checks Graph's error shape and returns its code.
func graphCode(t *testing.T, m map[string]any) string {
	t.Helper()
	e, _ := m["error"].(map[string]any)
	inner, _ := e["innerError"].(map[string]any)
	if e == nil || str(e["message"]) == "" || inner == nil || str(inner["request-id"]) == "" {
		t.Fatalf("not Graph's error shape: %v", m)
	}
	return str(e["code"])
}

func wantGraphError(t *testing.T, what string, st int, m map[string]any, status int, code string) {
	t.Helper()
	if st != status {
		t.Errorf("%s: HTTP %d, want %d (%v)", what, st, status, m)
		return
	}
	if got := graphCode(t, m); got != code {
		t.Errorf("%s: code %q, want %q", what, got, code)
	}
}

func webAppBody(name string) map[string]any {
	return map[string]any{"displayName": name, "signInAudience": "AzureADMyOrg",
		"web": map[string]any{"redirectUris": []string{DemoRedirectURI}},
		"requiredResourceAccess": []map[string]any{{"resourceAppId": GraphAppID, "resourceAccess": []map[string]string{
			{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}, {"id": "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "type": "Role"}}}}}
}

// newAppWithSP creates an app and its service principal as Ada and returns object ID and app ID.
func (w *world) newAppWithSP(t *testing.T, token string) (string, string) {
	t.Helper()
	st, app := w.gcall(t, "POST", "/applications", token, webAppBody("made by graph"))
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, app)
	}
	st, sp := w.gcall(t, "POST", "/servicePrincipals", token, map[string]string{"appId": str(app["appId"])})
	if st != http.StatusCreated {
		t.Fatalf("service principal: %d %v", st, sp)
	}
	return str(app["id"]), str(app["appId"])
}

func TestGraphCreateApplication(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	ada := w.graphToken(t, DemoUPN, adminScopes)
	body := webAppBody("made by graph")
	body["publicClient"] = map[string]any{"redirectUris": []string{"http://localhost"}}
	body["isFallbackPublicClient"] = true
	st, app := w.gcall(t, "POST", "/myorganization/applications", ada, body)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, app)
	}
	objectID, appID := str(app["id"]), str(app["appId"])
	if !isGUID(objectID) || !isGUID(appID) || objectID == appID {
		t.Fatalf("object ID %q and app ID %q must be two different GUIDs", objectID, appID)
	}
	a, ok := w.App(appID)
	if !ok || a.TenantID != DemoTenantID || a.Audience != "single" || !a.PublicClient ||
		len(a.RedirectURIs) != 1 || len(a.PublicRedirectURIs) != 1 || len(a.SPARedirectURIs) != 0 {
		t.Errorf("registered app = %+v", a)
	}
	st, got := w.gcall(t, "GET", "/applications(appId='"+appID+"')", ada, nil)
	if st != http.StatusOK || str(got["id"]) != objectID || str(got["signInAudience"]) != "AzureADMyOrg" {
		t.Errorf("get by appId: %d %v", st, got)
	}
	st, m := w.gcall(t, "GET", "/applications(appId='"+DemoObjectID+"')", ada, nil)
	wantGraphError(t, "object ID used as app ID", st, m, 404, "Request_ResourceNotFound")

	// The sign-in endpoints know the new app: a sign-in with it works at once without a delay.
	if q, page := w.signIn(t, DemoTenantID, appID, DemoRedirectURI, "openid User.Read", nil); q.Get("code") == "" {
		t.Errorf("sign-in with the new app: %v %s", q, page)
	}

	withSecret := webAppBody("with secret")
	withSecret["passwordCredentials"] = []map[string]string{{"displayName": "x"}}
	st, m = w.gcall(t, "POST", "/applications", ada, withSecret)
	wantGraphError(t, "passwordCredentials on create", st, m, 400, "Request_BadRequest")
	st, m = w.gcall(t, "POST", "/applications", ada, map[string]any{"signInAudience": "AzureADMyOrg"})
	wantGraphError(t, "no displayName", st, m, 400, "Request_BadRequest")
	st, m = w.gcall(t, "POST", "/applications", ada, map[string]any{"displayName": "x", "signInAudience": "Everyone"})
	wantGraphError(t, "bad audience", st, m, 400, "Request_BadRequest")
	st, m = w.gcall(t, "POST", "/applications", "", webAppBody("x"))
	wantGraphError(t, "no token", st, m, 401, "InvalidAuthenticationToken")
	st, m = w.gcall(t, "POST", "/applications", "not-a-token", webAppBody("x"))
	wantGraphError(t, "unknown token", st, m, 401, "InvalidAuthenticationToken")
	userRead := w.graphToken(t, DemoUPN, "openid User.Read")
	st, m = w.gcall(t, "POST", "/applications", userRead, webAppBody("x"))
	wantGraphError(t, "token without Application.ReadWrite.All", st, m, 403, "Authorization_RequestDenied")
}

func TestGraphUsersWhoMayNotRegisterApps(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	// Application.ReadWrite.All needs an administrator's consent; once given, Bea gets a token.
	if q, _ := w.signIn(t, DemoTenantID, GraphCLIClientID, cliRedirect, adminScopes, url.Values{"login_hint": {DemoMemberUPN}}); q.Get("error") == "" {
		t.Fatalf("Bea consented to admin-only scopes by herself: %v", q)
	}
	w.GrantAdminConsentIn(DemoTenantID, GraphCLIClientID)
	bea := w.graphToken(t, DemoMemberUPN, adminScopes)
	st, app := w.gcall(t, "POST", "/applications", bea, webAppBody("bea's"))
	if st != http.StatusCreated {
		t.Fatalf("Entra lets users register apps by default: %d %v", st, app)
	}
	w.SetUsersCanRegisterApps(DemoTenantID, false)
	st, m := w.gcall(t, "POST", "/applications", bea, webAppBody("bea's second"))
	wantGraphError(t, "member with app registration off", st, m, 403, "Authorization_RequestDenied")
	ada := w.graphToken(t, DemoUPN, adminScopes)
	if st, m := w.gcall(t, "POST", "/applications", ada, webAppBody("ada's")); st != http.StatusCreated {
		t.Errorf("an admin may always register apps: %d %v", st, m)
	}

	// Bea owns her first app: she may manage it, but not grant consent for everyone.
	st, sp := w.gcall(t, "POST", "/servicePrincipals", bea, map[string]string{"appId": str(app["appId"])})
	if st != http.StatusCreated {
		t.Fatalf("owner creates the service principal: %d %v", st, sp)
	}
	if st, m := w.gcall(t, "POST", "/applications/"+str(app["id"])+"/addPassword", bea, map[string]any{"passwordCredential": map[string]string{}}); st != 200 {
		t.Errorf("owner adds a secret: %d %v", st, m)
	}
	_, graphSP := w.gcall(t, "GET", "/servicePrincipals(appId='"+GraphAppID+"')", bea, nil)
	st, m = w.gcall(t, "POST", "/oauth2PermissionGrants", bea, map[string]any{"clientId": str(sp["id"]), "consentType": "AllPrincipals",
		"principalId": nil, "resourceId": str(graphSP["id"]), "scope": "User.Read"})
	wantGraphError(t, "member grants admin consent", st, m, 403, "Authorization_RequestDenied")
	st, m = w.gcall(t, "POST", "/servicePrincipals/"+str(graphSP["id"])+"/appRoleAssignedTo", bea, map[string]string{
		"principalId": str(sp["id"]), "resourceId": str(graphSP["id"]), "appRoleId": "810c84a8-4a9e-49e6-bf7d-12d183f40d01"})
	wantGraphError(t, "member assigns an app role", st, m, 403, "Authorization_RequestDenied")
	// Not an owner of Ada's demo app: no secrets for her there.
	st, m = w.gcall(t, "POST", "/applications/"+DemoObjectID+"/addPassword", bea, map[string]any{"passwordCredential": map[string]string{}})
	wantGraphError(t, "non-owner adds a secret", st, m, 403, "Authorization_RequestDenied")
}

func TestGraphOwnersAndServicePrincipals(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	ada := w.graphToken(t, DemoUPN, adminScopes)
	objectID, appID := w.newAppWithSP(t, ada)
	st, m := w.gcall(t, "POST", "/servicePrincipals", ada, map[string]string{"appId": appID})
	wantGraphError(t, "second service principal", st, m, 409, "Request_MultipleObjectsWithSameKeyValue")
	st, m = w.gcall(t, "POST", "/servicePrincipals", ada, map[string]string{"appId": "11111111-2222-4333-8444-555555555555"})
	wantGraphError(t, "service principal of no app", st, m, 400, "Request_BadRequest")
	st, sp := w.gcall(t, "GET", "/servicePrincipals(appId='"+appID+"')", ada, nil)
	if st != 200 || str(sp["appId"]) != appID || str(sp["id"]) == appID {
		t.Errorf("service principal: %d %v", st, sp)
	}
	st, m = w.gcall(t, "GET", "/servicePrincipals(appId='11111111-2222-4333-8444-555555555555')", ada, nil)
	wantGraphError(t, "unknown service principal", st, m, 404, "Request_ResourceNotFound")

	bea := DemoMember()
	ref := map[string]string{"@odata.id": w.base + "/v1.0/directoryObjects/" + bea.ID}
	if st, m := w.gcall(t, "POST", "/applications/"+objectID+"/owners/$ref", ada, ref); st != http.StatusNoContent {
		t.Errorf("add owner: %d %v", st, m)
	}
	st, m = w.gcall(t, "POST", "/applications/"+objectID+"/owners/$ref", ada, ref)
	wantGraphError(t, "owner twice", st, m, 400, "Request_BadRequest")
	adaRef := map[string]string{"@odata.id": w.base + "/v1.0/directoryObjects/" + DemoUsers()[0].ID}
	st, m = w.gcall(t, "POST", "/applications/"+objectID+"/owners/$ref", ada, adaRef)
	wantGraphError(t, "the creator is an owner already", st, m, 400, "Request_BadRequest")
	st, m = w.gcall(t, "POST", "/applications/"+appID+"/owners/$ref", ada, ref)
	wantGraphError(t, "app ID where the object ID belongs", st, m, 404, "Request_ResourceNotFound")
	st, m = w.gcall(t, "POST", "/applications/"+appID+"/addPassword", ada, map[string]any{"passwordCredential": map[string]string{}})
	wantGraphError(t, "addPassword with the app ID", st, m, 404, "Request_ResourceNotFound")
	st, m = w.gcall(t, "POST", "/applications/"+objectID+"/owners/$ref", ada, map[string]string{"@odata.id": w.base + "/v1.0/directoryObjects/nobody"})
	wantGraphError(t, "owner who does not exist", st, m, 404, "Request_ResourceNotFound")
}

func TestGraphSecrets(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	ada := w.graphToken(t, DemoUPN, adminScopes)
	objectID, appID := w.newAppWithSP(t, ada)
	before := time.Now().Add(-time.Second)
	st, pw := w.gcall(t, "POST", "/applications/"+objectID+"/addPassword", ada, map[string]any{"passwordCredential": map[string]string{"displayName": "first"}})
	if st != http.StatusOK {
		t.Fatalf("addPassword: %d %v", st, pw)
	}
	text, keyID := str(pw["secretText"]), str(pw["keyId"])
	if len(text) != 40 || text[3:6] != "8Q~" || str(pw["hint"]) != text[:3] || !isGUID(keyID) {
		t.Errorf("password credential %v", pw)
	}
	end, _ := time.Parse(time.RFC3339, str(pw["endDateTime"]))
	if want := before.AddDate(2, 0, 0); end.Before(want) || end.After(want.Add(time.Minute)) {
		t.Errorf("endDateTime %v, want start + 2 years", end)
	}
	st, m := w.tokenReq(t, DemoTenantID, appOnlyForm(appID, text))
	wantOK(t, "client credentials with the new secret", st, m)

	_, app := w.gcall(t, "GET", "/applications(appId='"+appID+"')", ada, nil)
	b, _ := json.Marshal(app)
	if strings.Contains(string(b), text) || !strings.Contains(string(b), keyID) {
		t.Errorf("the application shows the secret's value or lacks its key ID: %s", b)
	}

	if st, m := w.gcall(t, "POST", "/applications/"+objectID+"/removePassword", ada, map[string]string{"keyId": keyID}); st != http.StatusNoContent {
		t.Fatalf("removePassword: %d %v", st, m)
	}
	st, m = w.tokenReq(t, DemoTenantID, appOnlyForm(appID, text))
	if st != 401 {
		t.Fatalf("removed secret still works: %d %v", st, m)
	}
	wantCode(t, "removed secret", m, 7000215)
	st, m = w.gcall(t, "POST", "/applications/"+objectID+"/removePassword", ada, map[string]string{"keyId": keyID})
	wantGraphError(t, "removePassword twice", st, m, 400, "Request_BadRequest")
}

func TestGraphAppManagementPolicy(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	ada := w.graphToken(t, DemoUPN, adminScopes)
	objectID, _ := w.newAppWithSP(t, ada)
	add := func(end time.Time) (int, map[string]any) {
		cred := map[string]any{"displayName": "x"}
		if !end.IsZero() {
			cred["endDateTime"] = end.UTC().Format(time.RFC3339)
		}
		return w.gcall(t, "POST", "/applications/"+objectID+"/addPassword", ada, map[string]any{"passwordCredential": cred})
	}
	w.SetAppManagementPolicy(DemoTenantID, AppManagementPolicy{MaxSecretLifetime: 180 * 24 * time.Hour})
	for _, end := range []time.Time{{}, time.Now().AddDate(1, 0, 0)} {
		st, m := add(end)
		wantGraphError(t, "secret longer than the policy", st, m, 400, "CredentialInvalidLifetimeAsPerAppPolicy")
		if e, _ := m["error"].(map[string]any); !strings.Contains(str(e["message"]), "max value allowed as per assigned policy") {
			t.Errorf("message %v", e["message"])
		}
		if e, _ := m["error"].(map[string]any); !strings.Contains(mustJSON(e["details"]), "InvalidKeyEndDate") {
			t.Errorf("details %v", e["details"])
		}
	}
	if st, m := add(time.Now().AddDate(0, 3, 0)); st != http.StatusOK {
		t.Errorf("secret within the policy: %d %v", st, m)
	}
	w.SetAppManagementPolicy(DemoTenantID, AppManagementPolicy{ForbidSecrets: true})
	st, m := add(time.Now().AddDate(0, 1, 0))
	wantGraphError(t, "secrets forbidden", st, m, 400, "CredentialTypeNotAllowedAsPerAppPolicy")
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestGraphPropagationDelay: a new app is unknown to sign-in until the delay has passed, and
// a new secret on a known app is refused until it has propagated.
func TestGraphPropagationDelay(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	ada := w.graphToken(t, DemoUPN, adminScopes)
	// Long enough for the requests below to be made inside it on a slow machine.
	const delay = 2 * time.Second
	w.SetPropagationDelay(delay)
	created := time.Now()
	objectID, appID := w.newAppWithSP(t, ada)
	_, pw := w.gcall(t, "POST", "/applications/"+objectID+"/addPassword", ada, map[string]any{"passwordCredential": map[string]string{}})
	secret := str(pw["secretText"])
	st, m := w.tokenReq(t, DemoTenantID, appOnlyForm(appID, secret))
	if st == 200 {
		t.Fatal("a new app worked before it propagated")
	}
	wantCode(t, "new app", m, 700016)
	if q, page := w.signIn(t, DemoTenantID, appID, DemoRedirectURI, "openid User.Read", nil); q.Get("code") != "" || !strings.Contains(page, "AADSTS700016") {
		t.Errorf("sign-in with an app not yet propagated: %v %s", q, page)
	}
	// The app propagates; the secret, added after it, may take a little longer.
	for {
		if st, _ = w.tokenReq(t, DemoTenantID, appOnlyForm(appID, secret)); st == 200 || time.Since(created) > 5*delay {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st != 200 {
		t.Fatalf("still refused %v after the app was created: %d", time.Since(created), st)
	}
	if took := time.Since(created); took < delay {
		t.Errorf("the new app worked after %v, before the %v delay", took, delay)
	}

	// A second secret on a known app: 7000215 until it has propagated, then it works.
	_, pw = w.gcall(t, "POST", "/applications/"+objectID+"/addPassword", ada, map[string]any{"passwordCredential": map[string]string{}})
	st, m = w.tokenReq(t, DemoTenantID, appOnlyForm(appID, str(pw["secretText"])))
	if st == 200 {
		t.Fatal("a new secret worked before it propagated")
	}
	wantCode(t, "new secret", m, 7000215)
	w.Propagate()
	st, m = w.tokenReq(t, DemoTenantID, appOnlyForm(appID, str(pw["secretText"])))
	wantOK(t, "new secret once propagated", st, m)
}

func TestGraphAdminConsent(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	ada := w.graphToken(t, DemoUPN, adminScopes)
	objectID, appID := w.newAppWithSP(t, ada)
	_, sp := w.gcall(t, "GET", "/servicePrincipals(appId='"+appID+"')", ada, nil)
	_, graphSP := w.gcall(t, "GET", "/servicePrincipals(appId='"+GraphAppID+"')", ada, nil)
	clientSP, resourceSP := str(sp["id"]), str(graphSP["id"])
	if !isGUID(resourceSP) || str(graphSP["displayName"]) != "Microsoft Graph" {
		t.Fatalf("Graph's service principal: %v", graphSP)
	}
	_, pw := w.gcall(t, "POST", "/applications/"+objectID+"/addPassword", ada, map[string]any{"passwordCredential": map[string]string{}})
	secret := str(pw["secretText"])

	// Mail.Read is withheld from users on Microsoft's managed policy: Bea is refused until an
	// administrator grants it.
	beaHint := url.Values{"login_hint": {DemoMemberUPN}}
	if q, _ := w.signIn(t, DemoTenantID, appID, DemoRedirectURI, "openid User.Read Mail.Read", beaHint); !strings.Contains(q.Get("error_description"), "AADSTS90094") {
		t.Fatalf("Bea consented to Mail.Read on the managed policy: %v", q)
	}
	grant := map[string]any{"clientId": clientSP, "consentType": "AllPrincipals", "principalId": nil, "resourceId": resourceSP, "scope": "openid User.Read Mail.Read"}
	if st, m := w.gcall(t, "POST", "/oauth2PermissionGrants", ada, grant); st != http.StatusCreated || str(m["scope"]) != "openid User.Read Mail.Read" {
		t.Fatalf("grant: %d %v", st, m)
	}
	st, m := w.gcall(t, "POST", "/oauth2PermissionGrants", ada, grant)
	wantGraphError(t, "second grant", st, m, 409, "Request_MultipleObjectsWithSameKeyValue")
	st, m = w.gcall(t, "POST", "/oauth2PermissionGrants", ada, map[string]any{"clientId": appID, "consentType": "AllPrincipals", "resourceId": resourceSP, "scope": "User.Read"})
	wantGraphError(t, "grant with the app ID as clientId", st, m, 404, "Request_ResourceNotFound")
	st, list := w.gcall(t, "GET", "/oauth2PermissionGrants?"+url.Values{"$filter": {"clientId eq '" + clientSP + "' and resourceId eq '" + resourceSP + "'"}}.Encode(), ada, nil)
	grants, _ := list["value"].([]any)
	if st != 200 || len(grants) != 1 {
		t.Fatalf("list grants: %d %v", st, list)
	}
	grantID := str(grants[0].(map[string]any)["id"])
	w.GrantAdminConsentIn(DemoTenantID, GraphCLIClientID)
	st, m = w.gcall(t, "PATCH", "/oauth2PermissionGrants/"+grantID, w.graphToken(t, DemoMemberUPN, adminScopes), map[string]string{"scope": "Mail.Read Calendars.Read"})
	wantGraphError(t, "member widens a grant", st, m, 403, "Authorization_RequestDenied")
	code := w.code(t, DemoTenantID, appID, DemoRedirectURI, "openid User.Read Mail.Read", beaHint)
	st, m = w.tokenReq(t, DemoTenantID, redeemForm(appID, code, DemoRedirectURI, secret))
	wantOK(t, "Bea after admin consent", st, m)
	// Only what was granted: Calendars.Read is still refused, until the grant is widened.
	if q, _ := w.signIn(t, DemoTenantID, appID, DemoRedirectURI, "openid Calendars.Read", beaHint); !strings.Contains(q.Get("error_description"), "AADSTS90094") {
		t.Errorf("a grant for Mail.Read let Bea consent to Calendars.Read: %v", q)
	}
	if st, m := w.gcall(t, "PATCH", "/oauth2PermissionGrants/"+grantID, ada, map[string]string{"scope": "openid User.Read Mail.Read Calendars.Read"}); st != http.StatusNoContent {
		t.Fatalf("widen the grant: %d %v", st, m)
	}
	w.code(t, DemoTenantID, appID, DemoRedirectURI, "openid Calendars.Read", beaHint)

	// Application permissions: the role shows in app-only tokens once assigned.
	st, m = w.tokenReq(t, DemoTenantID, appOnlyForm(appID, secret))
	wantOK(t, "app-only before the assignment", st, m)
	if info, _ := w.AccessToken(str(m["access_token"])); len(info.Roles) != 0 {
		t.Fatalf("roles before any assignment: %v", info.Roles)
	}
	assign := map[string]string{"principalId": clientSP, "resourceId": resourceSP, "appRoleId": "810c84a8-4a9e-49e6-bf7d-12d183f40d01"}
	if st, m := w.gcall(t, "POST", "/servicePrincipals/"+resourceSP+"/appRoleAssignedTo", ada, assign); st != http.StatusCreated {
		t.Fatalf("assign: %d %v", st, m)
	}
	st, m = w.gcall(t, "POST", "/servicePrincipals/"+resourceSP+"/appRoleAssignedTo", ada, assign)
	wantGraphError(t, "second assignment", st, m, 400, "Request_BadRequest")
	assign["appRoleId"] = "00000000-1111-4222-8333-444444444444"
	st, m = w.gcall(t, "POST", "/servicePrincipals/"+resourceSP+"/appRoleAssignedTo", ada, assign)
	wantGraphError(t, "unknown app role", st, m, 400, "Request_BadRequest")
	st, m = w.gcall(t, "POST", "/servicePrincipals/"+GraphAppID+"/appRoleAssignedTo", ada, assign)
	wantGraphError(t, "Graph's app ID in place of its service principal", st, m, 404, "Request_ResourceNotFound")
	st, m = w.tokenReq(t, DemoTenantID, appOnlyForm(appID, secret))
	wantOK(t, "app-only after the assignment", st, m)
	if info, _ := w.AccessToken(str(m["access_token"])); len(info.Roles) != 1 || info.Roles[0] != "Mail.Read" {
		t.Errorf("roles %v, want Mail.Read", info.Roles)
	}
}

func TestGraphCLIAppSignsInWithoutSecret(t *testing.T) {
	t.Parallel()
	w := graphWorld(t)
	// Auth code on any loopback port, no secret; a secret is refused as for any public client.
	code := w.code(t, "organizations", GraphCLIClientID, "http://localhost:50123", "openid User.Read", nil)
	st, m := w.tokenReq(t, "organizations", redeemForm(GraphCLIClientID, code, "http://localhost:50123", ""))
	wantOK(t, "auth code without secret", st, m)
	code = w.code(t, DemoTenantID, GraphCLIClientID, cliRedirect, "openid User.Read", nil)
	st, m = w.tokenReq(t, DemoTenantID, redeemForm(GraphCLIClientID, code, cliRedirect, "a-secret-value"))
	if st == 200 {
		t.Fatal("a public client accepted a secret")
	}
	wantCode(t, "secret to a public client", m, 700025)
	// Device code works too: public client flows are on.
	w.SetDeviceApproval(0)
	st, dc := post(t, w.base+"/"+DemoTenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {GraphCLIClientID}, "scope": {"openid User.Read"}})
	if st != 200 {
		t.Fatalf("devicecode: %d %v", st, dc)
	}
	st, m = w.tokenReq(t, DemoTenantID, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {GraphCLIClientID}, "device_code": {str(dc["device_code"])}})
	wantOK(t, "device code", st, m)
	// Tokens issued through organizations by a user with no home tenant land in no directory:
	// Graph has nowhere to register an app for them.
	code = w.code(t, "organizations", GraphCLIClientID, cliRedirect, adminScopes, nil)
	_, m = w.tokenReq(t, "organizations", redeemForm(GraphCLIClientID, code, cliRedirect, ""))
	st, m = w.gcall(t, "POST", "/applications", str(m["access_token"]), webAppBody("x"))
	wantGraphError(t, "no directory", st, m, 403, "Authorization_RequestDenied")
	// With a home tenant, the same sign-in lands there and the app is registered in it.
	w.SetUserTenant(DemoUPN, DemoTenantID)
	code = w.code(t, "organizations", GraphCLIClientID, cliRedirect, adminScopes, nil)
	_, m = w.tokenReq(t, "organizations", redeemForm(GraphCLIClientID, code, cliRedirect, ""))
	st, app := w.gcall(t, "POST", "/applications", str(m["access_token"]), webAppBody("x"))
	if a, _ := w.App(str(app["appId"])); st != http.StatusCreated || a.TenantID != DemoTenantID {
		t.Errorf("create through organizations: %d %v, home %q", st, app, a.TenantID)
	}
}

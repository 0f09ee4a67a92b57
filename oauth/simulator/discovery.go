package simulator

import (
	"net/http"
	"strings"
)

// discovery serves the OpenID Connect metadata document that MSAL reads before any request
// ("tenant discovery"). Microsoft publishes it per tenant at
// https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration, with the
// endpoints of that tenant (OpenID Connect on the Microsoft identity platform, "Find your
// app's OpenID configuration document URI"). Only the fields MSAL and m365creds read are here.
func (s *Sim) discovery(w http.ResponseWriter, r *http.Request) {
	tenantSeg := r.PathValue("tenant")
	if _, aerr := s.resolveTenant(tenantSeg); aerr != nil {
		// An unknown tenant answers 400 with the usual error body (AADSTS90002).
		writeJSONError(w, r, aerr)
		return
	}
	base := baseURL(r) + "/" + tenantSeg
	doc := map[string]any{
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"tenant_region_scope":                   nil,
	}
	if strings.EqualFold(tenantSeg, "common") || strings.EqualFold(tenantSeg, "organizations") {
		doc["issuer"] = baseURL(r) + "/{tenantid}/v2.0"
	}
	writeJSON(w, http.StatusOK, doc)
}

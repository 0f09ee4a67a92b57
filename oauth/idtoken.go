package oauth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// IDTokenTenant reads the tenant ("tid") an ID token says the user signed in to. The token
// came straight from the token endpoint over TLS, and the value only names where to register
// the app (every call after it is checked by Microsoft), so the signature is not checked.
func IDTokenTenant(idToken string) string {
	parts := strings.Split(idToken, ".")
	if len(parts) < 2 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if json.Unmarshal(raw, &claims) != nil || !isGUID(claims.TID) {
		return ""
	}
	return claims.TID
}

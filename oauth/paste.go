package oauth

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"unicode"
)

// Callback is what a redirect from the authorize endpoint carried.
type Callback struct {
	Code, State string
	Err         *EntraError // error= on the redirect (declined, admin consent required, ...)
	// AdminConsent is set by the redirect that ends an admin-consent link, with the tenant
	// the administrator consented in.
	AdminConsent bool
	Tenant       string
}

// callbackFromQuery reads a redirect's parameters.
func callbackFromQuery(q url.Values) Callback {
	return Callback{Code: q.Get("code"), State: q.Get("state"), Err: errorFromQuery(q),
		AdminConsent: strings.EqualFold(q.Get("admin_consent"), "true"), Tenant: q.Get("tenant")}
}

// ParseRedirect reads what a user pasted after signing in on a machine whose browser could not
// reach the loopback listener: the whole address-bar URL, just its query string (with or
// without "?"), or a bare code. Whitespace anywhere (terminals insert line breaks when a long
// URL wraps), quotes and angle brackets around it are removed. A redirect that carries error=
// is not an error here: it comes back in Callback.Err, and CodeFrom returns it.
func ParseRedirect(input string) (Callback, error) {
	s := cleanPasted(input)
	if s == "" {
		return Callback{}, errors.New("nothing was pasted")
	}
	var query string
	switch {
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil {
			return Callback{}, errors.New("the pasted address is not a valid URL")
		}
		if strings.Contains(strings.ToLower(u.Path), "nativeclient") {
			return Callback{}, ErrNativeClient
		}
		query = u.RawQuery
		if !hasCallbackParams(query) && hasCallbackParams(u.Fragment) {
			query = u.Fragment
		}
	case strings.HasPrefix(s, "?"), strings.HasPrefix(s, "#"):
		query = s[1:]
	case hasCallbackParams(s):
		query = s
	default:
		if !plausibleCode(s) || hasInnerSpaces(input) {
			return Callback{}, errors.New("the pasted text is neither the address from the address bar nor a sign-in code")
		}
		return Callback{Code: s}, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil && len(q) == 0 {
		return Callback{}, errors.New("the address's query string cannot be read")
	}
	cb := callbackFromQuery(q)
	if cb.Code == "" && cb.Err == nil {
		return Callback{}, ErrNoCode
	}
	return cb, nil
}

// cleanPasted removes whitespace everywhere and wrapping punctuation at the ends. Redirect URLs
// and codes never contain raw whitespace, so removing it inside is safe.
func cleanPasted(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
	for {
		t := strings.Trim(s, "\"'`<>")
		if t == s {
			return s
		}
		s = t
	}
}

// hasInnerSpaces reports spaces inside a line: terminals break long codes with line breaks,
// but words separated by spaces are prose, not a code.
func hasInnerSpaces(s string) bool {
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.ContainsAny(strings.TrimSpace(line), " \t") {
			return true
		}
	}
	return false
}

func hasCallbackParams(q string) bool {
	for _, k := range []string{"code=", "error=", "state="} {
		if strings.HasPrefix(q, k) || strings.Contains(q, "&"+k) {
			return true
		}
	}
	return false
}

// plausibleCode accepts the characters Microsoft's codes are made of (v2 codes such as
// "0.AX..." and personal-account codes such as "M.C5_BAY.2...").
func plausibleCode(s string) bool {
	if len(s) < 16 || len(s) > 8192 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-._~*!$+%", r):
		default:
			return false
		}
	}
	return true
}

// CodeFrom checks a callback against this request: a redirect error is returned as
// *EntraError, a foreign state as ErrStateMismatch. A bare pasted code has no state; it is
// accepted because PKCE ties it to this request's verifier anyway (a foreign code fails at
// redemption with AADSTS501481).
func (r *AuthRequest) CodeFrom(cb Callback) (string, error) {
	if cb.State != "" && subtle.ConstantTimeCompare([]byte(cb.State), []byte(r.State)) != 1 {
		return "", ErrStateMismatch
	}
	if cb.Err != nil {
		return "", cb.Err
	}
	if cb.Code == "" {
		return "", ErrNoCode
	}
	if cb.State == "" && !plausibleCode(cb.Code) {
		return "", ErrNoCode
	}
	return cb.Code, nil
}

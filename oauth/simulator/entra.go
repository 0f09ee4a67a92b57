package simulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// aadError is one Entra error: the OAuth error, the AADSTS code and Microsoft's text.
type aadError struct {
	status int
	err    string
	code   int
	text   string
}

func newErr(status int, oauthErr string, code int, format string, args ...any) *aadError {
	return &aadError{status: status, err: oauthErr, code: code, text: fmt.Sprintf(format, args...)}
}

const timeLayout = "2006-01-02 15:04:05Z"

func guid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// ids are the trace and correlation IDs and timestamp every Entra error carries. The
// correlation ID echoes the client's client-request-id header like Microsoft does.
type ids struct{ trace, correlation, timestamp string }

func newIDs(r *http.Request) ids {
	c := r.Header.Get("client-request-id")
	if c == "" {
		c = guid()
	}
	return ids{trace: guid(), correlation: c, timestamp: time.Now().UTC().Format(timeLayout)}
}

func (e *aadError) description(id ids) string {
	d := e.text
	if e.code != 0 {
		d = fmt.Sprintf("AADSTS%d: %s", e.code, e.text)
	}
	return fmt.Sprintf("%s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", d, id.trace, id.correlation, id.timestamp)
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// writeJSONError answers in Entra's JSON error shape.
func writeJSONError(w http.ResponseWriter, r *http.Request, e *aadError) {
	id := newIDs(r)
	codes := []int{}
	if e.code != 0 {
		codes = append(codes, e.code)
	}
	body := map[string]any{
		"error":             e.err,
		"error_description": e.description(id),
		"error_codes":       codes,
		"timestamp":         id.timestamp,
		"trace_id":          id.trace,
		"correlation_id":    id.correlation,
	}
	if e.code != 0 {
		body["error_uri"] = baseURL(r) + "/error?code=" + fmt.Sprint(e.code)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("x-ms-request-id", id.trace)
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm=""`)
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errorPage is parsed on first use: every m365creds command links the simulator (for the demo),
// and parsing at start-up would slow down all of them.
var errorPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("err").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body style="font-family:'Segoe UI',sans-serif;max-width:40rem;margin:3rem auto">
<h1>Sign in</h1>
<p>Sorry, but we're having trouble signing you in.</p>
<p id="error">{{.Desc}}</p>
<h2>Troubleshooting details</h2>
<p>Request Id: {{.Trace}}<br>Correlation Id: {{.Correlation}}<br>Timestamp: {{.Timestamp}}<br>Message: {{.Desc}}</p>
<p>(Microsoft Entra ID simulator of m365creds)</p>
</body></html>
`))
})

// writeErrorPage shows an error on the simulator's own page, the way Microsoft shows errors it
// must not redirect (unknown client, redirect URI mismatch).
func writeErrorPage(w http.ResponseWriter, r *http.Request, e *aadError) {
	id := newIDs(r)
	desc := e.text
	if e.code != 0 {
		desc = fmt.Sprintf("AADSTS%d: %s", e.code, e.text)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(e.status)
	_ = errorPage().Execute(w, map[string]string{"Desc": desc, "Trace": id.trace, "Correlation": id.correlation, "Timestamp": id.timestamp})
}

// redirectError sends the error to the app's redirect URI, as Entra does once the client and
// redirect URI are known to be good.
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *aadError, subcode string) {
	id := newIDs(r)
	q := url.Values{"error": {e.err}, "error_description": {e.description(id)}}
	if e.code != 0 {
		q.Set("error_uri", baseURL(r)+"/error?code="+fmt.Sprint(e.code))
	}
	if subcode != "" {
		q.Set("error_subcode", subcode)
	}
	if state != "" {
		q.Set("state", state)
	}
	// Callers pass only redirect URIs already matched against the app's registered ones.
	http.Redirect(w, r, appendQuery(redirectURI, q), http.StatusFound) //nolint:gosec // see above
}

func appendQuery(uri string, q url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + q.Encode()
}

// Error texts, worded after Microsoft's live messages.
func errUnknownClient(clientID, tenant string) *aadError {
	return newErr(400, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant)
}

func errTenantNotFound(tenant string) *aadError {
	return newErr(400, "invalid_request", 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func errMissingParam(name string) *aadError {
	return newErr(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

func errInvalidSecret(clientID string) *aadError {
	return newErr(401, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)
}

func errExpiredSecret(clientID string) *aadError {
	return newErr(401, "invalid_client", 7000222,
		"The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", clientID)
}

func errSecretRequired() *aadError {
	return newErr(401, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errPublicWithSecret() *aadError {
	return newErr(401, "invalid_client", 700025,
		"Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
}

package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/oauth2"

	"github.com/m365creds/m365creds/internal/sanitize"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrStateMismatch means a redirect carried a state that does not belong to the current
	// sign-in attempt (an old browser tab, a replayed address, or someone else's request).
	ErrStateMismatch = errors.New("the sign-in answer belongs to a different sign-in attempt (state does not match)")
	// ErrCheckSkipped means the secret check cannot run because the tenant is a shared endpoint.
	ErrCheckSkipped = errors.New("secret check skipped: it needs a tenant ID or domain, not common, organizations or consumers")
	// ErrDeclined means the user declined the device code sign-in.
	ErrDeclined = errors.New("the sign-in was declined")
	// ErrExpired means the device code expired before anyone used it.
	ErrExpired = errors.New("the device code expired before the sign-in finished")
	// ErrTimeout means the wait for the browser sign-in ran out of time.
	ErrTimeout = errors.New("timed out waiting for the sign-in to finish")
	// ErrTenantRequired means an app-only request was made against a shared endpoint.
	ErrTenantRequired = errors.New("app-only access needs the tenant ID or domain, not common, organizations or consumers")
	// ErrNativeClient means the pasted address is Microsoft's nativeclient page, which cannot
	// be used any more.
	ErrNativeClient = errors.New("that is the nativeclient address, which Microsoft no longer accepts for this; register http://localhost:53365/ under Web and sign in again")
	// ErrNoAnswer is what a NetworkError unwraps to when Microsoft did not answer in time. It
	// is deliberately not context.DeadlineExceeded, so that callers checking for their own
	// deadline (the wait for a sign-in) cannot take a slow Microsoft for it.
	ErrNoAnswer = errors.New("Microsoft did not answer in time")
	// ErrNoCode means a redirect had neither a code nor an error.
	ErrNoCode = errors.New("the address has no sign-in code in it")
)

// EntraError is an error answered by Microsoft Entra ID, either as a JSON body from the token
// or device code endpoint, or as error= parameters on a redirect.
type EntraError struct {
	Err           string // OAuth error, e.g. "invalid_client"
	Codes         []int  // AADSTS codes
	Description   string // Microsoft's text, unchanged
	TraceID       string
	CorrelationID string
	Status        int    // HTTP status; 0 for redirect errors
	SubCode       string // error_subcode on redirects, e.g. "cancel"
}

// Error is Microsoft's first description line (which carries the AADSTS code) and the trace ID.
func (e *EntraError) Error() string {
	msg := firstLine(e.Description)
	if msg == "" {
		msg = e.Err
		if c := e.Code(); c != 0 {
			msg = fmt.Sprintf("AADSTS%d (%s)", c, e.Err)
		}
	}
	if msg == "" {
		msg = "Microsoft returned an error without a description"
	}
	if e.TraceID != "" && !strings.Contains(msg, e.TraceID) {
		msg += " (trace ID " + e.TraceID + ")"
	}
	return msg
}

// Code is the first AADSTS code, or 0 when Microsoft sent none.
func (e *EntraError) Code() int {
	if len(e.Codes) > 0 {
		return e.Codes[0]
	}
	return 0
}

// Is makes errors.Is(err, ErrDeclined) true for a declined consent or device sign-in.
func (e *EntraError) Is(target error) bool {
	switch target {
	case ErrDeclined:
		return e.Err == "authorization_declined" || e.Code() == 65004 || (e.Err == "access_denied" && e.SubCode == "cancel")
	case ErrExpired:
		return e.Err == "expired_token" || e.Code() == 70019
	}
	return false
}

// ResponseError means an endpoint answered with something that is not a usable OAuth answer:
// a 5xx page, a proxy's HTML, or broken JSON. It never carries the body, which may be large
// and is of no use to a user.
type ResponseError struct {
	Endpoint string // "token", "devicecode", "graph"
	Status   int
	Reason   string // short, e.g. "the answer is not valid JSON"
}

// Error says which endpoint answered what.
func (e *ResponseError) Error() string {
	what := "Microsoft's " + e.Endpoint + " endpoint"
	if e.Status >= 500 {
		return fmt.Sprintf("%s answered HTTP %d: Microsoft is having trouble; try again in a minute", what, e.Status)
	}
	if e.Status != 0 && (e.Status < 200 || e.Status > 299) {
		return fmt.Sprintf("%s answered HTTP %d with %s", what, e.Status, e.Reason)
	}
	return fmt.Sprintf("%s answered, but %s", what, e.Reason)
}

// NetworkError means Microsoft could not be reached or did not answer in time.
type NetworkError struct {
	Host string
	Err  error
}

// Error names the host and the kind of failure, never the request.
func (e *NetworkError) Error() string {
	return fmt.Sprintf("could not reach %s: %s", e.Host, netReason(e.Err))
}

// Unwrap exposes the cause, except for a time-out: that unwraps to ErrNoAnswer, never to
// context.DeadlineExceeded, so a slow Microsoft is not taken for the caller's own deadline.
func (e *NetworkError) Unwrap() error {
	if e.Timeout() {
		return ErrNoAnswer
	}
	return e.Err
}

// Timeout reports whether the request ran out of time.
func (e *NetworkError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

func netReason(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return "the name " + dns.Name + " does not resolve (no network, DNS or proxy problem)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time (timeout)"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// GraphError is an error answered by Microsoft Graph.
type GraphError struct {
	Status  int
	Code    string // e.g. "InvalidAuthenticationToken", "Authorization_RequestDenied"
	Message string
	// Op is what was being done, one of the Op constants ("" for the /me check); with Code it
	// tells the refusals apart (see Is).
	Op        string
	Details   []string // the codes of Graph's error details, e.g. "InvalidKeyEndDate"
	RequestID string   // innerError.request-id, for Microsoft support
}

// Error is Graph's code and message, and what was being done.
func (e *GraphError) Error() string {
	what := "Microsoft Graph answered"
	if e.Op != "" {
		what = "Microsoft Graph refused to " + e.Op + ":"
	}
	if e.Code == "" {
		return fmt.Sprintf("%s HTTP %d", what, e.Status)
	}
	return fmt.Sprintf("%s HTTP %d %s: %s", what, e.Status, e.Code, e.Message)
}

// PortInUseError means the loopback port is taken by another program.
type PortInUseError struct{ Port int }

// Error says which port is busy.
func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %d on this computer is already in use by another program", e.Port)
}

// timeoutError is returned by Loopback.Wait when its context's deadline passes; it is both
// ErrTimeout and context.DeadlineExceeded so either test works.
type timeoutError struct{}

func (timeoutError) Error() string   { return ErrTimeout.Error() }
func (timeoutError) Unwrap() []error { return []error{ErrTimeout, context.DeadlineExceeded} }

// Limits for text taken from Microsoft's answers: codes and IDs are short, descriptions a few
// lines. Anything longer is not Microsoft's usual answer and is clipped before it is shown.
const (
	maxCodeLen        = 100
	maxDescriptionLen = 2000
)

// entraBody is Entra's JSON error shape.
type entraBody struct {
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	ErrorCodes       json.RawMessage `json:"error_codes"`
	TraceID          string          `json:"trace_id"`
	CorrelationID    string          `json:"correlation_id"`
}

var aadstsRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`AADSTS(\d{4,9})`) })

// DecodeError turns a failed answer of the token or device code endpoint into *EntraError when
// it has Entra's shape, else into *ResponseError. secrets are values sent in the request: if
// Microsoft ever echoes one, it is masked so no error text carries it.
func DecodeError(endpoint string, status int, body []byte, secrets ...string) error {
	var b entraBody
	err := json.Unmarshal(body, &b)
	// An error field of nothing but control characters is no error field once cleaned.
	if err == nil {
		b.Error = sanitize.Line(b.Error, maxCodeLen)
	}
	if err != nil || b.Error == "" {
		reason := "the answer is not valid JSON"
		if err == nil {
			reason = "the answer has no error field"
		}
		return &ResponseError{Endpoint: endpoint, Status: status, Reason: reason}
	}
	e := &EntraError{
		Err:           b.Error,
		Description:   sanitize.Text(b.ErrorDescription, maxDescriptionLen),
		TraceID:       sanitize.Line(b.TraceID, maxCodeLen),
		CorrelationID: sanitize.Line(b.CorrelationID, maxCodeLen),
		Status:        status,
	}
	var codes []int
	if json.Unmarshal(b.ErrorCodes, &codes) == nil {
		e.Codes = codes
	}
	if len(e.Codes) == 0 {
		e.Codes = codesIn(e.Description)
	}
	if e.TraceID == "" {
		e.TraceID = lineValue(e.Description, "Trace ID:")
	}
	if e.CorrelationID == "" {
		e.CorrelationID = lineValue(e.Description, "Correlation ID:")
	}
	return redactEntra(e, secrets)
}

// errorFromQuery reads error=, error_description=, error_subcode= from a redirect.
func errorFromQuery(q url.Values) *EntraError {
	code := sanitize.Line(q.Get("error"), maxCodeLen)
	if code == "" {
		return nil
	}
	e := &EntraError{
		Err:         code,
		Description: sanitize.Text(q.Get("error_description"), maxDescriptionLen),
		SubCode:     sanitize.Line(q.Get("error_subcode"), maxCodeLen),
	}
	e.Codes = codesIn(e.Description)
	if len(e.Codes) == 0 {
		// An error_uri such as https://login.microsoftonline.com/error?code=50011 still names it.
		if u, err := url.Parse(q.Get("error_uri")); err == nil {
			if n, err := strconv.Atoi(u.Query().Get("code")); err == nil && n > 0 {
				e.Codes = []int{n}
			}
		}
	}
	e.TraceID = lineValue(e.Description, "Trace ID:")
	e.CorrelationID = lineValue(e.Description, "Correlation ID:")
	return e
}

func codesIn(s string) []int {
	var out []int
	for _, m := range aadstsRE().FindAllStringSubmatch(s, 4) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// lineValue finds "Trace ID: x" style lines in Microsoft's description.
func lineValue(s, key string) string {
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	v := s[i+len(key):]
	if j := strings.IndexAny(v, "\r\n"); j >= 0 {
		v = v[:j]
	}
	return strings.TrimSpace(v)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// redactEntra masks request values in every text field of e.
func redactEntra(e *EntraError, secrets []string) *EntraError {
	e.Err = redact(e.Err, secrets)
	e.Description = redact(e.Description, secrets)
	e.TraceID = redact(e.TraceID, secrets)
	e.CorrelationID = redact(e.CorrelationID, secrets)
	return e
}

// redact replaces each secret in s. Short values are left alone: they would mask ordinary
// words and no real secret, token or code is that short.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) < 8 {
			continue
		}
		for i := 0; i < 8 && strings.Contains(s, sec); i++ {
			s = strings.ReplaceAll(s, sec, "[hidden]")
		}
		if strings.Contains(s, sec) {
			s = "[hidden]"
		}
	}
	return s
}

// convertErr turns what x/oauth2 or net/http returned into this package's errors.
func convertErr(endpoint, host string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return DecodeError(endpoint, status, re.Body, secrets...)
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &NetworkError{Host: host, Err: errors.New("the answer was cut off")}
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return &ResponseError{Endpoint: endpoint, Status: 200, Reason: "the answer is not valid JSON"}
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return &NetworkError{Host: host, Err: err}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "cannot parse"):
		return &ResponseError{Endpoint: endpoint, Status: 200, Reason: "the answer is not valid JSON"}
	case strings.Contains(msg, "missing access_token"):
		return &ResponseError{Endpoint: endpoint, Status: 200, Reason: "the answer has no access token"}
	case strings.Contains(msg, "cannot fetch token"):
		return &NetworkError{Host: host, Err: errors.New("the answer was cut off")}
	}
	return errors.New(redact(msg, secrets))
}

// Class groups errors by what the user has to do, for exit codes.
type Class int

// Error classes.
const (
	ClassOther   Class = iota // anything else
	ClassSecret               // the secret or the app's IDs are wrong or expired (exit 3)
	ClassConsent              // sign in and consent again (exit 4)
	ClassNetwork              // Microsoft could not be reached or failed (exit 6)
	// ClassApp means Microsoft does not know the app (or the tenant) where the request went:
	// a wrong client ID, tenant or cloud. Nothing about the secret or consent can fix it.
	ClassApp
)

// Classifier is an error that knows its own Class, such as a keychain item that is lost
// (sign in again, or enter the secret again) or a config file that cannot be written.
type Classifier interface {
	error
	Class() Class
}

// Classify sorts an error into a Class.
func Classify(err error) Class {
	if err == nil {
		return ClassOther
	}
	var de *declinedError
	var xe *expiredError
	var cl Classifier
	switch {
	case errors.As(err, &de):
		return ClassConsent
	case errors.As(err, &xe):
		return ClassOther
	case errors.As(err, &cl):
		return cl.Class()
	}
	var ee *EntraError
	if errors.As(err, &ee) {
		return classifyEntra(ee)
	}
	var ne *NetworkError
	var re *ResponseError
	var ge *GraphError
	var netErr net.Error
	switch {
	case errors.As(err, &ne), errors.As(err, &re):
		return ClassNetwork
	case isFileSystem(err):
		// syscall.Errno has Timeout and Temporary methods, so a full disk or a read-only
		// config directory would otherwise pass for a net.Error below.
		return ClassOther
	case errors.As(err, &ge):
		switch {
		case ge.Status >= 500 || ge.Status == 429:
			return ClassNetwork
		case errors.Is(ge, ErrAdminRequired):
			return ClassConsent
		case ge.Op != "" && ge.Status == 403:
			// Refused registration calls (no right to register apps, not an owner): an
			// administrator's consent would not change them.
			return ClassOther
		case ge.Status == 401 || ge.Status == 403:
			return ClassConsent
		}
		return ClassOther
	case errors.Is(err, ErrDeclined):
		return ClassConsent
	case errors.Is(err, context.Canceled), errors.Is(err, ErrTimeout), errors.Is(err, ErrStateMismatch):
		return ClassOther
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr):
		return ClassNetwork
	}
	return ClassOther
}

// isFileSystem reports errors of files and directories rather than of the network.
func isFileSystem(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	var errno syscall.Errno
	switch {
	case errors.As(err, &pe), errors.As(err, &le):
		return true
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
		return true
	case errors.As(err, &se) && !errors.As(err, new(*net.OpError)):
		return !networkErrno(se.Err)
	case errors.As(err, &errno) && !errors.As(err, new(*net.OpError)):
		return !networkErrno(errno)
	}
	return false
}

// networkErrno reports the system errors that only a network connection produces.
func networkErrno(err error) bool {
	for _, e := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.ETIMEDOUT, syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.EPIPE} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func classifyEntra(e *EntraError) Class {
	// Throttling is a wait, whatever error body comes with it.
	if e.Status == 429 || e.Status >= 500 || e.Err == "temporarily_unavailable" || e.Err == "server_error" {
		return ClassNetwork
	}
	if g, ok := catalogue[e.Code()]; ok {
		return g.class
	}
	switch e.Err {
	case "invalid_grant", "interaction_required", "consent_required", "login_required":
		return ClassConsent
	case "access_denied", "authorization_declined":
		return ClassConsent
	case "expired_token":
		return ClassOther
	}
	return ClassOther
}

package oauth

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultPort is the loopback port of the redirect URI the wizard asks users to register.
const DefaultPort = 53365

// shutdownTimeout bounds how long Close waits for a browser connection still being answered.
const shutdownTimeout = 2 * time.Second

//go:embed callback.html
var callbackHTML string

// CallbackPage renders the small page the browser shows after the redirect. Every value is
// HTML-escaped and lands in element text only; the page is filled in one pass, so a value
// that looks like a placeholder stays text. (html/template would do the same here at the
// cost of its package initialisation in every run of the program.)
func CallbackPage(ok bool, title, detail, raw string) []byte {
	class := "fail"
	if ok {
		class = "ok"
	}
	if raw != "" {
		raw = "<pre>" + html.EscapeString(raw) + "</pre>"
	}
	return []byte(strings.NewReplacer(
		"{{.Class}}", class,
		"{{.Title}}", html.EscapeString(title),
		"{{.Detail}}", html.EscapeString(detail),
		"{{.Raw}}", raw,
	).Replace(callbackHTML))
}

// ErrLoopbackClosed is returned by Wait after Close.
var ErrLoopbackClosed = errors.New("the sign-in listener was closed")

// Loopback receives the browser's redirect on http://localhost:<port>/. It listens on
// 127.0.0.1 only and answers only the path "/"; everything else (favicon.ico, probes) gets 404.
//
// A redirect whose state is not the expected one never settles the flow: its tab gets a failure
// page and the listener keeps waiting for the real answer. If none arrives before the context's
// deadline, Wait returns ErrStateMismatch instead of ErrTimeout, because that is the likelier
// cause. Once settled, further hits get an "already finished" page.
type Loopback struct {
	ln     net.Listener
	srv    *http.Server
	port   int
	served chan struct{} // closed when Serve has returned

	mu       sync.Mutex
	state    string
	settled  bool
	result   Callback
	mismatch bool

	done      chan struct{} // closed when a valid callback arrived
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// ListenLoopback binds 127.0.0.1:port (0 picks a free port) and starts serving. Bind before
// opening the browser, so the redirect cannot arrive before anyone listens. A taken port gives
// *PortInUseError; the caller may retry with 0, since Entra ignores the port of
// http://localhost redirect URIs.
func ListenLoopback(port int) (*Loopback, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("port %d is out of range (1-65535, or 0 for any free port)", port)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		if isAddrInUse(err) {
			return nil, &PortInUseError{Port: port}
		}
		if errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("port %d needs administrator rights; use a port above 1024", port)
		}
		return nil, fmt.Errorf("cannot listen on 127.0.0.1:%d: %w", port, err)
	}
	l := &Loopback{
		ln:     ln,
		port:   ln.Addr().(*net.TCPAddr).Port,
		served: make(chan struct{}),
		done:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	l.srv = &http.Server{
		Handler:           l,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Second,
		// The standard logger writes to stderr, which would tear through a full-screen UI.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	// One request per connection: nothing is left open after the page is sent.
	l.srv.SetKeepAlivesEnabled(false)
	go func() {
		defer close(l.served)
		_ = l.srv.Serve(ln)
	}()
	return l, nil
}

func isAddrInUse(err error) bool {
	if errors.Is(err, syscall.EADDRINUSE) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "address already in use") || strings.Contains(msg, "only one usage of each socket address")
}

// Port is the port actually bound.
func (l *Loopback) Port() int { return l.port }

// RedirectURI is the address to register (platform Web) and to send: http://localhost:<port>/.
func (l *Loopback) RedirectURI() string { return fmt.Sprintf("http://localhost:%d/", l.port) }

// Expect sets the state that settles the flow. Without it, the first callback settles and the
// caller must check the state with AuthRequest.CodeFrom.
func (l *Loopback) Expect(state string) {
	l.mu.Lock()
	l.state = state
	l.mu.Unlock()
}

// ServeHTTP answers the browser. The page is written before the result is signalled, so the
// listener cannot be shut down under a half-sent page.
func (l *Loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || !loopbackHost(r.Host) {
		http.NotFound(w, r)
		return
	}
	// Only a browser navigation (GET) may settle the flow; link scanners sending HEAD may not.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	cb := callbackFromQuery(r.URL.Query())
	if cb.Code == "" && cb.Err == nil && !cb.AdminConsent {
		writePage(w, http.StatusBadRequest, false, "Nothing to do here",
			"This address only receives Microsoft's answer after a sign-in started by m365creds.", "")
		return
	}
	l.mu.Lock()
	if l.settled {
		l.mu.Unlock()
		writePage(w, http.StatusOK, true, "Already finished",
			"This sign-in has already been handled. Return to the terminal.", "")
		return
	}
	if l.state != "" && subtle.ConstantTimeCompare([]byte(cb.State), []byte(l.state)) != 1 {
		l.mismatch = true
		l.mu.Unlock()
		writePage(w, http.StatusBadRequest, false, "Answer not used",
			"This answer belongs to an older or different sign-in attempt, so m365creds ignored it. Finish the sign-in in the tab m365creds opened last, or start again from the terminal.", "")
		return
	}
	l.settled = true
	l.result = cb
	l.mu.Unlock()

	if cb.Err != nil {
		g := Explain(cb.Err, App{})
		writePage(w, http.StatusOK, false, "Sign-in failed: "+g.Title, g.Meaning+" The terminal says what to do next.", g.Raw)
	} else if cb.AdminConsent && cb.Code == "" {
		writePage(w, http.StatusOK, true, "Consent received",
			"The permissions were granted for the organisation. You can close this tab.", "")
	} else {
		writePage(w, http.StatusOK, true, "Signed in",
			"m365creds received the sign-in and is finishing in the terminal.", "")
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	close(l.done)
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	switch strings.ToLower(strings.Trim(host, "[]")) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

func writePage(w http.ResponseWriter, status int, ok bool, title, detail, raw string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_, _ = w.Write(CallbackPage(ok, title, detail, raw))
}

// Wait blocks until a valid callback arrives, the context ends, or Close is called. A callback
// with error= is returned as is; AuthRequest.CodeFrom turns it into an error. When the context's
// deadline passes it returns ErrTimeout (or ErrStateMismatch if only foreign answers came);
// when it is cancelled, context.Canceled.
func (l *Loopback) Wait(ctx context.Context) (Callback, error) {
	select {
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.result, nil
	case <-l.closed:
		return Callback{}, ErrLoopbackClosed
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			l.mu.Lock()
			mismatch := l.mismatch
			l.mu.Unlock()
			if mismatch {
				return Callback{}, ErrStateMismatch
			}
			return Callback{}, timeoutError{}
		}
		return Callback{}, ctx.Err()
	}
}

// Close stops the listener, giving an answer in progress up to two seconds. It is safe to
// call more than once and from several goroutines.
func (l *Loopback) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			l.closeErr = l.srv.Close()
		}
		<-l.served
	})
	return l.closeErr
}

package oauth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// cutServer answers every request with a 200 whose body stops half-way: the headers promise
// more bytes than arrive before the connection closes.
func cutServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		part := `{"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOi`
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(part)+400, part)
		_ = buf.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestTruncatedTokenAnswersAreNetwork(t *testing.T) {
	t.Parallel()
	app := webApp()
	t.Run("body cut", func(t *testing.T) {
		t.Parallel()
		c := testClient(cutServer(t), app, keepAliveOff(5*time.Second))
		if _, err := c.Refresh(context.Background(), "rt-value-0000000", nil); Classify(err) != ClassNetwork {
			t.Errorf("refresh: %v (class %d)", err, Classify(err))
		}
		req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
		if _, err := c.Exchange(context.Background(), req, "some-code-value"); Classify(err) != ClassNetwork {
			t.Errorf("exchange: %v (class %d)", err, Classify(err))
		}
	})
	t.Run("JSON cut inside a string", func(t *testing.T) {
		t.Parallel()
		sim, base := testSim(t)
		sim.AddFault(simulator.Fault{Endpoint: "token", Status: 200, Body: `{"token_type":"Bearer","access_token":"eyJ0eXAiOiJKV1Qi`})
		c := testClient(base, app, nil)
		if _, err := c.Refresh(context.Background(), "rt-value-0000000", nil); Classify(err) != ClassNetwork {
			t.Errorf("refresh: %v (class %d)", err, Classify(err))
		}
		req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
		_, err := c.Exchange(context.Background(), req, "some-code-value")
		if Classify(err) != ClassNetwork {
			t.Errorf("exchange: %v (class %d)", err, Classify(err))
		}
		noSecretIn(t, "some-code-value", err.Error())
	})
}

// throttled is Entra's answer to too many requests: HTTP 429 with its usual JSON error body.
var throttled = string(entraBodyFor("temporarily_unavailable", 50196,
	"The server terminated an operation because it encountered a client request loop."))

func TestThrottlingIsNetwork(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"Entra JSON":   strings.Replace(throttled, "temporarily_unavailable", "invalid_request", 1),
		"Entra 90055":  string(entraBodyFor("invalid_request", 90055, "Too many requests.")),
		"HTML":         "<html>Too Many Requests</html>",
		"empty":        "",
		"JSON no code": `{"error":"invalid_grant"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim, base := testSim(t)
			sim.AddFault(simulator.Fault{Endpoint: "token", Status: 429, Body: body})
			c := testClient(base, webApp(), nil)
			if _, err := c.Refresh(context.Background(), "rt-value-0000000", nil); Classify(err) != ClassNetwork {
				t.Errorf("refresh: %v (class %d)", err, Classify(err))
			}
			req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
			if _, err := c.Exchange(context.Background(), req, "some-code-value"); Classify(err) != ClassNetwork {
				t.Errorf("exchange: %v (class %d)", err, Classify(err))
			}
		})
	}
}

// retryServer answers 429 with retryAfter on the first request and a token after that.
func retryServer(t *testing.T, retryAfter string) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", retryAfter)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(throttled))
			return
		}
		if r.PostForm.Get("refresh_token") == "" && r.PostForm.Get("code") == "" {
			http.Error(w, "form lost on retry", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"Bearer","access_token":"at-after-retry","refresh_token":"rt-new","expires_in":3600,"scope":"User.Read"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func TestRetryAfterHonouredOnce(t *testing.T) {
	t.Parallel()
	t.Run("seconds", func(t *testing.T) {
		t.Parallel()
		base, n := retryServer(t, "1")
		c := testClient(base, webApp(), keepAliveOff(5*time.Second))
		start := time.Now()
		tok, err := c.Refresh(context.Background(), "rt-value-0000000", nil)
		if err != nil || tok.AccessToken != "at-after-retry" {
			t.Fatalf("refresh: %v", err)
		}
		if n.Load() != 2 || time.Since(start) < 900*time.Millisecond {
			t.Errorf("%d requests after %v; want 2 after about 1s", n.Load(), time.Since(start))
		}
	})
	t.Run("HTTP date, code redemption", func(t *testing.T) {
		t.Parallel()
		base, n := retryServer(t, time.Now().Add(1500*time.Millisecond).UTC().Format(http.TimeFormat))
		c := testClient(base, webApp(), keepAliveOff(5*time.Second))
		req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
		tok, err := c.Exchange(context.Background(), req, "some-code-value")
		if err != nil || tok.AccessToken != "at-after-retry" || n.Load() != 2 {
			t.Fatalf("exchange: %v after %d requests", err, n.Load())
		}
	})
	t.Run("wait longer than the time-out", func(t *testing.T) {
		t.Parallel()
		base, n := retryServer(t, "120")
		c := testClient(base, webApp(), keepAliveOff(5*time.Second))
		start := time.Now()
		_, err := c.Refresh(context.Background(), "rt-value-0000000", nil)
		if Classify(err) != ClassNetwork || n.Load() != 1 || time.Since(start) > 2*time.Second {
			t.Errorf("got %v after %d requests in %v; want a network error at once", err, n.Load(), time.Since(start))
		}
	})
	t.Run("wait longer than the context", func(t *testing.T) {
		t.Parallel()
		base, n := retryServer(t, "3")
		c := testClient(base, webApp(), nil)
		_, err := c.Refresh(ctxTimeout(t, 2*time.Second), "rt-value-0000000", nil)
		if Classify(err) != ClassNetwork || n.Load() != 1 {
			t.Errorf("got %v after %d requests", err, n.Load())
		}
	})
	t.Run("only once", func(t *testing.T) {
		t.Parallel()
		sim, base := testSim(t)
		sim.AddFault(simulator.Fault{Endpoint: "token", Status: 429, Body: throttled})
		c := testClient(base, webApp(), nil)
		_, err := c.Refresh(context.Background(), "rt-value-0000000", nil)
		if Classify(err) != ClassNetwork || sim.Count("token", "") > 1 {
			t.Errorf("without Retry-After: %v after %d requests", err, sim.Count("token", ""))
		}
	})
}

func TestMicrosoftTimeoutsAreNetwork(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	sim.AddFault(simulator.Fault{Endpoint: "token", Delay: 2 * time.Second})
	c := testClient(base, webApp(), keepAliveOff(100*time.Millisecond))
	req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
	_, err := c.Exchange(context.Background(), req, "some-code-value")
	var ne *NetworkError
	if !errors.As(err, &ne) || !ne.Timeout() || Classify(err) != ClassNetwork {
		t.Fatalf("exchange: %v", err)
	}
	// A caller's own wait (the sign-in's deadline) is told apart by context.DeadlineExceeded;
	// a Microsoft call that ran out of time must not look like it.
	if errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNoAnswer) {
		t.Errorf("a time-out of the code redemption reads as the caller's deadline: %v", err)
	}
	// The same when the caller's context is what runs out during the call.
	c = testClient(base, webApp(), nil)
	_, err = c.Exchange(ctxTimeout(t, 100*time.Millisecond), req, "some-code-value")
	if Classify(err) != ClassNetwork || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("exchange under a short context: %v", err)
	}
}

func TestUnknownAppClass(t *testing.T) {
	t.Parallel()
	app := webApp()
	for _, code := range []int{700016, 700011, 90002} {
		err := DecodeError("token", 400, entraBodyFor("unauthorized_client", code, "Application with identifier 'x' was not found in the directory 'y'."))
		if got := Classify(err); got != ClassApp {
			t.Errorf("AADSTS%d: class %d, want ClassApp", code, got)
		}
		g := Explain(err, app)
		for _, want := range []string{"client", "tenant", "cloud", "Object ID"} {
			if !strings.Contains(g.Action, want) {
				t.Errorf("AADSTS%d: guidance %q does not mention %q", code, g.Action, want)
			}
		}
		if strings.Contains(g.Action, "rotate") {
			t.Errorf("AADSTS%d: an unknown app is no secret problem: %q", code, g.Action)
		}
	}
	// The simulator answers an unknown client ID as Entra does.
	_, base := testSim(t)
	c := testClient(base, App{Tenant: testTenant, ClientID: "5a5a5a5a-1b1b-4c2c-8d3d-6e6e6e6e6e6e", ClientSecret: testSecret, Kind: KindWeb}, nil)
	if err := c.CheckSecret(context.Background()); Classify(err) != ClassApp {
		t.Errorf("unknown client ID against the simulator: %v (class %d)", err, Classify(err))
	}
}

func TestFileSystemErrorsAreNotNetwork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, isDir := os.ReadFile(dir)
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	_, denied := os.CreateTemp(ro, "x")
	for name, err := range map[string]error{
		"read-only":          &fs.PathError{Op: "open", Path: "/etc/m365creds/profiles.json", Err: syscall.EROFS},
		"disk full":          &fs.PathError{Op: "write", Path: "/x/profiles.json", Err: syscall.ENOSPC},
		"a directory":        isDir,
		"permission denied":  denied,
		"rename":             &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV},
		"wrapped":            fmt.Errorf("saving: %w", &fs.PathError{Op: "sync", Path: "p", Err: syscall.EIO}),
		"bare errno":         syscall.ENOSPC,
		"syscall error":      os.NewSyscallError("fsync", syscall.EIO),
		"wrapped permission": fmt.Errorf("x: %w", fs.ErrPermission),
	} {
		if err == nil && name == "permission denied" && os.Geteuid() == 0 {
			continue // root writes anywhere
		}
		if err == nil {
			t.Fatalf("%s: no error to test", name)
		}
		if got := Classify(err); got == ClassNetwork {
			t.Errorf("%s (%v) is classed as network", name, err)
		}
	}
	// Real network errors stay network errors.
	for name, err := range map[string]error{
		"refused": &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
		"dns":     &net.DNSError{Err: "no such host", Name: "login.invalid", IsNotFound: true},
	} {
		if Classify(err) != ClassNetwork {
			t.Errorf("%s: not network", name)
		}
	}
}

func TestOutsideTextIsCleaned(t *testing.T) {
	t.Parallel()
	const nasty = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07"
	body := fmt.Sprintf(`{"error":"invalid_grant%[1]s","error_description":"AADSTS70000: bad grant%[1]s\r\nTrace ID: 0b1c2d3e-0000-4000-8000-000000000001\r\nCorrelation ID: 9f8e7d6c-0000-4000-8000-000000000002%[1]s","error_codes":[70000]}`,
		strings.ReplaceAll(strings.ReplaceAll(nasty, "\x1b", `\u001b`), "\x07", `\u0007`))
	err := DecodeError("token", 400, []byte(body))
	var ee *EntraError
	if !errors.As(err, &ee) {
		t.Fatalf("not decoded: %v", err)
	}
	g := Explain(err, webApp())
	for _, s := range append([]string{err.Error(), ee.Err, ee.Description, ee.TraceID, ee.CorrelationID}, guidanceTexts(g)...) {
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("control characters survive: %q", s)
		}
	}
	if ee.TraceID != "0b1c2d3e-0000-4000-8000-000000000001" || ee.CorrelationID != "9f8e7d6c-0000-4000-8000-000000000002" {
		t.Errorf("IDs unreadable: %q %q", ee.TraceID, ee.CorrelationID)
	}
	if !strings.Contains(ee.Description, "\n") {
		t.Errorf("description lost its lines: %q", ee.Description)
	}
	ge := graphErrorFrom(t, `{"error":{"code":"Bad`+`\u001b[2J","message":"no`+`\u001b]52;c;QQ==\u0007pe"}}`)
	if strings.ContainsAny(ge.Error(), "\x1b\x07") {
		t.Errorf("Graph error keeps control characters: %q", ge.Error())
	}
}

// graphErrorFrom decodes body as Graph's 400 answer to /me.
func graphErrorFrom(t *testing.T, body string) *GraphError {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	_, err := testClient(srv.URL, webApp(), nil).Me(context.Background(), "tok")
	var ge *GraphError
	if !errors.As(err, &ge) {
		t.Fatalf("not a Graph error: %v", err)
	}
	return ge
}

func TestMeFieldsAreCleaned(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"u1","displayName":"Ada\u001b[2J\u001b]0;title\u0007 Lovelace\u202e","userPrincipalName":"ada@contoso.example\u001b]52;c;QQ==\u0007","mail":"ada\r\n@contoso.example` + strings.Repeat("x", 5000) + `"}`))
	}))
	defer srv.Close()
	u, err := testClient(srv.URL, webApp(), nil).Me(context.Background(), "tok")
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "Ada Lovelace" || u.UserPrincipalName != "ada@contoso.example" {
		t.Errorf("not cleaned: %q %q", u.DisplayName, u.UserPrincipalName)
	}
	if strings.ContainsAny(u.Mail, "\r\n") || len(u.Mail) > 400 {
		t.Errorf("mail not cleaned or clipped: %d bytes", len(u.Mail))
	}
}

func TestDeviceWaitEndingDuringPollIsTheWait(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	c := testClient(base, App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}, nil)
	dc, err := c.StartDevice(context.Background(), basicScopes)
	if err != nil {
		t.Fatal(err)
	}
	sim.AddFault(simulator.Fault{Endpoint: "token", Delay: 5 * time.Second})
	_, err = c.PollDevice(ctxTimeout(t, 300*time.Millisecond), dc)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrNoAnswer) {
		t.Errorf("got %v; want the wait's own deadline", err)
	}
}

package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func listen(t *testing.T) *Loopback {
	t.Helper()
	lb, err := ListenLoopback(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lb.Close() })
	return lb
}

func TestLoopbackBasics(t *testing.T) { // not parallel: goroutineCheck counts the whole process
	check := goroutineCheck(t)
	lb, err := ListenLoopback(0)
	if err != nil {
		t.Fatal(err)
	}
	if lb.Port() == 0 || lb.RedirectURI() != fmt.Sprintf("http://localhost:%d/", lb.Port()) {
		t.Errorf("port %d redirect %s", lb.Port(), lb.RedirectURI())
	}
	// Bound to 127.0.0.1 only.
	if c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", lb.Port())); err != nil {
		t.Errorf("not reachable on 127.0.0.1: %v", err)
	} else {
		c.Close()
	}
	lb.Expect("s1")
	if st, body := get(t, lb.RedirectURI()); st != http.StatusBadRequest || !strings.Contains(body, "only receives") {
		t.Errorf("bare hit: %d", st)
	}
	if st, _ := get(t, lb.RedirectURI()+"favicon.ico"); st != http.StatusNotFound {
		t.Errorf("favicon: %d", st)
	}
	resp, err := noRedirect().Post(lb.RedirectURI()+"?code=c&state=s1", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	hreq, _ := http.NewRequest(http.MethodHead, lb.RedirectURI()+"?code=c&state=s1", nil)
	if resp, err := noRedirect().Do(hreq); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD must not settle: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// A request with a foreign Host header (DNS rebinding) is not served.
	req, _ := http.NewRequest(http.MethodGet, lb.RedirectURI()+"?code=c&state=s1", nil)
	req.Host = "evil.example:80"
	resp, err = noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("foreign host: %d", resp.StatusCode)
	}

	st, body := get(t, lb.RedirectURI()+"?code=thecode&state=s1")
	if st != 200 || !strings.Contains(body, "Signed in") {
		t.Errorf("callback page %d", st)
	}
	cb, err := lb.Wait(context.Background())
	if err != nil || cb.Code != "thecode" || cb.State != "s1" {
		t.Fatalf("wait: %+v %v", cb, err)
	}
	// Wait again returns the same result.
	if cb2, err := lb.Wait(context.Background()); err != nil || cb2 != cb {
		t.Errorf("second wait: %+v %v", cb2, err)
	}
	if err := lb.Close(); err != nil {
		t.Error(err)
	}
	if err := lb.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := noRedirect().Get(lb.RedirectURI()); err == nil {
		t.Error("still serving after Close")
	}
	check()
}

func TestLoopbackStateMismatch(t *testing.T) {
	t.Parallel()
	lb := listen(t)
	lb.Expect("right")
	st, body := get(t, lb.RedirectURI()+"?code=foreign&state=wrong")
	if st != http.StatusBadRequest || !strings.Contains(body, "different sign-in attempt") {
		t.Errorf("mismatch page %d %s", st, body)
	}
	// Missing state is foreign too.
	if st, _ := get(t, lb.RedirectURI()+"?code=foreign"); st != http.StatusBadRequest {
		t.Errorf("no state: %d", st)
	}
	// Nothing settled: a short wait ends with ErrStateMismatch.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := lb.Wait(ctx); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("want ErrStateMismatch, got %v", err)
	}
	// The real answer still settles it afterwards.
	go func() { _, _, _ = fetch(lb.RedirectURI() + "?code=real&state=right") }()
	cb, err := lb.Wait(ctxTimeout(t, 5*time.Second))
	if err != nil || cb.Code != "real" {
		t.Fatalf("%+v %v", cb, err)
	}
}

func TestLoopbackErrorCallback(t *testing.T) {
	t.Parallel()
	lb := listen(t)
	lb.Expect("st")
	q := "?error=access_denied&error_subcode=cancel&state=st&error_description=" +
		"AADSTS65004%3a+User+declined+to+consent+to+access+the+app.%0d%0aTrace+ID%3a+abc-trace%0d%0aCorrelation+ID%3a+corr"
	st, body := get(t, lb.RedirectURI()+q)
	if st != 200 || !strings.Contains(body, "Sign-in failed") || !strings.Contains(body, "Consent declined") {
		t.Errorf("page %d %s", st, body)
	}
	cb, err := lb.Wait(context.Background())
	if err != nil || cb.Err == nil {
		t.Fatalf("%+v %v", cb, err)
	}
	if cb.Err.Code() != 65004 || cb.Err.TraceID != "abc-trace" || cb.Err.CorrelationID != "corr" || cb.Err.SubCode != "cancel" {
		t.Errorf("decoded %+v", cb.Err)
	}
}

func TestLoopbackPageEscapes(t *testing.T) {
	t.Parallel()
	lb := listen(t)
	lb.Expect("st")
	_, body := get(t, lb.RedirectURI()+"?error=x&state=st&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	if strings.Contains(body, "<script>") {
		t.Error("description not escaped")
	}
}

func TestLoopbackWithoutExpect(t *testing.T) {
	t.Parallel()
	lb := listen(t)
	go func() { _, _, _ = fetch(lb.RedirectURI() + "?code=c&state=any") }()
	cb, err := lb.Wait(ctxTimeout(t, 5*time.Second))
	if err != nil || cb.State != "any" {
		t.Fatalf("%+v %v", cb, err)
	}
	req := &AuthRequest{State: "other"}
	if _, err := req.CodeFrom(cb); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("CodeFrom: %v", err)
	}
}

func TestLoopbackCancelAndTimeout(t *testing.T) { // not parallel: goroutineCheck counts the whole process
	check := goroutineCheck(t)
	lb, err := ListenLoopback(0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := lb.Wait(ctx)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer tcancel()
	_, err = lb.Wait(tctx)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	if g := Explain(err, App{}); g.Step != StepConsent || !strings.Contains(g.Action, "paste") {
		t.Errorf("guidance %+v", g)
	}
	// Close while someone waits.
	go func() {
		_, err := lb.Wait(context.Background())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = lb.Close() }()
	}
	wg.Wait()
	if err := <-done; !errors.Is(err, ErrLoopbackClosed) {
		t.Errorf("close during wait: %v", err)
	}
	check()
}

func TestLoopbackPortInUse(t *testing.T) {
	t.Parallel()
	first := listen(t)
	_, err := ListenLoopback(first.Port())
	var pe *PortInUseError
	if !errors.As(err, &pe) || pe.Port != first.Port() {
		t.Fatalf("want *PortInUseError, got %v", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(first.Port())) {
		t.Errorf("message %q", err)
	}
	if g := Explain(err, App{}); !strings.Contains(g.Action, "--port") {
		t.Errorf("guidance %+v", g)
	}
	if _, err := ListenLoopback(70000); err == nil {
		t.Error("port 70000 accepted")
	}
}

func TestLoopbackConcurrentHits(t *testing.T) {
	t.Parallel()
	lb := listen(t)
	lb.Expect("st")
	var wg sync.WaitGroup
	var mu sync.Mutex
	signedIn := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, body, err := fetch(fmt.Sprintf("%s?code=c%d&state=st", lb.RedirectURI(), i))
			if err != nil {
				t.Error(err)
			}
			if strings.Contains(body, "Signed in") {
				mu.Lock()
				signedIn++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if signedIn != 1 {
		t.Errorf("%d tabs said signed in, want 1", signedIn)
	}
	if _, err := lb.Wait(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestCallbackPage(t *testing.T) {
	t.Parallel()
	p := string(CallbackPage(false, "T<", "D&", "R\""))
	if !strings.Contains(p, "T&lt;") || !strings.Contains(p, "D&amp;") || !strings.Contains(p, "R&#34;") || !strings.Contains(p, "return to the terminal") {
		t.Errorf("page %s", p)
	}
	if !strings.Contains(p, `<main class="fail">`) || !strings.Contains(p, "<pre>R&#34;</pre>") {
		t.Errorf("failure page %s", p)
	}
	// Values that look like markup or like the page's own placeholders stay text.
	p = string(CallbackPage(true, "{{.Raw}}</title><script>x</script>", "{{.Class}}' onload='x", ""))
	for _, bad := range []string{"<script>", "onload='", "<pre>"} {
		if strings.Contains(p, bad) {
			t.Errorf("page holds %q: %s", bad, p)
		}
	}
	if !strings.Contains(p, `<main class="ok">`) || !strings.Contains(p, "<h1>{{.Raw}}&lt;/title&gt;&lt;script&gt;") ||
		!strings.Contains(p, "<p>{{.Class}}&#39; onload=&#39;x</p>") {
		t.Errorf("success page %s", p)
	}
}

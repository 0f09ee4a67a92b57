package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// entraBodyFor builds a token-endpoint error body in Entra's shape.
func entraBodyFor(oauthErr string, code int, text string) []byte {
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0b1c2d3e-0000-4000-8000-000000000001\r\nCorrelation ID: 9f8e7d6c-0000-4000-8000-000000000002\r\nTimestamp: 2026-01-02 03:04:05Z", code, text)
	b, _ := json.Marshal(map[string]any{
		"error": oauthErr, "error_description": desc, "error_codes": []int{code},
		"timestamp": "2026-01-02 03:04:05Z", "trace_id": "0b1c2d3e-0000-4000-8000-000000000001",
		"correlation_id": "9f8e7d6c-0000-4000-8000-000000000002",
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code),
	})
	return b
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	app := webApp()
	cases := []struct {
		code     int
		oauthErr string
		step     Step
		class    Class
		link     string // portal blade the link must open, "" for none
	}{
		{7000215, "invalid_client", StepSecret, ClassSecret, "Credentials"},
		{7000222, "invalid_client", StepSecret, ClassSecret, "Credentials"},
		{70002, "invalid_client", StepSecret, ClassSecret, "Credentials"},
		{7000218, "invalid_client", StepSecret, ClassOther, "Credentials"}, // web profile: the secret is missing
		{700025, "invalid_client", StepRegister, ClassOther, "Authentication"},
		{700016, "unauthorized_client", StepIDs, ClassApp, "Overview"},
		{700011, "unauthorized_client", StepIDs, ClassApp, "Overview"},
		{50011, "invalid_request", StepRegister, ClassOther, "Authentication"},
		{500113, "invalid_request", StepRegister, ClassOther, "Authentication"},
		{65001, "invalid_grant", StepConsent, ClassConsent, "CallAnAPI"},
		{65004, "access_denied", StepConsent, ClassConsent, ""},
		{90094, "access_denied", StepPermissions, ClassConsent, "CallAnAPI"},
		{90095, "access_denied", StepPermissions, ClassConsent, "CallAnAPI"},
		{50194, "invalid_request", StepAccount, ClassOther, "Authentication"},
		{50020, "invalid_request", StepAccount, ClassOther, "Authentication"},
		{500200, "invalid_request", StepAccount, ClassOther, "Authentication"},
		{9002331, "invalid_request", StepAccount, ClassOther, ""},
		{9002332, "invalid_request", StepAccount, ClassOther, ""},
		{70011, "invalid_scope", StepPermissions, ClassOther, "CallAnAPI"},
		{700022, "invalid_scope", StepPermissions, ClassOther, ""},
		{70000, "invalid_grant", StepConsent, ClassConsent, ""},
		{70008, "invalid_grant", StepConsent, ClassConsent, ""},
		{700082, "invalid_grant", StepConsent, ClassConsent, ""},
		{70043, "invalid_grant", StepConsent, ClassConsent, ""},
		{50173, "invalid_grant", StepConsent, ClassConsent, ""},
		{54005, "invalid_grant", StepConsent, ClassConsent, ""},
		{501481, "invalid_grant", StepConsent, ClassConsent, ""},
		{50076, "invalid_grant", StepConsent, ClassConsent, ""},
		{53003, "access_denied", StepNone, ClassOther, ""},
		{9001023, "invalid_request", StepAccount, ClassOther, "Overview"},
		{90002, "invalid_request", StepAccount, ClassApp, "Overview"},
	}
	known := map[int]bool{}
	for _, g := range KnownErrors() {
		known[g.Code] = true
		if g.Title == "" || g.Meaning == "" || g.Action == "" {
			t.Errorf("KnownErrors %d incomplete: %+v", g.Code, g)
		}
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			if !known[tc.code] {
				t.Errorf("%d missing from KnownErrors", tc.code)
			}
			err := DecodeError("token", 400, entraBodyFor(tc.oauthErr, tc.code, "Some text from Microsoft."), testSecret)
			var ee *EntraError
			if !errors.As(err, &ee) || ee.Code() != tc.code || ee.Err != tc.oauthErr {
				t.Fatalf("decoded %v", err)
			}
			if ee.TraceID == "" || ee.CorrelationID == "" || !strings.HasPrefix(err.Error(), fmt.Sprintf("AADSTS%d:", tc.code)) {
				t.Errorf("decoded %+v, Error %q", ee, err)
			}
			g := Explain(err, app)
			if g.Code != tc.code || g.Step != tc.step || g.Action == "" || g.Title == "" || g.Meaning == "" {
				t.Errorf("guidance %+v", g)
			}
			if Classify(err) != tc.class {
				t.Errorf("class %v, want %v", Classify(err), tc.class)
			}
			if tc.link == "" && g.PortalLink != "" || tc.link != "" && !strings.Contains(g.PortalLink, "/"+tc.link+"/appId/"+testClientID) {
				t.Errorf("portal link %q, want blade %q", g.PortalLink, tc.link)
			}
			if !strings.Contains(g.Raw, "Some text from Microsoft.") || !strings.Contains(g.Raw, "0b1c2d3e") {
				t.Errorf("raw %q", g.Raw)
			}
			noSecretIn(t, testSecret, append(guidanceTexts(g), err.Error())...)
			// The same guidance from the text of Microsoft's page.
			if tg := ExplainText("Sorry, but we're having trouble signing you in.\n"+ee.Description, app); tg.Code != tc.code || tg.Step != g.Step {
				t.Errorf("ExplainText %+v", tg)
			}
		})
	}
	// The device profile gets the public-client advice for 7000218.
	pub := App{ClientID: publicClientID, Kind: KindPublic}
	if g := Explain(DecodeError("token", 401, entraBodyFor("invalid_client", 7000218, "x")), pub); g.Step != StepRegister {
		t.Errorf("7000218 for device: %+v", g)
	}
}

func TestUnknownEntraCode(t *testing.T) {
	t.Parallel()
	err := DecodeError("token", 400, entraBodyFor("invalid_request", 1234567, "Something new happened."))
	g := Explain(err, webApp())
	if g.Code != 1234567 || !strings.Contains(g.Raw, "AADSTS1234567: Something new happened.") ||
		!strings.Contains(g.Raw, "Trace ID: 0b1c2d3e-0000-4000-8000-000000000001") || g.Title == "" || g.Action == "" {
		t.Errorf("guidance %+v", g)
	}
	if Classify(err) != ClassOther {
		t.Errorf("class %v", Classify(err))
	}
	// invalid_grant without a known code still means "sign in again".
	err = DecodeError("token", 400, []byte(`{"error":"invalid_grant","error_description":"nope"}`))
	if Classify(err) != ClassConsent || Explain(err, App{}).Step != StepConsent {
		t.Errorf("bare invalid_grant: %v", err)
	}
	// Microsoft's 5xx JSON is a network-class problem.
	err = DecodeError("token", 503, []byte(`{"error":"temporarily_unavailable","error_description":"AADSTS90033: busy"}`))
	if Classify(err) != ClassNetwork {
		t.Errorf("temporarily_unavailable: %v", Classify(err))
	}
}

func TestDecodeErrorNotEntra(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "<html>502 Bad Gateway</html>", `{"error":`, `{"foo":1}`, `[]`} {
		err := DecodeError("token", 502, []byte(body))
		var re *ResponseError
		if !errors.As(err, &re) || Classify(err) != ClassNetwork {
			t.Errorf("body %q: %v", body, err)
		}
		if strings.Contains(err.Error(), "Bad Gateway") {
			t.Error("the body leaked into the message")
		}
	}
	// Codes from the description when error_codes is missing; odd error_codes types are tolerated.
	err := DecodeError("token", 400, []byte(`{"error":"invalid_client","error_codes":"x","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t1\r\nCorrelation ID: c1"}`))
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Code() != 7000215 || ee.TraceID != "t1" || ee.CorrelationID != "c1" {
		t.Errorf("decoded %+v", ee)
	}
}

func TestErrorsNeverEchoSecrets(t *testing.T) {
	t.Parallel()
	secret := "s3c8Q~plantedSecretValueThatMustNotLeak0"
	body, _ := json.Marshal(map[string]any{"error": "invalid_client " + secret,
		"error_description": "AADSTS7000215: you sent " + secret + " which is wrong", "trace_id": secret})
	err := DecodeError("token", 401, body, secret)
	noSecretIn(t, secret, err.Error())
	noSecretIn(t, secret, guidanceTexts(Explain(err, App{ClientSecret: secret}))...)
}

func TestNetworkFaults(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	app := App{Tenant: testTenant, ClientID: testClientID, ClientSecret: testSecret, Kind: KindWeb, RedirectURI: "http://localhost:53365/"}

	t.Run("5xx", func(t *testing.T) {
		sim.AddFault(simulator.Fault{Endpoint: "token", Status: 503, Body: "<html>Service Unavailable</html>", Times: 2})
		c := testClient(base, app, nil)
		err := c.CheckSecret(context.Background())
		var re *ResponseError
		if !errors.As(err, &re) || re.Status != 503 || Classify(err) != ClassNetwork {
			t.Fatalf("got %v", err)
		}
		// The same through x/oauth2's code redemption.
		req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
		_, err = c.Exchange(context.Background(), req, "some-code-value")
		if !errors.As(err, &re) || Classify(err) != ClassNetwork {
			t.Fatalf("exchange: %v", err)
		}
		g := Explain(err, app)
		if g.Title == "" || !strings.Contains(g.Meaning, "503") {
			t.Errorf("guidance %+v", g)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		sim.AddFault(simulator.Fault{Endpoint: "token", Status: 200, Body: `{"access_token": "abc", `, Times: 3})
		c := testClient(base, app, nil)
		if err := c.CheckSecret(context.Background()); Classify(err) != ClassNetwork || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("client credentials: %v", err)
		}
		if _, err := c.Refresh(context.Background(), "rt-value-0000000", nil); Classify(err) != ClassNetwork {
			t.Errorf("refresh: %v", err)
		}
		req, _ := c.NewAuthRequest(basicScopes, "http://localhost:53365/")
		_, err := c.Exchange(context.Background(), req, "some-code-value")
		if Classify(err) != ClassNetwork || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("exchange: %v", err)
		}
	})
	t.Run("200 without token", func(t *testing.T) {
		sim.AddFault(simulator.Fault{Endpoint: "token", Status: 200, Body: `{"token_type":"Bearer"}`, Times: 1})
		c := testClient(base, app, nil)
		if err := c.CheckSecret(context.Background()); Classify(err) != ClassNetwork {
			t.Errorf("got %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		sim.AddFault(simulator.Fault{Endpoint: "token", Delay: 10 * time.Second, Times: 1})
		c := testClient(base, app, keepAliveOff(100*time.Millisecond))
		start := time.Now()
		err := c.CheckSecret(context.Background())
		var ne *NetworkError
		if !errors.As(err, &ne) || !ne.Timeout() || Classify(err) != ClassNetwork {
			t.Fatalf("got %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Error("the client timeout was not honoured")
		}
		if g := Explain(err, app); !strings.Contains(g.Title, "in time") {
			t.Errorf("guidance %+v", g)
		}
		noSecretIn(t, testSecret, err.Error())
	})
	t.Run("me 5xx", func(t *testing.T) {
		sim.AddFault(simulator.Fault{Endpoint: "me", Status: 502, Body: "bad gateway", Times: 1})
		c := testClient(base, app, nil)
		if _, err := c.Me(context.Background(), "x"); Classify(err) != ClassNetwork {
			t.Errorf("got %v", err)
		}
	})
	t.Run("devicecode fault", func(t *testing.T) {
		sim.AddFault(simulator.Fault{Endpoint: "devicecode", Status: 500, Body: "{}", Times: 1})
		c := testClient(base, App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}, nil)
		if _, err := c.StartDevice(context.Background(), basicScopes); Classify(err) != ClassNetwork {
			t.Errorf("got %v", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		dead := "http://127.0.0.1:" + strconv.Itoa(testport.Free()) // nobody listens there
		c := testClient(dead, app, nil)
		err := c.CheckSecret(context.Background())
		var ne *NetworkError
		if !errors.As(err, &ne) || Classify(err) != ClassNetwork || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("got %v", err)
		}
		if _, err := c.Me(context.Background(), "tok"); Classify(err) != ClassNetwork {
			t.Errorf("me: %v", err)
		}
	})
	t.Run("dns", func(t *testing.T) {
		c := testClient("http://login.invalid", app, keepAliveOff(2*time.Second))
		err := c.CheckSecret(context.Background())
		if Classify(err) != ClassNetwork {
			t.Errorf("got %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c := testClient(base, app, nil)
		err := c.CheckSecret(ctx)
		if !errors.Is(err, context.Canceled) || Classify(err) == ClassNetwork {
			t.Errorf("got %v", err)
		}
		if g := Explain(err, app); g.Title != "Cancelled" {
			t.Errorf("guidance %+v", g)
		}
	})
}

func TestNoOriginHeader(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	sim.SetDeviceApproval(0)
	sim.SetDeviceInterval(0)
	// Every request the client makes passes through this transport; none may carry Origin.
	var seen int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen++
		if r.Header.Get("Origin") != "" {
			t.Errorf("%s %s carries Origin", r.Method, r.URL.Path)
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	web := testClient(base, webApp(), hc)
	tok := signIn(t, web, basicScopes)
	if _, err := web.Refresh(context.Background(), tok.RefreshToken, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := web.Me(context.Background(), tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := web.CheckSecret(context.Background()); err != nil {
		t.Fatal(err)
	}
	dev := testClient(base, App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}, hc)
	dc, err := dev.StartDevice(context.Background(), basicScopes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.PollDevice(context.Background(), dc); err != nil {
		t.Fatal(err)
	}
	if seen < 6 || sim.OriginHeaders() != 0 {
		t.Errorf("seen %d requests, %d with Origin at the server", seen, sim.OriginHeaders())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestExplainText(t *testing.T) {
	t.Parallel()
	app := webApp()
	page := `Sign in
Sorry, but we're having trouble signing you in.
AADSTS50011: The redirect URI 'http://localhost:8400/' specified in the request does not match the redirect URIs configured for the application '0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b'.
Request Id: 1d2c3b4a-0000-4000-8000-000000000009`
	g := ExplainText(page, app)
	if g.Code != 50011 || g.Step != StepRegister || !strings.Contains(g.Action, "http://localhost:8400/") ||
		!strings.Contains(g.PortalLink, "Authentication") || !strings.Contains(g.Raw, "1d2c3b4a") {
		t.Errorf("50011 %+v", g)
	}
	// Without a quoted URI, the app's own redirect URI is named.
	if g := ExplainText("AADSTS50011: The reply URL specified in the request does not match", app); !strings.Contains(g.Action, app.RedirectURI) {
		t.Errorf("50011 without URI: %+v", g)
	}
	if g := ExplainText("AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.", app); g.Step != StepIDs {
		t.Errorf("700016 %+v", g)
	}
	if g := ExplainText("AADSTS500113: No reply address is registered for the application.", app); g.Step != StepRegister {
		t.Errorf("500113 %+v", g)
	}
	if g := ExplainText("  it just said something went wrong  ", app); g.Code != 0 || g.Raw != "it just said something went wrong" || g.Action == "" {
		t.Errorf("no code %+v", g)
	}
	if g := ExplainText("AADSTS999999: brand new. Trace ID: abc", app); g.Code != 999999 || !strings.Contains(g.Raw, "brand new") {
		t.Errorf("unknown %+v", g)
	}
	// 7000215 with a GUID as the secret points at the Secret ID mix-up.
	withID := app
	withID.ClientSecret = testSecretID
	if g := ExplainText("AADSTS7000215: Invalid client secret provided.", withID); !strings.Contains(g.Meaning, "Secret ID") {
		t.Errorf("secret id %+v", g)
	}
}

func TestExplainOtherErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err   error
		step  Step
		class Class
	}{
		{ErrStateMismatch, StepConsent, ClassOther},
		{ErrTimeout, StepConsent, ClassOther},
		{ErrDeclined, StepConsent, ClassConsent},
		{ErrExpired, StepConsent, ClassOther},
		{ErrCheckSkipped, StepNone, ClassOther},
		{ErrNativeClient, StepRegister, ClassOther},
		{ErrNoCode, StepConsent, ClassOther},
		{&PortInUseError{Port: 53365}, StepConsent, ClassOther},
		{&GraphError{Status: 401, Code: "InvalidAuthenticationToken"}, StepConsent, ClassConsent},
		{&GraphError{Status: 503}, StepNone, ClassNetwork},
		{context.DeadlineExceeded, StepNone, ClassNetwork},
		{fmt.Errorf("wrapped: %w", &NetworkError{Host: "h", Err: errors.New("boom")}), StepNone, ClassNetwork},
		{errors.New("something odd"), StepNone, ClassOther},
	}
	for _, tc := range cases {
		g := Explain(tc.err, webApp())
		if g.Step != tc.step || g.Title == "" || Classify(tc.err) != tc.class {
			t.Errorf("%v: guidance %+v class %v", tc.err, g, Classify(tc.err))
		}
	}
	if g := Explain(nil, App{}); g != (Guidance{}) {
		t.Errorf("nil: %+v", g)
	}
	if Classify(nil) != ClassOther {
		t.Error("nil class")
	}
}

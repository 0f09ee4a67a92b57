package oauth

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRedirect(t *testing.T) {
	t.Parallel()
	const code = "0.AXoAabc-DEF_ghi.jkl~mno*pqr"
	cases := []struct {
		name, in   string
		code, st   string
		errCode    int
		wantErr    error
		anyErr     bool
		errSubcode string
	}{
		{name: "full URL", in: "http://localhost:53365/?code=" + code + "&state=S1&session_state=x", code: code, st: "S1"},
		{name: "https and port", in: "https://localhost:8400/cb?state=S1&code=" + code, code: code, st: "S1"},
		{name: "wrapped by the terminal", in: "http://localhost:53365/?code=0.AXoAabc-DEF\n_ghi.jkl~mno*pqr&sta\r\nte=S1", code: code, st: "S1"},
		{name: "quoted", in: "'\"http://localhost:53365/?code=" + code + "&state=S1\"'", code: code, st: "S1"},
		{name: "angle brackets", in: "<http://localhost:53365/?code=" + code + "&state=S1>", code: code, st: "S1"},
		{name: "query with ?", in: "?code=" + code + "&state=S1", code: code, st: "S1"},
		{name: "query without ?", in: "state=S1&code=" + code, code: code, st: "S1"},
		{name: "fragment", in: "http://localhost:53365/#code=" + code + "&state=S1", code: code, st: "S1"},
		{name: "bare code", in: "  " + code + "\n", code: code},
		{name: "percent-encoded", in: "http://localhost:53365/?code=a%2Bb%3Dc1234567&state=S%201", code: "a+b=c1234567", st: "S 1"},
		{name: "error redirect", in: "http://localhost:53365/?error=access_denied&error_subcode=cancel&state=S1&error_description=AADSTS65004%3a+User+declined.%0d%0aTrace+ID%3a+tr1", st: "S1", errCode: 65004, errSubcode: "cancel"},
		{name: "error via error_uri", in: "?error=invalid_request&error_uri=https%3a%2f%2flogin.microsoftonline.com%2ferror%3fcode%3d900144&state=S1", st: "S1", errCode: 900144},
		{name: "nativeclient", in: "https://login.microsoftonline.com/common/oauth2/nativeclient?code=" + code, wantErr: ErrNativeClient},
		{name: "empty", in: " \n\t ", anyErr: true},
		{name: "no code", in: "http://localhost:53365/?foo=bar", wantErr: ErrNoCode},
		{name: "only state", in: "http://localhost:53365/?state=S1", wantErr: ErrNoCode},
		{name: "prose", in: "I could not sign in", anyErr: true},
		{name: "short", in: "abc", anyErr: true},
		{name: "path only", in: "/oauth2/v2.0/authorize", anyErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cb, err := ParseRedirect(tc.in)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("want %v, got %v", tc.wantErr, err)
				}
				return
			case tc.anyErr:
				if err == nil {
					t.Fatalf("accepted %+v", cb)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if cb.Code != tc.code || cb.State != tc.st {
				t.Errorf("got code %q state %q", cb.Code, cb.State)
			}
			if tc.errCode != 0 {
				if cb.Err == nil || cb.Err.Code() != tc.errCode || cb.Err.SubCode != tc.errSubcode {
					t.Errorf("callback error %+v", cb.Err)
				}
			} else if cb.Err != nil {
				t.Errorf("unexpected callback error %v", cb.Err)
			}
		})
	}
}

func TestCodeFrom(t *testing.T) {
	t.Parallel()
	req := &AuthRequest{State: "good"}
	if c, err := req.CodeFrom(Callback{Code: "0.AXoAcode1234567890", State: "good"}); err != nil || c != "0.AXoAcode1234567890" {
		t.Errorf("%q %v", c, err)
	}
	if _, err := req.CodeFrom(Callback{Code: "x", State: "bad"}); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("mismatch: %v", err)
	}
	// A bare code has no state; PKCE protects it at redemption.
	if c, err := req.CodeFrom(Callback{Code: "0.AXoAcode1234567890"}); err != nil || c == "" {
		t.Errorf("bare: %q %v", c, err)
	}
	ee := &EntraError{Err: "access_denied", Codes: []int{90094}}
	if _, err := req.CodeFrom(Callback{State: "good", Err: ee}); !errors.As(err, new(*EntraError)) {
		t.Errorf("callback error: %v", err)
	}
	if _, err := req.CodeFrom(Callback{State: "good"}); !errors.Is(err, ErrNoCode) {
		t.Errorf("empty: %v", err)
	}
	if g := Explain(ErrNativeClient, webApp()); !strings.Contains(g.Action, "http://localhost:53365/") || g.Step != StepRegister {
		t.Errorf("nativeclient guidance %+v", g)
	}
}

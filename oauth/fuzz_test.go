package oauth

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// plantedSecret stands for the client secret, refresh token or code in a request: no error
// text may ever carry it.
const plantedSecret = "pl4nt8Q~ed.SecretValue_That-Must~Not.Leak"

func FuzzParseRedirect(f *testing.F) {
	f.Add("http://localhost:53365/?code=0.AXoAabc&state=xyz", "0.AXoAabc-DEF_ghi.jkl", "st4te")
	f.Add("?error=access_denied&error_description=AADSTS65004%3a+declined&state=s", "M.C5_BAY.2.U.1234", "")
	f.Add("code=abc&state=def", "a b\nc", "s&t=a#b")
	f.Add("\"http://localhost:53365/\r\n?code=x\"", "'quoted'", "<angle>")
	f.Add("https://login.microsoftonline.com/common/oauth2/nativeclient?code=x", "%zz", "%")
	f.Fuzz(func(t *testing.T, input, code, state string) {
		cb, err := ParseRedirect(input)
		if err == nil && cb.Code == "" && cb.Err == nil {
			t.Fatalf("no error, no code, no callback error for %q", input)
		}
		if code == "" {
			return
		}
		// Round trip: a redirect built from this code and state comes back unchanged, also
		// when the terminal breaks the line somewhere.
		q := url.Values{"code": {code}}
		if state != "" {
			q.Set("state", state)
		}
		u := "http://localhost:53365/?" + q.Encode()
		for _, in := range []string{u, "  " + u[:len(u)/2] + "\r\n" + u[len(u)/2:] + "\n"} {
			got, err := ParseRedirect(in)
			if err != nil {
				t.Fatalf("ParseRedirect(%q): %v", in, err)
			}
			if got.Code != code || got.State != state || got.Err != nil {
				t.Fatalf("round trip of %q/%q gave %+v", code, state, got)
			}
			req := &AuthRequest{State: state}
			if c, err := req.CodeFrom(got); state != "" && (err != nil || c != code) {
				t.Fatalf("CodeFrom: %q %v", c, err)
			}
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, []byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: c","error_codes":[7000215]}`))
	f.Add(401, []byte(`{"error":"invalid_client","error_description":"echo `+plantedSecret+`","trace_id":"`+plantedSecret+`"}`))
	f.Add(502, []byte(`<html>Bad gateway</html>`))
	f.Add(200, []byte(`{"error_codes":"nope","error":7}`))
	f.Add(400, []byte(`{"error":"x","error_description":"pl4nt8Q~ed.Secret\u0056alue_That-Must~Not.Leak"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		check := func(b []byte) {
			err := DecodeError("token", status, b, plantedSecret)
			if err == nil {
				t.Fatal("nil error")
			}
			texts := append(guidanceTexts(Explain(err, App{})), err.Error())
			var ee *EntraError
			if errors.As(err, &ee) {
				texts = append(texts, ee.Err, ee.Description, ee.TraceID, ee.CorrelationID)
				if ee.Err == "" {
					t.Fatal("EntraError without error field")
				}
			}
			for _, s := range texts {
				if strings.Contains(s, plantedSecret) {
					t.Fatalf("secret in %q", s)
				}
			}
			_ = Classify(err)
		}
		check(body)
		// The same body with the secret echoed by the server in every text field.
		s := string(body)
		echo, _ := json.Marshal(map[string]any{
			"error": s + plantedSecret, "error_description": plantedSecret + s + plantedSecret,
			"trace_id": plantedSecret, "correlation_id": s, "error_codes": []int{len(s)},
		})
		check(echo)
	})
}

func FuzzExplainText(f *testing.F) {
	f.Add("AADSTS50011: The redirect URI 'http://localhost:53365/' specified in the request does not match")
	f.Add("Sorry, but we're having trouble signing you in.\nAADSTS700016: Application with identifier 'x' was not found.\nRequest Id: abc")
	f.Add("AADSTS99999999999999999999: overflow")
	f.Add("no code here")
	f.Add("redirect uri '")
	f.Fuzz(func(t *testing.T, pasted string) {
		app := App{ClientID: testClientID, ClientSecret: plantedSecret, RedirectURI: "http://localhost:53365/"}
		g := ExplainText(pasted, app)
		if g.Title == "" || g.Action == "" {
			t.Fatalf("empty guidance for %q: %+v", pasted, g)
		}
		for _, m := range aadstsRE().FindAllStringSubmatch(pasted, -1) {
			if n, _ := strconv.Atoi(m[1]); n > 0 && g.Code == 0 {
				t.Fatalf("code %s not recognised", m[0])
			}
		}
		if !strings.Contains(pasted, plantedSecret) {
			for _, s := range guidanceTexts(g) {
				if strings.Contains(s, plantedSecret) {
					t.Fatalf("secret in %q", s)
				}
			}
		}
	})
}

package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
)

// TestTokenFormats: the token contract's output shapes and --min-valid.
func TestTokenFormats(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		tok := h.secrets("work").AccessToken

		r := h.run("", "token", "work", "--format", "header")
		expectCode(t, r, 0)
		if r.stdout != "Authorization: Bearer "+tok+"\n" {
			t.Errorf("header: %q", r.stdout)
		}
		for _, tc := range []struct {
			args []string
			user string
		}{
			{[]string{"token", "work", "--format", "xoauth2"}, testUPN},
			{[]string{"token", "work", "--format", "xoauth2", "--user", "shared@contoso.example"}, "shared@contoso.example"},
		} {
			r = h.run("", tc.args...)
			expectCode(t, r, 0)
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.stdout))
			if err != nil || string(raw) != "user="+tc.user+"\x01auth=Bearer "+tok+"\x01\x01" {
				t.Errorf("xoauth2 %v: %q (%v)", tc.args, raw, err)
			}
		}
		r = h.run("", "token", "work", "--format", "json")
		var j tokenJSON
		if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || j.AccessToken != tok {
			t.Errorf("json: %q", r.stdout)
		}
		expectCode(t, h.run("", "token", "work", "--format", "yaml"), ExitUsage)
		expectCode(t, h.run("", "token", "work", "--min-valid", "0s"), ExitUsage)

		// 40 minutes left serves the cache by default, and refreshes when 45 are asked for.
		h.expireCache("work", time.Now().Add(40*time.Minute))
		before := h.sim.Count("token", "refresh_token")
		r = h.run("", "token", "work")
		if r.stdout != tok+"\n" || h.sim.Count("token", "refresh_token") != before {
			t.Fatalf("the cached token was not served: %q", r.stdout)
		}
		r = h.run("", "token", "work", "--min-valid", "45m")
		expectCode(t, r, 0)
		if r.stdout == tok+"\n" || h.sim.Count("token", "refresh_token") != before+1 {
			t.Errorf("--min-valid 45m did not refresh")
		}
	})
}

// TestExec: the program gets a fresh token and the account in its environment, never on its
// command line, and exec ends with its exit code.
func TestExec(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		out := filepath.Join(t.TempDir(), "seen")
		script := `printf '%s %s' "$M365CREDS_ACCESS_TOKEN" "$M365CREDS_ACCOUNT" > "$0"; exit 7`
		r := h.run("", "exec", "work", "--", "sh", "-c", script, out)
		expectCode(t, r, 7)
		seen, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		tok := h.secrets("work").AccessToken
		if string(seen) != tok+" "+testUPN {
			t.Errorf("the program saw %q", seen)
		}
		expectCode(t, h.run("", "exec", "work", "--", "/nonexistent/program"), 127)
		expectCode(t, h.run("", "exec", "work"), ExitUsage)
		expectCode(t, h.run("", "exec"), ExitUsage)
	})
}

// TestExport: env refuses a user's refresh token unless asked; the MSAL cache carries the
// keychain's refresh token; -o writes mode 0600.
func TestExport(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		sec := h.secrets("work")
		r := h.run("", "export", "work", "--format", "env")
		expectCode(t, r, ExitUsage)
		expectContains(t, "stderr", r.stderr, "--include-refresh-token")
		if strings.Contains(r.stdout+r.stderr, sec.RefreshToken) || strings.Contains(r.stdout+r.stderr, testSecret) {
			t.Fatal("a refused export printed a secret")
		}
		r = h.run("", "export", "work", "--format", "env", "--include-refresh-token")
		expectCode(t, r, 0)
		expectContains(t, "stdout", r.stdout, "AZURE_CLIENT_ID="+webClientID, "AZURE_CLIENT_SECRET="+testSecret, "M365CREDS_REFRESH_TOKEN="+sec.RefreshToken)
		expectContains(t, "stderr", r.stderr, "copy of the refresh token")

		file := filepath.Join(t.TempDir(), "msal.json")
		if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		r = h.run("", "export", "work", "--format", "msal-cache", "-o", file)
		expectCode(t, r, 0)
		fi, err := os.Stat(file)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v", fi.Mode(), err)
		}
		var cache struct {
			RefreshToken map[string]struct{ Secret string }   `json:"RefreshToken"`
			Account      map[string]struct{ Username string } `json:"Account"`
		}
		raw, _ := os.ReadFile(file)
		if err := json.Unmarshal(raw, &cache); err != nil || len(cache.RefreshToken) != 1 || len(cache.Account) != 1 {
			t.Fatalf("cache %s (%v)", raw, err)
		}
		for _, rt := range cache.RefreshToken {
			if rt.Secret != h.secrets("work").RefreshToken {
				t.Error("the cache's refresh token is not the keychain's")
			}
		}
		expectCode(t, h.run("", "export", "work"), ExitUsage)
	})
}

// TestPublicClientLoopback: --credential none signs in through the browser flow as a public
// client (Mobile and desktop redirect, PKCE), never sends a secret, and refreshes.
func TestPublicClientLoopback(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	r := h.run("", "setup", "--no-input", "--profile", "pub", "--account-type", "multi", "--tenant", testTenantID,
		"--client-id", publicClientID, "--credential", "none", "--port", itoa(h.port))
	expectCode(t, r, 0)
	p, err := h.store().Profile("pub")
	if err != nil || p.Kind != "public" || p.SecretExpires.IsZero() == false {
		t.Fatalf("profile %+v %v", p, err)
	}
	h.expireCache("pub", time.Now().Add(-time.Minute))
	r = h.run("", "token", "pub")
	expectCode(t, r, 0)
	if h.sim.Count("token", "refresh_token") != 1 {
		t.Errorf("%d refreshes", h.sim.Count("token", "refresh_token"))
	}
	if n := h.sim.SecretsSent(""); n != 0 {
		t.Errorf("%d requests carried a client secret", n)
	}
	r = h.run("", "status", "pub")
	expectContains(t, "stdout", r.stdout, "public (no secret)")
	expectCode(t, h.run("", "rotate", "pub", "--no-input", "--client-secret-stdin", "--secret-expires", "12m"), ExitUsage)
	expectCode(t, h.run("", "setup", "--no-input", "--client-id", publicClientID, "--flow", "app", "--credential", "none"), ExitUsage)
}

// TestSetupRegisterAuto: an administrator reaches a saved, working profile with no portal step:
// m365creds creates the app through Graph, then signs in with it.
func TestSetupRegisterAuto(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		r := h.run("", "setup", "--no-input", "--register", "auto", "--profile", "auto", "--tenant", testTenantID,
			"--port", itoa(h.port), "--preset", "basic", "--grant-admin-consent", "--app-name", "robot mail")
		expectCode(t, r, 0)
		expectContains(t, "stderr", r.stderr, "Microsoft Graph Command Line Tools", "Created the app registration", "Saved profile")
		p, err := h.store().Profile("auto")
		if err != nil || p.AppObjectID == "" || p.SecretKeyID == "" || p.ClientID == webClientID {
			t.Fatalf("profile %+v %v", p, err)
		}
		if strings.Contains(r.stdout+r.stderr, h.secrets("auto").ClientSecret) {
			t.Error("the new secret was printed")
		}
		expectCode(t, h.run("", "verify", "auto"), 0)
		expectCode(t, h.run("", "setup", "--no-input", "--register", "auto", "--client-id", webClientID), ExitUsage)
		expectCode(t, h.run("", "setup", "--no-input", "--register", "sometimes"), ExitUsage)
	})
}

// TestSetupRegisterAutoNeedsAdmin: a member whose organisation has not approved the sign-in
// app gets exit 4 and the admin-consent link to send on.
func TestSetupRegisterAutoNeedsAdmin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.sim.SetUserAdmin(testUPN, false)
	r := h.run("", "setup", "--no-input", "--register", "auto", "--profile", "auto", "--tenant", testTenantID, "--port", itoa(h.port))
	expectCode(t, r, ExitConsent)
	expectContains(t, "stderr", r.stderr, "/v2.0/adminconsent?client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e", "Application.ReadWrite.All")
	if _, err := h.store().Profile("auto"); err == nil {
		t.Error("a profile was saved")
	}
}

// TestRotateViaGraph: a profile created through Graph gets a new secret through Graph with no
// outage, and the old secret is removed afterwards.
func TestRotateViaGraph(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		expectCode(t, h.run("", "setup", "--no-input", "--register", "auto", "--profile", "auto", "--tenant", testTenantID,
			"--port", itoa(h.port), "--preset", "basic"), 0)
		oldSecret := h.secrets("auto").ClientSecret
		oldKey, _ := h.store().Profile("auto")
		r := h.run("", "rotate", "auto", "--via-graph", "--secret-expires", "12m")
		expectCode(t, r, 0)
		expectContains(t, "stderr", r.stderr, "now uses the new client secret", "old secret was removed")
		p, _ := h.store().Profile("auto")
		newSecret := h.secrets("auto").ClientSecret
		if newSecret == oldSecret || p.SecretKeyID == oldKey.SecretKeyID || strings.Contains(r.stdout+r.stderr, newSecret) {
			t.Fatalf("rotation: key %s → %s", oldKey.SecretKeyID, p.SecretKeyID)
		}
		h.expireCache("auto", time.Now().Add(-time.Minute))
		expectCode(t, h.run("", "token", "auto"), 0)
		// The app registration no longer holds the old secret, and holds the new one.
		app, ok := h.sim.App(p.ClientID)
		if !ok {
			t.Fatal("the app is gone")
		}
		var values []string
		for _, sec := range app.Secrets {
			values = append(values, sec.Value)
		}
		if strings.Contains(strings.Join(values, " "), oldSecret) || !strings.Contains(strings.Join(values, " "), newSecret) {
			t.Errorf("the app's secrets after rotation: %d, old kept or new missing", len(values))
		}
	})
}

// TestVerifyTheOnlyProfile: verify, like token, takes the only profile when none is named.
func TestVerifyTheOnlyProfile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	r := h.run("", "verify")
	expectCode(t, r, 0)
	expectContains(t, "stdout", r.stdout, "Profile:   work", "OK:")
}

// TestRootPort: m365creds --port N is the wizard's flag, checked like setup's.
func TestRootPort(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	r := h.run("", "--port", "70000")
	expectCode(t, r, ExitUsage)
	expectContains(t, "stderr", r.stderr, "--port must be between 1 and 65535")
	r = h.run("", "--port=8400") // no terminal here: the wizard says so, after taking the flag
	expectCode(t, r, ExitUsage)
	expectContains(t, "stderr", r.stderr, "needs a terminal")
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestHelpGolden pins every --help text. Regenerate with: go test ./cli -run TestHelpGolden -update
func TestHelpGolden(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{"global": {"--help"}}
	for _, name := range helpCommands(t) {
		cases[name] = []string{name, "--help"}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(context.Background(), args, strings.NewReader(""), &out, &errb, Env{})
			if code != 0 || errb.Len() > 0 {
				t.Fatalf("exit %d, stderr %q", code, errb.String())
			}
			golden := filepath.Join("testdata", "help-"+name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("help differs from %s (run with -update if intended):\n%s", golden, out.String())
			}
			for i, line := range strings.Split(out.String(), "\n") {
				if n := utf8.RuneCountInString(line); n > 80 {
					t.Errorf("help line %d is %d columns wide (80 at most):\n%s", i+1, n, line)
				}
			}
			if name != "global" {
				for _, section := range []string{"Usage: m365creds " + name, "Flags:", "Examples:\n  m365creds"} {
					expectContains(t, "help", out.String(), section)
				}
			}
		})
	}
	t.Run("all forms agree", func(t *testing.T) {
		help := func(args ...string) string {
			var out bytes.Buffer
			if code := Main(context.Background(), args, nil, &out, io.Discard, Env{}); code != 0 {
				t.Errorf("%v: exit %d", args, code)
			}
			return out.String()
		}
		want := help("token", "--help")
		for _, args := range [][]string{{"help", "token"}, {"token", "-h"}, {"token", "-help"}, {"token", "work", "--help"}} {
			if got := help(args...); got != want {
				t.Errorf("%v differs from token --help:\n%s", args, got)
			}
		}
		if help("list", "--help") != help("status", "--help") {
			t.Error("list --help differs from status --help")
		}
		global := help("-h")
		for _, args := range [][]string{{"--help"}, {"-help"}, {"help"}} {
			if got := help(args...); got != global {
				t.Errorf("%v differs from -h", args)
			}
		}
		expectContains(t, "global help", global, "Exit codes:", "  3    client secret expired", "  6    network", "status (list)")
	})
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "-v"} {
		var out bytes.Buffer
		// A config directory that cannot exist: --version must not open the store.
		env := Env{Getenv: func(k string) string {
			if k == "M365CREDS_CONFIG_DIR" {
				return "/dev/null/nothing"
			}
			return ""
		}}
		code := Main(context.Background(), []string{arg}, nil, &out, io.Discard, env)
		if code != 0 || !regexp.MustCompile(`^m365creds \S+`).MatchString(out.String()) {
			t.Errorf("%s: exit %d, %q", arg, code, out.String())
		}
	}
	old := version
	version = "v9.8.7"
	defer func() { version = old }()
	if Version() != "v9.8.7" {
		t.Errorf("Version() = %q, want the -ldflags value", Version())
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown global flag", []string{"--frob"}, "unknown flag"},
		{"unknown flag", []string{"token", "--bogus"}, "unknown flag --bogus\n"},
		{"unknown flag as typed", []string{"setup", "--clientid", "x"}, "unknown flag --clientid\n"},
		{"unknown single-dash flag", []string{"token", "-bogus"}, "unknown flag -bogus\n"},
		{"unknown flag with a value", []string{"token", "--bogus=value"}, "unknown flag --bogus\n"},
		{"flag without its value", []string{"token", "--scope"}, "flag needs an argument: --scope"},
		{"bool with a value", []string{"token", "--json=maybe"}, `invalid value "maybe" for --json`},
		{"bad cloud", []string{"setup", "--no-input", "--cloud", "mars"}, "--cloud"},
		{"bad flow", []string{"setup", "--no-input", "--flow", "carrier-pigeon"}, "--flow"},
		{"bad port", []string{"setup", "--no-input", "--port", "70000"}, "--port"},
		{"port not a number", []string{"setup", "--port", "abc"}, `invalid value "abc" for --port`},
		{"bad preset", []string{"setup", "--no-input", "--preset", "everything"}, "--preset"},
		{"bad expiry", []string{"setup", "--no-input", "--secret-expires", "soon"}, "--secret-expires"},
		{"bad client id", []string{"setup", "--no-input", "--client-id", "not-a-guid"}, "--client-id"},
		{"bad profile name", []string{"setup", "--no-input", "--profile", "a b"}, "--profile"},
		{"too many args", []string{"status", "work", "other"}, "unexpected argument"},
		{"rotate without profile", []string{"rotate", "--no-input"}, "missing PROFILE"},
		{"verify with two names", []string{"verify", "work", "other"}, "unexpected argument"},
		{"completion without shell", []string{"completion"}, "bash, zsh, fish or powershell"},
		{"completion bad shell", []string{"completion", "tcsh"}, "unknown shell"},
		{"bad store", []string{"status", "--store", "cloud"}, "--store"},
		{"bad scope", []string{"token", "--scope", "not a/scope!"}, "--scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.run("", tc.args...)
			expectCode(t, r, ExitUsage)
			expectContains(t, "stderr", r.stderr, tc.want, "--help")
			if r.stdout != "" {
				t.Errorf("usage error wrote to stdout: %q", r.stdout)
			}
		})
	}
}

func TestSetupMissingFlags(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	base := []string{"setup", "--no-input", "--profile", "p"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"client id", []string{"--tenant", testTenantID, "--secret-expires", "12m", "--client-secret-stdin"}, "missing --client-id"},
		{"secret", []string{"--tenant", testTenantID, "--client-id", webClientID, "--secret-expires", "12m"}, "missing --client-secret-stdin"},
		{"expiry", []string{"--tenant", testTenantID, "--client-id", webClientID, "--client-secret-stdin"}, "missing --secret-expires"},
		{"tenant for single-tenant", []string{"--client-id", webClientID, "--secret-expires", "12m", "--client-secret-stdin"}, "--tenant"},
		{"tenant for app flow", []string{"--flow", "app", "--account-type", "multi", "--client-id", appClientID, "--secret-expires", "12m", "--client-secret-stdin"}, "--tenant"},
		{"no secret on stdin", []string{"--tenant", testTenantID, "--client-id", webClientID, "--secret-expires", "12m", "--client-secret-stdin"}, "stdin ended before the client secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.run("", append(base, tc.args...)...)
			expectCode(t, r, ExitUsage)
			expectContains(t, "stderr", r.stderr, tc.want)
		})
	}
	if n := h.sim.Count("token", ""); n != 0 {
		t.Errorf("usage errors reached Microsoft %d times", n)
	}
}

func TestSecretNeverFromArgv(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	for _, args := range [][]string{
		{"setup", "--no-input", "--client-secret", testSecret},
		{"setup", "--no-input", "--client-secret=" + testSecret},
		{"setup", "--no-input", "--client-id", webClientID, testSecret},
		{"rotate", "work", "--no-input", "--secret", testSecret},
	} {
		r := h.run("", args...)
		expectCode(t, r, ExitUsage)
		noSecrets(t, r)
	}
	// A GUID-shaped "secret" is the Secret ID: refused before anything is sent.
	r := h.run("11111111-1111-4111-8111-111111111111\n", "setup", "--no-input", "--tenant", testTenantID, "--client-id", webClientID,
		"--port", itoa(h.port), "--secret-expires", "12m", "--client-secret-stdin")
	expectCode(t, r, ExitSecret)
	expectContains(t, "stderr", r.stderr, "Secret ID")
}

func TestNoTerminal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	for _, args := range [][]string{nil, {"demo"}, {"setup"}, {"rotate", "work"}} {
		r := h.run("", args...)
		expectCode(t, r, ExitUsage)
		expectContains(t, "stderr", r.stderr, "needs a terminal")
	}
	r := h.run("")
	expectContains(t, "stderr", r.stderr, "m365creds setup --no-input", "m365creds demo")
}

func TestSetupBrowserFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	r := h.run(testSecret+"\n", "setup", "--no-input", "--profile", "work", "--tenant", testTenantID, "--client-id", webClientID,
		"--port", itoa(h.port), "--preset", "basic,mail-read", "--secret-expires", "12m", "--client-secret-stdin")
	expectCode(t, r, 0)
	if err := <-h.browser; err != nil {
		t.Fatalf("simulated browser: %v", err)
	}
	noSecrets(t, r)
	if r.stdout != "" {
		t.Errorf("setup wrote to stdout: %q", r.stdout)
	}
	expectContains(t, "stderr", r.stderr, "/authorize?", `Saved profile "work"`, testUPN, "m365creds token work")
	p, err := h.store().Profile("work")
	if err != nil {
		t.Fatal(err)
	}
	if p.Account != testUPN || p.Kind != oauth.KindWeb || p.ClientID != webClientID || p.SecretExpires.IsZero() {
		t.Errorf("saved profile: %+v", p)
	}
	if len(oauth.MissingScopes([]string{"Mail.Read", "User.Read"}, p.GrantedScopes)) > 0 {
		t.Errorf("granted scopes %v", p.GrantedScopes)
	}
	sec := h.secrets("work")
	if sec.ClientSecret != testSecret || sec.RefreshToken == "" || sec.AccessToken == "" {
		t.Error("secrets not saved")
	}
	// Nothing secret in the config directory's plain files other than the file store itself.
	assertNoSecretFiles(t, h.dir, sec)
}

// assertNoSecretFiles checks that the config file holds no secret (the file backend's own
// secret file is allowed to).
func assertNoSecretFiles(t *testing.T, dir string, sec keyring.Secrets) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		raw, _ := os.ReadFile(path)
		if strings.Contains(string(raw), sec.RefreshToken) && !strings.Contains(strings.ToLower(filepath.Base(path)), "secret") {
			t.Logf("note: %s holds the refresh token (file backend)", path)
		}
		return nil
	})
}

func TestSetupBrowserNoBrowserFlag(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.env.OpenBrowser = func(string) error { t.Error("--no-browser opened a browser"); return nil }
	var errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(context.Background(), []string{"setup", "--no-input", "--tenant", testTenantID, "--client-id", webClientID,
			"--port", itoa(h.port), "--secret-expires", "6m", "--client-secret-stdin", "--no-browser"},
			strings.NewReader(testSecret+"\n"), io.Discard, &errb, h.env)
	}()
	// Play the browser from what a person would see: the URL on stderr.
	url := waitFor(t, &errb, regexp.MustCompile(`(http://\S+/authorize\?\S+)`))
	if err := simulateBrowser(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
}

func TestSetupPasteFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	pr, pw := io.Pipe()
	var errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(context.Background(), []string{"setup", "--no-input", "--profile", "pasted", "--flow", "paste", "--tenant", testTenantID,
			"--client-id", webClientID, "--secret-expires", "2027-05-01", "--client-secret-stdin", "--no-browser", "--port", itoa(h.port)},
			pr, io.Discard, &errb, h.env)
	}()
	io.WriteString(pw, testSecret+"\n")
	url := waitFor(t, &errb, regexp.MustCompile(`(http://\S+/authorize\?\S+)`))
	waitFor(t, &errb, regexp.MustCompile(`paste it here`))
	// The browser ends on the redirect address, where nothing listens; the person copies it.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http://localhost:"+itoa(h.port)+"/?") {
		t.Fatalf("redirect %q", loc)
	}
	io.WriteString(pw, "  "+loc+"  \n")
	if code := <-done; code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	pw.Close()
	p, err := h.store().Profile("pasted")
	if err != nil || p.Account != testUPN || p.SecretExpires.Format(dateFormat) != "2027-05-01" {
		t.Fatalf("profile %+v, %v", p, err)
	}
}

func TestSetupDeviceFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.sim.SetDeviceInterval(0)
	h.sim.SetDeviceApproval(1)
	r := h.run("", "setup", "--no-input", "--profile", "dev", "--flow", "device", "--account-type", "multi", "--client-id", publicClientID)
	expectCode(t, r, 0)
	expectContains(t, "stderr", r.stderr, "enter the code", `Saved profile "dev"`)
	p, err := h.store().Profile("dev")
	if err != nil || p.Kind != oauth.KindPublic || p.Account != testUPN {
		t.Fatalf("profile %+v, %v", p, err)
	}
	if sec := h.secrets("dev"); sec.ClientSecret != "" || sec.RefreshToken == "" {
		t.Error("public client: want no secret and a refresh token")
	}
	// A public client refreshes without a secret.
	h.expireCache("dev", time.Now().Add(-time.Minute))
	expectCode(t, h.run("", "token", "dev"), 0)
	// And has nothing to rotate.
	r = h.run(newSecret+"\n", "rotate", "dev", "--no-input", "--client-secret-stdin", "--secret-expires", "12m")
	expectCode(t, r, ExitUsage)
	expectContains(t, "stderr", r.stderr, "no client secret to rotate")
}

func TestSetupAppFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	r := h.run(testSecret+"\n", "setup", "--no-input", "--profile", "daemon", "--flow", "app", "--tenant", testTenantID,
		"--client-id", appClientID, "--secret-expires", "24m", "--client-secret-stdin")
	expectCode(t, r, 0)
	expectContains(t, "stderr", r.stderr, "adminconsent", `Saved profile "daemon"`)
	noSecrets(t, r)
	p, err := h.store().Profile("daemon")
	if err != nil || p.Kind != oauth.KindApp {
		t.Fatalf("profile %+v, %v", p, err)
	}
	before := h.sim.Count("token", "client_credentials")
	h.expireCache("daemon", time.Now().Add(-time.Minute))
	r = h.run("", "token", "daemon")
	expectCode(t, r, 0)
	if h.sim.Count("token", "client_credentials") != before+1 {
		t.Error("app profile did not use client credentials")
	}
}

func TestSetupStoreFileWarns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.env.Backend = ""
	r := h.run(testSecret+"\n", "setup", "--no-input", "--store", "file", "--tenant", testTenantID, "--client-id", webClientID,
		"--port", itoa(h.port), "--secret-expires", "12m", "--client-secret-stdin")
	expectCode(t, r, 0)
	expectContains(t, "stderr", r.stderr, "PLAIN-TEXT")
}

func TestTokenCached(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		sec := h.secrets("work")
		before := h.sim.Count("token", "")
		r := h.run("", "token")
		expectCode(t, r, 0)
		if r.stdout != sec.AccessToken+"\n" {
			t.Errorf("stdout is not exactly the cached token and a newline")
		}
		if r.stderr != "" {
			t.Errorf("stderr: %q", r.stderr)
		}
		if h.sim.Count("token", "") != before {
			t.Error("a cached token still went to Microsoft")
		}
		r = h.run("", "token", "work", "--json")
		expectCode(t, r, 0)
		var js tokenJSON
		if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
			t.Fatal(err)
		}
		if js.AccessToken != sec.AccessToken || js.Profile != "work" || js.ExpiresAt.IsZero() || len(js.Scopes) == 0 {
			t.Errorf("--json: %+v", js)
		}
	})
}

func TestTokenRefreshSavesRotation(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		old := h.secrets("work")
		// Four minutes left is not enough: it must refresh.
		h.expireCache("work", time.Now().Add(4*time.Minute))
		r := h.run("", "token", "work")
		expectCode(t, r, 0)
		now := h.secrets("work")
		if now.RefreshToken == old.RefreshToken || now.AccessToken == old.AccessToken {
			t.Fatal("the rotated refresh token or the new access token was not saved")
		}
		if r.stdout != now.AccessToken+"\n" {
			t.Error("printed token differs from the saved one")
		}
		if n := h.sim.Count("token", "refresh_token"); n != 1 {
			t.Errorf("refreshes = %d, want 1", n)
		}
		// The second refresh only works with the new refresh token: the simulator rejects reuse.
		h.expireCache("work", time.Now().Add(-time.Minute))
		expectCode(t, h.run("", "token", "work"), 0)
		if n := h.sim.Count("token", "refresh_token"); n != 2 {
			t.Errorf("refreshes = %d, want 2", n)
		}
		p, _ := h.store().Profile("work")
		if time.Since(p.LastRefresh) > time.Minute {
			t.Errorf("LastRefresh not recorded: %v", p.LastRefresh)
		}
	})
}

func TestTokenExpiredSecret(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		h.sim.ExpireSecret(webClientID, testSecret)
		h.expireCache("work", time.Now().Add(-time.Minute))
		old := h.secrets("work")
		r := h.run("", "token", "work")
		expectCode(t, r, ExitSecret)
		expectContains(t, "stderr", r.stderr, "m365creds rotate work")
		if r.stdout != "" {
			t.Errorf("stdout %q", r.stdout)
		}
		noSecrets(t, r, old.RefreshToken)
		if h.secrets("work").RefreshToken != old.RefreshToken {
			t.Error("the refresh token changed after a failed refresh")
		}
	})
}

func TestTokenRevoked(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		h.sim.RevokeRefreshTokens(webClientID)
		h.expireCache("work", time.Now().Add(-time.Minute))
		r := h.run("", "token")
		expectCode(t, r, ExitConsent)
		expectContains(t, "stderr", r.stderr, "m365creds setup --profile work")
	})
}

func TestTokenNetworkDown(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		cached := h.secrets("work").AccessToken
		h.sim.Close()
		// Still valid for two minutes, less than the five a script is promised: refresh is
		// attempted, fails, and the token is not handed out.
		h.expireCache("work", time.Now().Add(2*time.Minute))
		r := h.run("", "token", "work")
		expectCode(t, r, ExitNetwork)
		if strings.Contains(r.stdout, cached) {
			t.Error("a token with less than the minimum validity was printed")
		}
		// Expired: nothing to serve.
		h.expireCache("work", time.Now().Add(-time.Minute))
		r = h.run("", "token", "work")
		expectCode(t, r, ExitNetwork)
		if r.stdout != "" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
}

// TestTokenEndpointHangs: the token endpoint accepts the connection and never answers. The
// cached token had 20 s left when the call began and has expired when the time-out passes:
// it must not be printed, and the exit code says "network".
func TestTokenEndpointHangs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	cached := h.secrets("work").AccessToken
	h.expireCache("work", time.Now().Add(20*time.Second))
	h.sim.Close()
	hang, err := net.Listen("tcp", strings.TrimPrefix(h.base, "http://"))
	if err != nil {
		t.Skip("the simulator's port was taken meanwhile:", err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close() // read nothing, answer nothing
		}
	}()
	h.env.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
	r := h.run("", "token", "work")
	expectCode(t, r, ExitNetwork)
	if r.stdout != "" || strings.Contains(r.stdout, cached) {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestTokenScopeOption(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	// A Graph scope the profile has is served from the cache.
	h.setupWeb("work", "--preset", "basic,mail-read")
	cached := h.secrets("work").AccessToken
	n := h.sim.Count("token", "")
	r := h.run("", "token", "work", "--scope", "Mail.Read")
	expectCode(t, r, 0)
	if strings.TrimSpace(r.stdout) != cached || h.sim.Count("token", "") != n {
		t.Error("--scope Mail.Read did not use the cache")
	}

	// Another resource's scope: a refresh for it, whose token is not cached, while the
	// rotated refresh token is saved.
	const imap = "https://outlook.office.com/IMAP.AccessAsUser.All"
	h.setupWeb("imap", "--scopes", imap)
	before := h.secrets("imap")
	for i := range 2 {
		r = h.run("", "token", "imap", "--scope", imap)
		expectCode(t, r, 0)
		after := h.secrets("imap")
		if after.AccessToken != before.AccessToken {
			t.Fatal("a token for another resource replaced the cached token")
		}
		if after.RefreshToken == before.RefreshToken {
			t.Fatal("the rotated refresh token was not saved")
		}
		if h.sim.Count("token", "refresh_token") != i+1 {
			t.Fatal("--scope for another resource must refresh every time")
		}
		before.RefreshToken = after.RefreshToken
	}
	if strings.TrimSpace(r.stdout) == before.AccessToken {
		t.Error("the cached token was served for --scope")
	}
}

func TestTokenSecretExpiryWarning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	if err := h.store().Touch("work", func(p *keyring.Profile) { p.SecretExpires = time.Now().AddDate(0, 0, 12) }); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "token", "work")
	expectCode(t, r, 0)
	expectContains(t, "stderr", r.stderr, "expires on", "in 12 days", "m365creds rotate work")
}

func TestTokenProfileChoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	r := h.run("", "token")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "no profiles yet")
	h.setupWeb("alpha")
	expectCode(t, h.run("", "token"), 0) // the only profile
	h.setupWeb("beta")
	r = h.run("", "token")
	expectCode(t, r, ExitUsage)
	expectContains(t, "stderr", r.stderr, "alpha, beta")
	h.setupWeb("default")
	expectCode(t, h.run("", "token"), 0)
	r = h.run("", "token", "gamma")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, `no profile named "gamma"`, "Known profiles: alpha, beta, default")
	for _, args := range [][]string{
		{"status", "gamma"}, {"verify", "gamma"}, {"delete", "gamma", "--yes"},
		{"rotate", "gamma", "--no-input", "--client-secret-stdin", "--secret-expires", "6m"},
	} {
		r = h.run(newSecret+"\n", args...)
		expectCode(t, r, ExitError)
		expectContains(t, args[0]+" stderr", r.stderr, "Known profiles: alpha, beta, default")
	}
}

// TestTokenConcurrentProcesses: 20 separate processes ask for a token whose cache has
// expired, half of them m365creds token and half m365creds-token; all get the same new token
// and Microsoft sees exactly one refresh.
func TestTokenConcurrentProcesses(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		h.expireCache("work", time.Now().Add(-time.Minute))
		const n = 20
		outs := make([]string, n)
		errs := make([]error, n)
		stderrs := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := h.binaryCmd("token", "work")
				if i%2 == 1 {
					cmd = h.tokenProgramCmd("work")
				}
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				errs[i] = cmd.Run()
				outs[i], stderrs[i] = out.String(), errb.String()
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("process %d: %v\n%s", i, errs[i], stderrs[i])
			}
			if outs[i] != outs[0] || strings.TrimSpace(outs[i]) == "" {
				t.Fatalf("process %d printed a different token", i)
			}
		}
		if got := h.sim.Count("token", "refresh_token"); got != 1 {
			t.Errorf("refresh requests = %d, want exactly 1", got)
		}
		if strings.TrimSpace(outs[0]) != h.secrets("work").AccessToken {
			t.Error("the token handed out is not the saved one")
		}
	})
}

func TestStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.env.Now = func() time.Time { return now }
	ctx := context.Background()
	save := func(p keyring.Profile) {
		t.Helper()
		p.Cloud, p.Tenant, p.TenantID, p.ClientID, p.Audience = oauth.Global, testTenantID, testTenantID, webClientID, oauth.SingleTenant
		if p.Kind == "" {
			p.Kind = oauth.KindWeb
		}
		p.RequestedScopes = []string{"User.Read", "offline_access"}
		if p.GrantedScopes == nil {
			p.GrantedScopes = []string{"User.Read", "offline_access"}
		}
		p.Created, p.Updated = now.AddDate(0, -1, 0), now.AddDate(0, -1, 0)
		if err := h.store().Save(ctx, p, keyring.Secrets{ClientSecret: testSecret, RefreshToken: "rt-" + p.Name}); err != nil {
			t.Fatal(err)
		}
	}
	save(keyring.Profile{Name: "fine", Account: testUPN, SecretExpires: now.AddDate(1, 0, 0), LastRefresh: now.AddDate(0, 0, -2)})
	r := h.run("", "status")
	expectCode(t, r, 0)
	expectContains(t, "table", r.stdout, "PROFILE", "SECRET EXPIRES", "fine", testUPN, webClientID, "2027-03-01 (in 365 days)", "2026-05-28 (in 88 days)", "Keychain: ")
	save(keyring.Profile{Name: "soon", SecretExpires: now.AddDate(0, 0, 10), LastRefresh: now})
	r = h.run("", "list")
	expectCode(t, r, 0)
	expectContains(t, "stderr", r.stderr, "soon: client secret expires on 2026-03-11 (in 10 days)")
	save(keyring.Profile{Name: "stale", SecretExpires: now.AddDate(1, 0, 0), LastRefresh: now.AddDate(0, 0, -91)})
	expectCode(t, h.run("", "status"), ExitConsent)
	expectCode(t, h.run("", "status", "fine"), 0)
	r = h.run("", "status", "stale")
	expectCode(t, r, ExitConsent)
	expectContains(t, "detail", r.stdout, "Refresh token:", "1 day ago")
	save(keyring.Profile{Name: "partial", SecretExpires: now.AddDate(1, 0, 0), LastRefresh: now, GrantedScopes: []string{"offline_access"}})
	r = h.run("", "status", "partial")
	expectCode(t, r, ExitConsent)
	expectContains(t, "detail", r.stdout, "Scopes missing:", "User.Read")
	save(keyring.Profile{Name: "expired", SecretExpires: now.AddDate(0, 0, -3), LastRefresh: now})
	r = h.run("", "status")
	expectCode(t, r, ExitSecret) // 3 wins over 4
	expectContains(t, "stderr", r.stderr, "expired: client secret expired on 2026-02-26", "m365creds rotate expired")
	expectContains(t, "table", r.stdout, "expired 3 days ago")
	save(keyring.Profile{Name: "device", Kind: oauth.KindPublic, LastRefresh: now})

	r = h.run("", "status", "--json")
	expectCode(t, r, ExitSecret)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, row := range rows {
		byName[row["profile"].(string)] = row
	}
	if len(rows) != 6 || byName["expired"]["state"] != "action" || byName["soon"]["state"] != "warning" || byName["fine"]["state"] != "ok" {
		t.Errorf("json states: %s", r.stdout)
	}
	if byName["soon"]["secret_days_left"].(float64) != 10 || byName["device"]["secret_expires"] != nil {
		t.Errorf("json secret fields: %v / %v", byName["soon"]["secret_days_left"], byName["device"]["secret_expires"])
	}
	r = h.run("", "status", "--names")
	expectCode(t, r, ExitOK)
	if r.stdout != "device\nexpired\nfine\npartial\nsoon\nstale\n" {
		t.Errorf("--names: %q", r.stdout)
	}
	// status reads no secret and makes no request.
	if h.sim.Count("token", "") != 0 {
		t.Error("status touched the network")
	}
	noSecrets(t, r)
}

func TestRotate(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		old := h.secrets("work")
		oldProfile, _ := h.store().Profile("work")

		// A secret Microsoft does not know: exit 3, nothing changes, the old one still works.
		r := h.run(wrongSecret+"\n", "rotate", "work", "--no-input", "--client-secret-stdin", "--secret-expires", "18m")
		expectCode(t, r, ExitSecret)
		expectContains(t, "stderr", r.stderr, "Nothing was changed")
		noSecrets(t, r)
		if s := h.secrets("work"); s.ClientSecret != testSecret || s.RefreshToken != old.RefreshToken {
			t.Fatal("a failed rotation changed the saved secrets")
		}
		h.expireCache("work", time.Now().Add(-time.Minute))
		expectCode(t, h.run("", "token", "work"), 0)

		// Missing pieces are usage errors.
		expectCode(t, h.run(newSecret+"\n", "rotate", "work", "--no-input", "--secret-expires", "12m"), ExitUsage)
		expectCode(t, h.run(newSecret+"\n", "rotate", "work", "--no-input", "--client-secret-stdin"), ExitUsage)
		expectCode(t, h.run(testSecret+"\n", "rotate", "work", "--no-input", "--client-secret-stdin", "--secret-expires", "12m"), ExitUsage)

		// The new secret: checked, then saved with the rotated refresh token and new expiry.
		before := h.secrets("work")
		r = h.run(newSecret+"\n", "rotate", "work", "--no-input", "--client-secret-stdin", "--secret-expires", "2027-06-30")
		expectCode(t, r, 0)
		noSecrets(t, r)
		expectContains(t, "stderr", r.stderr, "now uses the new client secret", "delete the old secret",
			oauth.PortalLinks(oauth.Global, webClientID).Credentials)
		after := h.secrets("work")
		if after.ClientSecret != newSecret || after.RefreshToken == before.RefreshToken {
			t.Fatal("new secret or rotated refresh token not saved")
		}
		p, _ := h.store().Profile("work")
		if p.SecretExpires.Format(dateFormat) != "2027-06-30" || !p.Created.Equal(oldProfile.Created) {
			t.Errorf("profile after rotation: %+v", p)
		}
		// Microsoft now sees the new secret on refresh; retiring the old one changes nothing.
		h.sim.ExpireSecret(webClientID, testSecret)
		h.expireCache("work", time.Now().Add(-time.Minute))
		expectCode(t, h.run("", "token", "work"), 0)
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work", "--preset", "basic,mail-read")
	n := h.sim.Count("token", "refresh_token")
	r := h.run("", "verify", "work")
	expectCode(t, r, 0)
	expectContains(t, "stdout", r.stdout, testUPN, "Alice Example", "Requested:", "Granted:", "Mail.Read", "OK")
	if h.sim.Count("token", "refresh_token") != n+1 || h.sim.Count("me", "") < 2 {
		t.Error("verify did not refresh and call /me")
	}

	// Consent that left Mail.Read out: setup warns, verify exits 4 and names it, and token
	// still works with what was granted.
	r = h.run(testSecret+"\n", "setup", "--no-input", "--profile", "part", "--tenant", testTenantID, "--client-id", partClientID,
		"--port", itoa(h.port), "--preset", "basic,mail-read", "--secret-expires", "12m", "--client-secret-stdin")
	expectCode(t, r, 0)
	expectContains(t, "setup stderr", r.stderr, "not granted: Mail.Read")
	r = h.run("", "verify", "part")
	expectCode(t, r, ExitConsent)
	expectContains(t, "stdout", r.stdout, "Missing:   Mail.Read")
	expectContains(t, "stderr", r.stderr, "m365creds setup --profile part")
	h.expireCache("part", time.Now().Add(-time.Minute))
	expectCode(t, h.run("", "token", "part"), 0)
	expectCode(t, h.run("", "status", "part"), ExitConsent)
}

func TestDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	h.setupWeb("other")
	r := h.run("", "delete", "work")
	expectCode(t, r, ExitUsage)
	expectContains(t, "stderr", r.stderr, "--yes")

	// On a terminal: the typed name must match.
	h.env.IsTerminal = func(s any) bool { return true }
	r = h.run("wrong\n", "delete", "work")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "Type the profile name", "not deleted")
	if _, err := h.store().Profile("work"); err != nil {
		t.Fatal("deleted despite a wrong confirmation")
	}
	expectCode(t, h.run("work\n", "delete", "work"), 0)
	h.env.IsTerminal = func(any) bool { return false }
	expectCode(t, h.run("", "delete", "other", "--yes"), 0)
	for _, name := range []string{"work", "other"} {
		if _, err := h.store().Profile(name); err == nil {
			t.Errorf("%s still listed", name)
		}
		if _, err := h.store().Secrets(context.Background(), name); err == nil {
			t.Errorf("%s secrets still readable", name)
		}
	}
	r = h.run("", "status", "--names")
	if r.stdout != "" {
		t.Errorf("profiles left: %q", r.stdout)
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := h.run("", "completion", shell)
		expectCode(t, r, 0)
		expectContains(t, shell, r.stdout, "m365creds", "__complete")
		interpreter := map[string]string{"powershell": "pwsh"}[shell]
		if interpreter == "" {
			interpreter = shell
		}
		if _, err := exec.LookPath(interpreter); err != nil || shell == "powershell" {
			t.Logf("SKIP syntax check of the %s script", shell)
			continue
		}
		file := filepath.Join(t.TempDir(), "completion."+shell)
		os.WriteFile(file, []byte(r.stdout), 0o644)
		if out, err := exec.Command(shell, "-n", file).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell, err, out)
		}
	}
}

// TestCompletionCandidates asks m365creds for completions the way every shell script does
// (the hidden __complete command), against a store with two profiles.
func TestCompletionCandidates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("alpha")
	h.setupWeb("beta")
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"to"}, "token"},
		{[]string{"l"}, "list"},
		{[]string{"token", ""}, "alpha beta"},
		{[]string{"token", "alpha", ""}, ""},
		{[]string{"status", "--store", "file", "b"}, "beta"},
		{[]string{"rotate", "--n"}, "--no-browser --no-input"},
		{[]string{"setup", "--flow", ""}, "browser paste device app"},
		{[]string{"setup", "--cloud", ""}, "global usgov usgov-dod china"},
		{[]string{"setup", "--preset", "mail-read,files-r"}, "mail-read,files-read mail-read,files-readwrite"},
		{[]string{"setup", "--profile", "b"}, "beta"},
		{[]string{"setup", "--tenant", ""}, ""},
		{[]string{"completion", "p"}, "powershell"},
		{[]string{"help", "ro"}, "rotate"},
	}
	for _, tc := range tests {
		r := h.run("", append([]string{"__completeNoDesc"}, tc.words...)...)
		expectCode(t, r, 0)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		directive := lines[len(lines)-1]
		var got []string
		for _, l := range lines[:len(lines)-1] {
			if prefix := tc.words[len(tc.words)-1]; strings.HasPrefix(l, prefix) {
				got = append(got, l)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("complete %v = %q, want %q", tc.words, got, tc.want)
		}
		// No file names where a file makes no sense (bit 4 of the directive).
		if n, err := strconv.Atoi(strings.TrimPrefix(directive, ":")); err != nil || n&4 == 0 {
			t.Errorf("complete %v: directive %q offers files", tc.words, directive)
		}
	}
}

// TestCompletionBash drives the generated bash function the way bash does on tab, with the
// real program (this test binary) on PATH.
func TestCompletionBash(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("SKIP: bash is not installed")
	}
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("alpha")
	h.setupWeb("beta")
	bin := t.TempDir()
	stub := "#!/bin/sh\nexec env " + execMarker + "=1 M365CREDS_CLI_TEST_SERVICE=" + testService +
		" M365CREDS_CLI_TEST_BACKEND=file '" + os.Args[0] + "' \"$@\"\n"
	os.WriteFile(filepath.Join(bin, "m365creds"), []byte(stub), 0o755)
	script := h.run("", "completion", "bash").stdout
	// The script uses _get_comp_words_by_ref from the bash-completion package when it is
	// loaded; this is that function for words without = or :.
	const wordsByRef = `_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }`
	complete := func(words ...string) string {
		t.Helper()
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := wordsByRef + "\n" + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" + itoa(len(words)-1) +
			"\nCOMP_LINE=\"${COMP_WORDS[*]}\"\nCOMP_POINT=${#COMP_LINE}\nCOMP_TYPE=9\n__start_m365creds\necho \"${COMPREPLY[*]}\"\n"
		cmd := exec.Command("bash", "-c", prog)
		cmd.Env = append(h.environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.Output() // stderr: compopt complains outside a real completion
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"m365creds", "to"}, "token"},
		{[]string{"m365creds", "li"}, "list"},
		{[]string{"m365creds", "token", ""}, "alpha beta"},
		{[]string{"m365creds", "rotate", "--n"}, "--no-browser --no-input"},
		{[]string{"m365creds", "setup", "--flow", "d"}, "device"},
		{[]string{"m365creds", "setup", "--preset", "mail-read,files-r"}, "mail-read,files-read mail-read,files-readwrite"},
		{[]string{"m365creds", "setup", "--profile", "b"}, "beta"},
		{[]string{"m365creds", "completion", "f"}, "fish"},
	}
	for _, tc := range tests {
		if got := complete(tc.words...); got != tc.want {
			t.Errorf("complete %v = %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestExitCodeMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{flag.ErrHelp, 0},
		{usagef("x", "bad"), ExitUsage},
		{context.Canceled, ExitInterrupted},
		{keyring.ErrUnavailable, ExitKeychain},
		{keyring.ErrTimeout, ExitKeychain},
		{&keyring.UnavailableError{Reason: "no D-Bus", Hint: "start one"}, ExitKeychain},
		{withCode(ExitSecret, io.EOF, ""), ExitSecret},
		{&silentError{code: 4}, 4},
		{io.ErrUnexpectedEOF, ExitError},
	}
	for _, tc := range tests {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestFlagsAnywhere: flags may come before or after the positional arguments, in their
// single-dash spelling too, and "--" ends them.
func TestFlagsAnywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	h.setupWeb("other")
	for _, args := range [][]string{
		{"status", "work", "--json"}, {"status", "--json", "work"}, {"status", "--json", "--", "work"},
		{"status", "-json", "work"}, {"list", "work", "-json"}, {"status", "--json=true", "work"},
		{"status", "--store", "file", "work", "--json"}, {"status", "work", "-store=file", "-json"},
	} {
		r := h.run("", args...)
		expectCode(t, r, 0)
		var rows []profileStatus
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 || rows[0].Profile != "work" {
			t.Errorf("%v: %v %q", args, err, r.stdout)
		}
	}
	// After "--" a flag is a positional argument.
	r := h.run("", "status", "--", "--json")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, `no profile named "--json"`)
	// A flag's value may start with a dash.
	r = h.run("", "token", "work", "--scope", "-json")
	expectCode(t, r, ExitUsage)
	expectContains(t, "stderr", r.stderr, "--scope")
}

// helpCommands are the commands whose help is pinned.
func helpCommands(t *testing.T) []string {
	t.Helper()
	tree := newCommandTree(&app{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard, env: OSEnv()})
	var names []string
	for _, c := range tree.ordered {
		names = append(names, c.Name())
	}
	if len(names) != 16 {
		t.Fatalf("commands: %v", names)
	}
	return names
}

// TestKeychainUnavailable runs m365creds in a process whose D-Bus session does not exist:
// every command that needs a secret ends with exit 5 and says what is wrong, and setup finds
// out before anyone signs in.
func TestKeychainUnavailable(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("SKIP: the broken-session trick is Linux-only")
	}
	testkeychain.Require(t)
	h := newHarness(t, keyring.BackendKeychain)
	h.setupWeb("work") // saved in the keychain, which the processes below cannot reach
	run := func(stdin string, args ...string) result {
		cmd := h.binaryCmd(args...)
		cmd.Env = append(cmd.Env, "M365CREDS_CLI_TEST_BACKEND=keychain",
			"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"), "M365CREDS_KEYRING_TIMEOUT=5s")
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{out.String(), errb.String(), code}
	}
	before := h.sim.Count("token", "")
	r := run("", "token", "work")
	expectCode(t, r, ExitKeychain)
	expectContains(t, "stderr", r.stderr, "keychain unavailable")
	r = run(testSecret+"\n", "setup", "--no-input", "--profile", "other", "--tenant", testTenantID, "--client-id", webClientID,
		"--port", itoa(h.port), "--secret-expires", "12m", "--client-secret-stdin")
	expectCode(t, r, ExitKeychain)
	if h.sim.Count("token", "") != before || h.sim.Count("authorize", "") != 1 {
		t.Error("setup went to Microsoft although the keychain does not work")
	}
	// status reads no secret, so it still works.
	expectCode(t, run("", "status"), 0)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTokenInterruptedAfterRefreshKeepsTheNewRefreshToken: ctrl+c (or `timeout` sending
// SIGTERM to a cron job) lands after Microsoft answered the refresh but before the rotated
// refresh token is saved. The new token must still be saved, so the next call works.
func TestTokenInterruptedAfterRefreshKeepsTheNewRefreshToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	h.expireCache("work", time.Now().Add(-time.Hour))
	before := h.secrets("work").RefreshToken

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := h.env
	env.HTTPClient = interruptOnRefresh(cancel)
	var out, errb syncBuffer
	Main(ctx, []string{"token", "work"}, strings.NewReader(""), &out, &errb, env)
	if after := h.secrets("work").RefreshToken; after == before {
		t.Fatal("the rotated refresh token was not saved after the interruption")
	}
	if r := h.run("", "token", "work"); r.code != 0 {
		t.Fatalf("the next token call failed: exit %d\n%s", r.code, r.stderr)
	}
}

// interruptOnRefresh is a client to Microsoft that calls interrupt once the refresh token
// grant has been answered: the moment a signal would do the most harm.
func interruptOnRefresh(interrupt func()) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		resp, err := http.DefaultTransport.RoundTrip(r)
		if strings.Contains(string(body), "grant_type=refresh_token") {
			interrupt()
		}
		return resp, err
	})}
}

// TestSecretOnTheCommandLineIsNotRepeated: a secret pasted as an argument by mistake is
// refused without being printed back (it would end up in logs and scrollback).
func TestSecretOnTheCommandLineIsNotRepeated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	const secret = "abc8Q~abcdefghijklmnopqrstuvwxyz01234567"
	for _, args := range [][]string{
		{"token", secret}, {"rotate", "work", secret}, {"status", secret}, {secret}, {"help", secret},
		{"completion", secret}, {"setup", "--client-secret-stdin=" + secret}, {"token", "--bogus=" + secret},
	} {
		r := h.run("", args...)
		if r.code != ExitUsage || strings.Contains(r.stderr+r.stdout, secret) || !strings.Contains(r.stderr, "stdin") {
			t.Errorf("%v: exit %d, stderr %q", args[0], r.code, r.stderr)
		}
	}
}

// TestStatusWithoutOfflineAccess: a delegated profile saved without offline_access (by an
// earlier version) has no refresh token; status must not call it ok.
func TestStatusWithoutOfflineAccess(t *testing.T) {
	t.Parallel()
	now := time.Now()
	p := keyring.Profile{Name: "old", Kind: oauth.KindWeb, RequestedScopes: []string{"openid", "User.Read"}, LastRefresh: now}
	st := assess(p, now, "file")
	if st.State != "action" || st.code != ExitConsent || !strings.Contains(strings.Join(st.Problems, " "), "offline_access") {
		t.Errorf("status %+v", st)
	}
	p.RequestedScopes = append(p.RequestedScopes, "offline_access")
	if st := assess(p, now, "file"); st.State != "ok" {
		t.Errorf("with offline_access: %+v", st)
	}
}

// TestOtherStore: a profile saved with --store file, used without it, says to add the flag
// instead of reporting lost keychain items.
func TestOtherStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	cmd := h.binaryCmd("token", "work")
	cmd.Env = append(cmd.Env, "M365CREDS_CLI_TEST_BACKEND=keychain")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitError {
		t.Fatalf("exit %v, want %d; stderr:\n%s", err, ExitError, errb.String())
	}
	expectContains(t, "stderr", errb.String(), "add --store file")
	if strings.Contains(errb.String(), "lost") {
		t.Errorf("reported as lost:\n%s", errb.String())
	}
}

package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// Test fixtures: the apps registered in the simulator.
const (
	webClientID    = "0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b"
	publicClientID = "6a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
	appClientID    = "9b8a7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d"
	vendorClientID = "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968" // multi-tenant, for onboarding customers
	partClientID   = "4d5e6f70-8192-4a3b-8c4d-5e6f708192a3" // Mail.Read is withheld at consent
	testTenantID   = "5d2b7e10-3c4a-4f8e-b1d6-9a0c2e4f6b8d"
	testSecret     = "abc8Q~abcdefghijklmnopqrstuvwxyz01234567"
	newSecret      = "xyz8Q~zyxwvutsrqponmlkjihgfedcba76543210"
	wrongSecret    = "bad8Q~00000000000000000000000000000000zz"
	testUPN        = "alice@contoso.example"
	testService    = "m365creds-test-cli"
)

// execMarker makes the test binary behave as m365creds itself, for the tests that need
// separate processes (concurrent `token` calls); set to tokenProgram, as m365creds-token.
const (
	execMarker   = "M365CREDS_CLI_TEST_EXEC"
	tokenProgram = "m365creds-token"
)

func TestMain(m *testing.M) {
	if os.Getenv(execMarker) != "" {
		env := OSEnv()
		env.Service = os.Getenv("M365CREDS_CLI_TEST_SERVICE")
		env.Backend = keyring.Backend(os.Getenv("M365CREDS_CLI_TEST_BACKEND"))
		if os.Getenv(execMarker) == tokenProgram {
			os.Exit(TokenMain(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env))
		}
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env))
	}
	testkeychain.Main(m)
}

// harness is one simulator with the test apps and one empty profile store.
type harness struct {
	t       testing.TB
	sim     *simulator.Sim
	base    string
	port    int // loopback port registered as the web app's redirect URI
	dir     string
	backend keyring.Backend
	env     Env
	vars    map[string]string // environment variables the harness sets for its runs
	browser chan error        // results of simulated browser visits
}

// backends runs fn once with the fast file store and once with the real Secret Service
// (skipped with a visible message when there is none, failing under CI).
func backends(t *testing.T, fn func(t *testing.T, backend keyring.Backend)) {
	t.Run("file", func(t *testing.T) { fn(t, keyring.BackendFile) })
	t.Run("keychain", func(t *testing.T) {
		testkeychain.Require(t)
		fn(t, keyring.BackendKeychain)
	})
}

func newHarness(t testing.TB, backend keyring.Backend) *harness {
	t.Helper()
	h := &harness{t: t, port: testport.Free(), dir: t.TempDir(), backend: backend, browser: make(chan error, 4)}
	redirect := "http://localhost:" + itoa(h.port) + "/"
	far := time.Now().AddDate(1, 0, 0)
	apps := []simulator.App{
		{
			ClientID: webClientID, TenantID: testTenantID, Name: "cli web", Audience: "single",
			Secrets:      []simulator.Secret{{ID: "11111111-1111-4111-8111-111111111111", Value: testSecret, Expires: far}, {ID: "22222222-2222-4222-8222-222222222222", Value: newSecret, Expires: far}},
			RedirectURIs: []string{redirect, "http://localhost:53365/"},
		},
		{
			ClientID: partClientID, TenantID: testTenantID, Name: "cli partial", Audience: "single",
			Secrets:        []simulator.Secret{{ID: "44444444-4444-4444-8444-444444444444", Value: testSecret, Expires: far}},
			RedirectURIs:   []string{redirect},
			WithheldScopes: []string{"Mail.Read"},
		},
		{ClientID: publicClientID, TenantID: testTenantID, Name: "cli public", Audience: "multi", PublicClient: true,
			PublicRedirectURIs: []string{"http://localhost"}},
		{
			ClientID: appClientID, TenantID: testTenantID, Name: "cli app", Audience: "single",
			Secrets:                []simulator.Secret{{ID: "33333333-3333-4333-8333-333333333333", Value: testSecret, Expires: far}, {ID: "55555555-5555-4555-8555-555555555555", Value: newSecret, Expires: far}},
			ApplicationPermissions: []string{"User.Read.All"},
		},
		{
			ClientID: vendorClientID, TenantID: testTenantID, Name: "cli vendor", Audience: "multi",
			Secrets:                []simulator.Secret{{ID: "55555555-5555-4555-8555-555555555555", Value: testSecret, Expires: far}, {ID: "66666666-6666-4666-8666-666666666666", Value: newSecret, Expires: far}},
			RedirectURIs:           []string{redirect},
			ApplicationPermissions: []string{"Mail.Read"},
		},
	}
	// Alice administers the test tenant, so the default consent policy lets her consent to mail.
	users := []simulator.User{{ID: "7c0e2b5a-1d3f-4e6a-8b9c-0d1e2f3a4b5c", DisplayName: "Alice Example", UPN: testUPN, Admin: true}}
	apps = append(apps, simulator.GraphCLIApp())
	h.sim = simulator.New(apps, users)
	base, err := h.sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	h.base = base
	t.Cleanup(func() { h.sim.Close() })
	// The harness's own environment, over the process's: tests run in parallel, so none
	// changes the process environment.
	h.vars = map[string]string{
		"M365CREDS_LOGIN_URL": base, "M365CREDS_GRAPH_URL": base, "M365CREDS_CONFIG_DIR": h.dir,
		"BROWSER":        "false", // never a real browser, whatever a test forgets
		"SSH_CONNECTION": "", "SSH_TTY": "", "SSH_CLIENT": "",
		// One test keychain daemon serves every parallel test and child process: on a slow
		// machine a queue there is no failure. Time-outs are tested where they are meant.
		"M365CREDS_KEYRING_TIMEOUT": "60s",
	}
	h.env = Env{
		Getenv: func(k string) string {
			if v, ok := h.vars[k]; ok {
				return v
			}
			return os.Getenv(k)
		},
		Environ: h.environ,
		Service: testService,
		Backend: backend,
		IsTerminal: func(any) bool {
			return false
		},
		// The browser: load the authorize URL on the simulator and deliver its redirect to the
		// loopback listener, in the background like a real browser.
		OpenBrowser: func(url string) error {
			go func() { h.browser <- simulateBrowser(context.Background(), url) }()
			return nil
		},
	}
	return h
}

func itoa(n int) string { return strconv.Itoa(n) }

// result is one finished run of the command line.
type result struct {
	stdout, stderr string
	code           int
}

// run runs m365creds in this process with stdin as its input.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	return h.runReader(strings.NewReader(stdin), args...)
}

func (h *harness) runReader(stdin io.Reader, args ...string) result {
	h.t.Helper()
	return h.runEntry(Main, stdin, args)
}

// runTokenProgram runs m365creds-token in this process.
func (h *harness) runTokenProgram(args ...string) result {
	h.t.Helper()
	return h.runEntry(TokenMain, strings.NewReader(""), args)
}

// runEntry runs one of the program entries (Main, TokenMain) with the harness's environment.
func (h *harness) runEntry(entry func(context.Context, []string, io.Reader, io.Writer, io.Writer, Env) int, stdin io.Reader, args []string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb syncBuffer
	code := entry(ctx, args, stdin, &out, &errb, h.env)
	return result{out.String(), errb.String(), code}
}

// store opens the same store the command line uses.
func (h *harness) store() *keyring.Store {
	h.t.Helper()
	s, err := keyring.Open(keyring.Options{Service: testService, ConfigDir: h.dir, Backend: h.backend, Timeout: 10 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) secrets(name string) keyring.Secrets {
	h.t.Helper()
	s, err := h.store().Secrets(context.Background(), name)
	if err != nil {
		h.t.Fatalf("secrets of %s: %v", name, err)
	}
	return s
}

// expireCache makes the cached access token of a profile expire at t.
func (h *harness) expireCache(name string, at time.Time) {
	h.t.Helper()
	err := h.store().UpdateSecrets(context.Background(), name, func(s *keyring.Secrets) error {
		s.AccessExpiry = at
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// setupWeb creates a working web profile through `setup --no-input` and the browser flow.
func (h *harness) setupWeb(name string, extra ...string) {
	h.t.Helper()
	h.setupApp(name, webClientID, extra...)
}

// setupApp is setupWeb for another of the simulator's web apps.
func (h *harness) setupApp(name, clientID string, extra ...string) {
	h.t.Helper()
	args := append([]string{"setup", "--no-input", "--profile", name, "--tenant", testTenantID, "--client-id", clientID,
		"--port", itoa(h.port), "--secret-expires", "12m", "--client-secret-stdin"}, extra...)
	r := h.run(testSecret+"\n", args...)
	if r.code != 0 {
		h.t.Fatalf("setup %s: exit %d\nstderr:\n%s", name, r.code, r.stderr)
	}
}

// expectCode fails unless the run ended with code.
func expectCode(t testing.TB, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

func expectContains(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

// noSecrets fails if any secret value shows up in the output.
func noSecrets(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, testSecret, newSecret, wrongSecret) {
		if s != "" && (strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s)) {
			t.Errorf("a secret value appears in the output")
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls s until re matches and returns the first submatch (or the whole match).
func waitFor(t *testing.T, s interface{ String() string }, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.String()); m != nil {
			return m[len(m)-1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never saw %s in:\n%s", re, s.String())
	return ""
}

// binaryCmd runs the test binary as m365creds in a separate process.
// environ is the process environment with the harness's variables in place.
func (h *harness) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := h.vars[name]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range h.vars {
		env = append(env, k+"="+v)
	}
	return env
}

func (h *harness) binaryCmd(args ...string) *exec.Cmd {
	return h.programCmd("1", args...)
}

// tokenProgramCmd runs the test binary as m365creds-token in a separate process.
func (h *harness) tokenProgramCmd(args ...string) *exec.Cmd {
	return h.programCmd(tokenProgram, args...)
}

func (h *harness) programCmd(program string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(h.environ(),
		execMarker+"="+program,
		"M365CREDS_CLI_TEST_SERVICE="+testService,
		"M365CREDS_CLI_TEST_BACKEND="+string(h.backend),
	)
	return cmd
}

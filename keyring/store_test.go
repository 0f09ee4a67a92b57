package keyring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/oauth"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	testkeychain.Main(m)
}

// memBackend is the in-memory keychain (memoryBackend), whose calls can also fail or block
// on demand. Every store test that uses it so also tests memoryBackend.
type memBackend struct {
	*memoryBackend
	sets    int
	failSet func(n int, account string) error // called before each set, n counts from 1
	block   chan struct{}
	delay   time.Duration // per call, to widen race windows the way a real keychain does
	settled int           // sets and gets that have returned, abandoned ones included
}

func newMem() *memBackend { return &memBackend{memoryBackend: newMemoryBackend()} }

func (m *memBackend) set(service, account, value string) error {
	defer m.settle()
	time.Sleep(m.delay)
	if m.block != nil {
		<-m.block
	}
	m.mu.Lock()
	m.sets++
	n := m.sets
	m.mu.Unlock()
	if m.failSet != nil {
		if err := m.failSet(n, account); err != nil {
			return err
		}
	}
	return m.memoryBackend.set(service, account, value)
}

func (m *memBackend) get(service, account string) (string, error) {
	defer m.settle()
	if m.block != nil {
		<-m.block
	}
	time.Sleep(m.delay)
	return m.memoryBackend.get(service, account)
}

func (m *memBackend) settle() {
	m.mu.Lock()
	m.settled++
	m.mu.Unlock()
}

// settledCalls is how many sets and gets have returned.
func (m *memBackend) settledCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settled
}

func (m *memBackend) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

func openWith(t *testing.T, dir string, b backend) *Store {
	t.Helper()
	s, err := Open(Options{Service: "m365creds-test", ConfigDir: dir, Backend: BackendFile, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if b != nil {
		s.backend = b
	}
	return s
}

func sampleProfile(name string) Profile {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return Profile{
		Name: name, Cloud: oauth.Global, Tenant: "contoso.onmicrosoft.com", ClientID: "0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b",
		Audience: oauth.SingleTenant, Kind: oauth.KindWeb, RequestedScopes: []string{"User.Read", "offline_access"},
		Created: now, Updated: now, SecretExpires: now.AddDate(0, 6, 0),
	}
}

func sampleSecrets(tag string) Secrets {
	return Secrets{
		ClientSecret: "abc8Q~" + tag + strings.Repeat("s", 30),
		RefreshToken: "rt-" + tag + strings.Repeat("r", 1500),
		AccessToken:  "at-" + tag + strings.Repeat("a", 1800),
		AccessExpiry: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC),
		AccessScopes: []string{"User.Read"},
	}
}

func mustEqualSecrets(t *testing.T, got, want Secrets) {
	t.Helper()
	if got.ClientSecret != want.ClientSecret || got.RefreshToken != want.RefreshToken || got.AccessToken != want.AccessToken ||
		!got.AccessExpiry.Equal(want.AccessExpiry) || strings.Join(got.AccessScopes, " ") != strings.Join(want.AccessScopes, " ") {
		t.Fatalf("secrets differ (lengths got %d/%d/%d want %d/%d/%d)",
			len(got.ClientSecret), len(got.RefreshToken), len(got.AccessToken),
			len(want.ClientSecret), len(want.RefreshToken), len(want.AccessToken))
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want string // "" = valid, else part of the message
	}{
		{"default", ""},
		{"contoso-prod", ""},
		{"a.b_c", ""},
		{"Tenant_2.prod", ""},
		{".config", ""},
		{"console", ""},
		{"com10", ""},
		{strings.Repeat("x", 64), ""},
		{"", "needs a name"},
		{strings.Repeat("x", 65), "at most 64"},
		{".", "cannot"},
		{"..", "cannot"},
		{"a b", `" "`},
		{"x/y", `"/"`},
		{`x\y`, `"\\"`},
		{"a@b", `"@"`},
		{"a:b", `":"`},
		{"é", `"é"`},
		{"tab\there", `"\t"`},
		{"con", "reserves"},
		{"NUL.txt", "reserves"},
		{"com1", "reserves"},
		{"LPT9", "reserves"},
	} {
		err := ValidateName(tc.name)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidateName(%q) rejected a good name: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidateName(%q) = %v, want a message mentioning %s", tc.name, err, tc.want)
		}
	}
}

func TestSaveReadReplaceDeleteInMemory(t *testing.T) {
	t.Parallel()
	mem := newMem()
	s := openWith(t, t.TempDir(), mem)
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("work"), sampleSecrets("one")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Secrets(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	mustEqualSecrets(t, got, sampleSecrets("one"))
	first := mem.count()

	if err := s.Save(ctx, sampleProfile("work"), sampleSecrets("two")); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Secrets(ctx, "work")
	mustEqualSecrets(t, got, sampleSecrets("two"))
	if mem.count() != first {
		t.Errorf("replacing left %d items, want %d: the old generation must be removed", mem.count(), first)
	}
	access, err := s.AccessToken(ctx, "work")
	if err != nil || access.AccessToken != sampleSecrets("two").AccessToken || access.RefreshToken != "" {
		t.Errorf("AccessToken read = %v, %v", len(access.AccessToken), err)
	}
	if err := s.Delete(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if mem.count() != 0 {
		t.Errorf("delete left %d items behind", mem.count())
	}
	if _, err := s.Secrets(ctx, "work"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted profile still readable: %v", err)
	}
}

func TestNotFoundListsKnownProfiles(t *testing.T) {
	t.Parallel()
	s := openWith(t, t.TempDir(), newMem())
	ctx := context.Background()
	for _, n := range []string{"b", "a"} {
		if err := s.Save(ctx, sampleProfile(n), Secrets{ClientSecret: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Profile("c")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "known: a, b") {
		t.Fatalf("err = %v", err)
	}
	list, _ := s.List()
	if len(list) != 2 || list[0].Name != "a" {
		t.Fatalf("List = %v", list)
	}
}

// TestFailedSaveKeepsPreviousProfile fails the keychain at every write of a replacing save in
// turn: each time the previous profile must still read back whole, and nothing of the failed
// attempt may stay behind.
func TestFailedSaveKeepsPreviousProfile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	probe := newMem()
	s := openWith(t, t.TempDir(), probe)
	if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("new")); err != nil {
		t.Fatal(err)
	}
	writes := probe.sets
	for failAt := 1; failAt <= writes; failAt++ {
		t.Run(strconv.Itoa(failAt), func(t *testing.T) {
			mem := newMem()
			s := openWith(t, t.TempDir(), mem)
			if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("old")); err != nil {
				t.Fatal(err)
			}
			before := mem.count()
			base := mem.sets
			mem.failSet = func(n int, _ string) error {
				if n-base == failAt {
					return errors.New("simulated keychain failure")
				}
				return nil
			}
			if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("new")); err == nil {
				t.Fatal("save should fail")
			}
			mem.failSet = nil
			got, err := s.Secrets(ctx, "p")
			if err != nil {
				t.Fatalf("previous profile unreadable: %v", err)
			}
			mustEqualSecrets(t, got, sampleSecrets("old"))
			if mem.count() != before {
				t.Errorf("%d items after the failed save, want %d", mem.count(), before)
			}
		})
	}
}

func TestTimeoutSaysWhatToDo(t *testing.T) {
	t.Parallel()
	mem := newMem()
	mem.block = make(chan struct{})
	defer close(mem.block)
	s := openWith(t, t.TempDir(), mem)
	s.opts.Timeout = 50 * time.Millisecond
	start := time.Now()
	err := s.Probe(context.Background())
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("the timeout did not bound the call")
	}
	if !strings.Contains(err.Error(), "M365CREDS_KEYRING_TIMEOUT") {
		t.Errorf("no next step in %q", err)
	}
}

func TestExplainKnownFailures(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		"failed to unlock correct collection '/org/freedesktop/secrets/collection/login'": "locked",
		"The name org.freedesktop.secrets was not provided by any .service files":         "no Secret Service provider",
		"dial unix /nonexistent: connect: no such file or directory":                      "D-Bus session bus",
		"Permission denied": "refused access",
	} {
		err := explain(errors.New(msg), "unix:path=/nonexistent")
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) || ue.Hint == "" {
			t.Errorf("explain(%q) = %v", msg, err)
		}
	}
}

func TestCorruptConfigIsKeptAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, configName("m365creds-test"))
	damaged := []byte(`{"version":1,"profiles":{"a":`)
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Service: "m365creds-test", ConfigDir: dir, Backend: BackendFile})
	var ce *CorruptConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	if kept, err := os.ReadFile(ce.KeptAs); err != nil || string(kept) != string(damaged) {
		t.Errorf("copy kept aside: %v", err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(damaged) {
		t.Error("the damaged file was changed")
	}
}

func TestFileBackendIsPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(Options{Service: "m365creds-test", ConfigDir: dir, Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.BackendName(), "plain text") {
		t.Errorf("backend name %q does not warn", s.BackendName())
	}
	if err := s.Save(context.Background(), sampleProfile("f"), sampleSecrets("x")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"secrets-m365creds-test.json", configName("m365creds-test")} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v mode %v", name, err, fi.Mode())
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, configName("m365creds-test")))
	if strings.Contains(string(cfg), "abc8Q~") || strings.Contains(string(cfg), "rt-x") {
		t.Error("a secret reached the config file")
	}
}

func TestConcurrentSavesKeepEveryProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := openWith(t, dir, nil)
			if err := s.Save(context.Background(), sampleProfile(fmt.Sprintf("g%d", i)), Secrets{ClientSecret: "c" + strconv.Itoa(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 3 {
		out, err := childCmd(dir, "save", fmt.Sprintf("p%d", i)).CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v %s", err, out)
		}
	}
	list, err := openWith(t, dir, nil).List()
	if err != nil || len(list) != 11 {
		t.Fatalf("List = %d profiles, %v; want 11", len(list), err)
	}
}

// TestLockSerialisesProcesses has several processes increment a counter kept in a profile's
// secrets under Lock; without the lock increments would be lost.
func TestLockSerialisesProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openWith(t, dir, nil)
	if err := s.Save(context.Background(), sampleProfile("shared"), Secrets{RefreshToken: "0"}); err != nil {
		t.Fatal(err)
	}
	const procs, each = 4, 5
	var wg sync.WaitGroup
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := childCmd(dir, "increment", strconv.Itoa(each)).CombinedOutput(); err != nil {
				t.Errorf("child: %v %s", err, out)
			}
		}()
	}
	wg.Wait()
	sec, err := s.Secrets(context.Background(), "shared")
	if err != nil || sec.RefreshToken != strconv.Itoa(procs*each) {
		t.Fatalf("counter = %q, %v; want %d", sec.RefreshToken, err, procs*each)
	}
}

const childEnv = "KEYRING_TEST_CHILD"

func childCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$"}, args...)...)
	// GORACE: a race-enabled binary otherwise waits a second before exiting.
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "GORACE=atexit_sleep_ms=0")
	return cmd
}

// crashBackend is a backend with a kill switch: the process exits at the at-th write, with no
// deferred clean-up, the way kill -9 would stop it.
type crashBackend struct {
	backend
	at, n int
}

func (c *crashBackend) set(service, account, value string) error {
	c.n++
	if c.n == c.at {
		os.Exit(137)
	}
	return c.backend.set(service, account, value)
}

// bigSecrets has a 10 KB refresh token, several times any platform's item limit, so a save
// writes chunks.
func bigSecrets(tag string) Secrets {
	sec := sampleSecrets(tag)
	sec.RefreshToken = "rt-" + tag + "-" + strings.Repeat("R", 10*1024)
	return sec
}

// childStore opens the store a child process works on: the file backend in dir, or the real
// keychain when the parent sets KEYRING_TEST_SERVICE.
func childStore(dir string) (*Store, error) {
	opts := Options{Service: "m365creds-test", ConfigDir: dir, Backend: BackendFile, Timeout: 10 * time.Second}
	if svc := os.Getenv("KEYRING_TEST_SERVICE"); svc != "" {
		opts.Service, opts.Backend = svc, BackendKeychain
	}
	return Open(opts)
}

// childMain runs in a child process for the multi-process tests. Its arguments follow
// "-test.run=^$": a command and its parameters.
func childMain() int {
	dir := os.Getenv(childEnv)
	args := os.Args[2:]
	s, err := childStore(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	increment := func(sec *Secrets) error {
		v, _ := strconv.Atoi(sec.RefreshToken)
		sec.RefreshToken = strconv.Itoa(v + 1)
		return nil
	}
	switch args[0] {
	case "save":
		err = s.Save(ctx, sampleProfile(args[1]), Secrets{ClientSecret: "child"})
	case "save-big": // profile, tag, times
		n, _ := strconv.Atoi(args[3])
		for i := 0; i < n && err == nil; i++ {
			err = s.Save(ctx, sampleProfile(args[1]), bigSecrets(args[2]+"-"+strconv.Itoa(i)))
		}
	case "increment": // under Lock, the way `token` refreshes
		n, _ := strconv.Atoi(args[1])
		for range n {
			unlock, lerr := s.Lock(ctx, "shared")
			if lerr != nil {
				err = lerr
				break
			}
			err = s.UpdateSecrets(ctx, "shared", increment)
			unlock()
			if err != nil {
				break
			}
		}
	case "increment-nolock": // UpdateSecrets alone must not lose updates either
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n && err == nil; i++ {
			err = s.UpdateSecrets(ctx, "shared", increment)
		}
	case "crash": // profile, write number or stage name
		if at, aerr := strconv.Atoi(args[2]); aerr == nil {
			s.backend = &crashBackend{backend: s.backend, at: at}
		} else {
			s.stage = func(name string) {
				if name == args[2] {
					os.Exit(137)
				}
			}
		}
		err = s.Save(ctx, sampleProfile(args[1]), bigSecrets("new"))
	default:
		err = fmt.Errorf("unknown child command %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestConcurrentSavesAndReadsOfOneProfile has writers replace one profile while readers read
// it, with a slow keychain so they interleave. No save may delete items another save is still
// writing, and no reader may see a profile with items missing.
func TestConcurrentSavesAndReadsOfOneProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mem := newMem()
	mem.delay = time.Millisecond
	ctx := context.Background()
	if err := openWith(t, dir, mem).Save(ctx, sampleProfile("same"), sampleSecrets("start")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			s := openWith(t, dir, mem)
			for j := range 4 {
				if err := s.Save(ctx, sampleProfile("same"), sampleSecrets(strconv.Itoa(i*10+j))); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			s := openWith(t, dir, mem)
			for range 8 {
				if _, err := s.Secrets(ctx, "same"); err != nil {
					t.Errorf("reader saw a broken profile: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if _, err := openWith(t, dir, mem).Secrets(ctx, "same"); err != nil {
		t.Fatalf("profile broken after concurrent saves: %v", err)
	}
}

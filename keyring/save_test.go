package keyring

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// fileItems counts the items in the file backend's secrets file, the whole truth of what a
// test's "keychain" holds.
func fileItems(t *testing.T, dir string) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "secrets-m365creds-test.json"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]string{}
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// TestCrashMidSaveLeavesAWorkingProfile kills a real process (os.Exit inside the keychain
// write, or at the commit points, with no deferred clean-up) at every write of a save that
// replaces a profile with a 10 KB, chunked one. The profile that survives must be complete:
// the old one before the config switch, the new one after it, never a mix. The next save must
// then leave exactly one generation of items behind, chunks of the interrupted one included.
func TestCrashMidSaveLeavesAWorkingProfile(t *testing.T) {
	t.Parallel()
	// 10 KB refresh token: 6 chunks + header; client secret; access token.
	const writes = 9
	points := []string{"before-commit", "after-commit"}
	for i := 1; i <= writes; i++ {
		points = append(points, strconv.Itoa(i))
	}
	for _, existing := range []bool{true, false} {
		for _, at := range points {
			name := "replace-" + at
			if !existing {
				name = "first-" + at
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				ctx := context.Background()
				s := openWith(t, dir, nil)
				old := sampleSecrets("old")
				if existing {
					if err := s.Save(ctx, sampleProfile("p"), old); err != nil {
						t.Fatal(err)
					}
				}
				err := childCmd(dir, "crash", "p", at).Run()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 137 {
					t.Fatalf("the child did not crash at %s: %v", at, err)
				}
				got, err := openWith(t, dir, nil).Secrets(ctx, "p")
				switch {
				case at == "after-commit":
					if err != nil {
						t.Fatalf("crash after the switch: new profile unreadable: %v", err)
					}
					mustEqualSecrets(t, got, bigSecrets("new"))
				case existing:
					if err != nil {
						t.Fatalf("crash at %s: previous profile unreadable: %v", at, err)
					}
					mustEqualSecrets(t, got, old)
				default:
					if !errors.Is(err, ErrNotFound) {
						t.Fatalf("crash at %s during a first save: got %v, want not found", at, err)
					}
				}
				// The next save cleans up whatever the crash left.
				if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("after")); err != nil {
					t.Fatal(err)
				}
				if n := fileItems(t, dir); n != 3 {
					t.Errorf("%d items after the next save, want 3: the crashed save left items behind", n)
				}
				if err := s.Delete(ctx, "p"); err != nil {
					t.Fatal(err)
				}
				if n := fileItems(t, dir); n != 0 {
					t.Errorf("%d items after Delete, want 0", n)
				}
			})
		}
	}
}

// TestDeleteAfterCrashLeavesNothing: Delete alone (no save in between) must also remove the
// items of an interrupted save, chunks without a header included.
func TestDeleteAfterCrashLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s := openWith(t, dir, nil)
	if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("old")); err != nil {
		t.Fatal(err)
	}
	_ = childCmd(dir, "crash", "p", "4").Run() // in the middle of the refresh token's chunks
	if n := fileItems(t, dir); n <= 3 {
		t.Fatalf("the crash should have left chunks behind, found %d items", n)
	}
	if err := s.Delete(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if n := fileItems(t, dir); n != 0 {
		t.Errorf("%d items after Delete, want 0", n)
	}
	if _, err := s.Secrets(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Secrets after Delete = %v, want ErrNotFound", err)
	}
}

// TestSavesOfOneProfileAreSerialised stops a save between writing its items and switching the
// config, and starts a second save of the same profile meanwhile. The second must wait: were
// it to finish first, the first save's switch would point at items the second had removed as
// leftovers.
func TestSavesOfOneProfileAreSerialised(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mem := newMem()
	ctx := context.Background()
	a := openWith(t, dir, mem)
	b := openWith(t, dir, mem)
	if err := a.Save(ctx, sampleProfile("p"), sampleSecrets("old")); err != nil {
		t.Fatal(err)
	}
	var bDone chan error
	a.stage = func(stage string) {
		if stage != "before-commit" || bDone != nil {
			return
		}
		bDone = make(chan error, 1)
		go func() { bDone <- b.Save(ctx, sampleProfile("p"), sampleSecrets("b")) }()
		select {
		case err := <-bDone:
			t.Errorf("a second save of the same profile finished while the first was mid-way (%v)", err)
			bDone <- err
		case <-time.After(300 * time.Millisecond):
		}
	}
	if err := a.Save(ctx, sampleProfile("p"), sampleSecrets("a")); err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	got, err := a.Secrets(ctx, "p")
	if err != nil {
		t.Fatalf("profile broken by interleaved saves: %v", err)
	}
	mustEqualSecrets(t, got, sampleSecrets("b"))
	if mem.count() != 3 {
		t.Errorf("%d items, want 3", mem.count())
	}
}

// TestFailedChunkedSaveKeepsPreviousProfile fails the keychain at every write of a save of
// 10 KB values in turn, and also at every read-back: the previous profile must read back
// whole each time, and nothing of the failed attempt may stay behind.
func TestFailedChunkedSaveKeepsPreviousProfile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for failAt := 1; failAt <= 9; failAt++ {
		t.Run(strconv.Itoa(failAt), func(t *testing.T) {
			mem := newMem()
			s := openWith(t, t.TempDir(), mem)
			old := bigSecrets("old")
			if err := s.Save(ctx, sampleProfile("p"), old); err != nil {
				t.Fatal(err)
			}
			before, base := mem.count(), mem.sets
			mem.failSet = func(n int, _ string) error {
				if n-base == failAt {
					return errors.New("simulated keychain failure")
				}
				return nil
			}
			err := s.Save(ctx, sampleProfile("p"), bigSecrets("new"))
			if err == nil || !strings.Contains(err.Error(), "previous values are unchanged") {
				t.Fatalf("save error = %v", err)
			}
			if strings.Contains(err.Error(), "RRRR") {
				t.Error("the error contains the secret")
			}
			mem.failSet = nil
			got, err := s.Secrets(ctx, "p")
			if err != nil {
				t.Fatalf("previous profile unreadable: %v", err)
			}
			mustEqualSecrets(t, got, old)
			if mem.count() != before {
				t.Errorf("%d items after the failed save, want %d", mem.count(), before)
			}
		})
	}
}

// corruptingBackend returns a different value than was stored for one account, so the
// read-back check has something to catch.
type corruptingBackend struct {
	*memBackend
	match string
}

func (c *corruptingBackend) get(service, account string) (string, error) {
	v, err := c.memBackend.get(service, account)
	if err == nil && strings.Contains(account, c.match) {
		return v + "x", nil
	}
	return v, err
}

func TestReadBackMismatchAbortsSave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := newMem()
	s := openWith(t, t.TempDir(), mem)
	if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("old")); err != nil {
		t.Fatal(err)
	}
	before := mem.count()
	s.backend = &corruptingBackend{memBackend: mem, match: "refresh-token@"}
	if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("new")); err == nil {
		t.Fatal("a save whose read-back differs must fail")
	}
	s.backend = mem
	got, err := s.Secrets(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	mustEqualSecrets(t, got, sampleSecrets("old"))
	if mem.count() != before {
		t.Errorf("%d items, want %d", mem.count(), before)
	}
}

func TestChunkingRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := newMem()
	s := openWith(t, t.TempDir(), mem)
	sec := bigSecrets("x")
	sec.ClientSecret = strings.Repeat("é€", 1500) // multi-byte, must not be cut inside a rune
	sec.AccessToken = strings.Repeat("A", 4000)
	if err := s.Save(ctx, sampleProfile("big"), sec); err != nil {
		t.Fatal(err)
	}
	mem.mu.Lock()
	for k, v := range mem.items {
		if len(v) > maxItemBytes {
			t.Errorf("item %s has %d bytes, over the %d limit", k, len(v), maxItemBytes)
		}
		if !utf8Valid(v) {
			t.Errorf("item %s is not valid UTF-8", k)
		}
	}
	mem.mu.Unlock()
	got, err := s.Secrets(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	mustEqualSecrets(t, got, sec)

	// A missing chunk or a changed one is an error, never a wrong secret.
	e, _ := s.entry("big")
	chunk := memoryKey{"m365creds-test", account("big", itemRefreshToken, e.Generation) + "#2"}
	mem.mu.Lock()
	saved := mem.items[chunk]
	mem.items[chunk] = strings.Repeat("Z", len(saved))
	mem.mu.Unlock()
	if _, err := s.Secrets(ctx, "big"); err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Errorf("changed chunk: %v", err)
	}
	mem.mu.Lock()
	delete(mem.items, chunk)
	mem.mu.Unlock()
	if _, err := s.Secrets(ctx, "big"); err == nil || !strings.Contains(err.Error(), "part 2 of") {
		t.Errorf("missing chunk: %v", err)
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "a", strings.Repeat("x", 2000), strings.Repeat("x", 2001), strings.Repeat("€", 1000), "\xff\xfe" + strings.Repeat("\x80", 3000)} {
		parts := split(v, 2000)
		if strings.Join(parts, "") != v {
			t.Errorf("split(%d bytes) does not join back", len(v))
		}
		for _, p := range parts {
			if len(p) > 2000 || p == "" {
				t.Errorf("split(%d bytes): part of %d bytes", len(v), len(p))
			}
		}
	}
}

// TestTimeoutDuringSaveKeepsPreviousProfile blocks the keychain in the middle of a save: the
// save must give up within the timeout and the previous profile must still be there once the
// keychain answers again; the next save removes what the late writes left.
func TestTimeoutDuringSaveKeepsPreviousProfile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := newMem()
	s := openWith(t, t.TempDir(), mem)
	if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("old")); err != nil {
		t.Fatal(err)
	}
	s.opts.Timeout = 100 * time.Millisecond
	block := make(chan struct{})
	mem.mu.Lock()
	mem.block = block
	mem.mu.Unlock()
	settled := mem.settledCalls()
	start := time.Now()
	err := s.Save(ctx, sampleProfile("p"), sampleSecrets("new"))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "M365CREDS_KEYRING_TIMEOUT") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("save took %v with a 100ms timeout", d)
	}
	close(block)
	// The save gave up on one call, which ends once the keychain answers.
	for deadline := time.Now().Add(10 * time.Second); mem.settledCalls() == settled; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned keychain call never returned")
		}
	}
	s.opts.Timeout = 2 * time.Second
	got, err := s.Secrets(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	mustEqualSecrets(t, got, sampleSecrets("old"))
	if err := s.Save(ctx, sampleProfile("p"), sampleSecrets("next")); err != nil {
		t.Fatal(err)
	}
	if mem.count() != 3 {
		t.Errorf("%d items after the next save, want 3", mem.count())
	}
}

// TestConcurrentProcessesSaveOneProfile has separate processes replace the same profile with
// chunked values, and others update it with UpdateSecrets alone, at the same time. At the end
// the profile must be whole and exactly one generation of items must remain.
func TestConcurrentProcessesSaveOneProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s := openWith(t, dir, nil)
	if err := s.Save(ctx, sampleProfile("shared"), Secrets{RefreshToken: "0"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	run := func(args ...string) {
		defer wg.Done()
		if out, err := childCmd(dir, args...).CombinedOutput(); err != nil {
			t.Errorf("child %v: %v %s", args, err, out)
		}
	}
	for i := range 3 {
		wg.Add(2)
		go run("save-big", "other", strconv.Itoa(i), "3")
		go run("increment-nolock", "4")
	}
	wg.Wait()
	sec, err := s.Secrets(ctx, "shared")
	if err != nil || sec.RefreshToken != "12" {
		t.Fatalf("counter = %q, %v; want 12 (UpdateSecrets lost an update)", sec.RefreshToken, err)
	}
	other, err := s.Secrets(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(other.RefreshToken, "rt-") || len(other.RefreshToken) < 10*1024 {
		t.Errorf("other profile refresh token has %d bytes", len(other.RefreshToken))
	}
	// shared: one item; other: 3 items, the refresh token as 6 chunks + header.
	if n := fileItems(t, dir); n != 1+9 {
		t.Errorf("%d items, want 10: old generations were left behind", n)
	}
}

func TestLockRespectsContext(t *testing.T) {
	t.Parallel()
	s := openWith(t, t.TempDir(), newMem())
	unlock, err := s.Lock(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx, "p"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock = %v, want a deadline error", err)
	}
	other, err := s.Lock(context.Background(), "q")
	if err != nil {
		t.Fatalf("another profile's lock must be free: %v", err)
	}
	other()
	// Saving is possible while holding the profile's Lock (the refresh path does that).
	if err := s.Save(context.Background(), sampleProfile("p"), Secrets{ClientSecret: "c"}); err != nil {
		t.Fatal(err)
	}
	unlock()
	again, err := s.Lock(ctx, "p")
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	again()
	if _, err := s.Lock(context.Background(), "../x"); err == nil {
		t.Error("Lock accepted a name with a path in it")
	}
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

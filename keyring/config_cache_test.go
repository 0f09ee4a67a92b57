package keyring

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConfigParsedOncePerChange checks that a Store parses its config file once and then
// reuses it, sees a change another process makes (a new file through rename) and an edit in
// place (a new modification time), and sees its own writes.
func TestConfigParsedOncePerChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	opts := Options{Service: "m365creds-test-cache", ConfigDir: dir, Backend: BackendMemory, Timeout: 10 * time.Second}
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, sampleProfile("one"), Secrets{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Profile("one"); err != nil {
		t.Fatalf("own write not seen: %v", err)
	}

	// An edit in place that keeps size and time is not noticed: proof that the parse is reused.
	info, err := os.Stat(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.ReplaceAll(string(raw), `"one"`, `"two"`)
	if err := os.WriteFile(a.Path(), []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a.Path(), info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Profile("one"); err != nil {
		t.Fatalf("the cached parse was not used: %v", err)
	}
	// The same edit with a new time is noticed.
	later := info.ModTime().Add(time.Second)
	if err := os.Chtimes(a.Path(), later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Profile("two"); err != nil {
		t.Fatalf("edit in place not seen: %v", err)
	}

	// Another process's write (a rename) is noticed even within the same time and size.
	b, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Touch("two", func(p *Profile) { p.Account = "x@example.com" }); err != nil {
		t.Fatal(err)
	}
	if p, err := a.Profile("two"); err != nil || p.Account != "x@example.com" {
		t.Fatalf("other store's write not seen: %+v %v", p, err)
	}
	if err := b.Delete(ctx, "two"); err != nil {
		t.Fatal(err)
	}
	if names, err := a.Names(); err != nil || len(names) != 0 {
		t.Fatalf("other store's delete not seen: %v %v", names, err)
	}
}

// TestValidNameCharsMatchesPattern compares the byte test with the pattern it replaces.
func TestValidNameCharsMatchesPattern(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[A-Za-z0-9._-]*$`)
	for r := rune(0); r < 0x300; r++ {
		for _, name := range []string{string(r), "ab" + string(r), string(r) + "-z"} {
			if got, want := validNameChars(name), re.MatchString(name); got != want {
				t.Errorf("%q: %v, pattern says %v", name, got, want)
			}
		}
	}
}

// TestCachedConfigNotChangedByCallers: a caller changing the lists of a profile it was given
// does not change what the next caller gets.
func TestCachedConfigNotChangedByCallers(t *testing.T) {
	t.Parallel()
	s, err := Open(Options{Service: "m365creds-test-cache2", ConfigDir: t.TempDir(), Backend: BackendMemory, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := sampleProfile("one")
	p.RequestedScopes = []string{"User.Read", "offline_access"}
	if err := s.Save(context.Background(), p, Secrets{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Profile("one")
	if err != nil {
		t.Fatal(err)
	}
	got.RequestedScopes[0] = "changed"
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	list[0].RequestedScopes[1] = "changed"
	again, err := s.Profile("one")
	if err != nil || again.RequestedScopes[0] != "User.Read" || again.RequestedScopes[1] != "offline_access" {
		t.Fatalf("the cached profile was changed through a caller: %v %v", again.RequestedScopes, err)
	}
}

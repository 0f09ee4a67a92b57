package keyring

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCorruptConfigIsNeverOverwritten damages the config file under a store that is already
// open: every later operation must refuse with a CorruptConfigError that says where the copy
// is, the file must stay byte for byte as it was, and nothing may be written to the keychain.
func TestCorruptConfigIsNeverOverwritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mem := newMem()
	s := openWith(t, dir, mem)
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("a"), sampleSecrets("a")); err != nil {
		t.Fatal(err)
	}
	items := mem.count()
	damaged := []byte("{\"version\":1,\"profiles\":{\"a\":{\"name\":\"b\"}}}\n")
	if err := os.WriteFile(s.Path(), damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for name, op := range map[string]func() error{
		"Save":   func() error { return s.Save(ctx, sampleProfile("c"), sampleSecrets("c")) },
		"Delete": func() error { return s.Delete(ctx, "a") },
		"Touch":  func() error { return s.Touch("a", func(p *Profile) { p.LastRefresh = time.Now() }) },
		"List":   func() error { _, err := s.List(); return err },
		"Secrets": func() error {
			_, err := s.Secrets(ctx, "a")
			return err
		},
		"UpdateSecrets": func() error { return s.UpdateSecrets(ctx, "a", func(*Secrets) error { return nil }) },
		"Open": func() error {
			_, err := Open(Options{Service: "m365creds-test", ConfigDir: dir, Backend: BackendFile})
			return err
		},
	} {
		err := op()
		var ce *CorruptConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a CorruptConfigError", name, err)
			continue
		}
		for _, want := range []string{s.Path(), "damaged", "copy is kept at", "Fix or remove"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: message %q lacks %q", name, err, want)
			}
		}
		kept = append(kept, ce.KeptAs)
	}
	if now, _ := os.ReadFile(s.Path()); string(now) != string(damaged) {
		t.Error("the damaged config file was changed")
	}
	if mem.count() != items {
		t.Errorf("the keychain went from %d to %d items while the config was damaged", items, mem.count())
	}
	copies, _ := filepath.Glob(s.Path() + ".corrupt-*")
	if len(copies) != 1 {
		t.Errorf("the same damage was kept %d times: %v", len(copies), copies)
	}
	for _, k := range kept {
		if raw, err := os.ReadFile(k); err != nil || string(raw) != string(damaged) {
			t.Errorf("kept copy %s: %v", k, err)
		}
	}
	// Different damage gets its own copy; the first one is not replaced.
	if err := os.WriteFile(s.Path(), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(); err == nil {
		t.Fatal("garbage accepted")
	}
	copies, _ = filepath.Glob(s.Path() + ".corrupt-*")
	if len(copies) != 2 {
		t.Errorf("want 2 copies, got %v", copies)
	}
}

func TestConfigFromANewerVersionIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, configName("m365creds-test"))
	if err := os.WriteFile(path, []byte(`{"version":2,"profiles":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Service: "m365creds-test", ConfigDir: dir, Backend: BackendFile})
	if !errors.As(err, new(*CorruptConfigError)) || !strings.Contains(err.Error(), "newer m365creds") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigFilesAndModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "m365creds")
	s, err := Open(Options{Service: "m365creds-demo", ConfigDir: dir, Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(s.Path()) != "profiles-m365creds-demo.json" {
		t.Errorf("demo config file %s, want its own profiles-m365creds-demo.json", s.Path())
	}
	if err := s.Save(context.Background(), sampleProfile("d"), sampleSecrets("d")); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir:                         0o700,
		filepath.Join(dir, "locks"): 0o700,
		s.Path():                    0o600,
		filepath.Join(dir, "secrets-m365creds-demo.json"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	real, err := Open(Options{Service: DefaultService, ConfigDir: dir, Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(real.Path()) != "profiles.json" {
		t.Errorf("config file %s, want profiles.json", real.Path())
	}
	if list, _ := real.List(); len(list) != 0 {
		t.Error("demo profiles show up among the real ones")
	}
}

func TestTouchAndNotFound(t *testing.T) {
	t.Parallel()
	s := openWith(t, t.TempDir(), newMem())
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("a"), sampleSecrets("a")); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Touch("a", func(p *Profile) { p.LastRefresh = when; p.Name = "renamed" }); err != nil {
		t.Fatal(err)
	}
	p, err := s.Profile("a")
	if err != nil || !p.LastRefresh.Equal(when) || p.Name != "a" {
		t.Errorf("after Touch: %+v, %v", p, err)
	}
	for name, err := range map[string]error{
		"Touch":   s.Touch("zz", func(*Profile) {}),
		"Delete":  s.Delete(ctx, "zz"),
		"Secrets": func() error { _, err := s.Secrets(ctx, "zz"); return err }(),
		"Update":  s.UpdateSecrets(ctx, "zz", func(*Secrets) error { return nil }),
	} {
		var nf *NotFoundError
		if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) || len(nf.Known) != 1 || !strings.Contains(err.Error(), "known: a") {
			t.Errorf("%s of an unknown profile: %v", name, err)
		}
	}
}

package keyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The memory backend has the keychain's semantics: set replaces, get and del of an absent
// item report errItemMissing, and services are kept apart.
func TestMemoryBackendSemantics(t *testing.T) {
	t.Parallel()
	m := newMemoryBackend()
	if _, err := m.get("svc", "a"); !errors.Is(err, errItemMissing) {
		t.Fatalf("get of an absent item: %v", err)
	}
	if err := m.del("svc", "a"); !errors.Is(err, errItemMissing) {
		t.Fatalf("del of an absent item: %v", err)
	}
	for _, v := range []string{"one", "two"} {
		if err := m.set("svc", "a", v); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := m.get("svc", "a"); err != nil || v != "two" {
		t.Fatalf("get after two sets = %q, %v; want the second value", v, err)
	}
	// Names that would collide if service and account were joined by a separator.
	if err := m.set("svc/x", "y", "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.get("svc", "x/y"); !errors.Is(err, errItemMissing) {
		t.Errorf("an item of another service was found: %v", err)
	}
	if _, err := m.get("other", "a"); !errors.Is(err, errItemMissing) {
		t.Errorf("an item was found under another service: %v", err)
	}
	if err := m.del("svc", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.get("svc", "a"); !errors.Is(err, errItemMissing) {
		t.Errorf("item still there after del: %v", err)
	}
}

// A store opened with BackendMemory works end to end, keeps secrets out of every file, and
// forgets them with the process: another store (another run) does not see them.
func TestMemoryStoreKeepsSecretsOutOfFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(Options{Service: "m365creds-test-memory", ConfigDir: dir, Backend: BackendMemory, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !s.InMemory() {
		t.Error("InMemory is false for BackendMemory")
	}
	if !strings.Contains(s.BackendName(), "memory") {
		t.Errorf("backend name %q does not say memory", s.BackendName())
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	sec := bigSecrets("mem") // chunked values too
	if err := s.Save(ctx, sampleProfile("m"), sec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Secrets(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	mustEqualSecrets(t, got, sec)
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range []string{sec.ClientSecret, sec.RefreshToken[:40], sec.AccessToken[:40]} {
			if strings.Contains(string(raw), v) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})

	again, err := Open(Options{Service: "m365creds-test-memory", ConfigDir: dir, Backend: BackendMemory, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var lost *LostItemError
	if _, err := again.Secrets(ctx, "m"); !errors.As(err, &lost) {
		t.Errorf("a second memory store read the first one's secrets: %v", err)
	}

	if err := s.Delete(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if n := len(s.backend.(*memoryBackend).items); n != 0 {
		t.Errorf("%d items left after Delete", n)
	}
	other, err := Open(Options{Service: "m365creds-test-memory", ConfigDir: t.TempDir(), Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	if other.InMemory() {
		t.Error("InMemory is true for the file backend")
	}
}

// Concurrent saves and reads through one memory store, under the race detector.
func TestMemoryStoreConcurrentUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(Options{Service: "m365creds-test-memory", ConfigDir: t.TempDir(), Backend: BackendMemory, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("p%d", i)
			sec := sampleSecrets(name)
			if err := s.Save(ctx, sampleProfile(name), sec); err != nil {
				errs <- err
				return
			}
			got, err := s.Secrets(ctx, name)
			if err != nil {
				errs <- err
				return
			}
			if got.RefreshToken != sec.RefreshToken {
				errs <- fmt.Errorf("%s read another profile's refresh token", name)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 8 {
		t.Fatalf("List = %d profiles, %v; want 8", len(list), err)
	}
}

package keyring

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

const draftSecret = "drf8Q~" + "abcdefghijklmnopqrstuvwxyz0123456789"

// TestRealKeychainDraft keeps a draft in the real Secret Service: the secret is one item of
// the store's service, the file beside the profiles never holds it, and discarding leaves
// neither behind.
func TestRealKeychainDraft(t *testing.T) {
	t.Parallel()
	s := realStore(t)
	s.opts.Service = "m365creds-test-draft" // its own service, so the item count is this test's alone
	ctx := context.Background()
	if got, err := s.DraftSecret(ctx); err != nil || got != "" {
		t.Fatalf("before anything is kept: %q, %v", got, err)
	}
	if err := s.WriteDraft([]byte(`{"version":1,"step":"Secret","profile":"contoso"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDraftSecret(ctx, draftSecret); err != nil {
		t.Fatal(err)
	}
	if n := secretToolCount(t, "m365creds-test-draft"); n != 1 {
		t.Fatalf("%d keychain items for the draft, want 1", n)
	}
	got, err := s.DraftSecret(ctx)
	if err != nil || got != draftSecret {
		t.Fatalf("read back %v (%v)", got != "", err)
	}
	checkDraftFile(t, s)

	if err := s.DiscardDraft(ctx); err != nil {
		t.Fatal(err)
	}
	if n := secretToolCount(t, "m365creds-test-draft"); n != 0 {
		t.Fatalf("%d keychain items left after discarding the draft", n)
	}
	if _, err := os.Stat(s.DraftPath()); !os.IsNotExist(err) {
		t.Fatalf("the draft file is still there: %v", err)
	}
	if raw, err := s.ReadDraft(); err != nil || raw != nil {
		t.Fatalf("after discarding: %q, %v", raw, err)
	}
	if err := s.DiscardDraft(ctx); err != nil {
		t.Fatalf("discarding nothing: %v", err)
	}
}

// TestDraftFileStore: with --store file the draft's secret goes where that store's secrets go
// (its secrets file), never into the draft file.
func TestDraftFileStore(t *testing.T) {
	t.Parallel()
	s := openWith(t, t.TempDir(), nil)
	ctx := context.Background()
	if err := s.WriteDraft([]byte(`{"version":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDraftSecret(ctx, draftSecret); err != nil {
		t.Fatal(err)
	}
	checkDraftFile(t, s)
	if got, _ := s.DraftSecret(ctx); got != draftSecret {
		t.Fatal("the draft secret did not come back")
	}
	if err := s.DiscardDraft(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DraftSecret(ctx); got != "" {
		t.Fatal("the draft secret survived the discard")
	}
}

// TestDraftPathPerService: the demo's draft never replaces the real wizard's.
func TestDraftPathPerService(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wizard, err := Open(Options{ConfigDir: dir, Backend: BackendMemory, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := Open(Options{Service: "m365creds-demo", ConfigDir: dir, Backend: BackendMemory, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if wizard.DraftPath() == demo.DraftPath() || !strings.HasSuffix(wizard.DraftPath(), "draft.json") {
		t.Fatalf("draft paths %s and %s", wizard.DraftPath(), demo.DraftPath())
	}
}

// checkDraftFile: mode 0600 and no secret inside.
func checkDraftFile(t *testing.T, s *Store) {
	t.Helper()
	fi, err := os.Stat(s.DraftPath())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("draft file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(s.DraftPath())
	if strings.Contains(string(raw), draftSecret) {
		t.Error("the draft file holds the secret")
	}
}

// TestDraftSecretPerConfigDir: two config directories share one keychain; a finished wizard
// in one removes its own draft secret only.
func TestDraftSecretPerConfigDir(t *testing.T) {
	t.Parallel()
	shared := newMem()
	a, b := openWith(t, t.TempDir(), shared), openWith(t, t.TempDir(), shared)
	ctx := context.Background()
	if err := a.SetDraftSecret(ctx, draftSecret); err != nil {
		t.Fatal(err)
	}
	if err := b.SetDraftSecret(ctx, draftSecret+"b"); err != nil {
		t.Fatal(err)
	}
	if err := b.DiscardDraft(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.DraftSecret(ctx); got != draftSecret {
		t.Fatal("discarding one directory's draft removed the other's secret")
	}
	if got, _ := b.DraftSecret(ctx); got != "" {
		t.Fatal("the discarded draft's secret is still there")
	}
}

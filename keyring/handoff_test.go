package keyring

import (
	"errors"
	"testing"
)

// TestHandoffKeysInTheRealKeychain: a one-time key is kept, read back and deleted in the
// Secret Service, and never shows up as a profile or its items.
func TestHandoffKeysInTheRealKeychain(t *testing.T) {
	t.Parallel()
	s := realStore(t)
	ctx := t.Context()
	const code, key = "age1examplecodeforthetestonly0000000000000000000000000000000", "AGE-SECRET-KEY-1EXAMPLE"
	if _, err := s.HandoffKey(ctx, code); !errors.Is(err, ErrNoHandoffKey) {
		t.Fatalf("before saving: %v", err)
	}
	if err := s.SaveHandoffKey(ctx, code, key); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.DeleteHandoffKey(ctx, code) })
	if got, err := s.HandoffKey(ctx, code); err != nil || got != key {
		t.Fatalf("read back: %q, %v", got, err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Errorf("a hand-off key shows as a profile: %v %v", list, err)
	}
	if err := s.DeleteHandoffKey(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := s.HandoffKey(ctx, code); !errors.Is(err, ErrNoHandoffKey) {
		t.Errorf("after deleting: %v", err)
	}
	if err := s.DeleteHandoffKey(ctx, code); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	for _, bad := range []string{"", "a/b", "x@1", "has space"} {
		if err := s.SaveHandoffKey(ctx, bad, key); err == nil {
			t.Errorf("code %q was accepted", bad)
		}
	}
}

package keyring

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
)

// A wizard that is interrupted keeps what was typed: the non-secret part as a file in the
// config directory (written by the caller, which knows its shape) and the client secret as one
// item in the same keychain as the profiles, so the Value the portal shows only once is not
// lost. There is one draft per service: the wizard collects one profile at a time.

// draftAccount is the keychain account of the draft's client secret. '@' cannot occur in a
// profile name, so it never collides with a profile's items. The keychain is shared by every
// config directory (M365CREDS_CONFIG_DIR) of the user, so the account names the directory the
// draft file is in: one directory's finished wizard never removes another's secret.
func (s *Store) draftAccount() string {
	dir, err := filepath.Abs(s.opts.ConfigDir)
	if err != nil {
		dir = s.opts.ConfigDir
	}
	sum := sha256.Sum256([]byte(dir))
	return "@draft/client-secret@" + hex.EncodeToString(sum[:6])
}

// DraftPath is where the draft's non-secret part is kept.
func (s *Store) DraftPath() string {
	name := "draft.json"
	if s.opts.Service != DefaultService {
		name = "draft-" + s.opts.Service + ".json"
	}
	return filepath.Join(s.opts.ConfigDir, name)
}

// WriteDraft replaces the draft file with data (mode 0600, atomically). data must hold no
// secret: the file is plain text.
func (s *Store) WriteDraft(data []byte) error {
	if err := writeFileAtomic(s.DraftPath(), data); err != nil {
		return &ConfigFileError{Path: s.DraftPath(), Op: "write", Err: err}
	}
	return nil
}

// ReadDraft returns the draft file, or nil when there is none.
func (s *Store) ReadDraft() ([]byte, error) {
	raw, err := os.ReadFile(s.DraftPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &ConfigFileError{Path: s.DraftPath(), Op: "read", Err: err}
	}
	return raw, nil
}

// SetDraftSecret keeps the draft's client secret in the keychain.
func (s *Store) SetDraftSecret(ctx context.Context, secret string) error {
	return s.set(ctx, s.draftAccount(), secret)
}

// DraftSecret reads the draft's client secret; "" when the keychain has none.
func (s *Store) DraftSecret(ctx context.Context) (string, error) {
	v, err := s.get(ctx, s.draftAccount())
	if errors.Is(err, errItemMissing) {
		return "", nil
	}
	return v, err
}

// DiscardDraft removes the draft file and the draft's keychain item. Either being absent
// already is no error. The keychain item goes first: a failure there leaves the file, so the
// next run still knows a secret may be left and removes it then.
func (s *Store) DiscardDraft(ctx context.Context) error {
	if err := s.del(ctx, s.draftAccount()); err != nil && !errors.Is(err, errItemMissing) {
		return err
	}
	if err := os.Remove(s.DraftPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return &ConfigFileError{Path: s.DraftPath(), Op: "remove", Err: err}
	}
	return nil
}

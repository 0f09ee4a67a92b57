package creds

import (
	"context"

	"github.com/m365creds/m365creds/steps"
)

// Draft is an unfinished wizard found at start-up.
type Draft struct {
	Kept steps.Kept
	// Secret is the client secret kept in the keychain, "" when there is none.
	Secret string
	// SecretErr is why a kept secret could not be read (a locked keychain): the wizard then
	// asks for it again.
	SecretErr error
}

// Wizard is the draft as a new-profile wizard, walked to where the user was.
func (d *Draft) Wizard() *steps.Wizard { return steps.Resume(d.Kept, d.Secret) }

// KeepDraft writes the non-secret part of an unfinished wizard to the config directory.
func (s *Service) KeepDraft(k steps.Kept) error {
	raw, err := k.Encode()
	if err != nil {
		return err
	}
	return s.Store.WriteDraft(raw)
}

// KeepDraftSecret puts the draft's client secret in the keychain, next to the profiles.
func (s *Service) KeepDraftSecret(ctx context.Context, secret string) error {
	return s.Store.SetDraftSecret(ctx, secret)
}

// LoadDraft returns the unfinished wizard kept by an earlier run, or nil when there is none.
// A draft file this build cannot read is no draft: it is replaced by the next one kept.
func (s *Service) LoadDraft(ctx context.Context) (*Draft, error) {
	raw, err := s.Store.ReadDraft()
	if err != nil || raw == nil {
		return nil, err
	}
	k, decodeErr := steps.DecodeKept(raw)
	if decodeErr != nil {
		return nil, nil
	}
	d := &Draft{Kept: k}
	if k.HasSecret {
		d.Secret, d.SecretErr = s.Store.DraftSecret(ctx)
	}
	return d, nil
}

// DiscardDraft removes the kept draft and its keychain item.
func (s *Service) DiscardDraft(ctx context.Context) error {
	return s.Store.DiscardDraft(ctx)
}

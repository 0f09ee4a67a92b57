package keyring

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Hand-off keys are one-time private keys that receive sealed credentials. They live in the
// keychain beside the profiles, under accounts ":handoff/<code>": the colon is not allowed in
// profile names, so they never meet a profile's items.
const handoffPrefix = ":handoff/"

// ErrNoHandoffKey means the keychain holds no private key for that code.
var ErrNoHandoffKey = errors.New("no hand-off key for this code")

func handoffAccount(code string) (string, error) {
	if code == "" || len(code) > 200 || strings.ContainsAny(code, "/@# \t\r\n") {
		return "", fmt.Errorf("not a hand-off code")
	}
	return handoffPrefix + code, nil
}

// SaveHandoffKey keeps the private key that belongs to a hand-off code.
func (s *Store) SaveHandoffKey(ctx context.Context, code, privateKey string) error {
	acct, err := handoffAccount(code)
	if err != nil {
		return err
	}
	return s.set(ctx, acct, privateKey)
}

// HandoffKey reads the private key of a hand-off code.
func (s *Store) HandoffKey(ctx context.Context, code string) (string, error) {
	acct, err := handoffAccount(code)
	if err != nil {
		return "", err
	}
	v, err := s.get(ctx, acct)
	if errors.Is(err, errItemMissing) {
		return "", ErrNoHandoffKey
	}
	return v, err
}

// DeleteHandoffKey removes the private key of a hand-off code; a missing one is no error.
func (s *Store) DeleteHandoffKey(ctx context.Context, code string) error {
	acct, err := handoffAccount(code)
	if err != nil {
		return err
	}
	if err := s.del(ctx, acct); err != nil && !errors.Is(err, errItemMissing) {
		return err
	}
	return nil
}

package keyring

import (
	"context"
	"fmt"
)

// The items SecretsWithout can leave out.
const (
	ItemClientSecret = itemClientSecret
	ItemRefreshToken = itemRefreshToken
)

// SecretsWithout reads a profile's secrets except one item: rotate repairs a lost client secret
// and must still read the refresh token next to it.
func (s *Store) SecretsWithout(ctx context.Context, name, item string) (Secrets, error) {
	var wanted []string
	for _, it := range allItems {
		if it != item {
			wanted = append(wanted, it)
		}
	}
	return s.read(ctx, name, wanted)
}

// OtherStoreError means a profile's secrets were saved in the other store: with --store file
// when this store is the keychain, or the other way round.
type OtherStoreError struct {
	Profile string
	Store   Backend // where they are: BackendFile or "" for the keychain
}

func (e *OtherStoreError) Error() string {
	if e.Store == BackendFile {
		return fmt.Sprintf("profile %q keeps its secrets in the plain-text file store: add --store file", e.Profile)
	}
	return fmt.Sprintf("profile %q keeps its secrets in the keychain: leave out --store file", e.Profile)
}

// storeKind is what entry.Store records for this store's backend.
func (s *Store) storeKind() Backend {
	if s.opts.Backend == BackendFile {
		return BackendFile
	}
	return ""
}

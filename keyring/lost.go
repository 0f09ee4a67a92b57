package keyring

import (
	"context"
	"errors"
)

// Lost items: the config file names an item the keychain no longer has.
var (
	ErrLostAccessToken  = errors.New("the keychain has lost the cached access token")
	ErrLostRefreshToken = errors.New("the keychain has lost the refresh token")
	ErrLostSecret       = errors.New("the keychain has lost the client secret")
)

func (e *lostItemError) Is(target error) bool {
	switch target {
	case ErrLostAccessToken:
		return e.item == itemAccessToken
	case ErrLostRefreshToken:
		return e.item == itemRefreshToken
	case ErrLostSecret:
		return e.item == itemClientSecret
	}
	return false
}

// The items SecretsWithout can leave out.
const (
	ItemClientSecret = itemClientSecret
	ItemAccessToken  = itemAccessToken
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

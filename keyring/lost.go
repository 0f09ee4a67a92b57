package keyring

import "context"

// The items SecretsWithout can leave out.
const (
	ItemClientSecret = itemClientSecret
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

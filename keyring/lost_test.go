package keyring

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/m365creds/m365creds/oauth"
)

// TestLostItems removes one keychain item at a time from the real Secret Service and reads
// the profile back: each loss must be told apart.
func TestLostItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		item  string
		want  error
		class oauth.Class
	}{
		{itemAccessToken, nil, oauth.ClassOther},
		{itemRefreshToken, ErrLostRefreshToken, oauth.ClassConsent},
		{itemClientSecret, ErrLostSecret, oauth.ClassSecret},
	} {
		t.Run(tc.item, func(t *testing.T) {
			s := realStore(t)
			name := "lost-" + strings.ReplaceAll(tc.item, "-", "")
			sec := sampleSecrets(name)
			if err := s.Save(ctx, sampleProfile(name), sec); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Delete(context.Background(), name) })
			e, err := s.entry(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.del(ctx, account(name, tc.item, e.Generation)); err != nil {
				t.Fatal(err)
			}
			got, err := s.Secrets(ctx, name)
			if tc.want == nil {
				// Only the cache is gone: nothing is wrong, there is just no cached token.
				if err != nil {
					t.Fatalf("Secrets: %v", err)
				}
				if got.AccessToken != "" || !got.AccessExpiry.IsZero() || got.RefreshToken != sec.RefreshToken || got.ClientSecret != sec.ClientSecret {
					t.Errorf("Secrets = %+v", got)
				}
				if at, err := s.AccessToken(ctx, name); err != nil || at.AccessToken != "" {
					t.Errorf("AccessToken = %+v, %v; want an empty cache", at, err)
				}
				return
			}
			var lost *LostItemError
			if !errors.Is(err, tc.want) || !errors.As(err, &lost) || lost.Item != tc.item || lost.Profile != name {
				t.Fatalf("Secrets: %v, want %v", err, tc.want)
			}
			if oauth.Classify(err) != tc.class {
				t.Errorf("class %d, want %d", oauth.Classify(err), tc.class)
			}
			if at, err := s.AccessToken(ctx, name); err != nil || at.AccessToken != sec.AccessToken {
				t.Errorf("the cached token is still there: %v", err)
			}
		})
	}
}

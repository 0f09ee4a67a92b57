package keyring

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth"
)

// TestSharedSecretInTheRealKeychain: customer profiles of one app keep no copy of its
// secret; a new secret saved in the vendor profile is what every customer reads at once;
// deleting a customer leaves the secret, and the vendor cannot be deleted while customers
// use it.
func TestSharedSecretInTheRealKeychain(t *testing.T) {
	t.Parallel()
	s := realStore(t)
	ctx := t.Context()
	const first, second = "ven8Q~firstSharedSecretValue000000000000", "ven8Q~secondSharedSecretValue00000000000"
	vendor := Profile{Name: "vendor", Cloud: oauth.Global, Tenant: "t0", ClientID: "c0", Kind: oauth.KindApp, Created: time.Now()}
	if err := s.Save(ctx, vendor, Secrets{ClientSecret: first}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alpha", "beta"} {
		p := vendor
		p.Name, p.Tenant, p.SecretFrom = name, name+"-tenant", "vendor"
		// The engine hands the secret along, as read from the vendor: the store must not copy it.
		if err := s.Save(ctx, p, Secrets{ClientSecret: first, AccessToken: "at-" + name, AccessExpiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		e, err := s.entry(name)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(e.Items, itemClientSecret) {
			t.Errorf("%s keeps its own copy of the secret: %v", name, e.Items)
		}
		if _, err := s.readItem(ctx, name, itemClientSecret, e.Generation); err == nil {
			t.Errorf("the keychain has a secret item for %s", name)
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{"alpha", "beta", "vendor"} {
			_ = s.Delete(ctx, n)
		}
	})
	read := func(name string) Secrets {
		t.Helper()
		sec, err := s.Secrets(ctx, name)
		if err != nil {
			t.Fatalf("secrets of %s: %v", name, err)
		}
		return sec
	}
	if sec := read("alpha"); sec.ClientSecret != first || sec.AccessToken != "at-alpha" {
		t.Errorf("alpha reads %+v", sec)
	}
	// Rotation of the vendor: one save, every customer sees the new secret.
	if err := s.UpdateSecrets(ctx, "vendor", func(sec *Secrets) error { sec.ClientSecret = second; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alpha", "beta"} {
		if got := read(n).ClientSecret; got != second {
			t.Errorf("%s after the rotation: %q", n, got)
		}
	}
	// A customer's own update (a new cached token) leaves the shared secret alone.
	if err := s.UpdateSecrets(ctx, "beta", func(sec *Secrets) error { sec.AccessToken = "at-beta-2"; return nil }); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.entry("beta"); slices.Contains(e.Items, itemClientSecret) {
		t.Error("updating beta copied the secret")
	}
	var shared *SharedSecretError
	if err := s.Delete(ctx, "vendor"); !errors.As(err, &shared) || !slices.Equal(shared.Users, []string{"alpha", "beta"}) {
		t.Fatalf("deleting the vendor while customers use its secret: %v", err)
	}
	if read("vendor").ClientSecret != second {
		t.Error("the refused delete touched the vendor")
	}
	if err := s.Delete(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if read("vendor").ClientSecret != second || read("beta").ClientSecret != second {
		t.Error("deleting a customer removed the shared secret")
	}
	if users, _ := s.SecretUsers("vendor"); !slices.Equal(users, []string{"beta"}) {
		t.Errorf("users after deleting alpha: %v", users)
	}
	// A source that has gone (a config file edited by hand) reads as a lost secret.
	if err := s.Touch("beta", func(p *Profile) { p.SecretFrom = "ghost" }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secrets(ctx, "beta"); !errors.Is(err, ErrLostSecret) {
		t.Errorf("secret source gone: %v", err)
	}
	if err := s.Delete(ctx, "vendor"); err != nil {
		t.Errorf("deleting the vendor once nobody uses its secret: %v", err)
	}
}

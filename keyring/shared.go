package keyring

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// A profile can use the client secret of another profile instead of a copy of its own: the
// customer profiles of a multi-tenant app all use the app's one secret, which is kept once,
// in the keychain items of the profile named in SecretFrom. Rotating that profile then
// updates every customer at once, and deleting a customer leaves the secret alone.

// SharedSecretError means a profile cannot be deleted because others use its secret.
type SharedSecretError struct {
	Profile string
	Users   []string
}

func (e *SharedSecretError) Error() string {
	return fmt.Sprintf("profile %q holds the client secret that %s also use: delete those first (m365creds delete NAME), or rotate %q instead of deleting it",
		e.Profile, strings.Join(e.Users, ", "), e.Profile)
}

// SecretUsers lists the profiles that use name's client secret, sorted.
func (s *Store) SecretUsers(name string) ([]string, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	return secretUsers(cfg, name), nil
}

func secretUsers(cfg *config, name string) []string {
	var out []string
	for n, e := range cfg.Profiles {
		if n != name && e.SecretFrom == name {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// refuseSharedDelete stops the delete of a profile whose secret others use. Callers hold the
// config lock (inside update).
func refuseSharedDelete(cfg *config, name string) error {
	if users := secretUsers(cfg, name); len(users) > 0 {
		return &SharedSecretError{Profile: name, Users: users}
	}
	return nil
}

// unshared is what a save writes for a profile that uses another's secret: everything but
// the secret, which stays where it is.
func unshared(p Profile, sec Secrets) Secrets {
	if p.SecretFrom != "" && p.SecretFrom != p.Name {
		sec.ClientSecret = ""
	}
	return sec
}

// withSharedSecret fills in the client secret of a profile that uses another's.
func (s *Store) withSharedSecret(ctx context.Context, name string, sec Secrets, err error) (Secrets, error) {
	if err != nil {
		return sec, err
	}
	e, err := s.entry(name)
	if err != nil || e.SecretFrom == "" || e.SecretFrom == name {
		return sec, err
	}
	from, err := s.read(ctx, e.SecretFrom, []string{itemClientSecret})
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return Secrets{}, &LostItemError{Profile: name, Item: itemClientSecret,
			Detail: fmt.Sprintf(" (it used the secret of profile %q, which no longer exists)", e.SecretFrom)}
	case err != nil:
		return Secrets{}, err
	}
	sec.ClientSecret = from.ClientSecret
	return sec, nil
}

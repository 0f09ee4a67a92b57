package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// pickProfile finds the profile a command works on. An empty name means: the only profile,
// else "default", else the caller must say which (a usage error listing them).
func pickProfile(cmd string, store *keyring.Store, name string) (keyring.Profile, error) {
	if name != "" {
		if looksSecret(name) {
			return keyring.Profile{}, usagef(cmd, "%s", secretOnCommandLine)
		}
		if err := keyring.ValidateName(name); err != nil {
			return keyring.Profile{}, usagef(cmd, "%s", err)
		}
		p, err := store.Profile(name)
		if err != nil {
			return keyring.Profile{}, unknownProfile(err)
		}
		return p, nil
	}
	list, err := store.List()
	if err != nil {
		return keyring.Profile{}, err
	}
	switch {
	case len(list) == 0:
		return keyring.Profile{}, withCode(ExitError, errors.New("no profiles yet"),
			"Create one with `m365creds` (the wizard) or `m365creds setup --no-input …`.")
	case len(list) == 1:
		return list[0], nil
	}
	for _, p := range list {
		if p.Name == steps.DefaultProfile {
			return p, nil
		}
	}
	return keyring.Profile{}, usagef(cmd, "say which profile: %s", strings.Join(names(list), ", "))
}

// requireProfile is pickProfile for commands whose PROFILE argument is mandatory.
func requireProfile(cmd string, store *keyring.Store, pos []string) (keyring.Profile, error) {
	if len(pos) == 0 {
		list, err := store.List()
		if err != nil {
			return keyring.Profile{}, err
		}
		if len(list) == 0 {
			return keyring.Profile{}, usagef(cmd, "missing PROFILE (there are no profiles yet)")
		}
		return keyring.Profile{}, usagef(cmd, "missing PROFILE (one of: %s)", strings.Join(names(list), ", "))
	}
	if err := maxArgs(cmd, pos, 1); err != nil {
		return keyring.Profile{}, err
	}
	return pickProfile(cmd, store, pos[0])
}

// unknownProfile turns a not-found error into the documented message: exit 1, known names listed.
func unknownProfile(err error) error {
	var nf *keyring.NotFoundError
	if !errors.As(err, &nf) {
		return err
	}
	hint := "There are no profiles yet: create one with `m365creds`."
	if len(nf.Known) > 0 {
		hint = "Known profiles: " + strings.Join(nf.Known, ", ")
	}
	return withCode(ExitError, fmt.Errorf("no profile named %q", nf.Name), hint)
}

func names(list []keyring.Profile) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.Name
	}
	return out
}

// kindLabel says in words what kind of credential a profile holds.
func kindLabel(k oauth.Kind) string {
	switch k {
	case oauth.KindWeb:
		return "web app + secret"
	case oauth.KindPublic:
		return "public (no secret)"
	case oauth.KindApp:
		return "app-only + secret"
	}
	return string(k)
}

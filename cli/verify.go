package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

type verifyOptions struct {
	store string
}

func (a *app) runVerify(o *verifyOptions, pos []string) error {
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	if err := maxArgs("verify", pos, 1); err != nil {
		return err
	}
	name := "" // the only profile, else "default", as token does
	if len(pos) == 1 {
		name = pos[0]
	}
	p, err := pickProfile("verify", store, name)
	if err != nil {
		return err
	}
	return a.verifyProfile(store, p)
}

func (a *app) verifyProfile(store *keyring.Store, p keyring.Profile) error {
	v, err := a.engine(store).Verify(a.ctx, p)
	var missing *creds.MissingScopesError
	if err != nil && !errors.As(err, &missing) {
		return err
	}
	fmt.Fprintf(a.stdout, "Profile:   %s\n", p.Name)
	fmt.Fprintf(a.stdout, "Requested: %s\n", strings.Join(p.RequestedScopes, " "))
	fmt.Fprintf(a.stdout, "Granted:   %s\n", strings.Join(v.Granted, " "))
	if p.Kind == oauth.KindApp {
		fmt.Fprintln(a.stdout, "Account:   app-only (application permissions; no /me)")
		a.warnSecretExpiry(p)
		fmt.Fprintln(a.stdout, "OK: Microsoft issued an app-only token.")
		return nil
	}
	if len(v.Missing) > 0 {
		fmt.Fprintf(a.stdout, "Missing:   %s\n", strings.Join(v.Missing, " "))
	}
	if v.User != nil {
		account := v.User.UserPrincipalName
		if account == "" {
			account = v.User.Mail
		}
		fmt.Fprintf(a.stdout, "Account:   %s (%s)\n", account, v.User.DisplayName)
	}
	if v.RecordErr != nil {
		a.warnf("could not record the account of profile %q: %v", p.Name, v.RecordErr)
	}
	a.warnSecretExpiry(p)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "OK: every requested scope was granted.")
	return nil
}

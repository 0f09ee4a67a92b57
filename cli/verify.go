package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

type verifyOptions struct {
	store string
}

var verifyCmd = &command{
	name:    "verify",
	args:    "PROFILE",
	summary: "refresh, call Graph /me and compare granted with requested scopes",
	long: `Check that PROFILE works end to end: redeem the refresh token (saving the rotated one),
call Microsoft Graph /me with the new access token, and print the account and the granted
scopes next to the requested ones. Application-permission profiles get an app-only token and
skip /me.

Exits 4 when a requested scope was not granted (consent again with
m365creds setup --profile PROFILE), 3 when the secret is rejected, 6 on network errors.`,
	examples: `  m365creds verify work`,
	flags: func(fs *flag.FlagSet) any {
		o := &verifyOptions{}
		storeFlag(fs, &o.store)
		return o
	},
	exec: func(a *app, opts any, pos []string) error { return a.runVerify(opts.(*verifyOptions), pos) },
}

func (a *app) runVerify(o *verifyOptions, pos []string) error {
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	p, err := requireProfile("verify", store, pos)
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

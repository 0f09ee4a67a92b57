package cli

import (
	"fmt"
	"strings"

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
	p, err := requireProfile("verify", store, pos)
	if err != nil {
		return err
	}
	return a.verifyProfile(store, p)
}

func (a *app) verifyProfile(store *keyring.Store, p keyring.Profile) error {
	res, err := a.freshToken(store, p, nil, true)
	if err != nil {
		return err
	}
	var requested []string
	for _, sc := range p.RequestedScopes {
		if !otherResource(p, sc) {
			requested = append(requested, sc)
		}
	}
	missing := oauth.MissingScopes(requested, res.Scopes)
	fmt.Fprintf(a.stdout, "Profile:   %s\n", p.Name)
	fmt.Fprintf(a.stdout, "Requested: %s\n", strings.Join(p.RequestedScopes, " "))
	fmt.Fprintf(a.stdout, "Granted:   %s\n", strings.Join(res.Scopes, " "))
	if p.Kind == oauth.KindApp {
		fmt.Fprintln(a.stdout, "Account:   app-only (application permissions; no /me)")
		a.warnSecretExpiry(p)
		fmt.Fprintln(a.stdout, "OK: Microsoft issued an app-only token.")
		return nil
	}
	if len(missing) > 0 {
		fmt.Fprintf(a.stdout, "Missing:   %s\n", strings.Join(missing, " "))
	}
	sec, err := store.Secrets(a.ctx, p.Name)
	if err != nil {
		return err
	}
	app := appFor(p, sec.ClientSecret)
	user, err := a.client(app).Me(a.ctx, res.AccessToken)
	if err != nil {
		oe := &oauthError{doing: "reading the signed-in account from Microsoft Graph /me", app: app, err: err}
		switch oauth.Classify(err) {
		case oauth.ClassConsent:
			return withCode(ExitConsent, oe, fmt.Sprintf("/me needs User.Read: add it and consent again with m365creds setup --profile %s", p.Name))
		case oauth.ClassNetwork:
			return withCode(ExitNetwork, oe, "")
		case oauth.ClassSecret, oauth.ClassOther:
		}
		return oe
	}
	account := user.UserPrincipalName
	if account == "" {
		account = user.Mail
	}
	fmt.Fprintf(a.stdout, "Account:   %s (%s)\n", account, user.DisplayName)
	if account != "" && (account != p.Account || user.DisplayName != p.AccountName) {
		if err := store.Touch(p.Name, func(pp *keyring.Profile) { pp.Account, pp.AccountName = account, user.DisplayName }); err != nil {
			a.warnf("could not record the account of profile %q: %v", p.Name, err)
		}
	}
	a.warnSecretExpiry(p)
	if len(missing) > 0 {
		return withCode(ExitConsent, fmt.Errorf("profile %q: not granted: %s", p.Name, strings.Join(missing, ", ")),
			fmt.Sprintf("Add them under API permissions (an administrator may have to grant them), then consent again: m365creds setup --profile %s", p.Name))
	}
	fmt.Fprintln(a.stdout, "OK: every requested scope was granted.")
	return nil
}

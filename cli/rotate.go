package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

type rotateOptions struct {
	secretStdin bool
	expires     string
	noInput     bool
	store       string
}

func (a *app) runRotate(o *rotateOptions, pos []string) error {
	if len(pos) != 1 {
		store, err := a.openStore(o.store)
		if err != nil {
			return err
		}
		_, err = requireProfile("rotate", store, pos)
		return err
	}
	var expires time.Time
	if o.expires != "" {
		var err error
		if expires, err = steps.ParseExpiry(o.expires, a.now()); err != nil {
			return usagef("rotate", "--secret-expires: %s", err)
		}
	}
	if o.noInput {
		switch {
		case !o.secretStdin:
			return usagef("rotate", "--no-input needs --client-secret-stdin: pipe the new secret on stdin")
		case o.expires == "":
			return usagef("rotate", "--no-input needs --secret-expires (6m, 12m, 18m, 24m or a date such as 2027-05-01), as chosen in the portal")
		}
	} else if !a.interactive() {
		return needTerminal("rotate without --no-input",
			"Use: m365creds rotate PROFILE --no-input --client-secret-stdin --secret-expires 12m < new-secret.txt")
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	p, err := requireProfile("rotate", store, pos)
	if err != nil {
		return err
	}
	if p.Kind == oauth.KindPublic {
		return withCode(ExitUsage, fmt.Errorf("profile %q is a public client (device code sign-in): it has no client secret to rotate", p.Name), "")
	}
	var newSecret string
	if o.secretStdin {
		if newSecret, err = a.readSecret("New client secret (the Value column; typing is hidden): "); err != nil {
			return err
		}
	}
	if !o.noInput {
		return a.rotateWizard(store, p, newSecret, expires)
	}
	return a.rotateNoInput(store, p, newSecret, expires)
}

// rotateNoInput checks the new secret with a refresh-token grant and swaps it in only then.
func (a *app) rotateNoInput(store *keyring.Store, p keyring.Profile, raw string, expires time.Time) error {
	check := steps.CheckSecret(raw)
	if check.Err != nil {
		return withCode(ExitSecret, fmt.Errorf("the new client secret was not accepted: %s", check.Err),
			"Nothing was changed: the old secret is still saved.")
	}
	for _, w := range check.Warnings {
		a.warnf("%s", w)
	}
	unlock, err := store.Lock(a.ctx, p.Name)
	if err != nil {
		return err
	}
	defer unlock()
	sec, err := store.Secrets(a.ctx, p.Name)
	if err != nil {
		return err
	}
	if check.Value == sec.ClientSecret {
		return usagef("rotate", "this is the secret profile %q already uses: create a new secret in the portal and pipe that one", p.Name)
	}
	app := appFor(p, check.Value)
	c := a.client(app)
	a.infof("Checking the new secret with Microsoft…")
	var tok *oauth.Token
	if p.Kind == oauth.KindApp {
		tok, err = c.ClientCredentials(a.ctx)
	} else {
		if sec.RefreshToken == "" {
			return withCode(ExitConsent, fmt.Errorf("profile %q has no refresh token to check the new secret with", p.Name),
				fmt.Sprintf("Sign in again instead: m365creds setup --profile %s", p.Name))
		}
		tok, err = c.Refresh(a.ctx, sec.RefreshToken, defaultScopes(p))
	}
	if err != nil {
		return rotateFailure(p, app, err)
	}
	now := a.now()
	oldExpires := p.SecretExpires
	np := p
	np.SecretExpires = expires
	np.Updated = now
	np.LastRefresh = now
	if len(tok.Scopes) > 0 && p.Kind != oauth.KindApp {
		np.GrantedScopes = tok.Scopes
	}
	ns := sec
	ns.ClientSecret = check.Value
	if tok.RefreshToken != "" {
		ns.RefreshToken = tok.RefreshToken
	}
	ns.AccessToken, ns.AccessExpiry, ns.AccessScopes = tok.AccessToken, tok.Expiry, tok.Scopes
	if err := a.persist(func(ctx context.Context) error { return store.Save(ctx, np, ns) }); err != nil {
		return fmt.Errorf("saving the new secret of profile %q (the old one is still in place): %w", p.Name, err)
	}
	a.rotatedNotice(np, oldExpires)
	return nil
}

// rotateFailure explains why the new secret was not swapped in.
func rotateFailure(p keyring.Profile, app oauth.App, err error) error {
	oe := &oauthError{doing: "checking the new client secret", app: app, err: err}
	kept := "Nothing was changed: the old secret is still saved and keeps working until it expires."
	switch oauth.Classify(err) {
	case oauth.ClassSecret:
		return withCode(ExitSecret, oe, "Microsoft rejected the new secret. Copy the Value (not the Secret ID) of the secret you just created.\n  "+kept)
	case oauth.ClassConsent:
		return withCode(ExitConsent, oe, fmt.Sprintf("The saved sign-in no longer works, so the new secret could not be checked. Sign in again: m365creds setup --profile %s\n  %s", p.Name, kept))
	case oauth.ClassNetwork:
		return withCode(ExitNetwork, oe, "Microsoft could not be reached. "+kept)
	case oauth.ClassOther:
	}
	return withCode(ExitError, oe, kept)
}

// rotatedNotice tells the user the swap is done and which old secret to delete.
func (a *app) rotatedNotice(p keyring.Profile, oldExpires time.Time) {
	links := oauth.PortalLinks(p.Cloud, p.ClientID)
	a.infof("Profile %q now uses the new client secret (expires %s).", p.Name, dateOrUnknown(p.SecretExpires))
	which := "the old secret"
	if !oldExpires.IsZero() {
		which = "the old secret (the one that expires " + oldExpires.Format(dateFormat) + ")"
	}
	a.infof("Now delete %s in the portal, under Certificates & secrets:\n  %s", which, links.Credentials)
}

func dateOrUnknown(t time.Time) string {
	if t.IsZero() {
		return "on an unknown date"
	}
	return t.Format(dateFormat)
}

var errNotSaved = errors.New("the wizard ended before saving")

package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// secretWarnDays is how early token and status start warning about an expiring secret.
const secretWarnDays = 30

type tokenOptions struct {
	scope string
	json  bool
	store string
}

var tokenCmd = &command{
	name:    "token",
	args:    "[PROFILE]",
	summary: "print a valid access token (refreshed and saved when needed)",
	long: `Print a valid access token for PROFILE on stdout, followed by a newline, and nothing else.

The cached token is used while it is valid for at least 5 more minutes; otherwise the refresh
token is redeemed, and the new refresh token Microsoft returns is saved to the keychain before
the access token is printed. Concurrent calls for one profile wait for each other, so only one
of them refreshes. A token with less than 5 minutes left is never printed: when Microsoft
cannot be reached, token exits 6.

PROFILE defaults to the only profile, else to "default".

--scope asks for other scopes than the profile's Microsoft Graph scopes, for example Outlook's
IMAP scope. Such tokens are fetched with the refresh token each time and never cached, so the
cached Graph token stays as it is (the rotated refresh token is still saved).

A warning goes to stderr when the client secret expires within 30 days. Exit codes 3
(secret expired: run m365creds rotate PROFILE), 4 (sign in again), 5 (keychain) and 6
(network) tell a script what went wrong.`,
	examples: `  m365creds token
  curl -H "Authorization: Bearer $(m365creds token work)" https://graph.microsoft.com/v1.0/me
  m365creds token work --json
  m365creds token work --scope https://outlook.office.com/IMAP.AccessAsUser.All`,
	flags: func(fs *flag.FlagSet) any {
		o := &tokenOptions{}
		fs.StringVar(&o.scope, "scope", "", "`\"SCOPE …\"` scopes to request instead of the profile's Graph scopes")
		fs.BoolVar(&o.json, "json", false, "print JSON with access_token, expires_at, scopes and profile")
		storeFlag(fs, &o.store)
		return o
	},
	exec: func(a *app, opts any, pos []string) error { return a.runToken(opts.(*tokenOptions), pos) },
}

// storeFlag adds --store to a command that reads profiles.
func storeFlag(fs *flag.FlagSet, v *string) {
	fs.StringVar(v, "store", "", "`keychain|file` where the profile's secrets are kept (default keychain)")
}

// tokenJSON is the shape of `token --json`.
type tokenJSON struct {
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	Scopes      []string  `json:"scopes"`
	Profile     string    `json:"profile"`
}

func (a *app) runToken(o *tokenOptions, pos []string) error {
	if err := maxArgs("token", pos, 1); err != nil {
		return err
	}
	var scopes []string
	if o.scope != "" {
		var err error
		if scopes, err = steps.ParseScopes(o.scope); err != nil {
			return usagef("token", "--scope: %s", err)
		}
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	a.storeWarning(o.store)
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	p, err := pickProfile("token", store, name)
	if err != nil {
		return err
	}
	res, err := a.engine(store).Token(a.ctx, p, creds.TokenRequest{Scopes: scopes})
	if err != nil {
		return err
	}
	if res.RecordErr != nil {
		a.warnf("could not record the refresh time of profile %q: %v", p.Name, res.RecordErr)
	}
	a.warnSecretExpiry(p)
	if o.json {
		out := tokenJSON{AccessToken: res.AccessToken, ExpiresAt: res.Expiry.UTC(), Scopes: res.Scopes, Profile: p.Name}
		if out.Scopes == nil {
			out.Scopes = []string{}
		}
		enc := json.NewEncoder(a.stdout)
		return enc.Encode(out) //nolint:gosec // G117: printing the access token is the purpose of token --json
	}
	_, err = fmt.Fprintln(a.stdout, res.AccessToken)
	return err
}

// warnSecretExpiry warns on stderr when the profile's secret expires soon or has expired.
func (a *app) warnSecretExpiry(p keyring.Profile) {
	if p.Kind == oauth.KindPublic || p.SecretExpires.IsZero() {
		return
	}
	days := steps.DaysUntil(a.now(), p.SecretExpires)
	switch {
	case !p.SecretExpires.After(a.now()):
		a.warnf("the client secret of profile %q expired on %s. Create a new one and run: m365creds rotate %s",
			p.Name, p.SecretExpires.Format(dateFormat), p.Name)
	case days <= secretWarnDays:
		a.warnf("the client secret of profile %q expires on %s (%s). Create a new one and run: m365creds rotate %s",
			p.Name, p.SecretExpires.Format(dateFormat), relDays(days), p.Name)
	}
}

const dateFormat = "2006-01-02"

// relDays says "in 23 days", "today" or "3 days ago".
func relDays(days int) string {
	switch {
	case days == 0:
		return "today"
	case days == 1:
		return "in 1 day"
	case days > 1:
		return fmt.Sprintf("in %d days", days)
	case days == -1:
		return "1 day ago"
	}
	return fmt.Sprintf("%d days ago", -days)
}

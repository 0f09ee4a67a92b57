package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

type tokenOptions struct {
	scope    string
	json     bool
	store    string
	format   string
	minValid time.Duration
	user     string
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
	format := o.format
	if o.json {
		format = "json"
	}
	switch format {
	case "raw", "header", "xoauth2", "json":
	default:
		return usagef("token", "--format must be raw, header, xoauth2 or json, not %q", sanitize.Line(format, 40))
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	p, res, err := a.tokenFor("token", name, tokenCallOptions{scope: o.scope, minValid: o.minValid, store: o.store}, func(pp keyring.Profile) error {
		if format == "xoauth2" && o.user == "" && pp.Account == "" {
			return usagef("token", "profile %q has no account to put in the XOAUTH2 string: give the mailbox with --user", pp.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	user := o.user
	if user == "" {
		user = p.Account
	}
	switch format {
	case "header":
		_, err = fmt.Fprintf(a.stdout, "Authorization: Bearer %s\n", res.AccessToken)
		return err
	case "xoauth2":
		_, err = fmt.Fprintln(a.stdout, oauth.XOAUTH2(user, res.AccessToken))
		return err
	case "json":
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
	case days <= creds.SecretWarnDays:
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

// tokenCallOptions are the flags token and exec share.
type tokenCallOptions struct {
	scope    string
	minValid time.Duration
	store    string
}

// tokenFor checks the flags token and exec share, picks the profile by name and gets its
// token. check runs on the profile before anything reaches Microsoft.
func (a *app) tokenFor(cmd, name string, o tokenCallOptions, check func(keyring.Profile) error) (keyring.Profile, creds.TokenResult, error) {
	if o.minValid < time.Second || o.minValid > 50*time.Minute {
		// Microsoft's access tokens live 60 to 90 minutes: asking for more than that is never met.
		return keyring.Profile{}, creds.TokenResult{}, usagef(cmd, "--min-valid must be between 1s and 50m")
	}
	var scopes []string
	if o.scope != "" {
		var err error
		if scopes, err = steps.ParseScopes(o.scope); err != nil {
			return keyring.Profile{}, creds.TokenResult{}, usagef(cmd, "--scope: %s", err)
		}
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return keyring.Profile{}, creds.TokenResult{}, err
	}
	a.storeWarning(o.store)
	p, err := pickProfile(cmd, store, name)
	if err != nil {
		return p, creds.TokenResult{}, err
	}
	if check != nil {
		if err := check(p); err != nil {
			return p, creds.TokenResult{}, err
		}
	}
	res, err := a.engine(store).Token(a.ctx, p, creds.TokenRequest{Scopes: scopes, MinValidity: o.minValid, BeforeRefresh: a.beforeRefresh})
	if err != nil {
		return p, res, err
	}
	if res.RecordErr != nil {
		a.warnf("could not record the refresh time of profile %q: %v", p.Name, res.RecordErr)
	}
	a.warnSecretExpiry(p)
	return p, res, nil
}

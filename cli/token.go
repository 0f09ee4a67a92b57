package cli

import (
	"encoding/json"
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

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// minValidity is how long a cached access token must still be valid to be handed out: a
// script that starts a long request with it should not see it expire half-way.
const minValidity = 5 * time.Minute

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
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	p, err := pickProfile("token", store, name)
	if err != nil {
		return err
	}
	if p.Kind == oauth.KindApp && len(scopes) > 0 && !coveredByDefault(p, scopes) {
		return usagef("token", "profile %q uses application permissions, which only get Microsoft Graph tokens (.default); drop --scope", p.Name)
	}
	res, err := a.freshToken(store, p, scopes, false)
	if err != nil {
		return err
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

// tokenResult is an access token ready to hand out.
type tokenResult struct {
	AccessToken string
	Expiry      time.Time
	Scopes      []string
	Refreshed   bool
	Token       *oauth.Token // the full response when Refreshed
}

// freshToken returns a valid access token for p under the profile's lock. scopes nil means
// the profile's default (Graph) scopes. force skips the cache (verify). Every refresh saves
// the rotated refresh token before returning.
func (a *app) freshToken(store *keyring.Store, p keyring.Profile, scopes []string, force bool) (tokenResult, error) {
	unlock, err := store.Lock(a.ctx, p.Name)
	if err != nil {
		return tokenResult{}, err
	}
	defer unlock()
	// Read the cache only now: the process that held the lock before may have refreshed. On
	// the hot path (a good cached token) this is the only keychain read.
	now := a.now()
	cacheable := len(scopes) == 0 || coveredByDefault(p, scopes)
	usable := func(sec keyring.Secrets) bool {
		return sec.AccessToken != "" && (len(scopes) == 0 || len(oauth.MissingScopes(scopes, sec.AccessScopes)) == 0)
	}
	if !force && cacheable {
		sec, err := store.AccessToken(a.ctx, p.Name)
		if err != nil {
			return tokenResult{}, unknownProfile(err)
		}
		if usable(sec) && sec.AccessExpiry.After(now.Add(minValidity)) {
			return tokenResult{AccessToken: sec.AccessToken, Expiry: sec.AccessExpiry, Scopes: sec.AccessScopes}, nil
		}
	}
	sec, err := store.Secrets(a.ctx, p.Name)
	if err != nil {
		return tokenResult{}, unknownProfile(err)
	}
	cached := usable(sec)
	request := scopes
	if cacheable {
		request = defaultScopes(p)
	}
	app := appFor(p, sec.ClientSecret)
	c := a.client(app)
	var tok *oauth.Token
	switch p.Kind {
	case oauth.KindApp:
		tok, err = c.ClientCredentials(a.ctx)
	default:
		if sec.RefreshToken == "" {
			return tokenResult{}, withCode(ExitConsent, fmt.Errorf("profile %q has no refresh token (offline_access was not granted)", p.Name),
				fmt.Sprintf("Sign in again with offline_access: m365creds setup --profile %s", p.Name))
		}
		tok, err = c.Refresh(a.ctx, sec.RefreshToken, request)
	}
	if err != nil {
		if oauth.Classify(err) == oauth.ClassNetwork && cacheable && cached && sec.AccessExpiry.After(now) {
			a.warnf("Microsoft could not be reached (%s); using the cached access token, which expires in %s.",
				oneLine(err.Error()), sec.AccessExpiry.Sub(now).Round(time.Second))
			return tokenResult{AccessToken: sec.AccessToken, Expiry: sec.AccessExpiry, Scopes: sec.AccessScopes}, nil
		}
		return tokenResult{}, refreshFailure(p, app, err)
	}
	// Microsoft has answered: from here on the new refresh token must reach the keychain even
	// if the command is interrupted, or the stored one may no longer work.
	err = a.persist(func(ctx context.Context) error {
		return store.UpdateSecrets(ctx, p.Name, func(s *keyring.Secrets) error {
			if tok.RefreshToken != "" {
				s.RefreshToken = tok.RefreshToken
			}
			if cacheable {
				s.AccessToken, s.AccessExpiry, s.AccessScopes = tok.AccessToken, tok.Expiry, tok.Scopes
			}
			return nil
		})
	})
	if err != nil {
		return tokenResult{}, withCode(ExitKeychain, fmt.Errorf("Microsoft issued a new refresh token for profile %q but it could not be saved: %w", p.Name, err),
			fmt.Sprintf("The saved sign-in may no longer work. Fix the keychain, then try again; if token then fails with exit 4, run m365creds setup --profile %s", p.Name))
	}
	if err := store.Touch(p.Name, func(pp *keyring.Profile) {
		pp.LastRefresh = now
		if cacheable && len(tok.Scopes) > 0 {
			pp.GrantedScopes = tok.Scopes
		}
	}); err != nil {
		a.warnf("could not record the refresh time of profile %q: %v", p.Name, err)
	}
	return tokenResult{AccessToken: tok.AccessToken, Expiry: tok.Expiry, Scopes: tok.Scopes, Refreshed: true, Token: tok}, nil
}

// refreshFailure explains a failed refresh with the command that fixes it.
func refreshFailure(p keyring.Profile, app oauth.App, err error) error {
	oe := &oauthError{doing: fmt.Sprintf("getting a new access token for profile %q", p.Name), app: app, err: err}
	switch oauth.Classify(err) {
	case oauth.ClassSecret:
		return withCode(ExitSecret, oe, fmt.Sprintf(
			"The client secret has expired or is not valid. Create a new secret in the portal, then run: m365creds rotate %s\n  The saved refresh token was kept.", p.Name))
	case oauth.ClassConsent:
		return withCode(ExitConsent, oe, fmt.Sprintf(
			"The sign-in is no longer valid (revoked, expired, unused for 90 days, or consent missing). Sign in again: m365creds setup --profile %s", p.Name))
	case oauth.ClassNetwork:
		return withCode(ExitNetwork, oe, "Microsoft could not be reached. Check the network (proxy, DNS) and try again.")
	case oauth.ClassOther:
	}
	return oe
}

// defaultScopes is what a plain refresh asks for: the profile's Microsoft Graph scopes as
// granted at consent (asking for a scope that was never granted fails with AADSTS65001, which
// would make a partly granted profile unusable), else as requested. Scopes of other resources
// (Outlook's IMAP/SMTP) cannot share a token with Graph, so they are left to `token --scope`;
// a profile with only such scopes refreshes for all of them.
func defaultScopes(p keyring.Profile) []string {
	base := p.RequestedScopes
	if len(p.GrantedScopes) > 0 {
		base = append([]string(nil), p.GrantedScopes...)
		for _, s := range p.RequestedScopes {
			if strings.EqualFold(s, "offline_access") && !containsFold(base, s) {
				base = append(base, s)
			}
		}
	}
	var out []string
	for _, s := range base {
		if !otherResource(p, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 || onlyOIDC(out) {
		return base
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func onlyOIDC(scopes []string) bool {
	for _, s := range scopes {
		switch strings.ToLower(s) {
		case "openid", "profile", "email", "offline_access":
		default:
			return false
		}
	}
	return true
}

// otherResource reports whether scope belongs to an API other than Microsoft Graph.
func otherResource(p keyring.Profile, scope string) bool {
	if !strings.Contains(scope, "://") {
		if perm, ok := assets.PermissionByScope(scope); ok && perm.Resource != "" && perm.Resource != assets.GraphResource {
			return true
		}
		return false
	}
	low := strings.ToLower(scope)
	for _, g := range []string{assets.GraphResource, oauth.HostsFor(p.Cloud).GraphResource} {
		if g != "" && strings.HasPrefix(low, strings.ToLower(strings.TrimRight(g, "/"))+"/") {
			return false
		}
	}
	return true
}

// coveredByDefault reports whether scopes are all Graph scopes the profile already asks for,
// so the cached token (or a default refresh) serves them.
func coveredByDefault(p keyring.Profile, scopes []string) bool {
	for _, s := range scopes {
		if otherResource(p, s) {
			return false
		}
	}
	have := append(append([]string(nil), p.RequestedScopes...), p.GrantedScopes...)
	return len(oauth.MissingScopes(scopes, have)) == 0
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

package creds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// TokenRequest asks for an access token for one profile.
type TokenRequest struct {
	// Scopes nil means the profile's default (Graph) scopes, which are cached.
	Scopes []string
	// Force skips the cache: verify and rotate must talk to Microsoft.
	Force bool
	// MinValidity is how long the token must still be valid; zero means the service's.
	MinValidity time.Duration
	// BeforeRefresh, when set, is called once the cached token does not serve, before the
	// profile lock is taken: from there on the call changes the keychain, and the command
	// line starts watching for interrupts then, so a call the cache answers never pays for it.
	BeforeRefresh func()
}

// TokenResult is an access token ready to hand out.
type TokenResult struct {
	AccessToken string
	Expiry      time.Time
	Scopes      []string
	Refreshed   bool
	Token       *oauth.Token // Microsoft's whole answer when Refreshed
	// RecordErr is set when the token is good but the refresh time could not be recorded in
	// the config file.
	RecordErr error
}

// Token returns an access token for p valid for at least the minimum validity. The cache is
// read without the profile's lock; only a refresh takes it, re-reading the cache afterwards so
// that of many callers at once only one refreshes. A refresh saves the rotated refresh token
// before returning, even if ctx is cancelled meanwhile.
func (s *Service) Token(ctx context.Context, p keyring.Profile, req TokenRequest) (TokenResult, error) {
	// A refresh reads the cached token twice and then everything, and saves on top of that:
	// the keychain is asked once per item.
	ctx = keyring.WithReadCache(ctx)
	scopes := req.Scopes
	if p.Kind == oauth.KindApp && len(scopes) > 0 && !CoveredByDefault(p, scopes) {
		return TokenResult{}, errorf(ProblemUsage, OpToken, p.Name,
			"profile %q uses application permissions, which only get Microsoft Graph tokens (.default)", p.Name)
	}
	cacheable := len(scopes) == 0 || CoveredByDefault(p, scopes)
	minValid := req.MinValidity
	if minValid <= 0 {
		minValid = s.minValidity()
	}
	if !req.Force && cacheable {
		if res, ok, err := s.cached(ctx, p, scopes, minValid); err != nil || ok {
			return res, err
		}
	}
	if req.BeforeRefresh != nil {
		req.BeforeRefresh()
	}
	unlock, err := s.Store.Lock(ctx, p.Name)
	if err != nil {
		return TokenResult{}, fail(OpToken, p.Name, "waiting for the profile lock", oauth.App{}, err)
	}
	defer unlock()
	if !req.Force && cacheable {
		// The process that held the lock before may have refreshed already.
		if res, ok, err := s.cached(ctx, p, scopes, minValid); err != nil || ok {
			return res, err
		}
	}
	sec, err := s.secrets(ctx, p, OpToken)
	if err != nil {
		return TokenResult{}, err
	}
	request := scopes
	if cacheable {
		request = DefaultScopes(p)
	}
	tok, err := s.redeem(ctx, p, sec, request, OpToken)
	if err != nil {
		return TokenResult{}, err
	}
	return s.keep(ctx, p, tok, cacheable, OpToken)
}

// cached returns the cached token when it serves the request for long enough.
func (s *Service) cached(ctx context.Context, p keyring.Profile, scopes []string, minValid time.Duration) (TokenResult, bool, error) {
	sec, err := s.Store.AccessToken(ctx, p.Name)
	if err != nil {
		return TokenResult{}, false, s.readFailure(err, p, OpToken)
	}
	if sec.AccessToken == "" || (len(scopes) > 0 && len(oauth.MissingScopes(scopes, sec.AccessScopes)) > 0) {
		return TokenResult{}, false, nil
	}
	if !sec.AccessExpiry.After(s.now().Add(minValid)) {
		return TokenResult{}, false, nil
	}
	return TokenResult{AccessToken: sec.AccessToken, Expiry: sec.AccessExpiry, Scopes: sec.AccessScopes}, true, nil
}

// secrets reads everything a refresh needs, turning lost items into the problem that repairs
// them.
func (s *Service) secrets(ctx context.Context, p keyring.Profile, op Op) (keyring.Secrets, error) {
	sec, err := s.Store.Secrets(ctx, p.Name)
	if err != nil {
		return keyring.Secrets{}, s.readFailure(err, p, op)
	}
	return sec, nil
}

// readFailure classifies a failed keychain read of a profile.
func (s *Service) readFailure(err error, p keyring.Profile, op Op) error {
	switch {
	case errors.Is(err, keyring.ErrLostRefreshToken):
		return &Error{Problem: ProblemConsent, Op: op, Profile: p.Name, Doing: "reading the saved sign-in", Err: err}
	case errors.Is(err, keyring.ErrLostSecret):
		return &Error{Problem: ProblemSecret, Op: op, Profile: p.Name, Doing: "reading the client secret", Err: err}
	}
	return fail(op, p.Name, "reading the keychain", oauth.App{}, err)
}

// redeem asks Microsoft for a new token: client credentials for app-only profiles, the
// refresh token for the others.
func (s *Service) redeem(ctx context.Context, p keyring.Profile, sec keyring.Secrets, scopes []string, op Op) (*oauth.Token, error) {
	app := AppFor(p, sec.ClientSecret)
	c := s.Client(app)
	if p.Kind == oauth.KindApp {
		tok, err := c.ClientCredentials(ctx)
		if err != nil {
			return nil, fail(op, p.Name, fmt.Sprintf("getting an app-only token for profile %q", p.Name), app, err)
		}
		return tok, nil
	}
	if sec.RefreshToken == "" {
		return nil, &Error{Problem: ProblemConsent, Op: op, Profile: p.Name, App: app,
			Err: fmt.Errorf("profile %q has no refresh token (offline_access was not granted)", p.Name)}
	}
	tok, err := c.Refresh(ctx, sec.RefreshToken, scopes)
	if err != nil {
		return nil, fail(op, p.Name, fmt.Sprintf("getting a new access token for profile %q", p.Name), app, err)
	}
	return tok, nil
}

// keep saves what a refresh returned. Microsoft has answered: from here on the new refresh
// token must reach the keychain even if the caller is cancelled, or the stored one may be the
// only copy of a sign-in that no longer exists.
func (s *Service) keep(ctx context.Context, p keyring.Profile, tok *oauth.Token, cacheable bool, op Op) (TokenResult, error) {
	err := persist(ctx, func(ctx context.Context) error {
		return s.Store.UpdateSecrets(ctx, p.Name, func(sec *keyring.Secrets) error {
			if tok.RefreshToken != "" {
				sec.RefreshToken = tok.RefreshToken
			}
			if cacheable {
				sec.AccessToken, sec.AccessExpiry, sec.AccessScopes = tok.AccessToken, tok.Expiry, tok.Scopes
			}
			return nil
		})
	})
	if err != nil {
		return TokenResult{}, &Error{Problem: ProblemKeychain, Op: op, Profile: p.Name,
			Doing: "saving the new refresh token Microsoft issued", Err: err}
	}
	now := s.now()
	res := TokenResult{AccessToken: tok.AccessToken, Expiry: tok.Expiry, Scopes: tok.Scopes, Refreshed: true, Token: tok}
	res.RecordErr = s.Store.Touch(p.Name, func(pp *keyring.Profile) {
		pp.LastRefresh = now
		if cacheable && len(tok.Scopes) > 0 {
			pp.GrantedScopes = tok.Scopes
		}
	})
	return res, nil
}

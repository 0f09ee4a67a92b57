package creds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// Save writes the profile a finished consent produced. A delegated profile is never saved
// without a refresh token. Replacing a profile keeps its refresh token when this sign-in
// returned none (a refresh may not), and a failure leaves the old profile as it was.
func (s *Service) Save(ctx context.Context, d steps.Draft) (keyring.Profile, error) {
	p := d.ToProfile(s.now())
	sec := d.ToSecrets()
	if sec.RefreshToken == "" && delegated(p.Kind) {
		if old, err := s.Store.Secrets(ctx, p.Name); err == nil {
			sec.RefreshToken = old.RefreshToken
		}
	}
	if sec.RefreshToken == "" && delegated(p.Kind) {
		return keyring.Profile{}, &Error{Problem: ProblemNoOfflineAccess, Op: OpSave, Profile: p.Name,
			Err: errors.New("there is no refresh token to save (offline_access was not granted)"), Kept: true}
	}
	if err := persist(ctx, func(ctx context.Context) error { return s.Store.Save(ctx, p, sec) }); err != nil {
		e := fail(OpSave, p.Name, "", oauth.App{}, err) // the store says what it was saving
		e.Kept = true
		return keyring.Profile{}, e
	}
	return s.Store.Profile(p.Name)
}

// RotateRequest replaces the client secret of a profile.
type RotateRequest struct {
	Profile   keyring.Profile
	NewSecret string // as pasted: checked and cleaned here
	Expires   time.Time
	// Again allows NewSecret to be the one already saved: a wizard that has swapped it in and
	// gone back (to correct the expiry, say) proves it again and saves what changed.
	Again bool
	// KeyID is the new secret's key ID when it is known (created through Graph).
	KeyID string
}

// Rotated is the outcome of a rotation.
type Rotated struct {
	Profile    keyring.Profile // as saved, with the new expiry
	OldExpires time.Time       // when the secret that was replaced expires (zero: unknown)
	Token      *oauth.Token    // the answer that proved the new secret
	Warnings   []string        // what cleaning the pasted value changed
	// OldRemoved says a rotation through Graph removed the old secret; OldRemoveErr says why
	// it did not, when it tried.
	OldRemoved   bool
	OldRemoveErr error
}

// Rotate proves a new client secret the way scripts will use it (client credentials for
// app-only profiles, a refresh-token grant with the profile's default scopes for the others)
// and only then swaps it in. On any failure the saved profile is unchanged. A profile whose
// secret the keychain lost is repaired the same way.
func (s *Service) Rotate(ctx context.Context, req RotateRequest) (Rotated, error) {
	p := req.Profile
	if p.Kind == oauth.KindPublic {
		return Rotated{}, errorf(ProblemUsage, OpRotate, p.Name, "profile %q is a public client: it has no client secret to rotate", p.Name)
	}
	if p.SecretFrom != "" && p.SecretFrom != p.Name {
		if _, err := s.Store.Profile(p.SecretFrom); err == nil {
			return Rotated{}, errorf(ProblemUsage, OpRotate, p.Name, "profile %q uses the client secret of profile %q: rotate %q, which updates every profile of the app at once", p.Name, p.SecretFrom, p.SecretFrom)
		}
		p.SecretFrom = "" // its source is gone: the new secret becomes its own
	}
	check := steps.CheckSecret(req.NewSecret)
	if check.Err != nil {
		return Rotated{}, &Error{Problem: ProblemSecret, Op: OpRotate, Profile: p.Name, Kept: true,
			Err: fmt.Errorf("the new client secret was not accepted: %w", check.Err)}
	}
	unlock, err := s.Store.Lock(ctx, p.Name)
	if err != nil {
		return Rotated{}, fail(OpRotate, p.Name, "waiting for the profile lock", oauth.App{}, err)
	}
	defer unlock()
	sec, err := s.SecretsToRotate(ctx, p)
	if err != nil {
		return Rotated{}, err
	}
	if check.Value == sec.ClientSecret && !req.Again {
		return Rotated{}, errorf(ProblemUsage, OpRotate, p.Name,
			"this is the secret profile %q already uses: create a new secret in the portal and use that one", p.Name)
	}
	tok, err := s.redeem(ctx, p, keyring.Secrets{ClientSecret: check.Value, RefreshToken: sec.RefreshToken}, DefaultScopes(p), OpRotate)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Kept, ce.Doing = true, "checking the new client secret"
		}
		return Rotated{}, err
	}
	// Every shared store gets the new secret before this machine switches to it: a failure
	// there leaves the old secret in use everywhere (see republish).
	if err := s.republish(ctx, p, sec.ClientSecret, check.Value, req.Expires, req.KeyID); err != nil {
		return Rotated{}, err
	}
	now := s.now()
	np := p
	np.SecretExpires, np.Updated, np.LastRefresh = req.Expires, now, now
	np.SecretKeyID = req.KeyID
	if len(tok.Scopes) > 0 && p.Kind != oauth.KindApp {
		np.GrantedScopes = tok.Scopes
	}
	ns := sec
	ns.ClientSecret = check.Value
	if tok.RefreshToken != "" {
		ns.RefreshToken = tok.RefreshToken
	}
	ns.AccessToken, ns.AccessExpiry, ns.AccessScopes = tok.AccessToken, tok.Expiry, tok.Scopes
	if err := persist(ctx, func(ctx context.Context) error { return s.Store.Save(ctx, np, ns) }); err != nil {
		// The old secret still works until it expires, and Entra does not revoke a refresh
		// token when it is used, so the saved profile keeps working.
		e := fail(OpRotate, p.Name, "saving the new secret", oauth.App{}, err)
		e.Kept = true
		return Rotated{}, e
	}
	return Rotated{Profile: np, OldExpires: p.SecretExpires, Token: tok, Warnings: check.Warnings}, nil
}

// SecretsToRotate reads what a rotation keeps of a profile. The client secret is what rotation
// replaces, so a keychain that lost it still yields the rest (the refresh token above all).
func (s *Service) SecretsToRotate(ctx context.Context, p keyring.Profile) (keyring.Secrets, error) {
	sec, err := s.Store.Secrets(ctx, p.Name)
	if errors.Is(err, keyring.ErrLostSecret) {
		sec, err = s.Store.SecretsWithout(ctx, p.Name, keyring.ItemClientSecret)
	}
	if err != nil {
		return keyring.Secrets{}, s.readFailure(err, p, OpRotate)
	}
	return sec, nil
}

// WizardDraft rebuilds the wizard's draft of a saved profile for rotation or re-consent. For
// a rotation it holds no secret (the wizard asks for the new one and refuses the old one
// pasted again) and a lost client secret is no obstacle; for a re-consent a lost refresh token
// is none, since a new sign-in is what replaces it.
func (s *Service) WizardDraft(ctx context.Context, p keyring.Profile, mode steps.Mode) (steps.Draft, error) {
	var (
		sec keyring.Secrets
		err error
	)
	if mode == steps.ModeRotate {
		sec, err = s.SecretsToRotate(ctx, p)
	} else {
		sec, err = s.Store.Secrets(ctx, p.Name)
		if errors.Is(err, keyring.ErrLostRefreshToken) {
			sec, err = s.Store.SecretsWithout(ctx, p.Name, keyring.ItemRefreshToken)
		}
		if err != nil {
			err = s.readFailure(err, p, OpConsent)
		}
	}
	if err != nil {
		return steps.Draft{}, err
	}
	d := steps.FromProfile(p, sec)
	if mode == steps.ModeRotate {
		d.ReplacedSecret, d.ClientSecret, d.SecretExpires = sec.ClientSecret, "", time.Time{}
	}
	return d, nil
}

// Verified is what verify found.
type Verified struct {
	Profile   keyring.Profile
	Requested []string // the Graph scopes the profile asks for
	Granted   []string
	Missing   []string
	User      *oauth.User // nil for app-only profiles
	// RecordErr is set when the account could not be recorded in the config file.
	RecordErr error
}

// Verify proves a profile end to end: a fresh token from Microsoft (never the cache), Graph /me
// with it for delegated profiles, and the granted scopes against the requested ones. Missing
// scopes fail with ProblemConsent, with the report filled in.
func (s *Service) Verify(ctx context.Context, p keyring.Profile) (Verified, error) {
	res, err := s.Token(ctx, p, TokenRequest{Force: true})
	if err != nil {
		if ce := (*Error)(nil); errors.As(err, &ce) {
			ce.Op = OpVerify
		}
		return Verified{}, err
	}
	v := Verified{Profile: p, Requested: RequestedGraphScopes(p), Granted: res.Scopes}
	if p.Kind == oauth.KindApp {
		return v, nil
	}
	v.Missing = oauth.MissingScopes(v.Requested, v.Granted)
	sec, err := s.Store.Secrets(ctx, p.Name)
	if err != nil {
		return v, s.readFailure(err, p, OpVerify)
	}
	app := AppFor(p, sec.ClientSecret)
	user, err := s.Client(app).Me(ctx, res.AccessToken)
	if err != nil {
		e := fail(OpVerify, p.Name, "reading the signed-in account from Microsoft Graph /me", app, err)
		return v, e
	}
	v.User = user
	account := user.UserPrincipalName
	if account == "" {
		account = user.Mail
	}
	if account != "" && (account != p.Account || user.DisplayName != p.AccountName) {
		v.RecordErr = s.Store.Touch(p.Name, func(pp *keyring.Profile) { pp.Account, pp.AccountName = account, user.DisplayName })
	}
	if len(v.Missing) > 0 {
		return v, failAs(ProblemConsent, OpVerify, p.Name, &MissingScopesError{Profile: p.Name, Scopes: v.Missing})
	}
	return v, nil
}

// Delete removes a profile and every keychain item it has.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := s.Store.Delete(ctx, name); err != nil {
		return fail(OpDelete, name, fmt.Sprintf("deleting profile %q", name), oauth.App{}, err)
	}
	return nil
}

// MissingScopesError means Microsoft granted fewer scopes than the profile asks for.
type MissingScopesError struct {
	Profile string
	Scopes  []string
}

func (e *MissingScopesError) Error() string {
	return fmt.Sprintf("profile %q: not granted: %s", e.Profile, strings.Join(e.Scopes, ", "))
}

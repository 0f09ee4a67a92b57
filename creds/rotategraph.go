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

// GraphRotateRequest replaces a profile's client secret through Microsoft Graph.
type GraphRotateRequest struct {
	Profile           keyring.Profile
	BootstrapClientID string
	Expires           time.Time // zero: 180 days from now
	NoBrowser         bool
	Pasted            <-chan string
	Events            func(Event)
	PropagationBudget time.Duration
}

// ErrOldSecretUnknown means the old secret could not be told apart from the app's other
// secrets, so it was left for the user to remove in the portal.
var ErrOldSecretUnknown = errors.New("which of the app's secrets was the old one is not known")

// RotateViaGraph adds a new client secret to the profile's app through Microsoft Graph, waits
// until Entra accepts it, proves and swaps it in as Rotate does, and only then removes the old
// secret by its key ID. A failure before the swap removes the new secret again and leaves the
// working one in place.
func (s *Service) RotateViaGraph(ctx context.Context, req GraphRotateRequest) (Rotated, error) {
	report := req.Events
	if report == nil {
		report = func(Event) {}
	}
	p := req.Profile
	if p.Kind == oauth.KindPublic {
		return Rotated{}, errorf(ProblemUsage, OpRotate, p.Name, "profile %q is a public client: it has no client secret to rotate", p.Name)
	}
	old, err := s.SecretsToRotate(ctx, p)
	if err != nil {
		return Rotated{}, err
	}
	d := steps.FromProfile(p, old)
	boot, tenant, err := s.graphSignIn(ctx, d, req.BootstrapClientID,
		[]string{"openid", "profile", "offline_access", "User.Read", "Application.ReadWrite.All"},
		RegisterRequest{NoBrowser: req.NoBrowser, Pasted: req.Pasted}, report)
	if err != nil {
		return Rotated{}, err
	}
	graph := boot.Token.AccessToken
	g := s.Client(oauth.App{Cloud: p.Cloud, Tenant: tenant})
	app, err := g.ApplicationByAppID(ctx, graph, p.ClientID)
	if err != nil {
		return Rotated{}, fail(OpRotate, p.Name, "", oauth.App{}, err)
	}
	end := req.Expires
	if end.IsZero() {
		end = s.now().Add(defaultSecretLifetime)
	}
	report(Registering{Step: "adding a new client secret"})
	pw, err := g.AddPassword(ctx, graph, app.ObjectID, "m365creds "+s.now().Format("2006-01-02"), end)
	if err != nil {
		return Rotated{}, fail(OpRotate, p.Name, "", oauth.App{}, err)
	}
	undo := func() {
		// The new secret never went into use: take it away again, on a fresh context so that
		// a cancelled rotation still cleans up.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = g.RemovePassword(cctx, graph, app.ObjectID, pw.KeyID)
	}
	d.ClientSecret = pw.SecretText
	if err := s.waitForPropagation(ctx, d, req.PropagationBudget, report); err != nil {
		undo()
		return Rotated{}, markKept(err)
	}
	res, err := s.Rotate(ctx, RotateRequest{Profile: p, NewSecret: pw.SecretText, Expires: pw.End, KeyID: pw.KeyID})
	if err != nil {
		undo()
		return Rotated{}, err
	}
	oldKey := p.SecretKeyID
	if oldKey == "" {
		oldKey = oldKeyByHint(app.Passwords, old.ClientSecret, pw.KeyID)
	}
	switch {
	case oldKey == "":
		res.OldRemoveErr = ErrOldSecretUnknown
	case strings.EqualFold(oldKey, pw.KeyID):
	default:
		report(Registering{Step: "removing the old client secret"})
		if err := g.RemovePassword(ctx, graph, app.ObjectID, oldKey); err != nil && !errors.Is(err, oauth.ErrGraphNotFound) {
			res.OldRemoveErr = err
		} else {
			res.OldRemoved = true
		}
	}
	return res, nil
}

// oldKeyByHint finds the key ID of the secret the profile used from the three characters
// Graph keeps of every secret, when exactly one other secret matches.
func oldKeyByHint(passwords []oauth.Password, oldSecret, newKey string) string {
	if len(oldSecret) < 3 {
		return ""
	}
	found := ""
	for _, pw := range passwords {
		if strings.EqualFold(pw.KeyID, newKey) || pw.Hint != oldSecret[:3] {
			continue
		}
		if found != "" {
			return "" // two secrets share the hint: not safe to guess
		}
		found = pw.KeyID
	}
	return found
}

// markKept says on an engine error that the saved profile is unchanged.
func markKept(err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		ce.Kept = true
		return ce
	}
	return fmt.Errorf("%w (the saved profile is unchanged)", err)
}

package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

type rotateOptions struct {
	secretStdin       bool
	expires           string
	noInput           bool
	store             string
	viaGraph          bool
	bootstrapClientID string
	noBrowser         bool
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
	if o.viaGraph {
		return a.rotateViaGraph(o, pos[0], expires)
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

// rotateNoInput has the engine check the new secret and swap it in only then.
func (a *app) rotateNoInput(store *keyring.Store, p keyring.Profile, raw string, expires time.Time) error {
	a.infof("Checking the new secret with Microsoft…")
	res, err := a.engine(store).Rotate(a.ctx, creds.RotateRequest{Profile: p, NewSecret: raw, Expires: expires})
	for _, w := range res.Warnings {
		a.warnf("%s", w)
	}
	if err != nil {
		return err
	}
	a.rotatedNotice(res.Profile, res.OldExpires)
	return nil
}

// rotateViaGraph replaces the secret without the portal: a new one through Microsoft Graph,
// proved and swapped in, then the old one removed.
func (a *app) rotateViaGraph(o *rotateOptions, name string, expires time.Time) error {
	if o.secretStdin {
		return usagef("rotate", "--via-graph creates the new secret itself: leave out --client-secret-stdin")
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	p, err := pickProfile("rotate", store, name)
	if err != nil {
		return err
	}
	res, err := a.engine(store).RotateViaGraph(a.ctx, creds.GraphRotateRequest{
		Profile: p, BootstrapClientID: o.bootstrapClientID, Expires: expires, NoBrowser: o.noBrowser,
		Events: a.printConsentEvent(o.noBrowser),
	})
	if err != nil {
		return err
	}
	a.infof("Profile %q now uses the new client secret (expires %s).", p.Name, dateOrUnknown(res.Profile.SecretExpires))
	switch {
	case res.OldRemoved:
		a.infof("The old secret was removed from the app registration.")
	case res.OldRemoveErr != nil:
		a.warnf("the old secret is still on the app registration (%s): delete it in the portal, under Certificates & secrets:\n  %s",
			oneLine(res.OldRemoveErr.Error()), oauth.PortalLinks(p.Cloud, p.ClientID).Credentials)
	}
	return nil
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

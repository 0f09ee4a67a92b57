package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

type setupOptions struct {
	profile     string
	cloud       string
	accountType string
	tenant      string
	clientID    string
	scopes      string
	preset      string
	flow        string
	credential  string
	// Automatic registration through Graph.
	register          string
	grantAdminConsent bool
	appName           string
	bootstrapClientID string
	port              int
	noBrowser         bool
	secretExpires     string
	secretStdin       bool
	noInput           bool
	store             string
}

// flagOf names the setup flag that fills a wizard field, for usage errors.
var flagOf = map[string]string{
	"profile":   "--profile",
	"audience":  "--account-type",
	"cloud":     "--cloud",
	"tenant":    "--tenant",
	"tenant-id": "--tenant",
	"flow":      "--flow",
	"client-id": "--client-id",
	"secret":    "--client-secret-stdin",
	"expiry":    "--secret-expires",
	"scopes":    "--scopes/--preset",
}

func (a *app) runSetup(o *setupOptions, pos []string) error {
	if len(pos) > 0 {
		return usagef("setup", "setup takes no arguments (got %d); secrets are read from stdin with --client-secret-stdin, never from the command line", len(pos))
	}
	d, err := a.setupDraft(o)
	if err != nil {
		return err
	}
	if !o.noInput {
		return a.setupWizard(o, d)
	}
	return a.setupNoInput(o, d)
}

// setupDraft turns the flags into a draft, rejecting malformed values.
func (a *app) setupDraft(o *setupOptions) (steps.Draft, error) {
	d := steps.NewDraft()
	if o.profile != "" {
		if err := keyring.ValidateName(o.profile); err != nil {
			return d, usagef("setup", "--profile: %s", err)
		}
		d.Profile = o.profile
	}
	if o.cloud != "" {
		c, err := oauth.ParseCloud(o.cloud)
		if err != nil {
			return d, usagef("setup", "--cloud: %s", err)
		}
		d.Cloud = c
	}
	if o.accountType != "" {
		au, err := oauth.ParseAudience(o.accountType)
		if err != nil {
			return d, usagef("setup", "--account-type: %s", err)
		}
		d.Audience = au
	}
	if o.flow != "" {
		f, err := oauth.ParseFlow(o.flow)
		if err != nil {
			return d, usagef("setup", "--flow: %s", err)
		}
		d.Flow = f
	}
	switch o.credential {
	case "", "secret":
	case "none":
		if d.Flow == oauth.FlowApp {
			return d, usagef("setup", "--credential none cannot go with --flow app: application permissions need a client secret")
		}
		d.NoSecret = true
	default:
		return d, usagef("setup", "--credential must be secret or none")
	}
	if o.tenant != "" {
		t, err := steps.CheckTenant(o.tenant)
		if err != nil {
			return d, usagef("setup", "--tenant: %s", err)
		}
		d.Tenant = t
		if steps.IsGUID(t) {
			d.TenantID = t
		}
	}
	if o.clientID != "" {
		id, err := steps.CheckClientID(o.clientID)
		if err != nil {
			return d, usagef("setup", "--client-id: %s", err)
		}
		d.ClientID = id
	}
	if o.port != 0 {
		if o.port < 1 || o.port > 65535 {
			return d, usagef("setup", "--port must be between 1 and 65535")
		}
		d.Port = o.port
	}
	if o.secretExpires != "" {
		t, err := steps.ParseExpiry(o.secretExpires, a.now())
		if err != nil {
			return d, usagef("setup", "--secret-expires: %s", err)
		}
		d.SecretExpires = t
	}
	var scopes []string
	if o.preset != "" {
		s, err := steps.ExpandPresets(o.preset)
		if err != nil {
			return d, usagef("setup", "--preset: %s", err)
		}
		scopes = append(scopes, s...)
	}
	if o.scopes != "" {
		s, err := steps.ParseScopes(o.scopes)
		if err != nil {
			return d, usagef("setup", "--scopes: %s", err)
		}
		scopes = append(scopes, s...)
	}
	if len(scopes) > 0 {
		d.Scopes = nil
		for _, s := range scopes {
			if !d.HasScope(s) {
				d.Scopes = append(d.Scopes, s)
			}
		}
		if d.Flow != oauth.FlowApp && !d.HasScope("offline_access") {
			d.Scopes = append(d.Scopes, "offline_access")
			a.infof("Added offline_access to the scopes: without it there is no refresh token and scripts stop after an hour.")
		}
	}
	if d.Flow == oauth.FlowApp {
		d.Scopes = []string{creds.GraphDefault(d.Cloud)}
	}
	return d, nil
}

// setupNoInput is the scripted setup: no questions, every value from flags and stdin.
func (a *app) setupNoInput(o *setupOptions, d steps.Draft) error {
	switch o.register {
	case "portal", "":
	case "auto":
		return a.setupRegistered(o, d)
	default:
		return usagef("setup", "--register must be auto or portal")
	}
	if o.grantAdminConsent || o.appName != "" || o.bootstrapClientID != "" {
		return usagef("setup", "--grant-admin-consent, --app-name and --bootstrap-client-id go with --register auto")
	}
	switch {
	case d.ClientID == "":
		return usagef("setup", "missing --client-id: the Application (client) ID from the app's Overview page")
	case d.NeedsSecret() && !o.secretStdin:
		return usagef("setup", "missing --client-secret-stdin: the %s flow needs the client secret, piped on stdin (never on the command line)", d.Flow)
	case d.NeedsSecret() && d.SecretExpires.IsZero():
		return usagef("setup", "missing --secret-expires: when the client secret expires (6m, 12m, 18m, 24m or a date such as 2027-05-01), as chosen in the portal")
	}
	w := steps.New(steps.ModeNew, d)
	for _, id := range []steps.ID{steps.Account, steps.IDs, steps.Permissions} {
		if err := w.Validate(id); err != nil {
			return setupFieldError(err)
		}
	}
	d = w.Draft
	if d.NeedsSecret() {
		raw, err := a.readSecret("Client secret (the Value column; typing is hidden): ")
		if err != nil {
			return err
		}
		check := steps.CheckSecret(raw)
		if check.Err != nil {
			return withCode(ExitSecret, fmt.Errorf("--client-secret-stdin: %s", check.Err), "")
		}
		for _, msg := range check.Warnings {
			a.warnf("%s", msg)
		}
		d.ClientSecret = check.Value
	} else if o.secretStdin {
		a.warnf("the %s flow uses no client secret; --client-secret-stdin is ignored", d.Flow)
	}
	for _, msg := range d.ScopeWarnings() {
		a.warnf("%s", msg)
	}

	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	a.storeWarning(o.store)
	return a.consentAndSave(o, store, d)
}

// consentAndSave signs in with the draft's app and saves the profile.
func (a *app) consentAndSave(o *setupOptions, store *keyring.Store, d steps.Draft) error {
	if _, err := store.Profile(d.Profile); err == nil {
		a.infof("Profile %q exists; it is replaced only if this sign-in succeeds.", d.Profile)
	}
	engine := a.engine(store)
	req := creds.ConsentRequest{Draft: d, NoBrowser: o.noBrowser, Events: a.printConsentEvent(o.noBrowser)}
	if d.Flow == oauth.FlowPaste {
		req.Pasted = a.pastedLines()
	}
	res, err := engine.Consent(a.ctx, req)
	if err != nil {
		return err
	}
	d.Port = max(res.Port, d.Port)
	d.Token, d.User = res.Token, res.User
	if d.Flow != oauth.FlowApp {
		if res.MeErr != nil {
			a.warnf("could not read the signed-in account from Microsoft Graph /me (it needs User.Read): %s", oneLine(res.MeErr.Error()))
		}
		if len(res.Missing) > 0 {
			a.warnf("not granted: %s. An administrator may have to grant them (API permissions > Grant admin consent); then run setup again.", strings.Join(res.Missing, ", "))
		}
	}
	p, err := engine.Save(a.ctx, d)
	if err != nil {
		return err
	}
	a.savedSummary(p, store.BackendName())
	return nil
}

// setupRegistered is setup --no-input --register auto: the app registration is created
// through Microsoft Graph, then the sign-in and save run as usual.
func (a *app) setupRegistered(o *setupOptions, d steps.Draft) error {
	switch {
	case d.ClientID != "":
		return usagef("setup", "--register auto creates the app and its client ID: leave out --client-id (or use --register portal)")
	case o.secretStdin:
		return usagef("setup", "--register auto creates the client secret: leave out --client-secret-stdin")
	case d.Flow == oauth.FlowApp && !o.grantAdminConsent:
		a.warnf("application permissions need an administrator's consent: without --grant-admin-consent the app gets no permissions until one grants them")
	}
	if o.bootstrapClientID != "" {
		id, err := steps.CheckClientID(o.bootstrapClientID)
		if err != nil {
			return usagef("setup", "--bootstrap-client-id: %s", err)
		}
		o.bootstrapClientID = id
	}
	d.AppName = o.appName
	w := steps.New(steps.ModeNew, d)
	for _, id := range []steps.ID{steps.Account, steps.Permissions} {
		if err := w.Validate(id); err != nil {
			return setupFieldError(err)
		}
	}
	d = w.Draft
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	a.storeWarning(o.store)
	engine := a.engine(store)
	req := creds.RegisterRequest{Draft: d, BootstrapClientID: o.bootstrapClientID, GrantAdminConsent: o.grantAdminConsent,
		NoBrowser: o.noBrowser, Events: a.printConsentEvent(o.noBrowser)}
	if d.Flow == oauth.FlowPaste {
		req.Pasted = a.pastedLines()
	}
	reg, err := engine.Register(a.ctx, req)
	if err != nil {
		if creds.ProblemOf(err) == creds.ProblemAdminRequired {
			a.infof("An administrator of the tenant can approve the sign-in app for the organisation at:\n\n  %s\n", engine.BootstrapAdminConsentURL(d, o.bootstrapClientID, o.grantAdminConsent))
		}
		return err
	}
	d = reg.Draft
	a.infof("Created the app registration %q: Application (client) ID %s in tenant %s.", d.SuggestedAppName(), d.ClientID, d.TenantID)
	if reg.AdminConsentErr != nil {
		a.warnf("admin consent was not granted (%s). An administrator can grant it at:\n\n  %s\n", oneLine(reg.AdminConsentErr.Error()), engine.AdminConsentURL(d))
	}
	return a.consentAndSave(o, store, d)
}

// printConsentEvent tells the person at the other end of stderr what the consent plan is doing.
func (a *app) printConsentEvent(noBrowser bool) func(creds.Event) {
	return func(ev creds.Event) {
		switch ev := ev.(type) {
		case creds.CheckingKeychain:
		case creds.CheckingSecret:
			a.infof("Checking the client secret with Microsoft (one client-credentials request)…")
		case creds.SignInReady:
			if ev.BusyPort != 0 {
				a.infof("Port %d is busy, so the redirect comes to port %d instead (%s). Microsoft ignores the port of localhost redirect URIs, so the registered address still matches.",
					ev.BusyPort, ev.Port, ev.RedirectURI)
			}
			a.infof("Sign in at this address:\n\n  %s\n", ev.URL)
			if ev.Tunnel != "" {
				a.infof("This is a remote shell: to sign in with a browser on your own machine, forward the port first (replace what is in capitals if shown):\n  %s", ev.Tunnel)
			}
			if ev.OpenErr != nil && !noBrowser {
				a.infof("Could not open a browser (%s): open the address above yourself.", oneLine(ev.OpenErr.Error()))
			}
			if ev.PasteFirst {
				a.infof("After signing in, the browser ends on %s… and shows that it cannot connect: that is expected.\nCopy the whole address from the address bar, paste it here and press enter:", ev.RedirectURI)
				return
			}
			a.infof("Waiting for the sign-in to finish in the browser (until %s; ctrl+c cancels)…", ev.Deadline.Local().Format("15:04"))
		case creds.PasteRejected:
			a.infof("That is not the redirect address (%s). Paste the whole address from the browser's address bar:", oneLine(ev.Err.Error()))
		case creds.DeviceCodeReady:
			a.infof("To sign in, open %s on any device and enter the code:\n\n  %s\n", ev.VerificationURI, ev.UserCode)
			a.infof("Waiting for the sign-in (the code expires at %s)…", ev.Deadline.Local().Format("15:04"))
		case creds.Redeeming:
			a.infof("Signed in.")
		case creds.GettingAppToken:
			a.infof("Application permissions need an administrator's consent once. If that has not happened yet, an administrator opens:\n\n  %s\n\n(or presses Grant admin consent under API permissions in the portal).", ev.AdminConsentURL)
		case creds.ReadingAccount:
		case creds.BootstrapSignIn:
			name := "the app " + ev.ClientID
			if ev.ClientID == creds.GraphCLIClientID {
				name = "Microsoft Graph Command Line Tools (" + ev.ClientID + "), a Microsoft app,"
			}
			a.infof("To create the app registration for you, sign in once to %s with the right to register apps: %s.", name, strings.Join(ev.Scopes, " "))
		case creds.Registering:
			a.infof("%s…", upperFirst(ev.Step))
		case creds.Propagating:
			a.infof("Microsoft does not know the new app yet; trying again at %s (giving up at %s)…", ev.Next.Local().Format("15:04:05"), ev.Until.Local().Format("15:04:05"))
		}
	}
}

// pastedLines feeds the lines of stdin to the paste flow. Stdin ending closes the channel.
func (a *app) pastedLines() <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		for {
			line, err := a.readLine()
			if err != nil {
				return
			}
			select {
			case lines <- line:
			case <-a.ctx.Done():
				return
			}
		}
	}()
	return lines
}

func setupFieldError(err error) error {
	var fe *steps.FieldError
	if errors.As(err, &fe) {
		if f, ok := flagOf[fe.Field]; ok {
			return usagef("setup", "%s: %s", f, fe.Msg)
		}
		return usagef("setup", "%s", fe.Msg)
	}
	return err
}

func (a *app) storeWarning(store string) {
	if store == string(keyring.BackendFile) {
		a.warnf("--store file keeps the client secret and tokens in a PLAIN-TEXT file (mode 0600) under the config directory. Anyone who can read your files can use them.")
	}
}

// savedSummary tells the user what was saved and what to run next.
func (a *app) savedSummary(p keyring.Profile, backend string) {
	who := p.Account
	switch {
	case p.Kind == oauth.KindApp:
		who = "app-only"
	case who == "":
		who = "account unknown"
	}
	a.infof("\nSaved profile %q (%s) in %s.", p.Name, who, backend)
	if len(p.GrantedScopes) > 0 {
		a.infof("  Scopes granted: %s", strings.Join(p.GrantedScopes, " "))
	}
	if p.Kind != oauth.KindPublic && !p.SecretExpires.IsZero() {
		a.infof("  Client secret expires %s (%s): run `m365creds rotate %s` before then.",
			p.SecretExpires.Format(dateFormat), relDays(steps.DaysUntil(a.now(), p.SecretExpires)), p.Name)
	}
	a.infof("Next:\n  %-*s  # prints an access token\n  %-*s  # all profiles and their health",
		len(p.Name)+16, "m365creds token "+p.Name, len(p.Name)+16, "m365creds status")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// consentTimeout bounds how long setup waits for the browser or a device-code sign-in.
const consentTimeout = 10 * time.Minute

type setupOptions struct {
	profile       string
	cloud         string
	accountType   string
	tenant        string
	clientID      string
	scopes        string
	preset        string
	flow          string
	port          int
	noBrowser     bool
	secretExpires string
	secretStdin   bool
	noInput       bool
	store         string
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
		d.Scopes = []string{strings.TrimRight(oauth.HostsFor(d.Cloud).GraphResource, "/") + "/.default"}
	}
	return d, nil
}

// setupNoInput is the scripted setup: no questions, every value from flags and stdin.
func (a *app) setupNoInput(o *setupOptions, d steps.Draft) error {
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
	if err := store.Probe(a.ctx); err != nil {
		return fmt.Errorf("the keychain does not work, so nothing would be saved: %w", err)
	}
	var created time.Time
	if old, err := store.Profile(d.Profile); err == nil {
		created = old.Created
		a.infof("Profile %q exists; it is replaced only if this sign-in succeeds.", d.Profile)
	}

	if d.NeedsSecret() && !isSharedTenant(d.Authority()) {
		a.infof("Checking the client secret with Microsoft (one client-credentials request)…")
		if err := a.client(d.App()).CheckSecret(a.ctx); err != nil && !errors.Is(err, oauth.ErrCheckSkipped) {
			return &oauthError{doing: "checking the client secret", app: d.App(), err: err}
		}
	}

	ctx, cancel := context.WithTimeout(a.ctx, consentTimeout)
	defer cancel()
	var tok *oauth.Token
	switch d.Flow {
	case oauth.FlowBrowser:
		tok, err = a.browserFlow(ctx, &d, o.noBrowser)
	case oauth.FlowPaste:
		tok, err = a.pasteFlow(ctx, &d, o.noBrowser)
	case oauth.FlowDevice:
		tok, err = a.deviceFlow(ctx, &d)
	case oauth.FlowApp:
		tok, err = a.appFlow(ctx, &d)
	default:
		return usagef("setup", "--flow: unknown flow %q", d.Flow)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && a.ctx.Err() == nil {
			return withCode(ExitError, fmt.Errorf("sign-in did not finish within %s", consentTimeout), "Run setup again when you are ready to sign in.")
		}
		return err
	}
	d.Token = tok
	if d.Flow != oauth.FlowApp {
		user, err := a.client(d.App()).Me(a.ctx, tok.AccessToken)
		if err != nil {
			a.warnf("could not read the signed-in account from Microsoft Graph /me (it needs User.Read): %s", oneLine(err.Error()))
		} else {
			d.User = user
		}
		if missing := oauth.MissingScopes(d.RequestScopes(), tok.Scopes); len(missing) > 0 {
			a.warnf("not granted: %s. An administrator may have to grant them (API permissions > Grant admin consent); then run setup again.", strings.Join(missing, ", "))
		}
	}
	now := a.now()
	p := d.ToProfile(now)
	if !created.IsZero() {
		p.Created = created
	}
	if err := store.Save(a.ctx, p, d.ToSecrets()); err != nil {
		return fmt.Errorf("saving profile %q: %w", p.Name, err)
	}
	a.savedSummary(p, store.BackendName())
	return nil
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

func isSharedTenant(t string) bool {
	switch strings.ToLower(t) {
	case "", "common", "organizations", "consumers":
		return true
	}
	return false
}

func (a *app) storeWarning(store string) {
	if store == string(keyring.BackendFile) || a.env.Backend == keyring.BackendFile {
		a.warnf("--store file keeps the client secret and tokens in a PLAIN-TEXT file (mode 0600) under the config directory. Anyone who can read your files can use them.")
	}
}

// showAuthURL prints the sign-in address and opens it unless told not to.
func (a *app) showAuthURL(url string, noBrowser bool, port int) {
	a.infof("Sign in at this address:\n\n  %s\n", url)
	if oauth.RemoteShell() && port > 0 {
		a.infof("This is a remote shell: to sign in with a browser on your own machine, forward the port first:\n  %s", oauth.SSHTunnelHint(port))
	}
	if noBrowser {
		return
	}
	open := a.env.OpenBrowser
	if open == nil {
		open = oauth.OpenBrowser
	}
	if err := open(url); err != nil {
		a.infof("Could not open a browser (%s): open the address above yourself.", oneLine(err.Error()))
	}
}

// browserFlow signs in through a loopback listener that receives the redirect.
func (a *app) browserFlow(ctx context.Context, d *steps.Draft, noBrowser bool) (*oauth.Token, error) {
	lb, err := oauth.ListenLoopback(d.Port)
	var inUse *oauth.PortInUseError
	if errors.As(err, &inUse) {
		if lb, err = oauth.ListenLoopback(0); err == nil {
			a.warnf("port %d is busy, so the redirect comes to port %d instead (%s). If Microsoft answers AADSTS50011, free port %d or register this address too.",
				inUse.Port, lb.Port(), lb.RedirectURI(), inUse.Port)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("starting the local listener for the sign-in redirect: %w", err)
	}
	defer lb.Close()
	d.Port = lb.Port()
	app := d.App()
	c := a.client(app)
	req, err := c.NewAuthRequest(d.RequestScopes(), lb.RedirectURI())
	if err != nil {
		return nil, err
	}
	lb.Expect(req.State)
	a.showAuthURL(req.URL, noBrowser, lb.Port())
	a.infof("Waiting for the sign-in to finish in the browser (up to %s; ctrl+c cancels)…", consentTimeout)
	cb, err := lb.Wait(ctx)
	if err != nil {
		return nil, a.consentError(app, err)
	}
	return a.finishCode(ctx, c, app, req, cb)
}

// pasteFlow signs in without a listener: the user pastes the address the browser ended on.
func (a *app) pasteFlow(ctx context.Context, d *steps.Draft, noBrowser bool) (*oauth.Token, error) {
	app := d.App()
	c := a.client(app)
	req, err := c.NewAuthRequest(d.RequestScopes(), d.RedirectURI())
	if err != nil {
		return nil, err
	}
	a.showAuthURL(req.URL, noBrowser, 0)
	a.infof("After signing in, the browser ends on %s… and shows that it cannot connect: that is expected.\nCopy the whole address from the address bar, paste it here and press enter:", d.RedirectURI())
	type lineResult struct {
		line string
		err  error
	}
	got := make(chan lineResult, 1)
	go func() {
		line, err := a.readLine()
		got <- lineResult{line, err}
	}()
	var line string
	select {
	case r := <-got:
		if errors.Is(r.err, io.EOF) {
			return nil, usagef("setup", "stdin ended before the pasted redirect address (--flow paste reads it from the line after the secret)")
		}
		if r.err != nil {
			return nil, r.err
		}
		line = r.line
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cb, err := oauth.ParseRedirect(line)
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("the pasted text is not the redirect address: %w", err),
			"Paste the whole address from the browser's address bar; it starts with "+d.RedirectURI())
	}
	return a.finishCode(ctx, c, app, req, cb)
}

// finishCode checks the redirect against the request and redeems the code.
func (a *app) finishCode(ctx context.Context, c *oauth.Client, app oauth.App, req *oauth.AuthRequest, cb oauth.Callback) (*oauth.Token, error) {
	code, err := req.CodeFrom(cb)
	if err != nil {
		return nil, a.consentError(app, err)
	}
	tok, err := c.Exchange(ctx, req, code)
	if err != nil {
		return nil, &oauthError{doing: "redeeming the sign-in code", app: app, err: err}
	}
	a.infof("Signed in.")
	return tok, nil
}

func (a *app) consentError(app oauth.App, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &oauthError{doing: "signing in", app: app, err: err}
}

// deviceFlow signs in with a code typed on any device; public clients only.
func (a *app) deviceFlow(ctx context.Context, d *steps.Draft) (*oauth.Token, error) {
	app := d.App()
	c := a.client(app)
	dc, err := c.StartDevice(ctx, d.RequestScopes())
	if err != nil {
		return nil, &oauthError{doing: "starting the device-code sign-in", app: app, err: err}
	}
	a.infof("To sign in, open %s on any device and enter the code:\n\n  %s\n", dc.VerificationURI, dc.UserCode)
	a.infof("Waiting for the sign-in (the code expires at %s)…", dc.Expiry.Local().Format("15:04"))
	tok, err := c.PollDevice(ctx, dc)
	if err != nil {
		return nil, a.consentError(app, err)
	}
	a.infof("Signed in.")
	return tok, nil
}

// appFlow gets an app-only token; the application permissions need an administrator's consent once.
func (a *app) appFlow(ctx context.Context, d *steps.Draft) (*oauth.Token, error) {
	app := d.App()
	c := a.client(app)
	a.infof("Application permissions need an administrator's consent once. If that has not happened yet, an administrator opens:\n\n  %s\n\n(or presses Grant admin consent under API permissions in the portal).", c.AdminConsentURL(d.RedirectURI(), randomState()))
	tok, err := c.ClientCredentials(ctx)
	if err != nil {
		return nil, &oauthError{doing: "getting an app-only token", app: app, err: err}
	}
	a.infof("Got an app-only token.")
	return tok, nil
}

func randomState() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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

package creds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// DefaultConsentTimeout is how long a sign-in may take: as long as an authorization code lives.
const DefaultConsentTimeout = 10 * time.Minute

// ErrPasteEnded means the paste flow's input ended before a redirect address came.
var ErrPasteEnded = errors.New("the input ended before the redirect address was pasted")

// ErrNoBrowser means this machine has no way to open a browser (no opener was given).
var ErrNoBrowser = errors.New("no browser can be opened here")

// Event is progress of the consent plan, for the front end to show.
type Event interface{ consentEvent() }

// The consent plan's events, in the order they can happen.
type (
	// CheckingKeychain means the keychain is being tried before anyone signs in.
	CheckingKeychain struct{}
	// CheckingSecret means the client ID and secret are being tried with one client-credentials
	// request, before the browser opens.
	CheckingSecret struct{}
	// SignInReady means the listener is up and the sign-in address is ready. When Opened is false
	// the user must open URL themselves (OpenErr says why, if a browser was tried).
	SignInReady struct {
		URL         string
		RedirectURI string
		Port        int
		// BusyPort is the port asked for when it was taken and Port was used instead.
		// Entra ignores the port of localhost redirect URIs, so the registration still matches.
		BusyPort int
		Opened   bool
		OpenErr  error
		// PasteFirst: lead with pasting the address the browser ends on (the paste flow, or a
		// remote shell, where the browser runs on another machine).
		PasteFirst bool
		// Tunnel is the ssh command that makes the browser flow work from a remote shell.
		Tunnel   string
		Deadline time.Time
	}
	// PasteRejected means a pasted text was not the redirect address; the plan keeps waiting.
	PasteRejected struct{ Err error }
	// DeviceCodeReady means the user enters UserCode at VerificationURI on any device.
	DeviceCodeReady struct {
		UserCode, VerificationURI string
		Deadline                  time.Time
	}
	// Redeeming means the sign-in came back and its code is being redeemed.
	Redeeming struct{}
	// GettingAppToken means an app-only token is being requested. An administrator grants the
	// application permissions once, at AdminConsentURL.
	GettingAppToken struct{ AdminConsentURL string }
	// ReadingAccount means the token is being tried on Graph /me.
	ReadingAccount struct{}
)

func (CheckingKeychain) consentEvent() {}
func (CheckingSecret) consentEvent()   {}
func (SignInReady) consentEvent()      {}
func (PasteRejected) consentEvent()    {}
func (DeviceCodeReady) consentEvent()  {}
func (Redeeming) consentEvent()        {}
func (GettingAppToken) consentEvent()  {}
func (ReadingAccount) consentEvent()   {}

// ConsentRequest is one run of the consent plan.
type ConsentRequest struct {
	Draft steps.Draft
	// NoBrowser shows the address but never opens a browser.
	NoBrowser bool
	// Pasted carries addresses the user pasted from the browser's address bar. nil: none.
	Pasted <-chan string
	// Events receives progress; it is called from the plan's goroutine. nil: none.
	Events func(Event)
	// Timeout bounds the whole sign-in; zero means DefaultConsentTimeout.
	Timeout time.Duration
}

// Consent is what a successful sign-in produced.
type Consent struct {
	Token *oauth.Token
	// User is who signed in (Graph /me), nil for app-only or when /me failed (MeErr).
	User  *oauth.User
	MeErr error
	// Requested, Granted and Missing compare the scopes asked for with those Microsoft granted.
	// offline_access counts as granted only when a refresh token came back.
	Requested, Granted, Missing []string
	// Port is the loopback port the redirect came to (0 when none was used).
	Port int
}

// Consent runs the consent plan for a draft: keychain probe, secret check (when the tenant is
// known), the sign-in flow the draft chose, Graph /me, and the comparison of granted with
// requested scopes. A delegated sign-in that returns no refresh token fails, because a
// profile without one stops working after an hour.
func (s *Service) Consent(ctx context.Context, req ConsentRequest) (Consent, error) {
	report := req.Events
	if report == nil {
		report = func(Event) {}
	}
	d := req.Draft
	app := d.App()
	op := func(problem Problem, doing string, err error) error {
		e := fail(OpConsent, d.Profile, doing, app, err)
		if problem != ProblemOther {
			e.Problem = problem
		}
		return e
	}
	if delegated(d.Kind()) && !d.HasScope("offline_access") {
		return Consent{}, op(ProblemNoOfflineAccess, "", errors.New("offline_access is not among the chosen permissions: without it Microsoft issues no refresh token and the credentials stop working after an hour"))
	}
	if s.Store != nil {
		report(CheckingKeychain{})
		if err := s.Store.Probe(ctx); err != nil {
			return Consent{}, op(ProblemKeychain, "trying the keychain", err)
		}
	}
	c := s.Client(app)
	if d.NeedsSecret() && d.Flow != oauth.FlowApp {
		report(CheckingSecret{})
		if err := c.CheckSecret(ctx); err != nil && !errors.Is(err, oauth.ErrCheckSkipped) {
			return Consent{}, op(ProblemOther, "checking the client secret", err)
		}
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = DefaultConsentTimeout
	}
	signIn, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		res Consent
		err error
	)
	switch d.Flow {
	case oauth.FlowApp:
		report(GettingAppToken{AdminConsentURL: s.AdminConsentURL(d)})
		res.Token, err = c.ClientCredentials(signIn)
		if err != nil {
			err = op(ProblemOther, "getting an app-only token", err)
		}
	case oauth.FlowDevice:
		res.Token, err = s.deviceFlow(signIn, c, d, report)
	default:
		res.Token, res.Port, err = s.codeFlow(signIn, c, d, req, report)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return Consent{}, op(ProblemTimedOut, "", fmt.Errorf("the sign-in did not finish within %s", timeout))
		}
		if ctx.Err() != nil {
			return Consent{}, ctx.Err()
		}
		if errors.Is(err, ErrPasteEnded) {
			return Consent{}, op(ProblemUsage, "", err)
		}
		return Consent{}, op(ProblemOther, "signing in", err)
	}
	res.Requested = d.RequestScopes()
	if d.Flow == oauth.FlowApp {
		res.Granted = res.Token.Scopes
		return res, nil
	}
	report(ReadingAccount{})
	res.User, res.MeErr = c.Me(ctx, res.Token.AccessToken)
	res.Granted = grantedScopes(res.Token)
	res.Missing = oauth.MissingScopes(res.Requested, res.Granted)
	if res.Token.RefreshToken == "" {
		return res, op(ProblemNoOfflineAccess, "", errors.New("Microsoft issued no refresh token (offline_access was not granted), so the credentials would stop working after an hour"))
	}
	return res, nil
}

// grantedScopes are the scopes of a token answer, with offline_access only when a refresh
// token proves it.
func grantedScopes(tok *oauth.Token) []string {
	var out []string
	for _, s := range tok.Scopes {
		if !strings.EqualFold(s, "offline_access") {
			out = append(out, s)
		}
	}
	if tok.RefreshToken != "" {
		out = append(out, "offline_access")
	}
	return out
}

// codeFlow is the browser and paste flows: a loopback listener (bound before the browser can
// arrive) and, at the same time, whatever the user pastes.
func (s *Service) codeFlow(ctx context.Context, c *oauth.Client, d steps.Draft, req ConsentRequest, report func(Event)) (*oauth.Token, int, error) {
	lb, err := oauth.ListenLoopback(d.Port)
	busy := 0
	var inUse *oauth.PortInUseError
	if errors.As(err, &inUse) {
		busy = inUse.Port
		lb, err = oauth.ListenLoopback(0)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("starting the local listener for the sign-in redirect: %w", err)
	}
	defer lb.Close()
	redirect := d.LoopbackRedirect(lb.Port())
	areq, err := c.NewAuthRequest(d.RequestScopes(), redirect)
	if err != nil {
		return nil, 0, err
	}
	lb.Expect(areq.State)
	ev := SignInReady{URL: areq.URL, RedirectURI: redirect, Port: lb.Port(), BusyPort: busy,
		PasteFirst: d.Flow == oauth.FlowPaste || s.Remote != nil, Deadline: deadlineOf(ctx)}
	if s.Remote != nil {
		ev.Tunnel = s.Remote.Tunnel(lb.Port())
	}
	if d.Flow == oauth.FlowBrowser && !req.NoBrowser && s.Remote == nil {
		ev.OpenErr = ErrNoBrowser
		if s.OpenBrowser != nil {
			ev.OpenErr = s.OpenBrowser(areq.URL)
		}
		ev.Opened = ev.OpenErr == nil
	}
	report(ev)

	waitCtx, stopWait := context.WithCancel(ctx)
	defer stopWait()
	type callback struct {
		cb  oauth.Callback
		err error
	}
	arrived := make(chan callback, 1)
	go func() {
		cb, err := lb.Wait(waitCtx)
		arrived <- callback{cb, err}
	}()
	pasted := req.Pasted
	var cb oauth.Callback
	for got := false; !got; {
		select {
		case r := <-arrived:
			if r.err != nil {
				return nil, 0, r.err
			}
			cb, got = r.cb, true
		case text, ok := <-pasted:
			if !ok {
				if d.Flow == oauth.FlowPaste {
					return nil, 0, ErrPasteEnded
				}
				pasted = nil // nothing more will be pasted; keep waiting for the listener
				continue
			}
			parsed, err := oauth.ParseRedirect(text)
			if err != nil {
				report(PasteRejected{Err: err})
				continue
			}
			cb, got = parsed, true
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	stopWait() // a second arrival must not be redeemed
	code, err := areq.CodeFrom(cb)
	if err != nil {
		return nil, 0, err
	}
	report(Redeeming{})
	tok, err := c.Exchange(ctx, areq, code)
	return tok, lb.Port(), err
}

// deviceFlow signs in with a code typed on any device; public clients only.
func (s *Service) deviceFlow(ctx context.Context, c *oauth.Client, d steps.Draft, report func(Event)) (*oauth.Token, error) {
	dc, err := c.StartDevice(ctx, d.RequestScopes())
	if err != nil {
		return nil, err
	}
	report(DeviceCodeReady{UserCode: dc.UserCode, VerificationURI: dc.VerificationURI, Deadline: dc.Expiry})
	return c.PollDevice(ctx, dc)
}

func deadlineOf(ctx context.Context) time.Time {
	t, _ := ctx.Deadline()
	return t
}

// AdminConsentURL is the link an administrator opens to grant the draft's app its
// permissions for the whole organisation.
func (s *Service) AdminConsentURL(d steps.Draft) string {
	return s.Client(d.App()).AdminConsentURL(d.RedirectURI(), "m365creds")
}

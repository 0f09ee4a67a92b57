package creds

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// DefaultOnboardWait is how long onboard waits for a customer's administrator: long enough
// to read a message, sign in and accept, short enough that a forgotten terminal gives up.
const DefaultOnboardWait = 30 * time.Minute

// Polling for app-only consent starts fast (consent usually takes effect within seconds)
// and backs off, so a long wait does not hammer the token endpoint.
const (
	defaultOnboardPoll = 5 * time.Second
	maxOnboardPoll     = time.Minute
)

// OnboardRequest brings a customer's tenant to a vendor's multi-tenant app.
type OnboardRequest struct {
	Vendor keyring.Profile // the profile holding the vendor's app and its secret
	Tenant string          // the customer's tenant: Directory (tenant) ID or a verified domain
	Name   string          // the customer profile to save; empty: derived from Tenant
	// Flow is how the customer profile gets tokens: FlowApp (app-only, the default for an
	// app-only vendor profile), FlowBrowser or FlowDevice (a user of the customer signs in).
	Flow oauth.Flow
	// Wait bounds the whole wait for consent; zero means DefaultOnboardWait.
	Wait time.Duration
	// PollEvery is the first interval between app-only checks; zero means five seconds.
	PollEvery time.Duration
	// NoListener does not listen for the administrator's redirect (several onboardings at
	// once would compete for the port); polling alone then finds out.
	NoListener bool
	// State is the value the link carries back; empty: a fresh random one.
	State string
	// Events receives progress, from the goroutine running Onboard. nil: none.
	Events func(OnboardEvent)
}

// OnboardEvent is progress of an onboarding.
type OnboardEvent interface{ onboardEvent() }

type (
	// ConsentLinkReady means the link is ready to send. Listening says whether the
	// administrator's redirect can land here (when they consent on this machine).
	ConsentLinkReady struct {
		Link      ConsentLink
		Deadline  time.Time
		Listening bool
	}
	// ConsentPending means the tenant does not accept the app yet; the next check is at Next.
	ConsentPending struct {
		Attempt int
		Reason  oauth.Guidance
		Next    time.Time
	}
	// ConsentLanded means the administrator's browser came back here with the consent.
	ConsentLanded struct{ Tenant string }
	// OnboardSignIn is progress of the customer user's sign-in (delegated flows).
	OnboardSignIn struct{ Event Event }
)

func (ConsentLinkReady) onboardEvent() {}
func (ConsentPending) onboardEvent()   {}
func (ConsentLanded) onboardEvent()    {}
func (OnboardSignIn) onboardEvent()    {}

// ConsentLink is an admin-consent link for one customer tenant, with the message that goes
// with it.
type ConsentLink struct {
	Tenant      string
	URL         string
	RedirectURI string
	State       string
	Scopes      []string // as the link asks for them
	Message     string   // ready to send to the customer's administrator
}

// Onboarded is the outcome of an onboarding.
type Onboarded struct {
	Profile keyring.Profile
	Link    ConsentLink
	Token   *oauth.Token
}

// CustomerProfileName derives a profile name from a tenant: the first label of a domain, or
// "tenant-" and the start of a tenant ID.
func CustomerProfileName(tenant string) string {
	t := strings.ToLower(strings.TrimSpace(tenant))
	if steps.IsGUID(t) {
		return "tenant-" + t[:8]
	}
	label, _, _ := strings.Cut(t, ".")
	label = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, label)
	if label == "" {
		return "customer"
	}
	if len(label) > 64 {
		label = label[:64]
	}
	return label
}

// checkOnboard refuses requests that cannot work before anything is sent.
func checkOnboard(req OnboardRequest) error {
	v := req.Vendor
	tenant := strings.TrimSpace(req.Tenant)
	switch {
	case tenant == "":
		return errorf(ProblemUsage, OpOnboard, v.Name, "the customer's tenant is missing: give its Directory (tenant) ID or a verified domain")
	case isShared(tenant):
		return errorf(ProblemUsage, OpOnboard, v.Name, "%q names no organisation: give the customer's Directory (tenant) ID or a verified domain", tenant)
	case v.Audience == oauth.SingleTenant || v.Audience == "":
		return &Error{Problem: ProblemApp, Op: OpOnboard, Profile: v.Name, Err: ErrNotMultiTenant}
	case v.Kind == oauth.KindPublic && req.Flow == oauth.FlowApp:
		return errorf(ProblemUsage, OpOnboard, v.Name, "profile %q is a public client: it has no secret for app-only access; use --flow device", v.Name)
	case strings.EqualFold(tenant, v.TenantID) || strings.EqualFold(tenant, v.Tenant):
		return errorf(ProblemUsage, OpOnboard, v.Name, "%s is the app's own tenant, not a customer's", sanitize.Line(tenant, 100))
	}
	if _, err := steps.CheckTenant(tenant); err != nil {
		return failAs(ProblemUsage, OpOnboard, v.Name, err)
	}
	return nil
}

// ErrNotMultiTenant means the vendor's app is registered for its own organisation only.
var ErrNotMultiTenant = errors.New("the app is registered for its own organisation only (single tenant), so other organisations cannot consent to it: in the portal, open Authentication and set Supported account types to \"Accounts in any organizational directory\", then save the profile again with --audience multi")

func isShared(t string) bool {
	switch strings.ToLower(t) {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}

func onboardFlow(req OnboardRequest) oauth.Flow {
	if req.Flow != "" {
		return req.Flow
	}
	switch req.Vendor.Kind {
	case oauth.KindApp:
		return oauth.FlowApp
	case oauth.KindPublic:
		return oauth.FlowDevice
	case oauth.KindWeb:
	}
	return oauth.FlowBrowser
}

// ConsentLinkFor builds the admin-consent link of a customer tenant for the vendor profile:
// the configured application permissions (/.default) for app-only access, the profile's
// delegated scopes otherwise, always in the profile's cloud.
func (s *Service) ConsentLinkFor(vendor keyring.Profile, tenant string, flow oauth.Flow, state string) ConsentLink {
	app := AppFor(vendor, "")
	app.Tenant = strings.TrimSpace(tenant)
	redirect := orDefaultURI(vendor.RedirectURI)
	var scopes []string
	if flow != oauth.FlowApp {
		scopes = vendor.RequestedScopes
	}
	c := s.Client(app)
	link := ConsentLink{Tenant: app.Tenant, RedirectURI: redirect, State: state,
		URL: c.AdminConsentURLFor(redirect, state, scopes)}
	if u, err := url.Parse(link.URL); err == nil {
		link.Scopes = strings.Fields(u.Query().Get("scope"))
	}
	link.Message = ConsentMessage(vendor, link, flow)
	return link
}

func orDefaultURI(uri string) string {
	if strings.TrimSpace(uri) == "" {
		return fmt.Sprintf("http://localhost:%d/", oauth.DefaultPort)
	}
	return uri
}

// ConsentMessage is the note a support person sends with the link: what the app will be
// able to do, in the permission catalogue's words, and what the administrator will see.
func ConsentMessage(vendor keyring.Profile, link ConsentLink, flow oauth.Flow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\nto connect our app to your Microsoft 365 organisation, an administrator of your\n")
	fmt.Fprintf(&b, "organisation needs to approve it once. Please open this link, sign in with an\n")
	fmt.Fprintf(&b, "administrator account and press Accept:\n\n  %s\n\n", link.URL)
	if flow == oauth.FlowApp {
		fmt.Fprintf(&b, "The app (client ID %s) will act on its own, without a signed-in user, with\n", vendor.ClientID)
		fmt.Fprintf(&b, "the application permissions Microsoft lists on that page, in your whole organisation.\n")
	} else {
		fmt.Fprintf(&b, "The app (client ID %s) will be able to, for the people who use it:\n", vendor.ClientID)
		for _, sc := range link.Scopes {
			short := sc
			if i := strings.LastIndex(sc, "/"); strings.Contains(sc, "://") && i >= 0 {
				short = sc[i+1:]
			}
			if p, ok := assets.PermissionByScope(short); ok && p.Summary != "" {
				fmt.Fprintf(&b, "  - %s (%s)\n", p.Summary, short)
			} else {
				fmt.Fprintf(&b, "  - %s\n", short)
			}
		}
	}
	fmt.Fprintf(&b, "\nYou can withdraw this at any time under Enterprise applications in the Entra admin\n")
	fmt.Fprintf(&b, "center. After you accept, your browser may say it cannot reach localhost: that is\n")
	fmt.Fprintf(&b, "expected, close the tab. No password is needed: please never send one.\n")
	return b.String()
}

// Onboard sends a customer tenant to a vendor's multi-tenant app and waits until the consent
// has taken effect there. App-only: client-credentials requests in the customer tenant, with
// back-off, until one succeeds (the administrator is usually on another machine, so it finds
// out by itself); the redirect of an administrator who consents on this machine is heard too,
// and a declined consent ends the wait at once. Delegated: the customer user's sign-in, which
// works once consent is in place. Then it saves the customer profile with the vendor's secret.
func (s *Service) Onboard(ctx context.Context, req OnboardRequest) (Onboarded, error) {
	report := req.Events
	if report == nil {
		report = func(OnboardEvent) {}
	}
	if err := checkOnboard(req); err != nil {
		return Onboarded{}, err
	}
	v := req.Vendor
	req.Tenant = strings.TrimSpace(req.Tenant)
	flow := onboardFlow(req)
	name := req.Name
	if name == "" {
		name = CustomerProfileName(req.Tenant)
	}
	if err := keyring.ValidateName(name); err != nil {
		return Onboarded{}, failAs(ProblemUsage, OpOnboard, name, err)
	}
	if name == v.Name {
		return Onboarded{}, errorf(ProblemUsage, OpOnboard, name, "the customer profile cannot replace the vendor profile %q: choose another --profile", name)
	}
	if old, err := s.Store.Profile(name); err == nil && (!strings.EqualFold(old.Tenant, req.Tenant) || !strings.EqualFold(old.ClientID, v.ClientID)) {
		return Onboarded{}, errorf(ProblemUsage, OpOnboard, name, "profile %q already exists for another tenant or app (%s): choose another name with --profile", name, old.Tenant)
	}
	sec, err := s.Store.Secrets(ctx, v.Name)
	if err != nil {
		return Onboarded{}, s.readFailure(err, v, OpOnboard)
	}
	state := req.State
	if state == "" {
		if state, err = randomState(); err != nil {
			return Onboarded{}, fail(OpOnboard, name, "", oauth.App{}, err)
		}
	}
	link := s.ConsentLinkFor(v, req.Tenant, flow, state)
	wait := req.Wait
	if wait <= 0 {
		wait = DefaultOnboardWait
	}
	deadline := s.now().Add(wait)
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()

	app := AppFor(v, sec.ClientSecret)
	app.Tenant = req.Tenant
	var out Onboarded
	if flow == oauth.FlowApp {
		app.Kind = oauth.KindApp
		out, err = s.onboardAppOnly(waitCtx, req, app, link, deadline, report)
		link = out.Link
	} else {
		report(ConsentLinkReady{Link: link, Deadline: deadline})
		out, err = s.onboardDelegated(waitCtx, req, v, sec, flow, name, wait, report)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			why := ""
			if we := (*waitEnded)(nil); errors.As(err, &we) && we.last.Title != "" {
				why = fmt.Sprintf(" (Microsoft's last answer: %s", we.last.Title)
				if we.last.Code == 700016 {
					why += "; an app registered for its own organisation only answers like this too: check Supported account types"
				}
				why += ")"
			}
			return Onboarded{}, &Error{Problem: ProblemTimedOut, Op: OpOnboard, Profile: name, App: app,
				Err: fmt.Errorf("the consent did not take effect in %s within %s%s; the link stays valid: run onboard again once the administrator has accepted", sanitize.Line(req.Tenant, 100), wait, why)}
		}
		if ctx.Err() != nil {
			return Onboarded{}, ctx.Err()
		}
		e := fail(OpOnboard, name, "waiting for consent in "+sanitize.Line(req.Tenant, 100), app, err)
		e.App = app
		return Onboarded{}, e
	}
	out.Link = link
	if flow != oauth.FlowApp {
		return out, nil
	}
	p := v
	p.Name, p.Tenant, p.Kind, p.RedirectURI = name, req.Tenant, oauth.KindApp, ""
	p.TenantID = ""
	if steps.IsGUID(req.Tenant) {
		p.TenantID = req.Tenant
	}
	p.RequestedScopes = []string{GraphDefault(v.Cloud)}
	p.GrantedScopes, p.Account, p.AccountID, p.AccountName = nil, "", "", ""
	p.SecretFrom = secretSource(v)
	now := s.now()
	p.Created, p.Updated, p.LastRefresh = now, now, now
	ns := keyring.Secrets{ClientSecret: sec.ClientSecret, AccessToken: out.Token.AccessToken,
		AccessExpiry: out.Token.Expiry, AccessScopes: out.Token.Scopes}
	if err := persist(ctx, func(ctx context.Context) error { return s.Store.Save(ctx, p, ns) }); err != nil {
		return Onboarded{}, fail(OpOnboard, name, "saving the customer profile", oauth.App{}, err)
	}
	saved, err := s.Store.Profile(name)
	if err != nil {
		return Onboarded{}, fail(OpOnboard, name, "", oauth.App{}, err)
	}
	out.Profile = saved
	return out, nil
}

// consentNotYet reports the answers a tenant gives before the consent has taken effect: no
// service principal yet (7000229), the app not known there yet (700016), or no grant yet
// (65001).
func consentNotYet(err error) bool { return entraCodeIn(err, 7000229, 700016, 65001) }

func (s *Service) onboardAppOnly(ctx context.Context, req OnboardRequest, app oauth.App, link ConsentLink,
	deadline time.Time, report func(OnboardEvent)) (Onboarded, error) {
	landed := make(chan oauth.Callback, 1)
	listening := false
	if !req.NoListener {
		if port := loopbackPort(link.RedirectURI); port > 0 {
			l, err := oauth.ListenLoopback(port)
			if pe := (*oauth.PortInUseError)(nil); errors.As(err, &pe) {
				// Entra ignores the port of http://localhost redirect URIs, so another
				// port still matches the registration.
				if l, err = oauth.ListenLoopback(0); err == nil {
					v := req.Vendor
					v.RedirectURI = l.RedirectURI()
					link = s.ConsentLinkFor(v, req.Tenant, oauth.FlowApp, link.State)
				}
			}
			if err == nil {
				listening = true
				l.Expect(link.State)
				defer func() { _ = l.Close() }()
				go func() {
					if cb, err := l.Wait(ctx); err == nil {
						landed <- cb
					}
				}()
			}
		}
	}
	report(ConsentLinkReady{Link: link, Deadline: deadline, Listening: listening})
	c := s.Client(app)
	interval := req.PollEvery
	if interval <= 0 {
		interval = defaultOnboardPoll
	}
	first := interval
	var last oauth.Guidance
	for attempt := 1; ; attempt++ {
		tok, err := c.ClientCredentials(ctx)
		if err == nil {
			return Onboarded{Token: tok, Link: link}, nil
		}
		if ctx.Err() != nil {
			return Onboarded{}, &waitEnded{last: last, err: ctx.Err()}
		}
		if !consentNotYet(err) {
			return Onboarded{}, err
		}
		last = oauth.Explain(err, app)
		report(ConsentPending{Attempt: attempt, Reason: last, Next: s.now().Add(interval)})
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return Onboarded{}, &waitEnded{last: last, err: ctx.Err()}
		case cb := <-landed:
			t.Stop()
			if cb.Err != nil {
				return Onboarded{}, cb.Err
			}
			if steps.IsGUID(req.Tenant) && cb.Tenant != "" && !strings.EqualFold(cb.Tenant, req.Tenant) {
				return Onboarded{}, &WrongTenantError{Asked: req.Tenant, Consented: sanitize.Line(cb.Tenant, 100)}
			}
			report(ConsentLanded{Tenant: sanitize.Line(cb.Tenant, 100)})
			interval = first // consent is given: it takes effect within seconds
			continue
		case <-t.C:
		}
		interval = min(interval*2, maxOnboardPoll)
	}
}

// WrongTenantError means the administrator consented in another organisation than the one
// the link was for.
type WrongTenantError struct{ Asked, Consented string }

func (e *WrongTenantError) Error() string {
	return fmt.Sprintf("the consent was given in tenant %s, not in %s: the administrator signed in to another organisation; send the link to an administrator of %s", e.Consented, e.Asked, e.Asked)
}

func loopbackPort(redirect string) int {
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" || u.Hostname() != "localhost" {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	if p == 0 && u.Port() == "" {
		p = 80
	}
	return p
}

func (s *Service) onboardDelegated(ctx context.Context, req OnboardRequest, v keyring.Profile, sec keyring.Secrets,
	flow oauth.Flow, name string, wait time.Duration, report func(OnboardEvent)) (Onboarded, error) {
	d := steps.FromProfile(v, sec)
	d.Profile, d.Tenant, d.TenantID, d.Flow, d.User = name, req.Tenant, "", flow, nil
	if steps.IsGUID(req.Tenant) {
		d.TenantID = req.Tenant
	}
	if port := loopbackPort(v.RedirectURI); port > 0 {
		d.Port = port
	}
	if !d.HasScope("offline_access") {
		d.Scopes = append(d.Scopes, "offline_access")
	}
	res, err := s.Consent(ctx, ConsentRequest{Draft: d, Timeout: wait, Events: func(e Event) { report(OnboardSignIn{Event: e}) }})
	if err != nil {
		return Onboarded{}, err
	}
	d.Token, d.User = res.Token, res.User
	p, ns := d.ToProfile(s.now()), d.ToSecrets()
	p.SecretFrom = secretSource(v)
	if err := persist(ctx, func(ctx context.Context) error { return s.Store.Save(ctx, p, ns) }); err != nil {
		return Onboarded{}, fail(OpOnboard, name, "saving the customer profile", oauth.App{}, err)
	}
	saved, err := s.Store.Profile(name)
	if err != nil {
		return Onboarded{}, fail(OpOnboard, name, "", oauth.App{}, err)
	}
	return Onboarded{Profile: saved, Token: res.Token}, nil
}

// secretSource is the profile whose keychain item holds the app's secret: the vendor's own,
// or the one the vendor profile itself shares.
func secretSource(v keyring.Profile) string {
	if v.SecretFrom != "" {
		return v.SecretFrom
	}
	return v.Name
}

// randomState is the link's state: unguessable, so a redirect from another link is not taken
// for this one.
func randomState() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// PendingOnboarding is one customer tenant a consent link was sent to, as the batch file in
// the config directory keeps it until the consent has taken effect.
type PendingOnboarding struct {
	Tenant    string    `json:"tenant"`
	Profile   string    `json:"profile"` // the customer profile it becomes
	From      string    `json:"from"`    // the vendor profile
	Link      string    `json:"link"`
	Sent      time.Time `json:"sent"`
	Completed time.Time `json:"completed,omitzero"`
	Failed    string    `json:"failed,omitempty"` // why the last wait ended without consent
}

// onboardingPath is the batch file beside the profiles file of the same service.
func (s *Service) onboardingPath() string {
	p := s.Store.Path()
	base := strings.Replace(filepath.Base(p), "profiles", "onboarding", 1)
	return filepath.Join(filepath.Dir(p), base)
}

// Onboardings lists the tenants links were sent to, pending ones first.
func (s *Service) Onboardings() ([]PendingOnboarding, error) {
	raw, err := os.ReadFile(s.onboardingPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &keyring.ConfigFileError{Path: s.onboardingPath(), Op: "read", Err: err}
	}
	var list []PendingOnboarding
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, &keyring.ConfigFileError{Path: s.onboardingPath(), Op: "read", Err: err}
	}
	for i := range list {
		o := &list[i]
		o.Tenant, o.Profile, o.From = sanitize.Line(o.Tenant, 100), sanitize.Line(o.Profile, 64), sanitize.Line(o.From, 64)
		o.Link, o.Failed = sanitize.Line(o.Link, 0), sanitize.Line(o.Failed, 300)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Completed.IsZero() && !list[j].Completed.IsZero() })
	return list, nil
}

// RecordOnboarding adds or replaces the entry of a tenant in the batch file. The file holds
// no secret; it is written beside the profiles file, replaced atomically.
func (s *Service) RecordOnboarding(o PendingOnboarding) error {
	list, err := s.Onboardings()
	if err != nil {
		return err
	}
	replaced := false
	for i := range list {
		if strings.EqualFold(list[i].Tenant, o.Tenant) && list[i].From == o.From {
			list[i], replaced = o, true
		}
	}
	if !replaced {
		list = append(list, o)
	}
	raw, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	path := s.onboardingPath()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".onboarding-*")
	if err != nil {
		return &keyring.ConfigFileError{Path: path, Op: "write", Err: err}
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(append(raw, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return &keyring.ConfigFileError{Path: path, Op: "write", Err: err}
	}
	return nil
}

// waitEnded is the end of a wait for consent, with Microsoft's last "not yet" answer.
type waitEnded struct {
	last oauth.Guidance
	err  error
}

func (e *waitEnded) Error() string { return e.err.Error() }
func (e *waitEnded) Unwrap() error { return e.err }

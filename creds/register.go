package creds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// GraphCLIClientID is Microsoft Graph Command Line Tools, the Microsoft public client that
// automatic registration signs in to unless an organisation names its own approved client.
const GraphCLIClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// DefaultPropagationBudget is how long registration waits for Entra to know a new app and
// secret. New secrets are reported to take from seconds to over a minute to work.
const DefaultPropagationBudget = 3 * time.Minute

// defaultSecretLifetime is the portal's recommended choice, 180 days, for a draft that chose
// none.
const defaultSecretLifetime = 180 * 24 * time.Hour

// RegisterRequest creates the app registration for a draft through Microsoft Graph.
type RegisterRequest struct {
	// Draft holds the choices of the Account and Permissions steps: audience, cloud, tenant,
	// credential kind, scopes, secret expiry, app name.
	Draft steps.Draft
	// BootstrapClientID is the public client to sign in to Graph with; "" is GraphCLIClientID.
	BootstrapClientID string
	// GrantAdminConsent asks, as an administrator, for consent to exactly the chosen
	// permissions for the whole organisation.
	GrantAdminConsent bool
	// NoBrowser, Pasted and Events are as in ConsentRequest, for the bootstrap sign-in and the
	// steps after it.
	NoBrowser bool
	Pasted    <-chan string
	Events    func(Event)
	// PropagationBudget bounds the wait for the new app and secret; zero is the default.
	PropagationBudget time.Duration
}

// Registration is what automatic registration created.
type Registration struct {
	// Draft is the request's draft with the new app's client ID, tenant ID and, for a
	// confidential app, the secret's value, expiry and key ID filled in.
	Draft          steps.Draft
	AdminConsented bool
	// AdminConsentErr says why admin consent was not granted when it was asked for.
	AdminConsentErr error
}

// Registration events.
type (
	// BootstrapSignIn means the user is about to sign in to ClientID, a Microsoft public
	// client, so that m365creds may create the app with the Graph permissions in Scopes. It
	// comes before the browser opens.
	BootstrapSignIn struct {
		ClientID string
		Scopes   []string
	}
	// Registering means one Graph step is under way; Step says which, as a phrase.
	Registering struct{ Step string }
	// Propagating means Entra does not know the new app or secret yet; the next try is at
	// Next, and the wait ends at Until.
	Propagating struct{ Next, Until time.Time }
)

func (BootstrapSignIn) consentEvent() {}
func (Registering) consentEvent()     {}
func (Propagating) consentEvent()     {}

// ErrNoTenant means the tenant the app belongs in is not known: the sign-in did not say.
var ErrNoTenant = errors.New("the tenant to register the app in is not known: give the tenant ID or domain")

// bootstrapScopes are the Graph permissions automatic registration asks for: the right to
// create apps, and to grant admin consent only when it will.
func bootstrapScopes(grant bool) []string {
	s := []string{"openid", "profile", "offline_access", "User.Read", "Application.ReadWrite.All"}
	if grant {
		s = append(s, "DelegatedPermissionGrant.ReadWrite.All", "AppRoleAssignment.ReadWrite.All")
	}
	return s
}

// graphSignIn signs the user in to the bootstrap client and returns a Graph token, the user
// and the tenant they signed in to.
func (s *Service) graphSignIn(ctx context.Context, d steps.Draft, bootstrapID string, scopes []string, req RegisterRequest, report func(Event)) (Consent, string, error) {
	if bootstrapID == "" {
		bootstrapID = GraphCLIClientID
	}
	report(BootstrapSignIn{ClientID: bootstrapID, Scopes: scopes})
	boot := steps.NewDraft()
	boot.Profile, boot.Cloud, boot.Port = d.Profile, d.Cloud, d.Port
	boot.ClientID, boot.NoSecret, boot.Audience = bootstrapID, true, oauth.MultiTenantAndPersonal
	boot.Tenant = d.Tenant
	if boot.Tenant == "" {
		boot.Tenant = "organizations"
	}
	boot.Flow = oauth.FlowBrowser
	if d.Flow == oauth.FlowPaste || d.Flow == oauth.FlowDevice {
		boot.Flow = d.Flow
	}
	boot.Scopes = scopes
	res, err := s.Consent(ctx, ConsentRequest{Draft: boot, NoBrowser: req.NoBrowser, Pasted: req.Pasted, Events: report})
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) && oauth.Classify(ce.Err) == oauth.ClassConsent {
			ce.Problem = ProblemAdminRequired // the bootstrap app itself needs an administrator's consent
		}
		return Consent{}, "", err
	}
	tenant := d.TenantID
	if tenant == "" && steps.IsGUID(d.Tenant) {
		tenant = d.Tenant
	}
	if tenant == "" {
		tenant = oauth.IDTokenTenant(res.Token.IDToken)
	}
	if tenant == "" {
		return Consent{}, "", failAs(ProblemUsage, OpRegister, d.Profile, ErrNoTenant)
	}
	if res.User == nil {
		return Consent{}, "", fail(OpRegister, d.Profile, "reading the signed-in account", boot.App(), res.MeErr)
	}
	return res, tenant, nil
}

// Register creates the app registration for req.Draft through Microsoft Graph: the
// application with the draft's audience, redirect URI and permissions, its service principal,
// the signed-in user as owner, the client secret (none for a public client), and, when asked
// and allowed, admin consent for exactly the chosen permissions. It then waits until Entra
// knows the new app and secret. A refusal fails with the reason (ProblemAdminRequired when an
// administrator is needed); the caller continues with the portal walk, the draft unchanged.
func (s *Service) Register(ctx context.Context, req RegisterRequest) (Registration, error) {
	report := req.Events
	if report == nil {
		report = func(Event) {}
	}
	d := req.Draft
	if d.Audience == oauth.PersonalOnly {
		return Registration{}, errorf(ProblemUsage, OpRegister, d.Profile,
			"personal Microsoft accounts can no longer create app registrations outside a directory: create a free Microsoft Entra tenant (for example with the Microsoft 365 Developer Program) and register the app there")
	}
	boot, tenant, err := s.graphSignIn(ctx, d, req.BootstrapClientID, bootstrapScopes(req.GrantAdminConsent), req, report)
	if err != nil {
		return Registration{}, err
	}
	graph := boot.Token.AccessToken
	g := s.Client(oauth.App{Cloud: d.Cloud, Tenant: tenant})
	step := func(what string) { report(Registering{Step: what}) }
	failed := func(err error) error {
		e := fail(OpRegister, d.Profile, "", oauth.App{}, err)
		if errors.Is(err, oauth.ErrAdminRequired) {
			e.Problem = ProblemAdminRequired
		}
		return e
	}

	step("creating the application")
	app, err := g.CreateApplication(ctx, graph, appSpec(d))
	if err != nil {
		return Registration{}, failed(err)
	}
	step("creating its service principal")
	sp, err := g.CreateServicePrincipal(ctx, graph, app.AppID)
	if err != nil {
		return Registration{}, failed(err)
	}
	step("making you an owner")
	if err := g.AddOwner(ctx, graph, app.ObjectID, boot.User.ID); err != nil && !errors.Is(err, oauth.ErrGraphConflict) {
		return Registration{}, failed(err)
	}
	d.ClientID, d.TenantID, d.AppObjectID = app.AppID, tenant, app.ObjectID
	if d.Tenant == "" || !steps.IsGUID(d.Tenant) && d.Audience == oauth.SingleTenant {
		d.Tenant = tenant
	}
	if d.NeedsSecret() {
		step("creating a client secret")
		end := d.SecretExpires
		if end.IsZero() {
			end = s.now().Add(defaultSecretLifetime)
		}
		pw, err := g.AddPassword(ctx, graph, app.ObjectID, "m365creds "+s.now().Format("2006-01-02"), end)
		if err != nil {
			return Registration{}, failed(err)
		}
		d.ClientSecret, d.SecretExpires, d.SecretKeyID = pw.SecretText, pw.End, pw.KeyID
	}
	reg := Registration{}
	if req.GrantAdminConsent {
		step("granting admin consent")
		reg.AdminConsentErr = s.grantAdminConsent(ctx, g, graph, sp.ObjectID, d)
		reg.AdminConsented = reg.AdminConsentErr == nil
	}
	if err := s.waitForPropagation(ctx, d, req.PropagationBudget, report); err != nil {
		return Registration{}, err
	}
	reg.Draft = d
	return reg, nil
}

// appSpec is the application a draft needs.
func appSpec(d steps.Draft) oauth.AppSpec {
	spec := oauth.AppSpec{DisplayName: d.AppName, SignInAudience: signInAudience(d.Audience)}
	if spec.DisplayName == "" {
		spec.DisplayName = d.SuggestedAppName()
	}
	switch d.Kind() {
	case oauth.KindPublic:
		spec.PublicRedirectURIs, spec.PublicClient = []string{"http://localhost"}, true
	default:
		spec.WebRedirectURIs = []string{d.LoopbackRedirect(steps.DefaultPort)}
	}
	access := oauth.ResourceAccess{ResourceAppID: oauth.GraphAppID}
	for _, sc := range d.Scopes {
		if p, ok := assets.PermissionByScope(sc); ok && p.ID != "" {
			access.Scopes = append(access.Scopes, p.ID)
		}
	}
	for _, name := range d.AppRoles {
		if r, ok := assets.AppRoleByName(name); ok {
			access.Roles = append(access.Roles, r.ID)
		}
	}
	if len(access.Scopes)+len(access.Roles) > 0 {
		spec.RequiredAccess = []oauth.ResourceAccess{access}
	}
	return spec
}

func signInAudience(a oauth.Audience) string {
	switch a {
	case oauth.MultiTenant:
		return oauth.AudienceMultipleOrgs
	case oauth.MultiTenantAndPersonal:
		return oauth.AudienceOrgsAndPersonal
	case oauth.PersonalOnly:
		return oauth.AudiencePersonalAccounts
	case oauth.SingleTenant:
	}
	return oauth.AudienceMyOrg
}

// grantAdminConsent grants the draft's delegated permissions for all users, and its
// application permissions, as an administrator would press "Grant admin consent".
func (s *Service) grantAdminConsent(ctx context.Context, g *oauth.Client, graph, clientSP string, d steps.Draft) error {
	resource, err := g.ServicePrincipalByAppID(ctx, graph, oauth.GraphAppID)
	if err != nil {
		return err
	}
	var scopes []string
	for _, sc := range d.Scopes {
		if p, ok := assets.PermissionByScope(sc); ok && p.ID != "" {
			scopes = append(scopes, p.Scope)
		}
	}
	if len(scopes) > 0 {
		if err := g.GrantDelegated(ctx, graph, clientSP, resource.ObjectID, scopes); err != nil {
			return err
		}
	}
	for _, name := range d.AppRoles {
		if r, ok := assets.AppRoleByName(name); ok {
			if err := g.AssignAppRole(ctx, graph, resource.ObjectID, clientSP, r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitForPropagation tries the new app until Entra knows it: client credentials for a
// confidential app (which also proves the new secret), a device-code request for a public
// client. "Not known yet" answers are retried with growing pauses within the budget.
func (s *Service) waitForPropagation(ctx context.Context, d steps.Draft, budget time.Duration, report func(Event)) error {
	if budget <= 0 {
		budget = DefaultPropagationBudget
	}
	until := s.now().Add(budget)
	c := s.Client(d.App())
	pause := time.Second
	for {
		var err error
		if d.NeedsSecret() {
			_, err = c.ClientCredentials(ctx)
		} else {
			_, err = c.StartDevice(ctx, []string{"openid"})
		}
		if err == nil || !notPropagated(err) {
			if err != nil {
				return fail(OpRegister, d.Profile, "trying the new app", d.App(), err)
			}
			return nil
		}
		next := s.now().Add(pause)
		if next.After(until) {
			return &Error{Problem: ProblemNetwork, Op: OpRegister, Profile: d.Profile, App: d.App(),
				Doing: fmt.Sprintf("waiting %s for Microsoft to know the new app", budget), Err: err}
		}
		report(Propagating{Next: next, Until: until})
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*2, 10*time.Second)
	}
}

// notPropagated reports whether Entra's answer means it does not know the new app or secret
// yet: an unknown app (700016), a service principal not there yet (7000229), a secret not
// accepted yet (7000215).
func notPropagated(err error) bool { return entraCodeIn(err, 700016, 7000229, 7000215) }

// BootstrapAdminConsentURL is the link an administrator opens to approve the bootstrap client
// for the organisation with the Graph permissions registration asks for.
func (s *Service) BootstrapAdminConsentURL(d steps.Draft, bootstrapID string, grant bool) string {
	if bootstrapID == "" {
		bootstrapID = GraphCLIClientID
	}
	tenant := d.Authority()
	c := s.Client(oauth.App{Cloud: d.Cloud, Tenant: tenant, ClientID: bootstrapID, Kind: oauth.KindPublic})
	var scopes []string
	for _, sc := range bootstrapScopes(grant) {
		switch sc {
		case "openid", "profile", "offline_access":
		default:
			scopes = append(scopes, sc)
		}
	}
	return c.AdminConsentURLFor("", "", scopes)
}

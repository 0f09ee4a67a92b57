package creds

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

// graphFixture is a simulator with Microsoft Graph Command Line Tools and the given users, and
// an engine whose browser signs in as the first of them.
func graphFixture(t *testing.T, users ...simulator.User) *fixture {
	t.Helper()
	return fixtureWith(t, []simulator.App{simulator.DemoApp(), simulator.GraphCLIApp()}, users)
}

// newDraft is what the Account and Permissions steps leave for automatic registration.
func newDraft(t *testing.T, scopes ...string) steps.Draft {
	d := steps.NewDraft()
	d.Profile, d.Tenant, d.Port = "auto", simulator.DemoTenantID, testport.Free()
	d.SecretExpires = time.Now().AddDate(0, 6, 0)
	if len(scopes) > 0 {
		d.Scopes = scopes
	}
	return d
}

// TestRegisterThenSignIn: an administrator registers a web app through Graph with admin
// consent, waits out the propagation delay, signs in with the new app and gets tokens.
func TestRegisterThenSignIn(t *testing.T) {
	t.Parallel()
	f := graphFixture(t, simulator.DemoUsers()...)
	f.sim.SetPropagationDelay(time.Hour) // until the engine says it waits
	var events []string
	reg, err := f.engine.Register(t.Context(), RegisterRequest{
		Draft: newDraft(t, "openid", "offline_access", "User.Read", "Mail.Read"), GrantAdminConsent: true,
		PropagationBudget: 20 * time.Second,
		Events: func(e Event) {
			switch e := e.(type) {
			case BootstrapSignIn:
				events = append(events, "bootstrap "+e.ClientID)
			case Registering:
				events = append(events, e.Step)
			case Propagating:
				events = append(events, "propagating")
				f.sim.Propagate()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := reg.Draft
	if !reg.AdminConsented || d.ClientID == "" || d.ClientID == d.AppObjectID || d.ClientSecret == "" || d.SecretKeyID == "" || d.TenantID != simulator.DemoTenantID {
		t.Fatalf("registration %+v", reg)
	}
	got := strings.Join(events, ", ")
	for _, want := range []string{"bootstrap " + GraphCLIClientID, "creating the application", "creating a client secret", "granting admin consent", "propagating"} {
		if !strings.Contains(got, want) {
			t.Errorf("events %q lack %q", got, want)
		}
	}
	p := f.consent(d)
	if p.AppObjectID != d.AppObjectID || p.SecretKeyID != d.SecretKeyID {
		t.Errorf("the profile did not keep the Graph IDs: %+v", p)
	}
	if _, err := f.engine.Token(t.Context(), p, TokenRequest{Force: true}); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterAsMember: an ordinary member may register (Entra's default) but not grant admin
// consent; the app still works for what users may consent to.
func TestRegisterAsMember(t *testing.T) {
	t.Parallel()
	f := graphFixture(t, simulator.DemoMember())
	// Application.ReadWrite.All needs an administrator's consent: here an administrator has
	// approved Microsoft Graph Command Line Tools for the organisation before.
	f.sim.GrantAdminConsentIn(simulator.DemoTenantID, GraphCLIClientID)
	d := newDraft(t, "openid", "offline_access", "User.Read")
	d.Tenant = "" // the tenant comes from the sign-in
	reg, err := f.engine.Register(t.Context(), RegisterRequest{Draft: d, GrantAdminConsent: true})
	if err != nil {
		t.Fatal(err)
	}
	if reg.AdminConsented || !errors.Is(reg.AdminConsentErr, oauth.ErrAdminRequired) {
		t.Errorf("admin consent: %v %v", reg.AdminConsented, reg.AdminConsentErr)
	}
	if reg.Draft.TenantID != simulator.DemoTenantID {
		t.Errorf("tenant %q", reg.Draft.TenantID)
	}
	f.consent(reg.Draft)
}

// TestRegisterRefusals: each refusal fails with its reason, before anything half-made is
// passed on.
func TestRegisterRefusals(t *testing.T) {
	t.Parallel()
	t.Run("the bootstrap app needs an administrator", func(t *testing.T) {
		t.Parallel()
		f := graphFixture(t, simulator.DemoMember())
		_, err := f.engine.Register(t.Context(), RegisterRequest{Draft: newDraft(t)})
		problem(t, err, ProblemAdminRequired)
		if f.sim.Count("graph", "") != 0 {
			t.Error("Graph was called without a token")
		}
	})
	t.Run("users may not register apps", func(t *testing.T) {
		t.Parallel()
		f := graphFixture(t, simulator.DemoMember())
		f.sim.GrantAdminConsentIn(simulator.DemoTenantID, GraphCLIClientID)
		f.sim.SetUsersCanRegisterApps(simulator.DemoTenantID, false)
		_, err := f.engine.Register(t.Context(), RegisterRequest{Draft: newDraft(t)})
		if !errors.Is(err, oauth.ErrRegistrationDenied) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("the tenant forbids secrets", func(t *testing.T) {
		t.Parallel()
		f := graphFixture(t, simulator.DemoUsers()...)
		f.sim.SetAppManagementPolicy(simulator.DemoTenantID, simulator.AppManagementPolicy{ForbidSecrets: true})
		_, err := f.engine.Register(t.Context(), RegisterRequest{Draft: newDraft(t)})
		if !errors.Is(err, oauth.ErrSecretsForbidden) {
			t.Fatalf("err %v", err)
		}
		// A public client holds no secret, so the same tenant lets it through.
		d := newDraft(t)
		d.NoSecret = true
		reg, err := f.engine.Register(t.Context(), RegisterRequest{Draft: d})
		if err != nil {
			t.Fatal(err)
		}
		if reg.Draft.ClientSecret != "" || reg.Draft.Kind() != oauth.KindPublic {
			t.Errorf("public draft %+v", reg.Draft)
		}
		f.consent(reg.Draft)
		if n := f.sim.SecretsSent(""); n != 0 {
			t.Errorf("%d requests carried a secret", n)
		}
	})
	t.Run("secret lifetime over the policy", func(t *testing.T) {
		t.Parallel()
		f := graphFixture(t, simulator.DemoUsers()...)
		f.sim.SetAppManagementPolicy(simulator.DemoTenantID, simulator.AppManagementPolicy{MaxSecretLifetime: 90 * 24 * time.Hour})
		_, err := f.engine.Register(t.Context(), RegisterRequest{Draft: newDraft(t)})
		if !errors.Is(err, oauth.ErrSecretLifetime) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("personal accounts only", func(t *testing.T) {
		t.Parallel()
		f := graphFixture(t, simulator.DemoUsers()...)
		d := newDraft(t)
		d.Audience = oauth.PersonalOnly
		_, err := f.engine.Register(t.Context(), RegisterRequest{Draft: d})
		problem(t, err, ProblemUsage)
		if f.sim.Count("authorize", "") != 0 {
			t.Error("a sign-in started")
		}
	})
}

// TestRotateViaGraphFailureKeepsTheOldSecret: when the new secret never starts working, it is
// removed again and the profile keeps the secret that works.
func TestRotateViaGraphFailureKeepsTheOldSecret(t *testing.T) {
	t.Parallel()
	f := graphFixture(t, simulator.DemoUsers()...)
	reg, err := f.engine.Register(t.Context(), RegisterRequest{Draft: newDraft(t, "openid", "offline_access", "User.Read")})
	if err != nil {
		t.Fatal(err)
	}
	p := f.consent(reg.Draft)
	f.sim.SetPropagationDelay(time.Hour)
	_, err = f.engine.RotateViaGraph(t.Context(), GraphRotateRequest{Profile: p, PropagationBudget: 2 * time.Second})
	problem(t, err, ProblemNetwork)
	app, _ := f.sim.App(p.ClientID)
	if len(app.Secrets) != 1 || app.Secrets[0].Value != reg.Draft.ClientSecret {
		t.Errorf("the app holds %d secrets after a failed rotation", len(app.Secrets))
	}
	sec, _ := f.engine.Store.Secrets(t.Context(), p.Name)
	if sec.ClientSecret != reg.Draft.ClientSecret {
		t.Error("the profile no longer has the working secret")
	}
}

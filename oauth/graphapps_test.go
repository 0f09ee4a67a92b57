package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// Permission IDs of Microsoft Graph (microsoft-identity.md §8; app role IDs from Graph's
// service principal).
const (
	userReadID     = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
	mailReadID     = "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"
	mailReadRoleID = "810c84a8-4a9e-49e6-bf7d-12d183f40d01"
)

// bootstrapScopes are what the automatic path asks for when it will grant admin consent.
var bootstrapScopes = []string{"openid", "offline_access", "User.Read", "Application.ReadWrite.All",
	"DelegatedPermissionGrant.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"}

// graphSim is a simulator with the demo app, Microsoft Graph Command Line Tools, Ada (admin)
// and Bea (member of the demo tenant).
func graphSim(t *testing.T) (*simulator.Sim, string) {
	t.Helper()
	s := simulator.New([]simulator.App{simulator.DemoApp(), simulator.GraphCLIApp()},
		append(simulator.DemoUsers(), simulator.DemoMember()))
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, base
}

// browserSignIn runs the loopback browser flow for c with scopes as the user upn and returns
// the token.
func browserSignIn(t *testing.T, c *Client, scopes []string, upn string) *Token {
	t.Helper()
	lb, err := ListenLoopback(0)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	req, err := c.NewAuthRequest(scopes, lb.RedirectURI())
	if err != nil {
		t.Fatal(err)
	}
	lb.Expect(req.State)
	done := make(chan error, 1)
	go func() {
		_, _, err := browse(req.URL + "&login_hint=" + upn)
		done <- err
	}()
	cb, err := lb.Wait(ctxTimeout(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return redeem(t, c, req, cb)
}

// bootstrap signs upn in to Graph Command Line Tools in the demo tenant, as a public client
// on a loopback redirect with PKCE and no secret.
func bootstrap(t *testing.T, base, upn string, scopes []string) (*Client, *Token) {
	t.Helper()
	c := testClient(base, App{Cloud: Global, Tenant: testTenant, ClientID: simulator.GraphCLIClientID, Kind: KindPublic}, keepAliveOff(5*time.Second))
	return c, browserSignIn(t, c, scopes, upn)
}

func TestRegisterThroughGraphEndToEnd(t *testing.T) {
	t.Parallel()
	sim, base := graphSim(t)
	// The app stays unknown to sign-in until the test lets it propagate.
	sim.SetPropagationDelay(time.Hour)
	ctx := ctxTimeout(t, 20*time.Second)

	gc, boot := bootstrap(t, base, simulator.DemoUPN, bootstrapScopes)
	if n := sim.SecretsSent(""); n != 0 {
		t.Fatalf("the bootstrap sign-in sent a secret %d times", n)
	}
	me, err := gc.Me(ctx, boot.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	gt := boot.AccessToken

	app, err := gc.CreateApplication(ctx, gt, AppSpec{DisplayName: "m365creds test", SignInAudience: AudienceMyOrg,
		WebRedirectURIs: []string{"http://localhost:53365/"},
		RequiredAccess: []ResourceAccess{{ResourceAppID: GraphAppID, Scopes: []string{userReadID, mailReadID},
			Roles: []string{mailReadRoleID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !isGUID(app.ObjectID) || !isGUID(app.AppID) || app.ObjectID == app.AppID || app.DisplayName != "m365creds test" {
		t.Fatalf("application %+v", app)
	}
	sp, err := gc.CreateServicePrincipal(ctx, gt, app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := gc.CreateServicePrincipal(ctx, gt, app.AppID)
	if err != nil || again.ObjectID != sp.ObjectID {
		t.Fatalf("second CreateServicePrincipal = %+v, %v; want the existing %s", again, err, sp.ObjectID)
	}
	if err := gc.AddOwner(ctx, gt, app.ObjectID, me.ID); err != nil {
		t.Fatalf("the creator is an owner already, which is no error: %v", err)
	}
	pw, err := gc.AddPassword(ctx, gt, app.ObjectID, "m365creds", time.Now().AddDate(0, 6, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(pw.SecretText) < 16 || pw.Hint != pw.SecretText[:3] || !isGUID(pw.KeyID) {
		t.Fatalf("password %+v", Password{KeyID: pw.KeyID, Hint: pw.Hint, End: pw.End})
	}
	graphSP, err := gc.ServicePrincipalByAppID(ctx, gt, GraphAppID)
	if err != nil {
		t.Fatal(err)
	}
	if err := gc.GrantDelegated(ctx, gt, sp.ObjectID, graphSP.ObjectID, []string{"User.Read"}); err != nil {
		t.Fatal(err)
	}
	// Granting again adds to the grant: Bea's sign-in below needs Mail.Read from it.
	if err := gc.GrantDelegated(ctx, gt, sp.ObjectID, graphSP.ObjectID, []string{"https://graph.microsoft.com/Mail.Read", "User.Read"}); err != nil {
		t.Fatalf("granting again: %v", err)
	}
	if err := gc.GrantDelegated(ctx, gt, sp.ObjectID, graphSP.ObjectID, []string{"Mail.Read"}); err != nil {
		t.Fatalf("granting what is granted: %v", err)
	}
	if err := gc.AssignAppRole(ctx, gt, graphSP.ObjectID, sp.ObjectID, mailReadRoleID); err != nil {
		t.Fatal(err)
	}
	if err := gc.AssignAppRole(ctx, gt, graphSP.ObjectID, sp.ObjectID, mailReadRoleID); err != nil {
		t.Fatalf("an assignment that exists is no error: %v", err)
	}

	// Not yet propagated: the app is unknown to the token endpoint.
	newApp := App{Cloud: Global, Tenant: testTenant, ClientID: app.AppID, ClientSecret: pw.SecretText, Kind: KindWeb,
		RedirectURI: "http://localhost:53365/"}
	nc := testClient(base, newApp, keepAliveOff(5*time.Second))
	_, err = nc.ClientCredentials(ctx)
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Code() != 700016 {
		t.Fatalf("before propagation: %v, want AADSTS700016", err)
	}
	sim.Propagate()
	tok, err := nc.ClientCredentials(ctx)
	if err != nil {
		t.Fatalf("once propagated: %v", err)
	}
	if info, _ := sim.AccessToken(tok.AccessToken); len(info.Roles) != 1 || info.Roles[0] != "Mail.Read" {
		t.Errorf("app-only roles %v, want Mail.Read", info.Roles)
	}

	// The delegated flow with the new app and its secret, for a member whose consent the
	// admin grant covers (Mail.Read is withheld from users on Microsoft's managed policy).
	user := browserSignIn(t, nc, []string{"openid", "offline_access", "User.Read", "Mail.Read"}, simulator.DemoMemberUPN)
	if u, err := nc.Me(ctx, user.AccessToken); err != nil || u.UserPrincipalName != simulator.DemoMemberUPN {
		t.Fatalf("me with the new app: %+v %v", u, err)
	}
	if _, err := nc.Refresh(ctx, user.RefreshToken, nil); err != nil {
		t.Fatalf("refresh with the new app: %v", err)
	}

	// Rotation: a second secret, proven, then the first removed by its key ID.
	got, err := gc.ApplicationByAppID(ctx, gt, app.AppID)
	if err != nil || got.ObjectID != app.ObjectID || len(got.Passwords) != 1 || got.Passwords[0].KeyID != pw.KeyID ||
		got.Passwords[0].Hint != pw.Hint || got.Passwords[0].SecretText != "" {
		t.Fatalf("ApplicationByAppID = %+v, %v", got, err)
	}
	pw2, err := gc.AddPassword(ctx, gt, app.ObjectID, "rotated", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Now().AddDate(2, 0, 0); pw2.End.Before(want.Add(-time.Minute)) || pw2.End.After(want.Add(time.Minute)) {
		t.Errorf("default end %v, want two years from now", pw2.End)
	}
	rotated := newApp
	rotated.ClientSecret = pw2.SecretText
	rc := testClient(base, rotated, keepAliveOff(5*time.Second))
	_, err = rc.ClientCredentials(ctx)
	if !errors.As(err, &ee) || ee.Code() != 7000215 || Classify(err) != ClassSecret {
		t.Fatalf("new secret before propagation: %v, want AADSTS7000215", err)
	}
	sim.Propagate()
	if _, err := rc.Refresh(ctx, user.RefreshToken, nil); err != nil {
		t.Fatalf("refresh with the rotated secret: %v", err)
	}
	if err := gc.RemovePassword(ctx, gt, app.ObjectID, pw.KeyID); err != nil {
		t.Fatal(err)
	}
	_, err = nc.ClientCredentials(ctx)
	if !errors.As(err, &ee) || ee.Code() != 7000215 {
		t.Fatalf("removed secret: %v, want AADSTS7000215", err)
	}
	if _, err := rc.ClientCredentials(ctx); err != nil {
		t.Fatalf("the remaining secret: %v", err)
	}
}

func TestGraphRegistrationRefusals(t *testing.T) {
	t.Parallel()
	spec := AppSpec{DisplayName: "refused", WebRedirectURIs: []string{"http://localhost:53365/"}}

	t.Run("no right to register apps", func(t *testing.T) {
		t.Parallel()
		sim, base := graphSim(t)
		sim.SetUsersCanRegisterApps(testTenant, false)
		sim.GrantAdminConsentIn(testTenant, simulator.GraphCLIClientID)
		gc, tok := bootstrap(t, base, simulator.DemoMemberUPN, bootstrapScopes)
		_, err := gc.CreateApplication(context.Background(), tok.AccessToken, spec)
		if !errors.Is(err, ErrRegistrationDenied) || errors.Is(err, ErrAdminRequired) {
			t.Fatalf("err = %v, want ErrRegistrationDenied", err)
		}
		if c := Classify(err); c != ClassOther {
			t.Errorf("class %v, want ClassOther (exit 1)", c)
		}
		g := Explain(err, App{})
		if g.Title != "Not allowed to register apps" || g.Step != StepRegister || !strings.Contains(g.Raw, "Insufficient privileges") {
			t.Errorf("guidance %+v", g)
		}
		noSecretIn(t, tok.AccessToken, append(guidanceTexts(g), err.Error())...)
	})

	t.Run("member may not grant admin consent", func(t *testing.T) {
		t.Parallel()
		sim, base := graphSim(t)
		sim.GrantAdminConsentIn(testTenant, simulator.GraphCLIClientID)
		gc, tok := bootstrap(t, base, simulator.DemoMemberUPN, bootstrapScopes)
		ctx := context.Background()
		gt := tok.AccessToken
		app, err := gc.CreateApplication(ctx, gt, spec)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := gc.CreateServicePrincipal(ctx, gt, app.AppID)
		if err != nil {
			t.Fatal(err)
		}
		graphSP, err := gc.ServicePrincipalByAppID(ctx, gt, GraphAppID)
		if err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"grant":  gc.GrantDelegated(ctx, gt, sp.ObjectID, graphSP.ObjectID, []string{"Mail.Read"}),
			"assign": gc.AssignAppRole(ctx, gt, graphSP.ObjectID, sp.ObjectID, mailReadRoleID),
		} {
			if !errors.Is(err, ErrAdminRequired) {
				t.Errorf("%s: %v, want ErrAdminRequired", name, err)
			}
			if c := Classify(err); c != ClassConsent {
				t.Errorf("%s: class %v, want ClassConsent (exit 4)", name, c)
			}
			if g := Explain(err, App{}); g.Title != "Administrator needed" {
				t.Errorf("%s: guidance %+v", name, g)
			}
		}
	})

	t.Run("tenant policy on secrets", func(t *testing.T) {
		t.Parallel()
		sim, base := graphSim(t)
		gc, tok := bootstrap(t, base, simulator.DemoUPN, bootstrapScopes)
		ctx := context.Background()
		app, err := gc.CreateApplication(ctx, tok.AccessToken, spec)
		if err != nil {
			t.Fatal(err)
		}
		sim.SetAppManagementPolicy(testTenant, simulator.AppManagementPolicy{MaxSecretLifetime: 90 * 24 * time.Hour})
		_, err = gc.AddPassword(ctx, tok.AccessToken, app.ObjectID, "too long", time.Now().AddDate(1, 0, 0))
		var ge *GraphError
		if !errors.Is(err, ErrSecretLifetime) || !errors.As(err, &ge) || len(ge.Details) != 1 || ge.Details[0] != "InvalidKeyEndDate" {
			t.Fatalf("err = %#v, want ErrSecretLifetime with InvalidKeyEndDate", err)
		}
		if g := Explain(err, App{}); g.Title != "Secret lifetime too long" || g.Step != StepSecret || Classify(err) != ClassOther {
			t.Errorf("guidance %+v class %v", g, Classify(err))
		}
		if _, err := gc.AddPassword(ctx, tok.AccessToken, app.ObjectID, "short", time.Now().AddDate(0, 2, 0)); err != nil {
			t.Errorf("within the policy: %v", err)
		}
		sim.SetAppManagementPolicy(testTenant, simulator.AppManagementPolicy{ForbidSecrets: true})
		_, err = gc.AddPassword(ctx, tok.AccessToken, app.ObjectID, "any", time.Now().AddDate(0, 1, 0))
		if !errors.Is(err, ErrSecretsForbidden) || errors.Is(err, ErrSecretLifetime) {
			t.Fatalf("err = %v, want ErrSecretsForbidden", err)
		}
		if g := Explain(err, App{}); g.Title != "Client secrets not allowed" {
			t.Errorf("guidance %+v", g)
		}
	})

	t.Run("app ID where the object ID belongs", func(t *testing.T) {
		t.Parallel()
		_, base := graphSim(t)
		gc, tok := bootstrap(t, base, simulator.DemoUPN, bootstrapScopes)
		ctx := context.Background()
		app, err := gc.CreateApplication(ctx, tok.AccessToken, spec)
		if err != nil {
			t.Fatal(err)
		}
		_, err = gc.AddPassword(ctx, tok.AccessToken, app.AppID, "x", time.Time{})
		if !errors.Is(err, ErrGraphNotFound) {
			t.Fatalf("addPassword by app ID: %v, want ErrGraphNotFound", err)
		}
		if g := Explain(err, App{}); g.Title != "Not found in the directory" || !strings.Contains(g.Action, "object ID") {
			t.Errorf("guidance %+v", g)
		}
		if err := gc.RemovePassword(ctx, tok.AccessToken, app.AppID, app.ObjectID); !errors.Is(err, ErrGraphNotFound) {
			t.Errorf("removePassword by app ID: %v", err)
		}
		if _, err := gc.ServicePrincipalByAppID(ctx, tok.AccessToken, app.AppID); !errors.Is(err, ErrGraphNotFound) {
			t.Errorf("service principal not created yet: %v, want ErrGraphNotFound", err)
		}
		if _, err := gc.ApplicationByAppID(ctx, tok.AccessToken, app.ObjectID); !errors.Is(err, ErrGraphNotFound) {
			t.Errorf("application by its object ID as app ID: %v", err)
		}
		if _, err := gc.ApplicationByAppID(ctx, tok.AccessToken, "x') or (1"); err == nil {
			t.Error("an ID that is not a GUID went into the address")
		}
	})

	t.Run("tokens Graph does not accept", func(t *testing.T) {
		t.Parallel()
		_, base := graphSim(t)
		gc, tok := bootstrap(t, base, simulator.DemoUPN, []string{"openid", "User.Read"})
		_, err := gc.CreateApplication(context.Background(), tok.AccessToken, spec)
		if !errors.Is(err, ErrRegistrationDenied) {
			t.Errorf("token without Application.ReadWrite.All: %v", err)
		}
		_, err = gc.CreateApplication(context.Background(), "sim-at.expired-or-made-up-token", spec)
		var ge *GraphError
		if !errors.As(err, &ge) || ge.Status != http.StatusUnauthorized || Classify(err) != ClassConsent {
			t.Errorf("unknown token: %v", err)
		}
		noSecretIn(t, "sim-at.expired-or-made-up-token", err.Error())
	})

	t.Run("other refusals name the step", func(t *testing.T) {
		t.Parallel()
		_, base := graphSim(t)
		gc, tok := bootstrap(t, base, simulator.DemoUPN, bootstrapScopes)
		_, err := gc.CreateApplication(context.Background(), tok.AccessToken, AppSpec{DisplayName: "x", SignInAudience: "Everyone"})
		g := Explain(err, App{})
		if g.Title != "Microsoft Graph refused the change" || !strings.Contains(g.Meaning, OpCreateApplication) ||
			!strings.Contains(g.Raw, "signInAudience") || !strings.Contains(g.Raw, "Request ID: ") {
			t.Errorf("guidance %+v", g)
		}
	})
}

func TestGraphCLIDeviceCode(t *testing.T) {
	t.Parallel()
	sim, base := graphSim(t)
	sim.SetDeviceApproval(0)
	sim.SetDeviceInterval(0)
	c := testClient(base, App{Cloud: Global, Tenant: testTenant, ClientID: simulator.GraphCLIClientID, Kind: KindPublic}, keepAliveOff(5*time.Second))
	da, err := c.StartDevice(context.Background(), bootstrapScopes)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.PollDevice(ctxTimeout(t, 5*time.Second), da)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateApplication(context.Background(), tok.AccessToken, AppSpec{DisplayName: "by device code",
		PublicRedirectURIs: []string{"http://localhost"}, PublicClient: true}); err != nil {
		t.Fatal(err)
	}
	if n := sim.SecretsSent(""); n != 0 {
		t.Errorf("secrets sent: %d", n)
	}
}

func TestGraphRegistrationFaults(t *testing.T) {
	t.Parallel()
	sim, base := graphSim(t)
	gc, tok := bootstrap(t, base, simulator.DemoUPN, bootstrapScopes)
	spec := AppSpec{DisplayName: "faulty"}
	sim.AddFault(simulator.Fault{Endpoint: "graph", Status: 503, Body: "<html>Service Unavailable</html>", Times: 1})
	_, err := gc.CreateApplication(context.Background(), tok.AccessToken, spec)
	var re *ResponseError
	if !errors.As(err, &re) || Classify(err) != ClassNetwork {
		t.Errorf("503 page: %v (class %v)", err, Classify(err))
	}
	// Throttling (here without Retry-After, so not retried) is a wait, not a refusal.
	sim.AddFault(simulator.Fault{Endpoint: "graph", Status: 429, Body: `{"error":{"code":"TooManyRequests","message":"Too many requests"}}`, Times: 1})
	_, err = gc.CreateApplication(context.Background(), tok.AccessToken, spec)
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Status != 429 || ge.Code != "TooManyRequests" || Classify(err) != ClassNetwork {
		t.Errorf("429: %v (class %v)", err, Classify(err))
	}
	noSecretIn(t, tok.AccessToken, err.Error())
	if _, err := gc.CreateApplication(context.Background(), tok.AccessToken, spec); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

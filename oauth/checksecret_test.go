package oauth

import (
	"context"
	"errors"
	"testing"

	"github.com/m365creds/m365creds/oauth/simulator"
)

const (
	customerTenant = "7e1f3a5c-9b2d-4c6e-8a0f-1d3b5c7e9f2a" // a tenant the multi-tenant app has not been used in
	multiSecret    = "mul8Q~multiTenantAppSecretValue00000000x"
)

// TestCheckSecretBeforeFirstUseInATenant: a multi-tenant app's first sign-in in a customer
// tenant finds no service principal there; the client-credentials check then answers 7000229,
// which must not block the sign-in that creates it. A wrong secret and an unknown app still do.
func TestCheckSecretBeforeFirstUseInATenant(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	sim.AddTenant(simulator.Tenant{ID: customerTenant})
	multi := App{Tenant: customerTenant, ClientID: multiClientID, ClientSecret: multiSecret, Kind: KindWeb}

	if err := testClient(base, multi, nil).CheckSecret(context.Background()); !errors.Is(err, ErrCheckSkipped) {
		t.Fatalf("a multi-tenant app without a service principal yet: %v, want ErrCheckSkipped", err)
	}
	if sim.Count("token", "client_credentials") != 1 {
		t.Error("the check did not reach the token endpoint")
	}
	// App-only access itself cannot work yet: Explain says what creates the service principal.
	_, err := testClient(base, multi, nil).ClientCredentials(context.Background())
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Code() != 7000229 || Explain(err, multi).Title != "App not yet set up in this tenant" {
		t.Fatalf("app-only token without a service principal: %v", err)
	}

	wrong := multi
	wrong.ClientSecret = "abc8Q~wrongwrongwrongwrongwrongwrongwron"
	if err := testClient(base, wrong, nil).CheckSecret(context.Background()); !errors.As(err, &ee) || ee.Code() != 7000215 {
		t.Errorf("a wrong secret must still fail the check: %v", err)
	}
	single := App{Tenant: customerTenant, ClientID: testClientID, ClientSecret: testSecret, Kind: KindWeb}
	if err := testClient(base, single, nil).CheckSecret(context.Background()); !errors.As(err, &ee) || ee.Code() != 700016 {
		t.Errorf("a single-tenant app in another tenant must fail with 700016: %v", err)
	}

	// Once an administrator of the customer tenant has consented, the check is a real pass.
	sim.GrantAdminConsentIn(customerTenant, multiClientID)
	if err := testClient(base, multi, nil).CheckSecret(context.Background()); err != nil {
		t.Errorf("after admin consent: %v", err)
	}
}

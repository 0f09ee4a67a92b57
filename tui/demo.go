package tui

import (
	"fmt"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/tui/launch"
)

// StartDemo starts the simulated Microsoft of `m365creds demo` on a loopback port. New apps
// stay unknown to sign-in for propagationDelay, as real new apps do for a while.
func StartDemo(propagationDelay time.Duration) (launch.DemoTenant, error) {
	demo := simulator.DemoApp()
	// The simulated portal has "Allow public client flows" on, as the wizard's checklist asks
	// for the device-code path, so every credential type can be tried.
	demo.PublicClient = true
	// Microsoft Graph Command Line Tools lets the demo take the automatic path too: its
	// administrator has a home tenant to sign in to and may register apps there.
	sim := simulator.New([]simulator.App{demo, simulator.GraphCLIApp()}, simulator.DemoUsers())
	sim.SetUserTenant(simulator.DemoUPN, simulator.DemoTenantID)
	sim.SetPropagationDelay(propagationDelay)
	base, err := sim.Start()
	if err != nil {
		return launch.DemoTenant{}, fmt.Errorf("starting the simulator: %w", err)
	}
	t := launch.DemoTenant{BaseURL: base, ClientID: demo.ClientID, TenantID: demo.TenantID, Close: func() { _ = sim.Close() }}
	if len(demo.Secrets) > 0 {
		t.SecretValue, t.SecretID = demo.Secrets[0].Value, demo.Secrets[0].ID
	}
	return t, nil
}

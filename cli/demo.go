package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
	"github.com/m365creds/m365creds/tui"
)

// demoService keeps demo profiles apart from real ones in the keychain.
const demoService = "m365creds-demo"

var demoCmd = &command{
	name:    "demo",
	summary: "try the wizard against a built-in simulator of Microsoft's sign-in",
	long: `Run the wizard against a simulator of Microsoft's sign-in and Graph endpoints built into
m365creds, so you can walk the whole setup without an Azure account. The screens show the
values the simulated portal would give you (client ID, tenant ID, secret). The resulting
profile is stored under the separate keychain service "m365creds-demo", never mixed with real
profiles, and its tokens only work against the simulator. Needs a terminal.`,
	examples: `  m365creds demo`,
	exec: func(a *app, _ any, pos []string) error {
		if err := maxArgs("demo", pos, 0); err != nil {
			return err
		}
		return a.runDemo()
	},
}

func (a *app) runDemo() error {
	if !a.interactive() {
		return needTerminal("m365creds demo", "Run it in a terminal window.")
	}
	demo := simulator.DemoApp()
	// The simulated portal has "Allow public client flows" on, as the wizard's checklist asks
	// for the device-code path, so every credential type can be tried.
	demo.PublicClient = true
	sim := simulator.New([]simulator.App{demo}, simulator.DemoUsers())
	base, err := sim.Start()
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	defer sim.Close()
	// Every call of this run goes to the simulator; the process environment stays as it is.
	a.endpoints = oauth.Endpoints{Login: base, Graph: base}
	// The store keeps the demo's config file and items apart by service name.
	opts := keyring.OptionsFrom(a.env.Getenv)
	opts.Service = demoService
	if dir := a.env.Getenv("M365CREDS_CONFIG_DIR"); dir != "" {
		opts.ConfigDir = dir
	}
	if a.env.Backend != "" {
		opts.Backend = a.env.Backend
	}
	store, err := keyring.Open(opts)
	if err != nil {
		return err
	}
	d := steps.NewDraft()
	d.Profile = "demo"
	var secretValue, secretID string
	if len(demo.Secrets) > 0 {
		secretValue, secretID = demo.Secrets[0].Value, demo.Secrets[0].ID
	}
	res, err := a.runTUI(tui.Options{
		Mode:   steps.ModeNew,
		Draft:  d,
		Engine: a.engine(store),
		Demo: &tui.Demo{
			ClientID: demo.ClientID, TenantID: demo.TenantID,
			SecretValue: secretValue, SecretID: secretID,
			SimulateBrowser: func(url string) error { return simulateBrowser(a.ctx, url) },
		},
	})
	if err != nil {
		return err
	}
	if res.Saved != nil {
		a.infof("Demo finished: profile %q was saved under the keychain service %q. It only works against the simulator.", res.Saved.Name, demoService)
	}
	return nil
}

// simulateBrowser does what a browser would do with the authorize URL on the simulator: load
// it, take the redirect, and deliver it to the loopback listener. Then the demo completes
// even on a machine without a browser.
func simulateBrowser(ctx context.Context, authorizeURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return fmt.Errorf("the simulated sign-in page answered %s instead of redirecting", resp.Status)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return err
	}
	resp, err = hc.Do(req)
	if err != nil {
		return fmt.Errorf("delivering the redirect to the local listener: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

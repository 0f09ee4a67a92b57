package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
	"github.com/m365creds/m365creds/tui"
)

// demoService keeps demo profiles apart from real ones in the keychain.
const demoService = "m365creds-demo"

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
	// The oauth package reads these for every request; only this process, only this command.
	for _, k := range []string{"M365CREDS_LOGIN_URL", "M365CREDS_GRAPH_URL"} {
		if err := a.env.Setenv(k, base); err != nil {
			return err
		}
	}
	// The store keeps the demo's config file and items apart by service name.
	opts := keyring.DefaultOptions()
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
		Mode:  steps.ModeNew,
		Draft: d,
		Store: store,
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

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
	"github.com/m365creds/m365creds/tui/launch"
)

// demoPropagationDelay is how long the demo's new apps stay unknown to sign-in, as real new
// apps do for seconds to a minute.
const demoPropagationDelay = 3 * time.Second

// demoService keeps demo profiles apart from real ones in the keychain.
const demoService = "m365creds-demo"

// demoStoreOptions are the options of the store the demo keeps its profile in when the
// keychain works: the demo's own service and config file.
func (a *app) demoStoreOptions() keyring.Options {
	opts := keyring.OptionsFrom(a.env.Getenv)
	opts.Service = demoService
	if a.env.Backend != "" {
		opts.Backend = a.env.Backend
	}
	return opts
}

// openDemoStore opens the store the demo saves to. When the keychain fails its probe, the
// demo keeps its profile in memory, with its config file in a temporary directory, so it
// still runs to the end and leaves nothing behind; noKeychain then says why. done removes
// the temporary directory.
func (a *app) openDemoStore() (store *keyring.Store, noKeychain error, done func(), err error) {
	done = func() {}
	opts := a.demoStoreOptions()
	if opts.ConfigDir == "" {
		// No HOME (a bare container): nowhere to keep a profile, but the demo can still run.
		noKeychain = errors.New("there is no config directory (neither HOME nor M365CREDS_CONFIG_DIR is set)")
	} else {
		store, err = keyring.Open(opts)
		if err != nil {
			return nil, nil, done, err
		}
		if store.InMemory() {
			return store, nil, done, nil
		}
		noKeychain = store.Probe(a.ctx)
		if noKeychain == nil || a.ctx.Err() != nil {
			return store, nil, done, a.ctx.Err()
		}
	}
	dir, err := os.MkdirTemp("", "m365creds-demo-")
	if err != nil {
		return nil, nil, done, err
	}
	done = func() { _ = os.RemoveAll(dir) }
	opts.ConfigDir, opts.Backend = dir, keyring.BackendMemory
	store, err = keyring.Open(opts)
	if err != nil {
		done()
		return nil, nil, func() {}, err
	}
	return store, noKeychain, done, nil
}

func (a *app) runDemo() error {
	if !a.interactive() {
		return needTerminal("m365creds demo", "Run it in a terminal window.")
	}
	if a.env.Wizard.StartDemo == nil || a.env.Wizard.Run == nil {
		return errNoWizard
	}
	// A new app takes a moment to be known everywhere, so the demo shows that wait too.
	demo, err := a.env.Wizard.StartDemo(demoPropagationDelay)
	if err != nil {
		return err
	}
	defer demo.Close()
	base := demo.BaseURL
	// Every call of this run goes to the simulator; the process environment stays as it is.
	a.endpoints = oauth.Endpoints{Login: base, Graph: base}
	store, noKeychain, done, err := a.openDemoStore()
	if err != nil {
		return err
	}
	defer done()
	d := steps.NewDraft()
	d.Profile = "demo"
	res, err := a.runTUI(launch.Options{
		Mode:   steps.ModeNew,
		Draft:  d,
		Engine: a.demoEngine(store, base),
		Demo: &launch.Demo{
			ClientID: demo.ClientID, TenantID: demo.TenantID,
			SecretValue: demo.SecretValue, SecretID: demo.SecretID,
			SimulateBrowser: func(url string) error { return simulateBrowser(a.ctx, url) },
			NoKeychain:      noKeychain,
		},
	})
	if err != nil {
		return err
	}
	if res.Saved == nil {
		return nil
	}
	if store.InMemory() {
		a.infof("Demo finished. The demo profile %q was not kept: there was no working keychain, so it lived in memory and is gone now. Nothing was saved.", res.Saved.Name)
		return nil
	}
	a.infof("Demo finished: profile %q is saved under the keychain service %q, apart from your real profiles.\n"+
		"m365creds status and token do not see it (they read real profiles only), and its tokens work only against the simulator, which stopped with the demo.\n"+
		"m365creds demo again replaces it; m365creds demo --reset removes it.", res.Saved.Name, demoService)
	return nil
}

// resetDemo removes what earlier demos saved: every demo profile with its keychain items
// (including items a crashed save left pending), then the demo's config file once nothing
// it lists remains. Nothing to remove is no error.
func (a *app) resetDemo() error {
	store, err := keyring.Open(a.demoStoreOptions())
	if err != nil {
		return err
	}
	// A demo left half-way keeps a draft, and its secret in the keychain, like the real wizard.
	if _, err := os.Stat(store.DraftPath()); err == nil {
		if err := store.DiscardDraft(a.ctx); err != nil {
			return fmt.Errorf("removing the demo's unfinished draft: %w", err)
		}
		a.infof("Removed the demo's unfinished draft %s.", sanitize.Line(store.DraftPath(), 1024))
	}
	if _, err := os.Stat(store.Path()); errors.Is(err, os.ErrNotExist) {
		a.infof("Nothing to remove: the demo has saved nothing here (no %s).", sanitize.Line(store.Path(), 1024))
		return nil
	}
	names, err := store.Names()
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := store.Delete(a.ctx, name); err != nil {
			return fmt.Errorf("removing the demo profile %q: %w", name, err)
		}
		a.infof("Removed the demo profile %q and its items in the keychain service %q.", name, demoService)
	}
	if err := os.Remove(store.Path()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	a.infof("Removed the demo's config file %s.", sanitize.Line(store.Path(), 1024))
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

// errDemoPortal answers the demo's "open in browser" on a portal page: the demo's portal is
// simulated, and its links lead to the real Azure portal, which has nothing of the demo.
var errDemoPortal = errors.New("the demo's portal is simulated on these screens; its links are the real portal's, shown for reference only")

// demoEngine is the engine of the demo: it opens only the simulator's pages in a browser.
func (a *app) demoEngine(store *keyring.Store, base string) *creds.Service {
	engine := a.engine(store)
	open := engine.OpenBrowser
	engine.OpenBrowser = func(url string) error {
		if !strings.HasPrefix(url, base+"/") {
			return errDemoPortal
		}
		return open(url)
	}
	return engine
}

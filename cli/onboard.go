package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

type onboardOptions struct {
	from    string
	tenant  string
	tenants string
	profile string
	flow    string
	wait    time.Duration
	poll    time.Duration
	store   string
}

func (a *app) onboardCommand() *cobra.Command {
	o := &onboardOptions{}
	c := &cobra.Command{
		Use:   "onboard --from PROFILE --tenant CUSTOMER",
		Short: "bring a customer tenant to your multi-tenant app",
		Long: `Build the admin-consent link of the app in profile --from for a customer's tenant, print
it on stdout with a message for the customer's administrator that says what the app will
be able to do, and wait (with a countdown on stderr) until the consent has taken effect.
The administrator usually opens the link on another machine: onboard finds out by
itself. Then it saves a profile for the customer (named after the tenant unless
--profile is given) that uses the same app and the same client secret.

--flow app (the default for an app-only profile) waits for app-only tokens to work in
the customer's tenant; --flow browser or device has a user of the customer sign in.
--tenants FILE sends one link per line of FILE and waits for all of them; status lists
the ones still pending. The app must be registered for "Accounts in any organizational
directory". No password is ever needed, neither yours nor the customer's.

Exit codes: 0 consented and saved, 1 declined, wrong tenant or timed out, 2 usage,
130 interrupted.`,
		Example: `  m365creds onboard --from vendor --tenant contoso.onmicrosoft.com
  m365creds onboard --from vendor \
      --tenant 7e1f3a5c-9b2d-4c6e-8a0f-1d3b5c7e9f2a --profile contoso --wait 2h
  m365creds onboard --from vendor --tenants customers.txt`,
		RunE: a.run("onboard", func(pos []string) error { return a.runOnboard(o, pos) }),
	}
	fs := c.Flags()
	fs.StringVar(&o.from, "from", "", "`PROFILE` the profile that holds your multi-tenant app")
	fs.StringVar(&o.tenant, "tenant", "", "`CUSTOMER` the customer's Directory (tenant) ID or domain")
	fs.StringVar(&o.tenants, "tenants", "", "`FILE` one customer tenant per line, one link each")
	fs.StringVar(&o.profile, "profile", "", "`NAME` the customer profile to save (default: from the tenant)")
	fs.StringVar(&o.flow, "flow", "", "`app|browser|device` how the customer profile gets tokens")
	fs.DurationVar(&o.wait, "wait", creds.DefaultOnboardWait, "`DUR` how long to wait for the consent (default 30m)")
	fs.DurationVar(&o.poll, "poll", 0, "`DUR` first interval between checks (default 5s)")
	_ = fs.MarkHidden("poll")
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) runOnboard(o *onboardOptions, pos []string) error {
	if err := maxArgs("onboard", pos, 0); err != nil {
		return err
	}
	switch {
	case o.from == "":
		return usagef("onboard", "missing --from PROFILE: the profile holding your multi-tenant app")
	case o.tenant == "" && o.tenants == "":
		return usagef("onboard", "missing --tenant CUSTOMER (or --tenants FILE)")
	case o.tenant != "" && o.tenants != "":
		return usagef("onboard", "--tenant and --tenants exclude each other")
	case o.tenants != "" && o.profile != "":
		return usagef("onboard", "--profile names one customer: with --tenants, profiles are named after the tenants")
	case o.wait < time.Second:
		return usagef("onboard", "--wait must be at least 1s")
	}
	var flow oauth.Flow
	switch o.flow {
	case "":
	case "app":
		flow = oauth.FlowApp
	case "browser":
		flow = oauth.FlowBrowser
	case "device":
		flow = oauth.FlowDevice
	default:
		return usagef("onboard", "--flow must be app, browser or device, not %q", sanitize.Line(o.flow, 40))
	}
	if o.tenants != "" && flow != "" && flow != oauth.FlowApp {
		return usagef("onboard", "--tenants works with app-only access only: a user sign-in is one customer at a time")
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	vendor, err := pickProfile("onboard", store, o.from)
	if err != nil {
		return err
	}
	eng := a.engine(store)
	if o.tenants != "" {
		return a.onboardBatch(eng, vendor, o)
	}
	req := creds.OnboardRequest{Vendor: vendor, Tenant: o.tenant, Name: o.profile, Flow: flow, Wait: o.wait, PollEvery: o.poll}
	var cd countdown
	req.Events = a.onboardProgress(req.Tenant, true, &cd)
	res, err := eng.Onboard(a.ctx, req)
	cd.end()
	if err != nil {
		return onboardFailure(err)
	}
	fmt.Fprintf(a.stderr, "Consent is in place in %s. Saved profile %q (same app and secret as %q).\n",
		sanitize.Line(o.tenant, 100), res.Profile.Name, vendor.Name)
	fmt.Fprintf(a.stderr, "Try it: m365creds token %s\n", res.Profile.Name)
	return nil
}

// onboardProgress prints the link and message on stdout and the wait on stderr: a countdown
// redrawn in place on a terminal, one line per check elsewhere.
func (a *app) onboardProgress(tenant string, message bool, cd *countdown) func(creds.OnboardEvent) {
	var deadline time.Time
	tenant = sanitize.Line(tenant, 100)
	return func(e creds.OnboardEvent) {
		switch e := e.(type) {
		case creds.ConsentLinkReady:
			deadline = e.Deadline
			if message {
				fmt.Fprintln(a.stdout, e.Link.Message)
			} else {
				fmt.Fprintf(a.stdout, "%s\t%s\n", tenant, e.Link.URL)
			}
			fmt.Fprintf(a.stderr, "Waiting for an administrator of %s to accept (until %s; ctrl+c stops waiting, the link stays valid).\n",
				tenant, deadline.Local().Format("15:04"))
			if cd != nil && a.isTerminal(a.stderr) {
				cd.start(a, tenant, deadline)
			}
		case creds.ConsentPending:
			if !a.isTerminal(a.stderr) {
				left := max(time.Until(deadline), 0).Round(time.Second)
				fmt.Fprintf(a.stderr, "%s: not yet (%s); next check in %s, %s left\n",
					tenant, e.Reason.Title, max(time.Until(e.Next), 0).Round(time.Second), left)
			}
		case creds.ConsentLanded:
			if cd != nil {
				cd.end()
			}
			fmt.Fprintf(a.stderr, "%s: the administrator accepted; checking that it has taken effect …\n", tenant)
		case creds.OnboardSignIn:
			a.onboardSignIn(e.Event)
		}
	}
}

func (a *app) onboardSignIn(e creds.Event) {
	switch e := e.(type) {
	case creds.SignInReady:
		fmt.Fprintf(a.stderr, "A user of the customer signs in now (once the administrator has accepted):\n  %s\n", e.URL)
	case creds.DeviceCodeReady:
		fmt.Fprintf(a.stderr, "A user of the customer opens %s and enters the code %s\n", e.VerificationURI, e.UserCode)
	}
}

// countdown is the one line a terminal shows while onboard waits, redrawn each second.
type countdown struct {
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

func (c *countdown) start(a *app, tenant string, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	c.stop, c.done = stop, done
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			left := max(time.Until(deadline), 0).Round(time.Second)
			fmt.Fprintf(a.stderr, "\r\x1b[2KWaiting for consent in %s: %s left (ctrl+c to stop)", tenant, left)
			select {
			case <-stop:
				fmt.Fprint(a.stderr, "\r\x1b[2K")
				return
			case <-t.C:
			}
		}
	}()
}

// end stops the countdown and waits until its line is cleared.
func (c *countdown) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		close(c.stop)
		<-c.done
		c.stop = nil
	}
}

// readTenants reads one tenant a line; blank lines and # comments are skipped.
func readTenants(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("onboard", "--tenants: %v", err)
	}
	defer f.Close()
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(strings.Fields(line)) != 1 {
			return nil, usagef("onboard", "--tenants: line %d has more than one tenant", n)
		}
		if !seen[strings.ToLower(line)] {
			seen[strings.ToLower(line)] = true
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("onboard", "--tenants: %v", err)
	}
	if len(out) == 0 {
		return nil, usagef("onboard", "--tenants: %s names no tenant", sanitize.Line(path, 200))
	}
	return out, nil
}

// onboardBatch sends one link per tenant and waits for all of them at once, recording each
// in the config directory so that status can list the pending ones.
func (a *app) onboardBatch(eng *creds.Service, vendor keyring.Profile, o *onboardOptions) error {
	tenants, err := readTenants(o.tenants)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Send each administrator the link of their tenant. They will see the permissions of\n")
	fmt.Fprintf(a.stdout, "app %s and press Accept; no password is needed.\n\n", vendor.ClientID)
	var (
		mu       sync.Mutex // the batch file and the output
		wg       sync.WaitGroup
		failures []string
	)
	record := func(p creds.PendingOnboarding) {
		if err := eng.RecordOnboarding(p); err != nil {
			a.warnf("could not record the onboarding of %s: %v", p.Tenant, err)
		}
	}
	names := map[string]int{}
	for _, tenant := range tenants {
		names[creds.CustomerProfileName(tenant)]++
	}
	for _, tenant := range tenants {
		name := creds.CustomerProfileName(tenant)
		if names[name] > 1 && steps.IsGUID(tenant) {
			name = "tenant-" + strings.ToLower(tenant) // two IDs share their start
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			entry := creds.PendingOnboarding{Tenant: tenant, Profile: name, From: vendor.Name, Sent: a.now()}
			progress := a.onboardProgress(tenant, false, nil)
			_, err := eng.Onboard(a.ctx, creds.OnboardRequest{Vendor: vendor, Tenant: tenant, Name: name, Flow: oauth.FlowApp,
				Wait: o.wait, PollEvery: o.poll, NoListener: true,
				Events: func(e creds.OnboardEvent) {
					mu.Lock()
					defer mu.Unlock()
					if r, ok := e.(creds.ConsentLinkReady); ok {
						entry.Link = r.Link.URL
						record(entry)
					}
					if _, ok := e.(creds.ConsentLinkReady); ok || !a.isTerminal(a.stderr) {
						progress(e)
					}
				}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				entry.Failed = oneLine(err.Error())
				if g := explainOnboard(err); g.Title != "" {
					entry.Failed = g.Title + ": " + entry.Failed
				}
				if !errors.Is(err, a.ctx.Err()) || a.ctx.Err() == nil {
					failures = append(failures, sanitize.Line(tenant, 100))
					fmt.Fprintf(a.stderr, "%s: %s\n", sanitize.Line(tenant, 100), entry.Failed)
				}
			} else {
				entry.Completed = a.now()
				fmt.Fprintf(a.stderr, "%s: consent in place; saved profile %q\n", sanitize.Line(tenant, 100), name)
			}
			record(entry)
		}()
	}
	wg.Wait()
	if a.ctx.Err() != nil {
		return a.ctx.Err()
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d tenants have not consented: %s (see above; m365creds status lists them)",
			len(failures), len(tenants), strings.Join(failures, ", "))
	}
	return nil
}

// printPendingOnboardings lists, under status, the tenants whose consent has not arrived.
func (a *app) printPendingOnboardings(store *keyring.Store) {
	list, err := a.engine(store).Onboardings()
	if err != nil {
		a.warnf("%v", err)
		return
	}
	first := true
	for _, o := range list {
		if !o.Completed.IsZero() {
			continue
		}
		if _, err := store.Profile(o.Profile); err == nil {
			continue // onboarded since, by hand or by another run
		}
		if first {
			fmt.Fprintf(a.stdout, "\nPending onboarding (consent link sent, not accepted yet):\n")
			first = false
		}
		state := "waiting since " + o.Sent.Local().Format("2006-01-02 15:04")
		if o.Failed != "" {
			state = o.Failed
		}
		fmt.Fprintf(a.stdout, "  %s → profile %s (from %s): %s\n    %s\n", o.Tenant, o.Profile, o.From, state, o.Link)
	}
}

// onboardFailure words what to do after a failed onboarding: nothing was saved, and the
// consent link stays valid, so the next step is the customer's, then the same command again.
// Declined, wrong-tenant and timed-out waits exit 1, whatever their class.
func onboardFailure(err error) error {
	var ce *creds.Error
	if !errors.As(err, &ce) {
		return err
	}
	code := problemExit(ce.Problem)
	hint := "Nothing was saved."
	switch g := ce.Explain(); {
	case ce.Problem == creds.ProblemTimedOut:
		hint = "Nothing was saved. Once the administrator has accepted, run the same onboard command again: it finds the consent at once."
	case g.Code == 65004:
		code = ExitError
		hint = "The customer's administrator declined the consent; nothing was saved. If that was a mistake, they open the same link again and press Accept."
	case g.Code == 90002:
		hint = "Nothing was saved. Check the customer's tenant: their Directory (tenant) ID is on the Overview page of their Entra admin center, or use their domain (name.onmicrosoft.com)."
	case ce.Problem == creds.ProblemConsent:
		code = ExitError
		hint = "Nothing was saved. When an administrator of the customer's tenant has accepted the link, run onboard again."
	}
	return withCode(code, err, hint)
}

func explainOnboard(err error) oauth.Guidance {
	var ce *creds.Error
	if errors.As(err, &ce) && fromMicrosoft(err) {
		return ce.Explain()
	}
	return oauth.Guidance{}
}

// printSharedApps groups, under status, the profiles that use one app's secret, with what is
// known about the consent in each customer's tenant (from the saved facts only).
func (a *app) printSharedApps(list []keyring.Profile) {
	users := map[string][]keyring.Profile{}
	byName := map[string]keyring.Profile{}
	for _, p := range list {
		byName[p.Name] = p
		if p.SecretFrom != "" && p.SecretFrom != p.Name {
			users[p.SecretFrom] = append(users[p.SecretFrom], p)
		}
	}
	sources := make([]string, 0, len(users))
	for s := range users {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	for i, src := range sources {
		if i == 0 {
			fmt.Fprintf(a.stdout, "\nApps shared by customer profiles (one secret, rotated with the first profile):\n")
		}
		v, ok := byName[src]
		if ok {
			fmt.Fprintf(a.stdout, "  %s  app %s, home tenant %s\n", v.Name, v.ClientID, v.Tenant)
		} else {
			fmt.Fprintf(a.stdout, "  %s  (missing: its customers have no secret)\n", src)
		}
		for _, c := range users[src] {
			consent := "consent not confirmed yet (no token so far)"
			if !c.LastRefresh.IsZero() {
				consent = "consent in place (last token " + c.LastRefresh.Local().Format("2006-01-02 15:04") + ")"
			}
			fmt.Fprintf(a.stdout, "    %-20s %s  %s\n", c.Name, c.Tenant, consent)
		}
	}
}

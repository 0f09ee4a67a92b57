package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/steps"
	"github.com/m365creds/m365creds/tui/launch"
)

// noTerminalHelp is what `m365creds` says when it cannot draw the wizard.
const noTerminalHelp = `For scripts and pipelines, set up without the wizard:
  m365creds setup --no-input --profile NAME --tenant TENANT --client-id ID \
      --preset basic --secret-expires 12m --client-secret-stdin < secret.txt
To try the wizard without an Azure account, run in a terminal: m365creds demo
See m365creds --help for all commands.`

// errNoWizard is what a program built without the wizard says when asked for it.
var errNoWizard = errors.New("this program has no wizard: run m365creds")

// runHome is `m365creds` without arguments: the wizard, or the home screen once profiles exist.
func (a *app) runHome(port int) error {
	if !a.interactive() {
		return needTerminal("The m365creds wizard", noTerminalHelp)
	}
	store, err := a.openStore("")
	if err != nil {
		return err
	}
	list, err := store.List()
	if err != nil {
		return err
	}
	d := steps.NewDraft()
	if port > 0 {
		d.Port = port
	}
	res, err := a.runTUI(launch.Options{Mode: steps.ModeNew, Draft: d, Engine: a.engine(store), Profiles: list})
	if err != nil {
		return err
	}
	if len(list) == 0 {
		// No home screen: this was the wizard, and leaving it before saving is not success.
		return a.wizardEnd(store, res, time.Time{})
	}
	return a.homeAction(store, res)
}

// homeAction reports how the home screen ended. Verify, rotate, re-consent, delete and new
// all run inside it and show their results there, so leaving it is a normal end (exit 0);
// a run that saved nothing and left says nothing more.
func (a *app) homeAction(store *keyring.Store, res launch.Result) error {
	if res.Action != "" {
		return fmt.Errorf("unknown home screen action %q", res.Action)
	}
	a.wizardDone(store, res, time.Time{})
	return nil
}

// wizardEnd reports a finished wizard; leaving it before saving is exit 1.
func (a *app) wizardEnd(store *keyring.Store, res launch.Result, oldSecretExpires time.Time) error {
	if res.Saved == nil {
		return withCode(ExitError, errNotSaved, "Nothing was changed.")
	}
	a.wizardDone(store, res, oldSecretExpires)
	return nil
}

func (a *app) wizardDone(store *keyring.Store, res launch.Result, oldSecretExpires time.Time) {
	if res.Saved == nil {
		return
	}
	if res.Action == "rotate" {
		a.rotatedNotice(*res.Saved, oldSecretExpires)
		return
	}
	a.savedSummary(*res.Saved, store.BackendName())
}

// runTUI runs the full-screen wizard on the terminal. It draws on stdout, which the caller
// has checked is a terminal; nothing else is written there.
func (a *app) runTUI(opts launch.Options) (launch.Result, error) {
	if opts.Now == nil {
		opts.Now = a.env.Now
	}
	opts.NoColor = a.env.Getenv("NO_COLOR") != ""
	if list := a.endpoints.List(); len(list) > 0 && opts.Demo == nil {
		// The warning printed before the wizard is hidden behind it: repeat it on every screen.
		opts.Banner = "Other Microsoft endpoints: " + strings.Join(list, " ")
	}
	if opts.Mode == steps.ModeNew && opts.Engine != nil && opts.Engine.Store != nil && opts.Resume == nil {
		// An unreadable draft is no reason not to start: the wizard then starts afresh.
		opts.Resume, _ = opts.Engine.LoadDraft(a.ctx)
	}
	if a.env.Wizard.Run == nil {
		return launch.Result{}, errNoWizard
	}
	return a.env.Wizard.Run(a.ctx, opts, a.stdin, a.stdout)
}

// setupWizard is setup without --no-input: the wizard, pre-filled from the flags.
func (a *app) setupWizard(o *setupOptions, d steps.Draft) error {
	if !a.interactive() {
		return needTerminal("setup without --no-input", "Add --no-input to take every value from flags (see m365creds setup --help).")
	}
	if o.secretStdin {
		raw, err := a.readSecret("Client secret (the Value column; typing is hidden): ")
		if err != nil {
			return err
		}
		d.ClientSecret = steps.CheckSecret(raw).Value
	}
	// --register auto starts the wizard on the automatic path, with its sign-in app.
	if o.register == "auto" {
		d.Path = steps.PathGraph
	}
	if o.appName != "" {
		d.AppName = o.appName
	}
	bootstrap := ""
	if o.bootstrapClientID != "" {
		id, err := steps.CheckClientID(o.bootstrapClientID)
		if err != nil {
			return usagef("setup", "--bootstrap-client-id: %s", err)
		}
		bootstrap = id
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	a.storeWarning(o.store)
	res, err := a.runTUI(launch.Options{Mode: steps.ModeNew, Draft: d, Engine: a.engine(store), NoBrowser: o.noBrowser, BootstrapClientID: bootstrap})
	if err != nil {
		return err
	}
	return a.wizardEnd(store, res, time.Time{})
}

// rotateWizard is rotate without --no-input: the wizard at the secret step.
func (a *app) rotateWizard(store *keyring.Store, p keyring.Profile, newSecret string, expires time.Time) error {
	d, err := a.engine(store).WizardDraft(a.ctx, p, steps.ModeRotate)
	if err != nil {
		return err
	}
	if newSecret != "" {
		d.ClientSecret = steps.CheckSecret(newSecret).Value
	}
	if !expires.IsZero() {
		d.SecretExpires = expires
	}
	res, err := a.runTUI(launch.Options{Mode: steps.ModeRotate, Draft: d, Engine: a.engine(store)})
	if err != nil {
		return err
	}
	if res.Saved != nil {
		res.Action = "rotate"
	}
	return a.wizardEnd(store, res, p.SecretExpires)
}

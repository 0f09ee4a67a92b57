// Package tui draws the m365creds wizard: one screen per step of the steps package, a home
// screen listing saved profiles, and the keys, styles and help they share.
//
// Only the root Model implements tea.Model. It handles global keys (ctrl+c, ?), window size
// and background colour, then hands each message to the active screen alone. A screen
// changes its own state and the draft, and asks for navigation through shared.next, back and
// jumpTo; the root carries that out (validating with steps.Wizard) before the next message.
// All network and keychain work runs in tea.Cmds that take copies and a context created in
// Update, and reports back as typed messages tagged with the attempt they belong to; Update
// and View only move state and draw it.
//
// The home screen ends the program with a Result naming the action (rotate, reconsent,
// verify, delete) and the profile; the command line carries it out, starting the wizard again
// in the matching mode for rotate and reconsent. "New" starts the wizard in place.
package tui

import (
	"context"
	"errors"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/steps"
)

// Options set up one run of the wizard.
type Options struct {
	Mode  steps.Mode
	Draft steps.Draft // pre-filled from flags, or rebuilt from a saved profile
	// Engine does the work: consent, save, rotate. Its Store is where profiles are kept.
	Engine    *creds.Service
	Demo      *Demo             // non-nil in `m365creds demo`
	Profiles  []keyring.Profile // non-empty: start on the home screen
	Now       func() time.Time
	NoBrowser bool // never launch a browser; show the address instead
	NoColor   bool // NO_COLOR: bold and reverse only
	// ConsentTimeout bounds a sign-in; zero means creds.DefaultConsentTimeout.
	ConsentTimeout time.Duration
	// BootstrapClientID is the public client the automatic registration signs in to; "" is
	// Microsoft Graph Command Line Tools.
	BootstrapClientID string
	// PropagationBudget bounds the wait for a new app to work; zero is the engine's default.
	PropagationBudget time.Duration
	// Resume, when set, is a draft an earlier run kept: the wizard first asks whether to
	// resume it or start over.
	Resume *creds.Draft
}

// Demo describes the simulated portal of `m365creds demo`.
type Demo struct {
	ClientID, TenantID, SecretValue, SecretID string
	// SimulateBrowser does what a consenting user's browser would do with the sign-in address,
	// so the demo finishes on machines without a browser.
	SimulateBrowser func(url string) error
	// NoKeychain, when set, is why the keychain failed its probe: the demo then keeps its
	// profile in memory, and the Save screen says so.
	NoKeychain error
}

// Result is what the run ended with.
type Result struct {
	Saved   *keyring.Profile // the profile saved, if any
	Action  string           // from the home screen: "", "new", "rotate", "reconsent", "verify", "delete"
	Profile string           // the profile the action is for
}

// Run runs the wizard full-screen on in/out until it finishes or the user quits. ctrl+c
// returns tea.ErrInterrupted, and nothing is saved.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) (Result, error) {
	m := New(opts)
	final, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)).Run()
	if fm, ok := final.(Model); ok {
		fm.stopAll()
		if err == nil {
			return fm.s.result, nil
		}
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	return Result{}, err
}

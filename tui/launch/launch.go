// Package launch is what starting the wizard takes and gives back: its options, the demo's
// simulated tenant and the result. It imports no Bubble Tea, so the command line can name these
// types without linking the wizard, and a program without the wizard (m365creds-token) starts
// without initialising it.
package launch

import (
	"errors"
	"time"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/steps"
)

// ErrInterrupted is how a wizard left with ctrl+c ends: nothing was saved.
var ErrInterrupted = errors.New("interrupted")

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
	// Banner labels every screen, like the demo's: other Microsoft endpoints are in use.
	Banner string
	// ConsentTimeout bounds a sign-in; zero means creds.DefaultConsentTimeout.
	ConsentTimeout time.Duration
	// OnboardWait bounds the wait for a customer's consent (zero: creds.DefaultOnboardWait);
	// OnboardPoll is the first interval between checks (zero: the engine's).
	OnboardWait, OnboardPoll time.Duration
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
	Action  string           // "" from the wizard; the command line sets "rotate" for its own report
	Profile string           // the profile the action is for
}

// DemoTenant is the simulated Microsoft that `m365creds demo` signs in to, with the app
// registration its portal shows.
type DemoTenant struct {
	BaseURL                                   string // sign-in and Graph endpoints, both
	ClientID, TenantID, SecretValue, SecretID string
	Close                                     func()
}

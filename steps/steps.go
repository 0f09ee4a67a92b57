// Package steps is the wizard's domain: which steps there are, in which order for each mode,
// what each step must hold before the user may go on, and the draft profile being collected.
// It knows nothing about terminals; the tui package draws it and the cli package drives it.
package steps

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/m365creds/m365creds/oauth"
)

// ID names a step of the wizard.
type ID int

// The steps, in the order a new profile walks them.
const (
	Account ID = iota
	Register
	IDs
	Secret
	Permissions
	// Create registers the app through Microsoft Graph (PathGraph), after the permissions are
	// chosen, since the registration lists them.
	Create
	Consent
	Save
	Done
)

var idNames = [...]string{"Account", "Register", "IDs", "Secret", "Permissions", "Create", "Consent", "Save", "Done"}

// String returns the step's name as the breadcrumb shows it.
func (id ID) String() string {
	if id < 0 || int(id) >= len(idNames) {
		return fmt.Sprintf("ID(%d)", int(id))
	}
	return idNames[id]
}

// Mode is why the wizard runs.
type Mode int

const (
	// ModeNew creates a profile from nothing.
	ModeNew Mode = iota
	// ModeRotate replaces the client secret of a working profile.
	ModeRotate
	// ModeReconsent changes the permissions of a working profile and signs in again.
	ModeReconsent
)

// Path is how the app registration comes to exist.
type Path int

const (
	// PathPortal walks the user through registering the app in the portal by hand.
	PathPortal Path = iota
	// PathGraph creates the registration through Microsoft Graph, signed in to a Microsoft
	// public client (Microsoft Graph Command Line Tools).
	PathGraph
)

// String is the path's name as a kept draft holds it.
func (p Path) String() string {
	if p == PathGraph {
		return "graph"
	}
	return "portal"
}

// DefaultPort is the loopback port whose redirect URI the wizard asks people to register.
const DefaultPort = 53365

// DefaultProfile is the profile name used when the user gives none.
const DefaultProfile = "default"

// Draft is the profile being collected. It lives in memory only until the Save step.
type Draft struct {
	Profile  string
	Audience oauth.Audience
	Tenant   string // what the user typed on the Account step: empty, a GUID, a domain or a well-known name
	Cloud    oauth.Cloud
	AppName  string
	Port     int
	// Path is how the app gets registered: by hand in the portal, or through Graph.
	Path Path

	ClientID      string
	TenantID      string // Directory (tenant) ID from the Overview page
	ClientSecret  string
	SecretExpires time.Time
	// AppObjectID and SecretKeyID are known when the app was registered through Graph.
	AppObjectID, SecretKeyID string
	// SecretFrom names the vendor profile whose secret a customer profile shares.
	SecretFrom string
	// ReplacedSecret is the secret a rotation replaces (in memory only), so the wizard can
	// refuse it: "rotating" to the same secret and then deleting the old one leaves none.
	ReplacedSecret string

	Flow oauth.Flow
	// NoSecret makes the browser or paste flow a public client: a Mobile and desktop redirect
	// URI, PKCE and no client secret at all (--credential none). The device flow is always one.
	NoSecret bool
	Scopes   []string
	// AppRoles are the application permissions (by name) an app-only app registered through
	// Graph asks for.
	AppRoles []string

	// Set by the Consent step.
	Token *oauth.Token
	User  *oauth.User

	// Saved is set once the profile is in the keychain.
	Saved bool
}

// NewDraft returns a draft with the defaults a first-time user starts from.
func NewDraft() Draft {
	return Draft{
		Profile:  DefaultProfile,
		Audience: oauth.SingleTenant,
		Cloud:    oauth.Global,
		Port:     DefaultPort,
		Flow:     oauth.FlowBrowser,
		Scopes:   []string{"User.Read", "offline_access"},
	}
}

// Authority is the tenant segment sign-in goes to: what the user typed, else the directory ID
// for single-tenant apps (they cannot use the shared endpoints), else the audience's default.
func (d Draft) Authority() string {
	if d.Tenant != "" {
		return d.Tenant
	}
	if d.TenantID != "" && (d.Audience == oauth.SingleTenant || d.Flow == oauth.FlowApp) {
		return d.TenantID
	}
	return d.Audience.Authority("")
}

// RedirectURI is the loopback address to register under the Web platform.
func (d Draft) RedirectURI() string {
	port := d.Port
	if port == 0 {
		port = DefaultPort
	}
	return d.LoopbackRedirect(port)
}

// NeedsSecret reports whether the flow authenticates the app with a client secret.
func (d Draft) NeedsSecret() bool { return d.Kind() != oauth.KindPublic }

// Kind is the credential kind the draft produces.
func (d Draft) Kind() oauth.Kind {
	if d.NoSecret && d.Flow != oauth.FlowApp {
		return oauth.KindPublic
	}
	return d.Flow.Kind()
}

// LoopbackRedirect is the redirect URI a sign-in on port sends: a Web registration is
// http://localhost:53365/, a Mobile and desktop one http://localhost (Entra ignores the port of
// localhost redirect URIs; the path must match as registered).
func (d Draft) LoopbackRedirect(port int) string {
	if d.Kind() == oauth.KindPublic {
		return fmt.Sprintf("http://localhost:%d", port)
	}
	return fmt.Sprintf("http://localhost:%d/", port)
}

// App is the draft as the oauth package needs it.
func (d Draft) App() oauth.App {
	app := oauth.App{
		Cloud:       d.Cloud,
		Tenant:      d.Authority(),
		ClientID:    d.ClientID,
		Kind:        d.Kind(),
		RedirectURI: d.RedirectURI(),
	}
	if d.NeedsSecret() {
		app.ClientSecret = d.ClientSecret
	}
	return app
}

// SuggestedAppName is the name to type in the portal's registration form.
func (d Draft) SuggestedAppName() string {
	if d.AppName != "" {
		return d.AppName
	}
	return "m365creds " + d.Profile
}

// Wizard walks a Draft through the steps of one Mode.
type Wizard struct {
	Draft   Draft
	Mode    Mode
	current ID
}

// New starts a wizard at the first step of the mode.
func New(mode Mode, d Draft) *Wizard {
	w := &Wizard{Draft: d, Mode: mode}
	w.current = w.Steps()[0]
	return w
}

// Steps lists the steps of this run, in order. It depends on the mode and on the flow: a
// device-code profile is a public client and has no secret to enter.
func (w *Wizard) Steps() []ID {
	var list []ID
	switch w.Mode {
	case ModeRotate:
		list = []ID{Secret, Consent, Save, Done}
	case ModeReconsent:
		list = []ID{Permissions, Consent, Save, Done}
	case ModeNew:
		list = []ID{Account, Register, IDs, Secret, Permissions, Consent, Save, Done}
		if w.Draft.Path == PathGraph {
			// Graph creates the app, its IDs and its secret: no portal, nothing to copy.
			list = []ID{Account, Permissions, Create, Consent, Save, Done}
		}
	}
	if !w.Draft.NeedsSecret() {
		list = slices.DeleteFunc(list, func(id ID) bool { return id == Secret })
	}
	// Application permissions are granted in the portal by an administrator and requested as
	// ".default": there is no delegated permission table to fill in.
	if w.Draft.Flow == oauth.FlowApp {
		list = slices.DeleteFunc(list, func(id ID) bool { return id == Permissions })
	}
	return list
}

// Current is the step on screen.
func (w *Wizard) Current() ID { return w.current }

// Index is the position of the current step in Steps, from 0.
func (w *Wizard) Index() int { return slices.Index(w.Steps(), w.current) }

// Next checks that the current step is complete and moves to the following one. The error
// says what is missing; the wizard stays where it is.
func (w *Wizard) Next() error {
	if w.current == Done {
		return errors.New("the wizard is finished")
	}
	if err := w.Validate(w.current); err != nil {
		return err
	}
	list := w.Steps()
	i := slices.Index(list, w.current)
	w.current = list[i+1]
	return nil
}

// Back moves to the previous step, keeping everything typed so far. It reports false on the
// first step and after saving, where there is nothing to go back to.
func (w *Wizard) Back() bool {
	list := w.Steps()
	i := slices.Index(list, w.current)
	if i <= 0 || w.current == Done {
		return false
	}
	w.moveTo(list[i-1])
	return true
}

// JumpTo goes back to an earlier step of this run, for example the one an error points at.
func (w *Wizard) JumpTo(id ID) error {
	list := w.Steps()
	to, from := slices.Index(list, id), slices.Index(list, w.current)
	switch {
	case to < 0:
		return fmt.Errorf("the %s step is not part of this run", id)
	case w.current == Done:
		return errors.New("the profile is already saved")
	case to > from:
		return fmt.Errorf("cannot skip ahead to %s: finish %s first", id, w.current)
	}
	w.moveTo(id)
	return nil
}

// moveTo changes step. Leaving Consent (or anything before it) backwards drops the tokens:
// whatever the user changes next would make them stale.
func (w *Wizard) moveTo(id ID) {
	if id <= Consent {
		w.Draft.Token, w.Draft.User = nil, nil
	}
	w.current = id
}

// UsePortal continues a run whose automatic registration was refused with the portal walk,
// at the Register step, keeping everything chosen so far.
func (w *Wizard) UsePortal() {
	w.Draft.Path = PathPortal
	w.moveTo(Register)
}

// StepFor maps the step an oauth error points at to a wizard step.
func StepFor(s oauth.Step) ID {
	switch s {
	case oauth.StepAccount:
		return Account
	case oauth.StepRegister:
		return Register
	case oauth.StepIDs:
		return IDs
	case oauth.StepSecret:
		return Secret
	case oauth.StepPermissions:
		return Permissions
	default:
		return Consent
	}
}

// BackTarget is where the wizard should go after an error that points at step s: that step
// when this run has it, else the consent step (a rotation has no Account step, for example).
func (w *Wizard) BackTarget(s oauth.Step) ID {
	id := StepFor(s)
	if slices.Contains(w.Steps(), id) {
		return id
	}
	return Consent
}

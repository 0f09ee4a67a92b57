package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

var (
	audiences = []oauth.Audience{oauth.SingleTenant, oauth.MultiTenant, oauth.MultiTenantAndPersonal, oauth.PersonalOnly}
	clouds    = []oauth.Cloud{oauth.Global, oauth.USGov, oauth.USGovDoD, oauth.China}
	kinds     = []oauth.Flow{oauth.FlowBrowser, oauth.FlowDevice, oauth.FlowApp}
)

// cloudLabels are short enough for the picker at 80 columns; the line under it says more.
var cloudLabels = map[oauth.Cloud]string{
	oauth.Global:   "Global",
	oauth.USGov:    "US Government GCC High",
	oauth.USGovDoD: "US Government DoD",
	oauth.China:    "China (21Vianet)",
}

var audienceLabels = []string{"This organisation only", "Any organisation", "Any organisation and personal accounts", "Personal Microsoft accounts only"}

var kindLabels = []string{
	"web app + secret (browser or paste sign-in)",
	"public client (device code, no secret)",
	"application permissions (no user)",
	"public client, no secret (browser sign-in)",
}

var kindExplain = []string{
	"Sign in once in a browser (or paste the address it ends on); scripts then use the secret and a refresh token.",
	"No secret: sign in with a code on any device. The portal must allow public client flows.",
	"No user: the app acts on its own with a secret; an administrator grants the permissions.",
	"No secret to store or expire: sign in once in a browser (PKCE); scripts then use a refresh token.",
}

// noSecretKind is the credential choice of a public client that signs in through the browser.
const noSecretKind = 3

// paths are the answers to the first question: who registers the app.
var (
	paths      = []steps.Path{steps.PathPortal, steps.PathGraph}
	pathLabels = []string{"Walk me through the portal", "Create the app registration for me"}
)

// pathExplain says what each answer means; for an app of personal accounts only, that the
// automatic path cannot work and what to do.
func pathExplain(c *shared) func(int) string {
	return func(i int) string {
		if paths[i] == steps.PathPortal {
			return "You register it in the Azure portal, click by click."
		}
		if c.wiz.Draft.Audience == oauth.PersonalOnly {
			return "Personal accounts cannot create app registrations: use the account of a free Microsoft Entra tenant, or the portal."
		}
		return "m365creds signs you in to Microsoft Graph Command Line Tools and creates it for you."
	}
}

type accountScreen struct{ form form }

func newAccountScreen(c *shared) *accountScreen {
	d := c.wiz.Draft
	profile := newInput("e.g. contoso", 30)
	profile.SetValue(d.Profile)
	tenant := newInput("e.g. contoso.onmicrosoft.com, or empty", 50)
	tenant.SetValue(d.Tenant)
	s := &accountScreen{form: form{fields: []*field{
		{name: "register", label: "App registration", options: pathLabels,
			choice: max(0, slices.Index(paths, d.Path)), explain: pathExplain(c)},
		{name: "profile", label: "Profile name", input: profile, hint: "Letters, digits, '-', '_' or '.'. Scripts ask for tokens by this name."},
		{name: "audience", label: "Who signs in", options: audienceLabels,
			choice: max(0, slices.Index(audiences, d.Audience)),
			explain: func(i int) string {
				return audiences[i].Explain() + " Portal: \"" + audiences[i].PortalOption() + "\"."
			}},
		{name: "tenant", label: "Tenant", input: tenant, hint: "Optional: a domain or the Directory (tenant) ID. If empty, step 3 asks for the Directory ID, which single-tenant apps need."},
		{name: "cloud", label: "Cloud", options: mapStrings(clouds, func(c oauth.Cloud) string { return cloudLabels[c] }),
			choice:  max(0, slices.Index(clouds, d.Cloud)),
			explain: func(i int) string { return clouds[i].Label() }},
		{name: "flow", label: "Credential", options: kindLabels, choice: credentialIndex(d),
			explain: func(i int) string { return kindExplain[i] }},
	}}}
	return s
}

// credentialIndex is the Credential choice that shows the draft's flow and secret.
func credentialIndex(d steps.Draft) int {
	if d.NoSecret && d.Flow.Kind() == oauth.KindWeb {
		return noSecretKind
	}
	return kindIndex(d.Flow)
}

func kindIndex(f oauth.Flow) int {
	switch f.Kind() {
	case oauth.KindPublic:
		return 1
	case oauth.KindApp:
		return 2
	case oauth.KindWeb:
		return 0
	}
	return 0
}

func mapStrings[T any](in []T, f func(T) string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// enter shows the choices other steps may have changed: the portal walk after a refused
// automatic registration, no secret after a tenant refused one.
func (s *accountScreen) enter(c *shared) tea.Cmd {
	d := c.wiz.Draft
	s.form.fields[0].choice = max(0, slices.Index(paths, d.Path))
	s.form.fields[5].choice = credentialIndex(d)
	return s.form.focusOn(s.form.focus)
}

// typing is false: no profile name or tenant contains '?', so it can open the help.
func (s *accountScreen) typing() bool { return false }

func (s *accountScreen) cursorPos(c *shared) *tea.Cursor { return s.form.cursor() }

func (s *accountScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	cmd, forward, backward := s.form.update(c, msg)
	s.store(c)
	switch {
	case forward:
		return c.next()
	case backward:
		return nil // the first step has nothing behind it
	}
	return cmd
}

// refused puts the cursor on the field a refused Next complained about.
func (s *accountScreen) refused(fe *steps.FieldError) tea.Cmd { return s.form.focusField(fe.Field) }

// store copies the form into the draft on every change, so going back and forth keeps it.
func (s *accountScreen) store(c *shared) {
	f := s.form.fields
	d := &c.wiz.Draft
	d.Path = paths[f[0].choice]
	d.Profile = f[1].input.Value()
	d.Audience = audiences[f[2].choice]
	d.Tenant = f[3].input.Value()
	d.Cloud = clouds[f[4].choice]
	choice := f[5].choice
	want := oauth.FlowBrowser
	if choice != noSecretKind {
		want = kinds[choice]
	}
	if want.Kind() != d.Flow.Kind() {
		d.Flow = want // browser or paste: the consent step leads with paste on a remote shell
	}
	d.NoSecret = choice == noSecretKind
}

func (s *accountScreen) view(c *shared) string {
	intro := c.st.Muted.Render("A profile is one app registration, one tenant and one signed-in account.") + "\n\n"
	s.form.top = 2
	return intro + s.form.view(c, c.errorFor)
}

func (s *accountScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	return []key.Binding{k.Next, k.NextField, k.Left}
}

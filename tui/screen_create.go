package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// The Create step registers the app through Microsoft Graph: it says which Microsoft app the
// user signs in to and why before anything opens, then shows each Graph step as it happens
// and the wait for Entra to know the new app. A refusal continues with the portal walk.
type createState int

const (
	crIntro       createState = iota // which app, why, the admin consent toggle; enter starts
	crSigningIn                      // the bootstrap sign-in is under way
	crWorking                        // a Graph step is under way
	crPropagating                    // waiting for Entra to know the new app and secret
	crFailed                         // Graph or the sign-in refused; the portal walk is next
	crCreated                        // the app exists (back from Consent): enter goes on
)

// secretLifetimes are the lifetimes the portal offers for a client secret, in days.
var secretLifetimes = []int{90, 180, 365, 545, 730}

// defaultLifetime is the portal's recommended 180 days.
const defaultLifetime = 1

type createScreen struct {
	state    createState
	attempt  int
	cancel   context.CancelFunc
	grant    bool // grant admin consent for the chosen permissions
	lifetime int  // index into secretLifetimes
	signIn   *creds.SignInReady
	dc       *creds.DeviceCodeReady
	pasted   chan string
	stepsRun []string // Graph steps finished
	current  string   // the Graph step under way
	prop     *creds.Propagating
	notes    []string
	failErr  error
	spin     busySpinner
}

// Messages of the Create step, tagged with the attempt they belong to.
type (
	createEventMsg struct {
		attempt int
		ev      creds.Event
		events  <-chan creds.Event
	}
	createDoneMsg struct {
		attempt int
		reg     creds.Registration
		err     error
	}
	createTickMsg struct{ attempt int }
	// usePortalMsg asks the root to continue with the portal walk.
	usePortalMsg struct{}
)

func newCreateScreen() *createScreen {
	return &createScreen{lifetime: defaultLifetime, spin: newBusySpinner()}
}

// bootstrapID is the public client the automatic path signs in to.
func bootstrapID(c *shared) string {
	if c.opts.BootstrapClientID != "" {
		return c.opts.BootstrapClientID
	}
	return creds.GraphCLIClientID
}

func (s *createScreen) typing() bool { return false }

func (s *createScreen) busy() bool {
	return s.state == crSigningIn || s.state == crWorking || s.state == crPropagating
}

func (s *createScreen) stop() {
	s.attempt++
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

func (s *createScreen) enter(c *shared) tea.Cmd {
	s.stop()
	s.signIn, s.dc, s.prop, s.stepsRun, s.current, s.notes, s.failErr = nil, nil, nil, nil, "", nil, nil
	s.state = crIntro
	d := c.wiz.Draft
	if d.ClientID != "" && d.AppObjectID != "" {
		s.state = crCreated // back from Consent: the app exists already
	}
	if !d.SecretExpires.IsZero() {
		days := steps.DaysUntil(c.now(), d.SecretExpires)
		for i, n := range secretLifetimes {
			if n <= days+1 {
				s.lifetime = i
			}
		}
	}
	return nil
}

func (s *createScreen) leave(*shared) { s.stop() }

// start signs in to the bootstrap app and registers the app, in the background.
func (s *createScreen) start(c *shared) tea.Cmd {
	s.stop()
	ctx, cancel := context.WithCancel(c.ctx)
	s.cancel = cancel
	s.state, s.signIn, s.dc, s.prop, s.stepsRun, s.current, s.notes, s.failErr = crSigningIn, nil, nil, nil, nil, "", nil, nil
	d := c.wiz.Draft
	if d.NeedsSecret() {
		d.SecretExpires = c.now().AddDate(0, 0, secretLifetimes[s.lifetime])
	}
	s.pasted = make(chan string, 4)
	events := make(chan creds.Event)
	req := creds.RegisterRequest{Draft: d, BootstrapClientID: c.opts.BootstrapClientID, GrantAdminConsent: s.grant,
		NoBrowser: c.opts.NoBrowser, Pasted: s.pasted, PropagationBudget: c.opts.PropagationBudget}
	engine, attempt := c.opts.Engine, s.attempt
	run := func() tea.Msg {
		defer close(events)
		req.Events = sendUntilDone(ctx, events)
		reg, err := engine.Register(ctx, req)
		return createDoneMsg{attempt, reg, err}
	}
	return tea.Batch(run, listenCreate(attempt, events))
}

func listenCreate(attempt int, events <-chan creds.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			return nil
		}
		return createEventMsg{attempt, ev, events}
	}
}

func createTick(attempt int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return createTickMsg{attempt} })
}

func (s *createScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	return s.spin.update(msg, s.busy, func() tea.Cmd { return s.handle(c, msg) })
}

func (s *createScreen) handle(c *shared, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case createEventMsg:
		if msg.attempt != s.attempt {
			return nil
		}
		return tea.Batch(s.event(c, msg.ev), listenCreate(msg.attempt, msg.events))
	case createDoneMsg:
		if msg.attempt != s.attempt || errors.Is(msg.err, context.Canceled) {
			return nil
		}
		return s.done(c, msg.reg, msg.err)
	case createTickMsg:
		if msg.attempt == s.attempt && s.busy() {
			return createTick(s.attempt) // redraws the countdowns
		}
	case simulatedMsg:
		if msg.attempt == s.attempt && msg.err != nil {
			s.notes = append(s.notes, "The simulated browser failed: "+msg.err.Error())
		}
	case tea.PasteMsg:
		if s.state == crSigningIn && s.signIn != nil {
			if _, err := oauth.ParseRedirect(msg.Content); err != nil {
				s.notes = []string{"That is not the address the browser ended on: " + err.Error()}
				return nil
			}
			select {
			case s.pasted <- msg.Content:
				s.notes = nil
			default:
			}
		}
	case tea.KeyPressMsg:
		return s.key(c, msg)
	}
	return nil
}

func (s *createScreen) event(c *shared, ev creds.Event) tea.Cmd {
	switch ev := ev.(type) {
	case creds.SignInReady:
		s.signIn = &ev
		cmds := []tea.Cmd{createTick(s.attempt)}
		if ev.OpenErr != nil {
			notes, simulate := browserNotOpened(c, s.attempt, ev.OpenErr, ev.URL)
			s.notes = append(s.notes, notes...)
			cmds = append(cmds, simulate)
		}
		return tea.Batch(cmds...)
	case creds.PasteRejected:
		s.notes = []string{"That is not the address the browser ended on: " + ev.Err.Error()}
	case creds.DeviceCodeReady:
		s.dc = &ev
		return createTick(s.attempt)
	case creds.Registering:
		if s.current != "" {
			s.stepsRun = append(s.stepsRun, s.current)
		}
		s.state, s.current, s.signIn, s.dc, s.notes = crWorking, ev.Step, nil, nil, nil
	case creds.Propagating:
		if s.current != "" {
			s.stepsRun = append(s.stepsRun, s.current)
			s.current = ""
		}
		s.state, s.prop = crPropagating, &ev
		return createTick(s.attempt)
	}
	return nil
}

// done takes the new app into the draft and goes on to Consent, or shows why Graph refused.
func (s *createScreen) done(c *shared, reg creds.Registration, err error) tea.Cmd {
	s.stop()
	if err != nil {
		s.state, s.failErr = crFailed, err
		return nil
	}
	d := reg.Draft
	c.wiz.Draft = d
	note := fmt.Sprintf("Created the app registration %q (client ID %s).", d.SuggestedAppName(), d.ClientID)
	switch {
	case reg.AdminConsented:
		note += " Admin consent is granted for the chosen permissions."
	case reg.AdminConsentErr != nil:
		note += " Admin consent was not granted: " + firstLine(reg.AdminConsentErr.Error())
	}
	c.carry = note
	return c.next()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(sanitize.Line(s, 300), "\n")
	return s
}

// refusal is what the failure says in one sentence, and whether switching to no secret helps.
func (s *createScreen) refusal(c *shared) (sentence string, noSecretHelps bool) {
	err := s.failErr
	name := bootstrapName(c)
	switch {
	case errors.Is(err, oauth.ErrRegistrationDenied):
		return "Your account may not register applications in this tenant (an administrator has turned off \"Users can register applications\").", false
	case errors.Is(err, oauth.ErrSecretsForbidden):
		return fmt.Sprintf("The tenant's app management policy does not allow client secrets, so the app %q was created without one.", c.wiz.Draft.SuggestedAppName()), true
	case errors.Is(err, oauth.ErrSecretLifetime):
		return fmt.Sprintf("The tenant's app management policy allows no client secret that lasts %d days, so the app %q was created without one.", secretLifetimes[s.lifetime], c.wiz.Draft.SuggestedAppName()), false
	case s.bootstrapNeedsAdmin():
		return fmt.Sprintf("Signing in to %s needs an administrator's approval in this tenant first.", name), false
	case creds.ProblemOf(err) == creds.ProblemAdminRequired:
		return "Microsoft Graph answered that an administrator is needed for this.", false
	}
	return "Creating the app registration failed: " + firstLine(err.Error()), false
}

// bootstrapNeedsAdmin: the sign-in to the bootstrap app itself needs an administrator, who can
// approve it for the organisation at BootstrapAdminConsentURL.
func (s *createScreen) bootstrapNeedsAdmin() bool {
	return creds.ProblemOf(s.failErr) == creds.ProblemAdminRequired && !errors.Is(s.failErr, oauth.ErrAdminRequired)
}

func (s *createScreen) adminLink(c *shared) string {
	return c.opts.Engine.BootstrapAdminConsentURL(c.wiz.Draft, c.opts.BootstrapClientID, s.grant)
}

func bootstrapName(c *shared) string {
	if id := bootstrapID(c); id != creds.GraphCLIClientID {
		return "your organisation's sign-in app " + id
	}
	return "Microsoft Graph Command Line Tools"
}

func (s *createScreen) key(c *shared, km tea.KeyPressMsg) tea.Cmd {
	k := c.keys
	d := &c.wiz.Draft
	if key.Matches(km, k.Back) {
		s.stop()
		return c.back()
	}
	switch s.state {
	case crIntro:
		switch {
		case key.Matches(km, k.Next):
			return s.start(c)
		case key.Matches(km, k.Toggle):
			s.grant = !s.grant
		case key.Matches(km, k.Right) && d.NeedsSecret():
			s.lifetime = (s.lifetime + 1) % len(secretLifetimes)
		case key.Matches(km, k.Left) && d.NeedsSecret():
			s.lifetime = (s.lifetime + len(secretLifetimes) - 1) % len(secretLifetimes)
		}
	case crSigningIn:
		switch {
		case key.Matches(km, k.Open) && s.signIn != nil:
			return openCmd(c, s.signIn.URL)
		case key.Matches(km, k.Open) && s.dc != nil:
			return openCmd(c, s.dc.VerificationURI)
		case key.Matches(km, k.Simulate) && s.signIn != nil && c.opts.Demo != nil && c.opts.Demo.SimulateBrowser != nil:
			return simulateCmd(s.attempt, c.opts.Demo.SimulateBrowser, s.signIn.URL)
		}
	case crFailed:
		_, noSecretHelps := s.refusal(c)
		switch {
		case key.Matches(km, k.Next):
			c.nav = usePortalMsg{}
		case key.Matches(km, k.Retry): // back to the choices: a shorter secret, no admin consent
			s.state, s.failErr = crIntro, nil
		case key.Matches(km, noSecretKey) && noSecretHelps:
			d.NoSecret, d.SecretExpires = true, time.Time{}
			return s.start(c)
		}
	case crCreated:
		if key.Matches(km, k.Next) {
			return c.next()
		}
	case crWorking, crPropagating:
	}
	return nil
}

// noSecretKey switches a registration refused for its secret to a public client.
var noSecretKey = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "no secret, try again"))

// links are the addresses the root's copy key offers.
func (s *createScreen) links(c *shared) []namedLink {
	switch {
	case s.state == crSigningIn && s.signIn != nil:
		return []namedLink{{"the sign-in address", s.signIn.URL}}
	case s.state == crFailed && s.bootstrapNeedsAdmin():
		return []namedLink{{"the admin consent link", s.adminLink(c)}}
	}
	return nil
}

func (s *createScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	switch s.state {
	case crIntro:
		b := []key.Binding{relabel(k.Next, "sign in and create"), relabel(k.Toggle, "admin consent")}
		if c.wiz.Draft.NeedsSecret() {
			b = append(b, relabel(k.Left, "secret lifetime"))
		}
		return append(b, k.Back)
	case crSigningIn:
		b := []key.Binding{k.Back}
		if s.signIn != nil || s.dc != nil {
			b = append(b, k.Open)
		}
		if s.signIn != nil && c.opts.Demo != nil && c.opts.Demo.SimulateBrowser != nil {
			b = append(b, k.Simulate)
		}
		return b
	case crFailed:
		b := []key.Binding{relabel(k.Next, "continue in the portal"), k.Retry}
		if _, ok := s.refusal(c); ok {
			b = append(b, noSecretKey)
		}
		return append(b, k.Back)
	case crCreated:
		return []key.Binding{k.Next, k.Back}
	case crWorking, crPropagating:
	}
	return []key.Binding{k.Back}
}

// graphReasons are the Graph permissions the bootstrap sign-in asks for, and why; the engine
// asks for the last two only when it grants admin consent.
var graphReasons = [][2]string{
	{"Application.ReadWrite.All", "create the app, its service principal and secret"},
	{"DelegatedPermissionGrant.ReadWrite.All", "grant admin consent (delegated)"},
	{"AppRoleAssignment.ReadWrite.All", "grant admin consent (application)"},
}

func (s *createScreen) view(c *shared) string {
	st := c.st
	d := c.wiz.Draft
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	spin := s.spin.prefix(s.busy())
	switch s.state {
	case crIntro:
		line(para(c, "To create the app, you sign in once to "+st.Value.Render(bootstrapName(c))+
			", a public client app published by Microsoft, which then acts for you through Microsoft Graph."))
		line(st.Muted.Render("Client ID ") + bootstrapID(c))
		line("")
		line("It asks for these Microsoft Graph permissions:")
		for i, r := range graphReasons {
			if i > 0 && !s.grant {
				break
			}
			line("  " + st.Value.Render(r[0]) + st.Muted.Render(" — "+r[1]))
		}
		line("")
		mark := "[ ]"
		if s.grant {
			mark = "[x]"
		}
		line(st.Key.Render("› ") + mark + " Grant admin consent for the chosen permissions (administrators)")
		kind := "no secret (a public client)"
		if d.NeedsSecret() {
			kind = fmt.Sprintf("a client secret valid for %s", st.Key.Render("‹ ")+st.Value.Render(fmt.Sprintf("%d days", secretLifetimes[s.lifetime]))+st.Key.Render(" ›"))
		}
		line(para(c, fmt.Sprintf("It creates %q with %s, the redirect URI and %d permissions, and makes you its owner.",
			d.SuggestedAppName(), kind, len(d.RequestScopes()))))
		line(st.Muted.Render("Press enter to open the browser and sign in."))
	case crSigningIn:
		switch {
		case s.dc != nil:
			line(linkLine(c, "Sign in to "+bootstrapName(c)+": on any device, open ", s.dc.VerificationURI))
			line("and enter the code:  " + st.Value.Render(s.dc.UserCode))
		case s.signIn != nil:
			line(spin + "Sign in to " + bootstrapName(c) + " in the browser. Waiting…")
			line(urlBlock(c, s.signIn.URL))
			line("")
			line(st.Muted.Render(para(c, "Use an account that may register apps. If the browser cannot reach this machine, paste here the address it ends on.")))
		default:
			line(spin + "Starting the sign-in…")
		}
	case crWorking, crPropagating:
		for _, done := range s.stepsRun {
			line(st.OK.Render("✓ ") + capitalise(done))
		}
		if s.state == crWorking {
			line(spin + capitalise(s.current) + "…")
		} else if s.prop != nil {
			left := max(s.prop.Until.Sub(c.now()), 0)
			line(spin + "Waiting for Microsoft to know the new app " + st.Muted.Render(fmt.Sprintf("(gives up in %d:%02d)", int(left.Minutes()), int(left.Seconds())%60)))
			line(st.Hint.Render(para(c, "New apps and secrets take from seconds to over a minute to work everywhere.")))
		}
	case crFailed:
		sentence, noSecretHelps := s.refusal(c)
		line(st.Error.Render("✗ ") + para(c, sentence))
		if s.bootstrapNeedsAdmin() {
			line("")
			line("An administrator can approve it for the organisation at:")
			line(urlBlock(c, s.adminLink(c)))
		}
		line("")
		if errors.Is(s.failErr, oauth.ErrSecretLifetime) {
			line(para(c, "Press r to choose a shorter lifetime and try again, or enter to register the app in the portal instead: everything you chose is kept."))
		} else if noSecretHelps {
			line(para(c, "Press n to create a public client instead (no secret; sign-in through the browser), or enter to continue in the portal."))
		} else {
			line(para(c, "Press enter to register the app in the portal instead: everything you chose is kept."))
		}
	case crCreated:
		line(st.OK.Render("✓ ") + fmt.Sprintf("The app %q is registered.", d.SuggestedAppName()))
		line(st.Muted.Render("Client ID ") + d.ClientID)
		line(st.Muted.Render("Press enter to sign in with it."))
	}
	for _, n := range s.notes {
		line(st.Warn.Render(para(c, n)))
	}
	return strings.TrimRight(b.String(), "\n")
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

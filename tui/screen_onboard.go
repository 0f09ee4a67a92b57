package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// homeSub is a screen the home screen opens over its list for one profile (onboarding a
// customer, sealing a hand-off). It gets every message the list does not need itself and
// reports when it is closed, so the list is read again.
type homeSub interface {
	update(c *shared, msg tea.Msg) (cmd tea.Cmd, closed bool)
	view(c *shared) string
	bindings(c *shared) []key.Binding
	typing() bool
	cursorPos(c *shared) *tea.Cursor
	title() string
}

// uncolour makes a field's text and placeholder plain under NO_COLOR.
func uncolour(in *textinput.Model, noColor bool) {
	if !noColor {
		return
	}
	plain := lipgloss.NewStyle()
	st := in.Styles()
	for _, state := range []*textinput.StyleState{&st.Focused, &st.Blurred} {
		state.Text, state.Placeholder, state.Suggestion, state.Prompt = plain, plain, plain, plain
	}
	in.SetStyles(st)
}

// onboardScreen brings a customer's tenant to the vendor's multi-tenant app in the selected
// profile: the tenant, then the admin-consent link and message with a countdown while the
// engine waits for the consent, then the saved profile or why it was refused.
type onboardScreen struct {
	vendor  keyring.Profile
	stage   onboardStage
	tenant  *textinput.Model
	problem string // why the tenant typed cannot be used
	// attempt tags the background answers; cancel stops the wait of the current one.
	attempt int
	cancel  context.CancelFunc
	link    creds.ConsentLink
	// deadline is when the engine gives up; listening says whether a redirect can land here.
	deadline  time.Time
	listening bool
	pending   *creds.ConsentPending
	landed    bool
	signIn    string // a delegated flow's sign-in instruction
	signInURL string // and the address it names, shown whole
	message   bool   // the message for the administrator is shown in place of the hints
	scroll    int
	saved     keyring.Profile
	err       error
	guide     oauth.Guidance
}

type onboardStage int

const (
	onboardEntry onboardStage = iota
	onboardWaiting
	onboardSaved
	onboardRefused
)

// Background answers of an onboarding.
type (
	onboardEventMsg struct {
		attempt int
		ev      creds.OnboardEvent
		events  <-chan creds.OnboardEvent
	}
	onboardDoneMsg struct {
		attempt int
		res     creds.Onboarded
		err     error
	}
	onboardTickMsg struct{ attempt int }
)

// canOnboard says why a profile cannot onboard customers, or "" when it can.
func canOnboard(p keyring.Profile) string {
	if p.SecretFrom != "" && p.SecretFrom != p.Name {
		return fmt.Sprintf("Profile %s is a customer of %s: onboard other customers from %s, which holds the app's secret.", p.Name, p.SecretFrom, p.SecretFrom)
	}
	switch p.Audience {
	case oauth.MultiTenant, oauth.MultiTenantAndPersonal:
		return ""
	case oauth.SingleTenant, oauth.PersonalOnly:
	}
	return fmt.Sprintf("Onboarding is for a multi-tenant app: profile %s is registered for its own organisation only, so other organisations cannot consent to it. In the portal, set Authentication › Supported account types to \"Accounts in any organizational directory\", then save the profile again.", p.Name)
}

func newOnboardScreen(vendor keyring.Profile, noColor bool) *onboardScreen {
	in := newInput("contoso.onmicrosoft.com or 7e1f3a5c-9b2d-4c6e-8a0f-1d3b5c7e9f2a", 46)
	in.CharLimit = 100
	uncolour(in, noColor)
	return &onboardScreen{vendor: vendor, tenant: in}
}

func (s *onboardScreen) title() string { return "Onboard a customer to " + s.vendor.Name }

func (s *onboardScreen) typing() bool { return s.stage == onboardEntry }

// profileName is the customer profile the tenant typed becomes.
func (s *onboardScreen) profileName() string {
	return creds.CustomerProfileName(strings.TrimSpace(s.tenant.Value()))
}

func (s *onboardScreen) update(c *shared, msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case onboardEventMsg:
		if msg.attempt != s.attempt {
			return nil, false
		}
		s.event(msg.ev)
		return onboardListen(msg.attempt, msg.events), false
	case onboardTickMsg:
		if msg.attempt != s.attempt || s.stage != onboardWaiting {
			return nil, false
		}
		return onboardTick(s.attempt), false // redraws the countdown
	case onboardDoneMsg:
		if msg.attempt != s.attempt {
			return nil, false
		}
		s.stop()
		return s.done(c, msg), false
	case tea.KeyPressMsg:
		return s.key(c, msg)
	case tea.PasteMsg:
		if s.stage == onboardEntry {
			s.problem = ""
			updated, cmd := s.tenant.Update(msg)
			*s.tenant = updated
			return cmd, false
		}
	}
	return nil, false
}

func (s *onboardScreen) event(ev creds.OnboardEvent) {
	switch ev := ev.(type) {
	case creds.ConsentLinkReady:
		s.link, s.deadline, s.listening = ev.Link, ev.Deadline, ev.Listening
	case creds.ConsentPending:
		s.pending = &ev
	case creds.ConsentLanded:
		s.landed = true
	case creds.OnboardSignIn:
		switch e := ev.Event.(type) {
		case creds.SignInReady:
			s.signIn, s.signInURL = "A user of the customer signs in (once the administrator has accepted) at:", e.URL
		case creds.DeviceCodeReady:
			s.signIn = fmt.Sprintf("A user of the customer opens %s and enters the code %s", e.VerificationURI, e.UserCode)
		}
	}
}

func (s *onboardScreen) done(c *shared, msg onboardDoneMsg) tea.Cmd {
	if msg.err == nil {
		s.stage, s.saved = onboardSaved, msg.res.Profile
		return nil
	}
	if errors.Is(msg.err, context.Canceled) {
		return nil // esc, or the end of the program
	}
	if creds.ProblemOf(msg.err) == creds.ProblemUsage {
		// A tenant or name the engine refuses before sending anything: fix it in the field.
		s.stage, s.problem = onboardEntry, onboardUsage(msg.err)
		return s.tenant.Focus()
	}
	s.stage, s.err, s.guide = onboardRefused, msg.err, onboardGuidance(msg.err)
	return nil
}

// onboardUsage is the engine's refusal of the request, without its "onboard:" frame.
func onboardUsage(err error) string {
	var ce *creds.Error
	if errors.As(err, &ce) && ce.Err != nil {
		err = ce.Err
	}
	text := sanitize.Line(err.Error(), 400) // it may quote Microsoft or a typed value
	if text != "" {
		text = strings.ToUpper(text[:1]) + text[1:]
	}
	return strings.ReplaceAll(text, "--profile", "another profile name")
}

// onboardGuidance explains why an onboarding ended without a profile, with what to do; a
// refused consent leaves the link valid, so the next step is usually the customer's.
func onboardGuidance(err error) oauth.Guidance {
	if errors.Is(err, creds.ErrNotMultiTenant) {
		return oauth.Guidance{Title: "The app is not multi-tenant",
			Meaning: "The app is registered for its own organisation only, so other organisations cannot consent to it.",
			Action:  "In the portal, open Authentication, set Supported account types to \"Accounts in any organizational directory\", then save the vendor profile again."}
	}
	g := guidanceFor(err, oauth.App{})
	switch {
	case creds.ProblemOf(err) == creds.ProblemTimedOut:
		g.Title = "No consent yet"
		g.Meaning = onboardUsage(err)
		g.Action = "Once the administrator has accepted, onboard the same tenant again: the consent is found at once."
	case g.Code == 65004:
		g.Action = "The administrator declined. If that was a mistake, they open the same link again and press Accept; then onboard the tenant again."
	case g.Code == 90002:
		g.Action = "Check the customer's tenant: their Directory (tenant) ID is on the Overview page of their Entra admin center, or use their domain (name.onmicrosoft.com)."
	}
	if g.Title == "" {
		g.Title = onboardUsage(err)
	}
	return g
}

// stop ends the wait of the current attempt, if one runs.
func (s *onboardScreen) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

func (s *onboardScreen) key(c *shared, km tea.KeyPressMsg) (tea.Cmd, bool) {
	k := c.keys
	switch s.stage {
	case onboardEntry:
		switch {
		case key.Matches(km, k.Back):
			return nil, true
		case key.Matches(km, k.Next):
			return s.start(c), false
		}
		s.problem = ""
		updated, cmd := s.tenant.Update(km)
		*s.tenant = updated
		return cmd, false
	case onboardWaiting:
		switch {
		case key.Matches(km, k.Back):
			s.stop()
			s.attempt++
			c.say("Stopped waiting for %s. The link stays valid: onboard the tenant again once the administrator has accepted.", s.link.Tenant)
			return nil, true
		case key.Matches(km, k.Copy):
			return c.copyCmd("the consent link", s.link.URL), false
		case key.Matches(km, k.CopyMessage):
			return c.copyCmd("the message for the administrator", s.link.Message), false
		case key.Matches(km, k.NextField):
			s.message, s.scroll = !s.message, 0
		case key.Matches(km, k.Up), key.Matches(km, k.PageUp):
			s.scroll = max(s.scroll-scrollStep(c, km), 0)
		case key.Matches(km, k.Down), key.Matches(km, k.PageDown):
			s.scroll += scrollStep(c, km) // the view keeps it in range
		}
		return nil, false
	case onboardRefused:
		if key.Matches(km, k.Retry) {
			s.stage, s.err = onboardEntry, nil
			return s.tenant.Focus(), false
		}
		fallthrough
	case onboardSaved:
		if key.Matches(km, k.Back) || key.Matches(km, k.Next) {
			return nil, true
		}
	}
	return nil, false
}

// scrollStep is one line for the arrows, most of a screen for the page keys.
func scrollStep(c *shared, km tea.KeyPressMsg) int {
	if key.Matches(km, c.keys.PageUp) || key.Matches(km, c.keys.PageDown) {
		return max(c.bodyRows-4, 1)
	}
	return 1
}

// start checks the tenant and starts the engine's onboarding under a context of its own,
// so esc stops the wait without ending the program.
func (s *onboardScreen) start(c *shared) tea.Cmd {
	tenant := strings.TrimSpace(s.tenant.Value())
	if tenant == "" {
		s.problem = "Type the customer's Directory (tenant) ID or one of their verified domains."
		return nil
	}
	clean, err := steps.CheckTenant(tenant)
	if err != nil {
		s.problem = err.Error()
		return nil
	}
	s.tenant.SetValue(clean)
	s.tenant.Blur()
	s.stop()
	s.attempt++
	s.stage, s.problem, s.pending, s.landed, s.signIn, s.signInURL, s.message, s.scroll = onboardWaiting, "", nil, false, "", "", false, 0
	s.link, s.deadline = creds.ConsentLink{Tenant: clean}, time.Time{}
	ctx, cancel := context.WithCancel(c.ctx)
	s.cancel = cancel
	events := make(chan creds.OnboardEvent, 8)
	engine, vendor, attempt := c.opts.Engine, s.vendor, s.attempt
	req := creds.OnboardRequest{Vendor: vendor, Tenant: clean, Wait: c.opts.OnboardWait, PollEvery: c.opts.OnboardPoll}
	run := func() tea.Msg {
		defer close(events)
		req.Events = sendUntilDone(ctx, events)
		res, err := engine.Onboard(ctx, req)
		return onboardDoneMsg{attempt: attempt, res: res, err: err}
	}
	return tea.Batch(run, onboardListen(attempt, events), onboardTick(attempt))
}

func onboardListen(attempt int, events <-chan creds.OnboardEvent) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			return nil
		}
		return onboardEventMsg{attempt: attempt, ev: ev, events: events}
	}
}

func onboardTick(attempt int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return onboardTickMsg{attempt} })
}

func (s *onboardScreen) view(c *shared) string {
	switch s.stage {
	case onboardWaiting:
		return s.viewWaiting(c)
	case onboardSaved:
		return s.viewSaved(c)
	case onboardRefused:
		return s.viewRefused(c)
	case onboardEntry:
	}
	return s.viewEntry(c)
}

func (s *onboardScreen) viewEntry(c *shared) string {
	st := c.st
	var b strings.Builder
	line := func(l string) { b.WriteString(l + "\n") }
	line(para(c, fmt.Sprintf("The app of %s (client ID %s) is multi-tenant: an administrator of a customer's organisation accepts it once with a link, and a profile for that customer then uses the same app and secret.", s.vendor.Name, s.vendor.ClientID)))
	line("")
	line(st.Title.Render("› ") + st.Title.Render(padRight("Customer tenant", 18)) + s.tenant.View())
	tenant := strings.TrimSpace(s.tenant.Value())
	switch {
	case s.problem != "":
		line(indent(st.Error.Render(ansi.Wordwrap("✗ "+s.problem, max(c.width-24, 30), " ")), 20))
	case tenant != "":
		if _, err := steps.CheckTenant(tenant); err != nil {
			line(indent(st.Error.Render(ansi.Wordwrap("✗ "+err.Error(), max(c.width-24, 30), " ")), 20))
		} else {
			line(indent(st.OK.Render("✓ saved as profile "+s.profileName()), 20))
		}
	default:
		line(indent(st.Hint.Render(ansi.Wordwrap("Their Directory (tenant) ID or a verified domain.", max(c.width-24, 30), " ")), 20))
	}
	line("")
	line(para(c, "Nothing is sent yet: enter shows the admin-consent link and the message for the administrator, then waits until the consent has taken effect. No password is needed, neither yours nor the customer's."))
	line("")
	line("Press " + st.Key.Render("enter") + " to create the link, " + st.Key.Render("esc") + " to go back.")
	return strings.TrimRight(b.String(), "\n")
}

// countdown is the time left until the engine stops waiting, by the screen's clock.
func (s *onboardScreen) countdown(c *shared) string {
	if s.deadline.IsZero() {
		return ""
	}
	left := max(s.deadline.Sub(c.now()), 0).Round(time.Second)
	return fmt.Sprintf("%d:%02d left", int(left.Minutes()), int(left.Seconds())%60)
}

func (s *onboardScreen) viewWaiting(c *shared) string {
	st := c.st
	tenant := sanitize.Line(s.link.Tenant, 100)
	if s.link.URL == "" {
		return "Preparing the consent link for " + tenant + "…\n\n" + st.Muted.Render("esc stops.")
	}
	var head, body []string
	if !s.message { // the message holds the link itself
		head = append(head, para(c, "Send this link to an administrator of "+tenant+":"))
		head = append(head, urlBlock(c, s.link.URL), "")
	}
	status := "… Waiting for the consent to take effect"
	if s.landed {
		status = "… Accepted on this machine; checking that it has taken effect"
	}
	head = append(head, st.Title.Render(status)+" · "+st.Value.Render(s.countdown(c)))
	if p := s.pending; p != nil {
		why := p.Reason.Title
		if p.Reason.Code != 0 {
			why = fmt.Sprintf("AADSTS%d %s", p.Reason.Code, why)
		}
		times := "once"
		if p.Attempt > 1 {
			times = fmt.Sprintf("%d times", p.Attempt)
		}
		head = append(head, st.Muted.Render(para(c, fmt.Sprintf("Checked %s: not yet (%s).", times, why))))
	}
	if s.signIn != "" {
		head = append(head, para(c, s.signIn))
		if s.signInURL != "" {
			head = append(head, urlBlock(c, s.signInURL))
		}
	}
	head = append(head, "")
	if s.message {
		body = append(body, st.Title.Render("The message for an administrator of "+tenant))
		body = append(body, messageLines(c, s.link.Message, s.link.URL)...)
	} else {
		where := "This screen checks by itself; the administrator can accept on any machine."
		if s.listening {
			where = "This screen checks by itself, and hears the answer if the administrator accepts on this machine."
		}
		body = append(body, para(c, where+" No password is needed, neither yours nor theirs."))
	}
	tail := "Press " + st.Key.Render("c") + " to copy the link, " + st.Key.Render("m") + " the message, " + st.Key.Render("tab") + " to "
	if s.message {
		tail += "hide the message."
	} else {
		tail += "read the message."
	}
	return fitBody(c, head, body, para(c, tail), &s.scroll)
}

// messageLines draws the message for the administrator at the screen's width: its
// paragraphs rewrapped, its list and the link kept as lines, the link whole (urlBlock).
func messageLines(c *shared, msg, url string) []string {
	var out []string
	for _, p := range strings.Split(strings.TrimRight(msg, "\n"), "\n\n") {
		var prose []string
		flush := func() {
			if len(prose) > 0 {
				out = append(out, strings.Split(para(c, strings.Join(prose, " ")), "\n")...)
				prose = nil
			}
		}
		for _, l := range strings.Split(p, "\n") {
			switch {
			case strings.TrimSpace(l) == url:
				flush()
				out = append(out, urlBlock(c, url))
			case strings.HasPrefix(l, "  "):
				flush()
				out = append(out, ansi.Wordwrap(l, max(c.width-2, 30), " "))
			default:
				prose = append(prose, l)
			}
		}
		flush()
		out = append(out, "")
	}
	return out[:max(len(out)-1, 0)]
}

// fitBody stacks head, body and tail in the rows the screen has: a body too tall is shown
// as a window from *offset with a line saying what is hidden, so the head (the link and
// countdown) and the key line always stay on screen.
func fitBody(c *shared, head, body []string, tail string, offset *int) string {
	split := func(parts []string) []string { return strings.Split(strings.Join(parts, "\n"), "\n") }
	h, b, t := split(head), split(body), strings.Split(tail, "\n")
	room := c.bodyRows - len(h) - len(t) - 1
	if len(b) > room && room > 1 {
		window := room - 1
		*offset = min(max(*offset, 0), len(b)-window)
		var where []string
		if *offset > 0 {
			where = append(where, fmt.Sprintf("↑ %d lines above", *offset))
		}
		if below := len(b) - window - *offset; below > 0 {
			where = append(where, fmt.Sprintf("↓ %d more below", below))
		}
		b = append(append([]string(nil), b[*offset:*offset+window]...), c.st.Muted.Render("── "+strings.Join(where, " · ")+" (↑/↓ scroll) ──"))
	} else {
		*offset = 0
	}
	return strings.Join(append(append(append(h, b...), ""), t...), "\n")
}

func (s *onboardScreen) viewSaved(c *shared) string {
	st := c.st
	p := s.saved
	var b strings.Builder
	line := func(l string) { b.WriteString(l + "\n") }
	line(st.OK.Render("✓ Saved profile "+p.Name) + " for " + sanitize.Line(p.Tenant, 100) + ".")
	line("")
	line(para(c, "The consent is in place in the customer's tenant, and Microsoft issued a token there."))
	line(para(c, fmt.Sprintf("The profile uses the app and the client secret of %s: rotating %s updates it too, and deleting it keeps the secret for the others.", s.vendor.Name, s.vendor.Name)))
	line("")
	line(padRight("Scripts get tokens", 20) + st.Value.Render("m365creds token "+p.Name))
	line("")
	line("Press " + st.Key.Render("enter") + " to go back to the list.")
	return strings.TrimRight(b.String(), "\n")
}

func (s *onboardScreen) viewRefused(c *shared) string {
	st := c.st
	width := max(c.width-2, 40)
	g := s.guide
	title := g.Title
	if g.Code != 0 {
		title = fmt.Sprintf("AADSTS%d: %s", g.Code, g.Title)
	}
	var b strings.Builder
	line := func(l string) { b.WriteString(l + "\n") }
	line(st.Error.Render("✗ " + ansi.Wordwrap(sanitize.Line(s.tenant.Value(), 100)+": "+title, width-2, " ")))
	line("")
	if g.Meaning != "" {
		line(ansi.Wordwrap(g.Meaning, width, " "))
	}
	line("Nothing was saved.")
	if g.Action != "" {
		line("")
		line(st.Title.Render("What to do: ") + ansi.Wordwrap(g.Action, width-12, " "))
	}
	line("")
	line("Press " + st.Key.Render("r") + " to try again, " + st.Key.Render("enter") + " to go back to the list.")
	return strings.TrimRight(b.String(), "\n")
}

func (s *onboardScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	switch s.stage {
	case onboardWaiting:
		return []key.Binding{relabel(k.Copy, "copy link"), relabel(k.Back, "stop waiting"), k.CopyMessage, relabel(k.NextField, "message")}
	case onboardSaved:
		return []key.Binding{relabel(k.Next, "back to list")}
	case onboardRefused:
		return []key.Binding{relabel(k.Retry, "try again"), relabel(k.Next, "back to list")}
	case onboardEntry:
	}
	return []key.Binding{relabel(k.Next, "create link"), k.Back}
}

// cursorPos puts the terminal cursor in the tenant field while typing there.
func (s *onboardScreen) cursorPos(c *shared) *tea.Cursor {
	if s.stage != onboardEntry {
		return nil
	}
	cur := s.tenant.Cursor()
	if cur == nil {
		return nil
	}
	intro := strings.Count(para(c, fmt.Sprintf("The app of %s (client ID %s) is multi-tenant: an administrator of a customer's organisation accepts it once with a link, and a profile for that customer then uses the same app and secret.", s.vendor.Name, s.vendor.ClientID)), "\n") + 1
	cur.Y = intro + 1
	cur.X += labelWidth
	return cur
}

package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// consentTimeout is how long the wizard waits for a sign-in before it gives up.
const consentTimeout = 10 * time.Minute // as long as an authorization code lives

type consentState int

const (
	csProbe consentState = iota
	csCheck
	csStarting
	csBrowser
	csPaste
	csDeviceIntro
	csDevice
	csWorking // exchanging a code, client credentials, or proving a rotated secret
	csVerify
	csDone
	csFailed
	csPick
)

type consentScreen struct {
	state    consentState
	attempt  int
	cancel   context.CancelFunc
	ctx      context.Context
	started  time.Time
	lb       *oauth.Loopback
	req      *oauth.AuthRequest
	dc       *oauth.DeviceCode
	tok      *oauth.Token
	user     *oauth.User
	meErr    error
	notes    []string // port changed, browser not opened …
	guide    oauth.Guidance
	failErr  error
	keychain bool // the failure is the keychain probe's: only retrying makes sense
	working  string
	paste    textinput.Model
	pickList []oauth.Guidance
	pick     int
	pickText bool
	spin     spinner.Model
	pasteRow int  // body line of the paste field, recorded by view; -1 when not drawn
	spinning bool // a spinner tick is on its way
}

func newConsentScreen() *consentScreen {
	p := textinput.New()
	p.Prompt = ""
	p.Placeholder = "http://localhost:53365/?code=…&state=…"
	p.CharLimit = 8192
	p.SetWidth(70)
	p.SetVirtualCursor(false)
	return &consentScreen{paste: p, pickList: oauth.KnownErrors(), spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

// busy reports whether something runs in the background, which the spinner shows.
func (s *consentScreen) busy() bool {
	switch s.state {
	case csProbe, csCheck, csStarting, csBrowser, csDevice, csWorking, csVerify:
		return true
	case csPaste, csDeviceIntro, csDone, csFailed, csPick:
	}
	return false
}

// cursorPos puts the terminal cursor in the paste field when it has focus.
func (s *consentScreen) cursorPos(c *shared) *tea.Cursor {
	if !s.typing() || s.pasteRow < 0 {
		return nil
	}
	cur := s.paste.Cursor()
	if cur == nil {
		return nil
	}
	cur.X += 2 // the "› " prompt
	cur.Y = s.pasteRow
	return cur
}

func (s *consentScreen) typing() bool {
	return s.state == csPaste || (s.state == csPick && s.pickText)
}

func (s *consentScreen) client(c *shared) *oauth.Client {
	return oauth.NewClient(c.wiz.Draft.App(), c.http)
}

// stop cancels whatever this step has running and closes the listener.
func (s *consentScreen) stop() tea.Cmd {
	s.attempt++
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	if s.lb != nil {
		lb := s.lb
		s.lb = nil
		return closeCmd(lb)
	}
	return nil
}

// enter starts over: probe the keychain, check the secret, then sign in.
func (s *consentScreen) enter(c *shared) tea.Cmd {
	stop := s.stop()
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	s.tok, s.user, s.meErr, s.notes, s.dc, s.req, s.failErr = nil, nil, nil, nil, nil, nil, nil
	s.paste.SetValue("") // an address from an earlier attempt holds a used code
	s.keychain = false
	s.started = c.now()
	if c.opts.Store != nil {
		s.state = csProbe
		return tea.Batch(stop, probeCmd(s.ctx, s.attempt, c.opts.Store))
	}
	return tea.Batch(stop, s.afterProbe(c))
}

func (s *consentScreen) afterProbe(c *shared) tea.Cmd {
	d := c.wiz.Draft
	switch {
	case c.wiz.Mode == steps.ModeRotate:
		s.state, s.working = csWorking, "Testing the new secret with a refresh-token request…"
		return rotateVerifyCmd(s.ctx, s.attempt, c.opts.Store, d.Profile, s.client(c), d.RequestScopes())
	case d.Flow == oauth.FlowApp:
		s.state, s.working = csWorking, "Requesting an app-only token (client credentials)…"
		return clientCredentialsCmd(s.ctx, s.attempt, s.client(c))
	case d.NeedsSecret() && isSpecificTenant(d.Authority()):
		s.state = csCheck
		return checkSecretCmd(s.ctx, s.attempt, s.client(c))
	}
	return s.startFlow(c)
}

func isSpecificTenant(t string) bool {
	switch strings.ToLower(t) {
	case "", "common", "organizations", "consumers":
		return false
	}
	return true
}

func (s *consentScreen) startFlow(c *shared) tea.Cmd {
	d := c.wiz.Draft
	s.started = c.now()
	if d.Flow == oauth.FlowDevice {
		s.state = csDeviceIntro
		return nil
	}
	s.state = csStarting
	// Over SSH a browser started here would open on the wrong machine (or be a text browser):
	// lead with pasting the address instead, with the tunnel as the alternative.
	open := d.Flow == oauth.FlowBrowser && !c.opts.NoBrowser && !oauth.RemoteShell()
	return startBrowserCmd(s.attempt, s.client(c), d.RequestScopes(), d.Port, open)
}

func (s *consentScreen) fail(c *shared, err error) tea.Cmd {
	stop := s.stop()
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	s.state, s.failErr = csFailed, err
	s.guide = oauth.Explain(err, c.wiz.Draft.App())
	return stop
}

func (s *consentScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	if tick, ok := msg.(spinner.TickMsg); ok {
		if !s.busy() {
			s.spinning = false // the chain of ticks ends here; the next busy state starts one
			return nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(tick)
		return cmd
	}
	cmd := s.handle(c, msg)
	if s.busy() && !s.spinning {
		s.spinning = true
		cmd = tea.Batch(cmd, s.spin.Tick)
	}
	return cmd
}

// handle is update without the spinner bookkeeping.
func (s *consentScreen) handle(c *shared, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case probeMsg:
		if msg.attempt != s.attempt {
			return nil
		}
		if msg.err != nil {
			s.state, s.failErr, s.keychain = csFailed, msg.err, true
			s.guide = keychainGuidance(msg.err)
			return nil
		}
		return s.afterProbe(c)
	case checkMsg:
		if msg.attempt != s.attempt {
			return nil
		}
		if msg.err != nil && !errors.Is(msg.err, oauth.ErrCheckSkipped) {
			return s.fail(c, msg.err)
		}
		return s.startFlow(c)
	case browserReadyMsg:
		if msg.attempt != s.attempt {
			if msg.lb != nil {
				return closeCmd(msg.lb)
			}
			return nil
		}
		if msg.err != nil {
			return s.fail(c, msg.err)
		}
		s.lb, s.req = msg.lb, msg.req
		s.paste.Placeholder = s.lb.RedirectURI() + "?code=…&state=…"
		if msg.portNote != "" {
			s.notes = append(s.notes, msg.portNote)
		}
		s.state = csBrowser
		if c.wiz.Draft.Flow == oauth.FlowPaste || oauth.RemoteShell() {
			s.state = csPaste // the listener keeps waiting too: a tunnelled browser still works
		}
		cmds := []tea.Cmd{waitCallbackCmd(s.ctx, s.attempt, s.lb), tickCmd(s.attempt)}
		if s.state == csPaste {
			cmds = append(cmds, s.paste.Focus())
		}
		if msg.openErr != nil {
			s.notes = append(s.notes, "Could not open a browser ("+msg.openErr.Error()+"): open the address below yourself.")
			if demo := c.opts.Demo; demo != nil && demo.SimulateBrowser != nil {
				s.notes = append(s.notes, "Demo: no browser here, so the demo plays the browser's part.")
				cmds = append(cmds, simulateCmd(s.attempt, demo.SimulateBrowser, s.req.URL))
			}
		}
		return tea.Batch(cmds...)
	case simulatedMsg:
		if msg.attempt == s.attempt && msg.err != nil {
			s.notes = append(s.notes, "The simulated browser failed: "+msg.err.Error())
		}
		return nil
	case callbackMsg:
		if msg.attempt != s.attempt || errors.Is(msg.err, context.Canceled) {
			return nil
		}
		if msg.err != nil {
			return s.fail(c, msg.err)
		}
		return s.redeem(c, msg.cb)
	case deviceMsg:
		if msg.attempt != s.attempt {
			return nil
		}
		if msg.err != nil {
			return s.fail(c, msg.err)
		}
		s.dc, s.state = msg.dc, csDevice
		return tea.Batch(pollDeviceCmd(s.ctx, s.attempt, s.client(c), msg.dc), tickCmd(s.attempt))
	case tokenMsg:
		if msg.attempt != s.attempt || errors.Is(msg.err, context.Canceled) {
			return nil
		}
		if msg.err != nil {
			return s.fail(c, msg.err)
		}
		s.tok = msg.tok
		if c.wiz.Draft.Flow == oauth.FlowApp {
			return s.done(c)
		}
		s.state = csVerify
		return meCmd(s.ctx, s.attempt, s.client(c), msg.tok.AccessToken)
	case meMsg:
		if msg.attempt != s.attempt {
			return nil
		}
		s.user, s.meErr = msg.user, msg.err
		return s.done(c)
	case tickMsg:
		if msg.attempt != s.attempt || (s.state != csBrowser && s.state != csPaste && s.state != csDevice) {
			return nil
		}
		if c.now().Sub(s.started) >= consentTimeout {
			return s.fail(c, oauth.ErrTimeout)
		}
		return tickCmd(s.attempt)
	case tea.PasteMsg:
		if s.state == csBrowser { // pasting the address on the waiting screen switches to paste
			s.state = csPaste
			s.paste.SetValue(msg.Content)
			return s.paste.Focus()
		}
	case tea.KeyPressMsg:
		return s.key(c, msg)
	}
	if s.state == csPaste || (s.state == csPick && s.pickText) {
		var cmd tea.Cmd
		s.paste, cmd = s.paste.Update(msg)
		return cmd
	}
	return nil
}

// redeem turns a callback (from the loopback or pasted) into tokens.
func (s *consentScreen) redeem(c *shared, cb oauth.Callback) tea.Cmd {
	code, err := s.req.CodeFrom(cb)
	if err != nil {
		return s.fail(c, err)
	}
	stop := s.stop() // the listener's work is done; a second hit must not redeem again
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	s.state, s.working = csWorking, "Redeeming the sign-in code…"
	return tea.Batch(stop, exchangeCmd(s.ctx, s.attempt, s.client(c), s.req, code))
}

func (s *consentScreen) done(c *shared) tea.Cmd {
	s.state = csDone
	c.wiz.Draft.Token = s.tok
	if s.user != nil { // a failed /me keeps the account already known (rotation, re-consent)
		c.wiz.Draft.User = s.user
	}
	stop := s.stop()
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	return stop
}

func (s *consentScreen) key(c *shared, km tea.KeyPressMsg) tea.Cmd {
	k := c.keys
	d := &c.wiz.Draft
	if key.Matches(km, k.Back) && s.state != csPick && !(s.state == csPaste && s.req != nil && d.Flow == oauth.FlowBrowser) {
		return tea.Batch(s.stop(), c.back())
	}
	switch s.state {
	case csBrowser:
		switch {
		case key.Matches(km, k.Open):
			return openCmd(c, s.req.URL)
		case key.Matches(km, k.Copy):
			return c.copyCmd("the sign-in address", s.req.URL)
		case key.Matches(km, k.Paste):
			s.state = csPaste
			return s.paste.Focus()
		case key.Matches(km, k.Simulate) && c.opts.Demo != nil && c.opts.Demo.SimulateBrowser != nil:
			return simulateCmd(s.attempt, c.opts.Demo.SimulateBrowser, s.req.URL)
		case key.Matches(km, k.PickError):
			s.state, s.pick, s.pickText = csPick, 0, false
		}
	case csPaste:
		switch {
		case key.Matches(km, k.Next):
			cb, err := oauth.ParseRedirect(s.paste.Value())
			if err != nil {
				s.notes = []string{"That is not the address the browser ended on: " + err.Error()}
				return nil
			}
			return s.redeem(c, cb)
		case key.Matches(km, k.Back):
			s.paste.Blur()
			s.state = csBrowser
			return nil
		case key.Matches(km, k.CopyAddress) && s.req != nil:
			// Copying the wrapped address off the screen picks up line breaks; this does not.
			return c.copyCmd("the sign-in address", s.req.URL)
		}
		var cmd tea.Cmd
		s.paste, cmd = s.paste.Update(km)
		return cmd
	case csDeviceIntro:
		if key.Matches(km, k.Next) {
			s.started = c.now()
			return startDeviceCmd(s.ctx, s.attempt, s.client(c), d.RequestScopes())
		}
	case csDevice:
		switch {
		case key.Matches(km, k.Copy):
			return c.copyCmd("the code", s.dc.UserCode)
		case key.Matches(km, k.Open):
			return openCmd(c, s.dc.VerificationURI)
		}
	case csDone:
		switch {
		case key.Matches(km, k.Next):
			return c.next()
		case key.Matches(km, k.Copy) && d.Flow == oauth.FlowApp:
			return c.copyCmd("the admin consent link", adminConsentURL(*d))
		case key.Matches(km, k.Open) && d.Flow == oauth.FlowApp:
			return openCmd(c, adminConsentURL(*d))
		}
	case csFailed:
		switch {
		case s.keychain:
			if key.Matches(km, k.Retry) || key.Matches(km, k.Next) {
				return s.enter(c)
			}
		case key.Matches(km, k.Next):
			target := c.wiz.BackTarget(s.guide.Step)
			if target == steps.Consent {
				return s.enter(c)
			}
			return c.jumpTo(target)
		case key.Matches(km, k.Retry):
			return s.enter(c)
		case key.Matches(km, k.Open) && s.guide.PortalLink != "":
			return openCmd(c, s.guide.PortalLink)
		case key.Matches(km, k.Copy) && needsAdmin(s.guide):
			return c.copyCmd("the admin consent link", adminConsentURL(c.wiz.Draft))
		case key.Matches(km, k.PickError):
			s.state, s.pick, s.pickText = csPick, 0, false
		}
	case csPick:
		return s.pickKey(c, km)
	case csProbe, csCheck, csStarting, csWorking, csVerify:
		// Work is under way; only esc (handled above) and ctrl+c apply.
	}
	return nil
}

func (s *consentScreen) pickKey(c *shared, km tea.KeyPressMsg) tea.Cmd {
	k := c.keys
	if s.pickText {
		switch {
		case key.Matches(km, k.Next):
			s.guide = oauth.ExplainText(s.paste.Value(), c.wiz.Draft.App())
			s.failErr, s.state, s.pickText = nil, csFailed, false
			s.paste.SetValue("")
			return nil
		case key.Matches(km, k.Back):
			s.pickText = false
			s.paste.Blur()
			return nil
		}
		var cmd tea.Cmd
		s.paste, cmd = s.paste.Update(km)
		return cmd
	}
	switch {
	case key.Matches(km, k.Up):
		s.pick = max(0, s.pick-1)
	case key.Matches(km, k.Down):
		s.pick = min(len(s.pickList)-1, s.pick+1)
	case key.Matches(km, k.Next):
		// Explaining the code again adds this app's portal link, which the catalogue lacks.
		s.guide = oauth.ExplainText(fmt.Sprintf("AADSTS%d", s.pickList[s.pick].Code), c.wiz.Draft.App())
		s.failErr, s.state = nil, csFailed
	case key.Matches(km, k.Paste):
		s.pickText = true
		s.paste.SetValue("")
		s.paste.Placeholder = "AADSTS50011: The redirect URI … does not match …"
		return s.paste.Focus()
	case key.Matches(km, k.Back):
		return s.enter(c)
	}
	return nil
}

func (s *consentScreen) view(c *shared) string {
	st := c.st
	width := max(c.width-2, 40)
	d := c.wiz.Draft
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	s.pasteRow = -1
	spin := ""
	if s.busy() {
		spin = s.spin.View() + " "
	}
	left := max(consentTimeout-c.now().Sub(s.started), 0)
	countdown := fmt.Sprintf("%d:%02d left", int(left.Minutes()), int(left.Seconds())%60)
	switch s.state {
	case csProbe:
		line(spin + "Checking that the keychain works before you sign in…")
	case csCheck:
		line(spin + "Checking the client ID and secret with Microsoft before you open a browser…")
		line(st.Hint.Render(para(c, "This is one client-credentials request: it shows up as an app sign-in in the tenant's sign-in logs.")))
	case csStarting:
		line(spin + "Starting the local listener…")
	case csBrowser, csPaste:
		switch {
		case s.state == csPaste:
			line("Open this address in any browser and sign in " + st.Muted.Render("("+countdown+")") + ":")
		case c.opts.NoBrowser:
			line(spin + "Open this address in a browser and sign in. Waiting… " + st.Muted.Render(countdown))
		default:
			line(spin + "Sign in and accept the permissions in the browser. Waiting… " + st.Muted.Render(countdown))
		}
		line(st.Link.Render(wrapURL(s.req.URL, width)))
		line("")
		if s.state == csPaste {
			line(para(c, "The browser then ends on a page that cannot load (\"can't connect\"): that is expected. Copy the whole address from its address bar, paste it here and press enter."))
			s.pasteRow = strings.Count(b.String(), "\n")
			line(st.Title.Render("› ") + s.paste.View())
			line("")
		} else {
			line(st.Muted.Render(para(c, "It comes back here by itself. If the browser cannot reach this machine, press p and paste the address it ends on.")))
		}
		if s.state == csPaste {
			line(st.Muted.Render(para(c, "If Microsoft shows an error on its own page instead (AADSTS…), press esc, then e.")))
		} else {
			line(st.Muted.Render(para(c, "If Microsoft shows an error on its own page instead (AADSTS…), press e.")))
		}
		if oauth.RemoteShell() && s.lb != nil {
			line(st.Hint.Render("Or make the browser flow work: run this on your own machine first,"))
			line("  " + st.Value.Render(oauth.SSHTunnelHint(s.lb.Port())))
		}
	case csDeviceIntro:
		line("Device code sign-in needs one portal setting first:")
		line(st.Value.Render("Authentication › Advanced settings › Allow public client flows: Yes") + " (then Save).")
		line(st.Link.Render(portalLinks(c).Authentication))
		line("")
		line("The credential is then a public client: it never uses the client secret.")
		line("Press enter to get a code.")
	case csDevice:
		line("On any device, open " + st.Link.Render(s.dc.VerificationURI) + " and enter the code")
		line("")
		line("    " + st.Value.Render(s.dc.UserCode))
		line("")
		line(spin + "Waiting for you to finish signing in… " + st.Muted.Render(countdown))
		line(st.Muted.Render("c copies the code, o opens the page."))
	case csWorking:
		line(spin + s.working)
	case csVerify:
		line(spin + "Signed in. Checking the account with Microsoft Graph /me…")
	case csDone:
		s.viewDone(c, line)
	case csFailed:
		s.viewFailed(c, line, width)
	case csPick:
		s.viewPick(c, line, width)
	}
	if s.state != csDone && s.state != csFailed {
		for _, n := range s.notes {
			line(st.Warn.Render(ansi.Wordwrap("! "+n, width, " ")))
		}
	}
	_ = d
	return strings.TrimRight(b.String(), "\n")
}

// adminConsentURL is the link an administrator opens to grant the app's permissions.
// needsAdmin reports whether the error is one an administrator's consent resolves.
func needsAdmin(g oauth.Guidance) bool {
	switch g.Code {
	case 65001, 90094, 90095:
		return true
	}
	return false
}

func adminConsentURL(d steps.Draft) string {
	return oauth.NewClient(d.App(), nil).AdminConsentURL(d.RedirectURI(), "m365creds")
}

// keychainGuidance explains a failed keychain probe. Nothing has reached Microsoft yet.
func keychainGuidance(err error) oauth.Guidance {
	g := oauth.Guidance{
		Title:   "The keychain does not work",
		Meaning: err.Error(),
		Action:  "Fix the keychain first (nothing has been sent to Microsoft yet), then press r to try again.",
		Step:    oauth.StepConsent,
	}
	var ue *keyring.UnavailableError
	if errors.As(err, &ue) {
		g.Meaning = "The keychain is unavailable: " + ue.Reason + "."
		if ue.Hint != "" {
			g.Action = ue.Hint + " Nothing has been sent to Microsoft yet; press r to try again."
		}
	}
	return g
}

func (s *consentScreen) viewDone(c *shared, line func(string)) {
	st := c.st
	d := c.wiz.Draft
	switch {
	case d.Flow == oauth.FlowApp:
		line(st.OK.Render("✓ Got an app-only token.") + " It carries the application permissions an")
		line("administrator granted. If some are missing, send this admin consent link to one:")
		line(st.Link.Render(wrapURL(adminConsentURL(d), max(c.width-2, 40))))
		line(st.Muted.Render("c copies it, o opens it."))
	case s.user != nil:
		line(st.OK.Render("✓ Signed in as ") + st.Value.Render(s.user.DisplayName) + " (" + s.user.UserPrincipalName + ")")
	default:
		line(st.OK.Render("✓ Signed in.") + st.Warn.Render(" Could not read the account: "+oauth.Explain(s.meErr, d.App()).Title))
	}
	if s.tok != nil && d.Flow != oauth.FlowApp {
		missing := oauth.MissingScopes(d.RequestScopes(), s.tok.Scopes)
		line("")
		line(st.Muted.Render(padRight("Requested", 34) + "Granted"))
		for _, scope := range d.RequestScopes() {
			mark := st.OK.Render("✓ granted")
			for _, m := range missing {
				if strings.EqualFold(m, scope) {
					mark = st.Error.Render("✗ not granted (admin consent needed?)")
				}
			}
			line(padRight(shortScope(scope), 34) + mark)
		}
		if len(missing) > 0 {
			line(st.Warn.Render("You can save now and re-consent later (m365creds, then p on the profile)."))
		}
	}
	line("")
	line("Press enter to save.")
}

func shortScope(s string) string {
	return strings.TrimPrefix(s, "https://graph.microsoft.com/")
}

func (s *consentScreen) viewFailed(c *shared, line func(string), width int) {
	st := c.st
	g := s.guide
	title := g.Title
	if g.Code != 0 {
		title = fmt.Sprintf("AADSTS%d: %s", g.Code, g.Title)
	}
	line(st.Error.Render("✗ " + title))
	line("")
	line(ansi.Wordwrap(g.Meaning, width, " "))
	if g.Action != "" {
		line("")
		line(st.Title.Render("What to do: ") + ansi.Wordwrap(g.Action, width-12, " "))
	}
	if g.PortalLink != "" {
		line(st.Muted.Render("Page: ") + st.Link.Render(g.PortalLink))
	}
	if g.Raw != "" {
		line("")
		line(st.Muted.Render(ansi.Wordwrap("Microsoft said: "+g.Raw, width, " ")))
	}
	line("")
	target := c.wiz.BackTarget(g.Step)
	switch {
	case s.keychain:
		line("Press r to try again.")
	case target == steps.Consent:
		line("Press enter to try again, e if Microsoft showed an error on its own page.")
	default:
		line(fmt.Sprintf("Press enter to go back to the %s step, r to retry as is.", target))
	}
}

func (s *consentScreen) viewPick(c *shared, line func(string), width int) {
	st := c.st
	if s.pickText {
		line("Paste the error text Microsoft showed (with AADSTS and a number), then enter:")
		s.pasteRow = 1
		line(st.Title.Render("› ") + s.paste.View())
		return
	}
	line("Which error did Microsoft show on its sign-in page? (p pastes its text instead)")
	line("")
	rows := max(c.bodyRows-4, 3)
	start := max(0, min(s.pick-rows/2, len(s.pickList)-rows))
	for i := start; i < min(len(s.pickList), start+rows); i++ {
		g := s.pickList[i]
		text := ansi.Truncate(fmt.Sprintf("AADSTS%-8d %s", g.Code, g.Title), width-2, "…")
		if i == s.pick {
			line(st.Selected.Render(text))
		} else {
			line(text)
		}
	}
}

// wrapURL breaks a long address over lines so it can be selected in any terminal.
func wrapURL(u string, width int) string {
	var lines []string
	for len(u) > width {
		lines = append(lines, u[:width])
		u = u[width:]
	}
	return strings.Join(append(lines, u), "\n")
}

func (s *consentScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	switch s.state {
	case csBrowser:
		b := []key.Binding{k.Open, k.Copy, k.Paste, k.PickError, k.Back}
		if c.opts.Demo != nil {
			b = append([]key.Binding{k.Simulate}, b...)
		}
		return b
	case csPaste:
		return []key.Binding{k.Next, k.CopyAddress, k.Back}
	case csDevice:
		return []key.Binding{k.Copy, k.Open, k.Back}
	case csDone:
		if c.wiz.Draft.Flow == oauth.FlowApp {
			return []key.Binding{k.Next, k.Copy, k.Open, k.Back}
		}
		return []key.Binding{k.Next, k.Back}
	case csDeviceIntro:
		return []key.Binding{k.Next, k.Back}
	case csFailed:
		switch {
		case s.keychain:
			return []key.Binding{k.Retry, k.Back}
		}
		if needsAdmin(s.guide) {
			return []key.Binding{relabel(k.Copy, "copy admin consent link"), k.Retry, k.Open, k.Back}
		}
		next := relabel(k.Next, "try again")
		if target := c.wiz.BackTarget(s.guide.Step); target != steps.Consent {
			next = relabel(k.Next, "back to "+target.String())
		}
		if s.guide.PortalLink == "" {
			return []key.Binding{next, k.Retry, k.PickError, k.Back}
		}
		return []key.Binding{next, k.Retry, k.Open, k.PickError, k.Back}
	case csPick:
		return []key.Binding{k.Next, k.Up, k.Paste, k.Back}
	case csProbe, csCheck, csStarting, csWorking, csVerify:
	}
	return []key.Binding{k.Back}
}

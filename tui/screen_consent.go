package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

type consentState int

const (
	csProbe consentState = iota
	csCheck
	csStarting
	csBrowser
	csPaste
	csDeviceIntro
	csDevice
	csWorking // redeeming a code, client credentials, or proving a rotated secret
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
	signIn   *creds.SignInReady     // the sign-in address, once the listener is up
	dc       *creds.DeviceCodeReady // the device code, once Microsoft has issued it
	started  time.Time              // when the address or code was shown, for the countdown
	pasted   chan string            // addresses pasted by the user, read by the running plan
	res      creds.Consent
	rotated  *creds.Rotated
	notes    []string // port changed, browser not opened …
	guide    oauth.Guidance
	failErr  error
	keychain bool // the failure is the keychain probe's: only retrying makes sense
	working  string
	paste    textinput.Model
	pickList []oauth.Guidance
	pick     int
	pickText bool
	spin     busySpinner
	pasteRow int // body line of the paste field, recorded by view; -1 when not drawn
}

func newConsentScreen() *consentScreen {
	p := textinput.New()
	p.Prompt = ""
	p.Placeholder = "http://localhost:53365/?code=…&state=…"
	p.CharLimit = 8192
	p.SetWidth(70)
	p.SetVirtualCursor(false)
	return &consentScreen{paste: p, pickList: oauth.KnownErrors(), spin: newBusySpinner()}
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

// stop cancels whatever this step has running; the engine closes its listener.
func (s *consentScreen) stop() tea.Cmd {
	s.attempt++
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	return nil
}

// enter starts over: the device flow first explains its portal setting, every other flow
// starts the engine's plan at once.
func (s *consentScreen) enter(c *shared) tea.Cmd {
	s.stop()
	s.signIn, s.dc, s.res, s.rotated, s.notes, s.failErr = nil, nil, creds.Consent{}, nil, nil, nil
	s.paste.SetValue("") // an address from an earlier attempt holds a used code
	s.keychain = false
	d := c.wiz.Draft
	if d.Flow == oauth.FlowDevice && c.wiz.Mode != steps.ModeRotate {
		s.state = csDeviceIntro
		return nil
	}
	return s.start(c)
}

// start runs the plan (or, for a rotation, the proof of the new secret) for this attempt.
func (s *consentScreen) start(c *shared) tea.Cmd {
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	d := c.wiz.Draft
	if c.wiz.Mode == steps.ModeRotate {
		s.state, s.working = csWorking, "Testing the new secret with Microsoft…"
		return rotateCmd(s.ctx, s.attempt, c.opts.Engine, creds.RotateRequest{
			Profile: keyring.Profile{Name: d.Profile}, NewSecret: d.ClientSecret, Expires: d.SecretExpires, Again: c.rotated != nil})
	}
	s.state = csProbe
	s.pasted = make(chan string, 4)
	events := make(chan creds.Event)
	req := creds.ConsentRequest{Draft: d, NoBrowser: c.opts.NoBrowser, Pasted: s.pasted, Timeout: c.consentTimeout()}
	return tea.Batch(consentCmd(s.ctx, s.attempt, c.opts.Engine, req, events), listenCmd(s.attempt, events))
}

func (s *consentScreen) fail(c *shared, err error) tea.Cmd {
	s.stop()
	s.state, s.failErr = csFailed, err
	s.guide = guidanceFor(err, c.wiz.Draft.App())
	var ce *creds.Error
	s.keychain = errors.As(err, &ce) && ce.Problem == creds.ProblemKeychain && ce.Op == creds.OpConsent
	return nil
}

// guidanceFor turns an engine error into what the failure screen shows.
func guidanceFor(err error, app oauth.App) oauth.Guidance {
	switch creds.ProblemOf(err) {
	case creds.ProblemKeychain:
		var ce *creds.Error
		if errors.As(err, &ce) && ce.Err != nil {
			err = ce.Err // the screen says what was being tried
		}
		return keychainGuidance(err)
	case creds.ProblemNoOfflineAccess:
		return oauth.Guidance{Title: "No refresh token", Step: oauth.StepPermissions,
			Meaning: "Without offline_access Microsoft issues no refresh token, and the credentials would stop working after an hour. Nothing was saved.",
			Action:  "Go back to Permissions, tick offline_access, and sign in again."}
	case creds.ProblemTimedOut:
		return oauth.Explain(oauth.ErrTimeout, app)
	default: // Microsoft's own answers: the catalogue explains them
	}
	var ce *creds.Error
	if errors.As(err, &ce) && ce.App.ClientID != "" {
		app = ce.App
	}
	return oauth.Explain(err, app)
}

func (s *consentScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	return s.spin.update(msg, s.busy, func() tea.Cmd { return s.handle(c, msg) })
}

// handle is update without the spinner bookkeeping.
func (s *consentScreen) handle(c *shared, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eventMsg:
		if msg.attempt != s.attempt || s.state == csDone || s.state == csFailed {
			return nil
		}
		return tea.Batch(s.event(c, msg.ev), listenCmd(msg.attempt, msg.events))
	case consentDoneMsg:
		if msg.attempt != s.attempt || errors.Is(msg.err, context.Canceled) {
			return nil
		}
		if msg.err != nil {
			return s.fail(c, msg.err)
		}
		s.res = msg.res
		return s.done(c)
	case rotatedMsg:
		if msg.attempt != s.attempt || errors.Is(msg.err, context.Canceled) {
			return nil
		}
		if msg.err != nil {
			return s.fail(c, msg.err)
		}
		s.rotated, c.rotated = &msg.res, &msg.res
		c.wiz.Draft.Token = msg.res.Token
		return s.done(c)
	case simulatedMsg:
		if msg.attempt == s.attempt && msg.err != nil {
			s.notes = append(s.notes, "The simulated browser failed: "+msg.err.Error())
		}
		return nil
	case tickMsg:
		if msg.attempt != s.attempt || (s.state != csBrowser && s.state != csPaste && s.state != csDevice) {
			return nil
		}
		return tickCmd(s.attempt) // the engine ends the sign-in at its deadline; this redraws the countdown
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

// event shows the plan's progress.
func (s *consentScreen) event(c *shared, ev creds.Event) tea.Cmd {
	switch ev := ev.(type) {
	case creds.CheckingKeychain:
		s.state = csProbe
	case creds.CheckingSecret:
		s.state = csCheck
	case creds.SignInReady:
		s.signIn, s.started = &ev, c.now()
		s.paste.Placeholder = ev.RedirectURI + "?code=…&state=…"
		if ev.BusyPort != 0 {
			s.notes = append(s.notes, fmt.Sprintf("Port %d is taken, so m365creds listens on %d instead. Microsoft ignores the port of localhost redirect URIs, so the registered address still matches.", ev.BusyPort, ev.Port))
		}
		s.state = csBrowser
		cmds := []tea.Cmd{tickCmd(s.attempt)}
		if ev.PasteFirst {
			s.state = csPaste // the listener keeps waiting too: a tunnelled browser still works
			cmds = append(cmds, s.paste.Focus())
		}
		if ev.OpenErr != nil {
			notes, simulate := browserNotOpened(c, s.attempt, ev.OpenErr, ev.URL)
			s.notes = append(s.notes, notes...)
			cmds = append(cmds, simulate)
		}
		return tea.Batch(cmds...)
	case creds.PasteRejected:
		s.notes = []string{"That is not the address the browser ended on: " + ev.Err.Error()}
	case creds.DeviceCodeReady:
		s.dc, s.started, s.state = &ev, c.now(), csDevice
		return tickCmd(s.attempt)
	case creds.Redeeming:
		s.paste.Blur()
		s.state, s.working = csWorking, "Redeeming the sign-in code…"
	case creds.GettingAppToken:
		s.state, s.working = csWorking, "Requesting an app-only token (client credentials)…"
	case creds.ReadingAccount:
		s.state = csVerify
	}
	return nil
}

func (s *consentScreen) done(c *shared) tea.Cmd {
	s.state = csDone
	if s.rotated == nil {
		c.wiz.Draft.Token = s.res.Token
		if s.res.User != nil { // a failed /me keeps the account already known (re-consent)
			c.wiz.Draft.User = s.res.User
		}
	}
	return s.stop()
}

func (s *consentScreen) key(c *shared, km tea.KeyPressMsg) tea.Cmd {
	k := c.keys
	d := &c.wiz.Draft
	if key.Matches(km, k.Back) && s.state != csPick && !(s.state == csPaste && s.signIn != nil && d.Flow == oauth.FlowBrowser) {
		return tea.Batch(s.stop(), c.back())
	}
	switch s.state {
	case csBrowser:
		switch {
		case key.Matches(km, k.Open):
			return openCmd(c, s.signIn.URL)
		case key.Matches(km, k.Copy):
			return c.copyCmd("the sign-in address", s.signIn.URL)
		case key.Matches(km, k.Paste):
			s.state = csPaste
			return s.paste.Focus()
		case key.Matches(km, k.Simulate) && c.opts.Demo != nil && c.opts.Demo.SimulateBrowser != nil:
			return simulateCmd(s.attempt, c.opts.Demo.SimulateBrowser, s.signIn.URL)
		case key.Matches(km, k.PickError):
			s.state, s.pick, s.pickText = csPick, 0, false
			if c.now().Sub(s.started) >= errorHintAfter { // start on the first error the hint named
				s.pick = max(0, slices.IndexFunc(s.pickList, func(g oauth.Guidance) bool { return g.Code == likelyErrors(*d)[0].Code }))
			}
		}
	case csPaste:
		switch {
		case key.Matches(km, k.Next):
			if _, err := oauth.ParseRedirect(s.paste.Value()); err != nil {
				s.notes = []string{"That is not the address the browser ended on: " + err.Error()}
				return nil
			}
			select {
			case s.pasted <- s.paste.Value():
				s.notes = nil
			default: // the plan has not taken the last one yet
			}
			return nil
		case key.Matches(km, k.Back):
			s.paste.Blur()
			s.state = csBrowser
			return nil
		case key.Matches(km, k.CopyAddress) && s.signIn != nil:
			// Copying the wrapped address off the screen picks up line breaks; this does not.
			return c.copyCmd("the sign-in address", s.signIn.URL)
		}
		var cmd tea.Cmd
		s.paste, cmd = s.paste.Update(km)
		return cmd
	case csDeviceIntro:
		if key.Matches(km, k.Next) {
			return s.start(c)
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
			return c.copyCmd("the admin consent link", c.opts.Engine.AdminConsentURL(*d))
		case key.Matches(km, k.Open) && d.Flow == oauth.FlowApp:
			return openCmd(c, c.opts.Engine.AdminConsentURL(*d))
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
			return c.copyCmd("the admin consent link", c.opts.Engine.AdminConsentURL(c.wiz.Draft))
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
	spin := s.spin.prefix(s.busy())
	left := max(c.consentTimeout()-c.now().Sub(s.started), 0)
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
		line(urlBlock(c, s.signIn.URL))
		line("")
		if s.state == csPaste {
			line(para(c, "The browser then ends on a page that cannot load (\"can't connect\"): that is expected. Copy the whole address from its address bar, paste it here and press enter."))
			s.pasteRow = strings.Count(b.String(), "\n")
			line(st.Title.Render("› ") + s.paste.View())
			line("")
		} else {
			line(st.Muted.Render(para(c, "It comes back here by itself. If the browser cannot reach this machine, press p and paste the address it ends on.")))
		}
		switch {
		case s.state == csPaste:
			line(st.Muted.Render(para(c, "If Microsoft shows an error on its own page instead (AADSTS…), press esc, then e.")))
		case c.now().Sub(s.started) >= errorHintAfter:
			s.viewErrorHint(c, line, width)
		default:
			line(st.Muted.Render(para(c, "If Microsoft shows an error on its own page instead (AADSTS…), press e.")))
		}
		if s.signIn.Tunnel != "" {
			line(st.Hint.Render("Or make the browser flow work: run this on your own machine first,"))
			line("  " + st.Value.Render(s.signIn.Tunnel))
			if strings.Contains(s.signIn.Tunnel, "USER@") || strings.Contains(s.signIn.Tunnel, "THIS-HOST") {
				line(st.Muted.Render(para(c, "Replace what is in capitals with your user name and this machine's address, as you reach it with ssh.")))
			}
		}
	case csDeviceIntro:
		line("Device code sign-in needs one portal setting first:")
		line(st.Value.Render(para(c, "Authentication › Advanced settings › Allow public client flows: Yes (then Save).")))
		line(linkLine(c, "", portalLinks(c).Authentication))
		line("")
		line("The credential is then a public client: it never uses the client secret.")
		line("Press enter to get a code.")
	case csDevice:
		line(linkLine(c, "On any device, open ", s.dc.VerificationURI))
		line("and enter the code:")
		line("")
		line("    " + st.Value.Render(s.dc.UserCode))
		line("")
		line(spin + "Waiting for you to finish signing in… " + st.Muted.Render(countdown))
		line(st.Muted.Render("c copies the code, ctrl+y the address, o opens the page."))
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
			line(st.Warn.Render(ansi.Wrap("! "+n, width, " ")))
		}
	}
	_ = d
	return strings.TrimRight(b.String(), "\n")
}

// errorHintAfter is how long the browser may take before the screen asks whether Microsoft
// showed an error: a sign-in that works comes back in seconds, and an error page (a wrong
// redirect URI, say) never comes back at all.
const errorHintAfter = 20 * time.Second

// viewErrorHint asks, prominently, whether Microsoft showed an error, naming the ones this
// registration most likely meets.
func (s *consentScreen) viewErrorHint(c *shared, line func(string), width int) {
	st := c.st
	line("")
	line(st.Warn.Bold(true).Render("▶ Did Microsoft show an error? press e"))
	for _, g := range likelyErrors(c.wiz.Draft) {
		line(ansi.Truncate(fmt.Sprintf("  AADSTS%-8d %s", g.Code, g.Title), width, "…"))
	}
}

// likelyErrors are the three errors a browser sign-in of this registration most often ends
// on: a redirect URI that does not match (or sits under the wrong platform), then the one its
// audience invites, then consent.
func likelyErrors(d steps.Draft) []oauth.Guidance {
	codes := []int{50011, 700016, 90094} // wrong redirect URI; wrong client ID or tenant; admin consent
	switch d.Audience {
	case oauth.PersonalOnly:
		// Registered for work accounts only, but signing in through consumers; personal
		// accounts have no administrator, so consent is the user's own.
		codes = []int{50011, 9002332, 65001}
	case oauth.MultiTenantAndPersonal:
		codes = []int{50011, 500200, 90094} // a personal account on an app registered for organisations only
	case oauth.SingleTenant, oauth.MultiTenant:
	}
	var out []oauth.Guidance
	for _, code := range codes {
		out = append(out, oauth.ExplainText(fmt.Sprintf("AADSTS%d", code), d.App()))
	}
	return out
}

// needsAdmin reports whether the error is one an administrator's consent resolves.
func needsAdmin(g oauth.Guidance) bool {
	switch g.Code {
	case 65001, 90094, 90095:
		return true
	}
	return false
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
			g.Action = sentence(ue.Hint) + " Nothing has been sent to Microsoft yet; press r to try again."
		}
	}
	return g
}

func (s *consentScreen) viewDone(c *shared, line func(string)) {
	st := c.st
	d := c.wiz.Draft
	switch {
	case s.rotated != nil:
		line(st.OK.Render("✓ The new secret works.") + " Microsoft accepted it, and it is saved.")
		line(para(c, "Scripts using this profile pick it up at once; the old secret keeps working until you delete it."))
	case d.Flow == oauth.FlowApp:
		line(st.OK.Render("✓ Got an app-only token."))
		line(para(c, "It carries the application permissions an administrator granted. If some are missing, send this admin consent link to one:"))
		line(urlBlock(c, c.opts.Engine.AdminConsentURL(d)))
		line(st.Muted.Render("c copies it, o opens it."))
	case s.res.User != nil:
		line(st.OK.Render("✓ Signed in as ") + st.Value.Render(s.res.User.DisplayName) + " (" + s.res.User.UserPrincipalName + ")")
	default:
		line(st.OK.Render("✓ Signed in.") + st.Warn.Render(" Could not read the account: "+oauth.Explain(s.res.MeErr, d.App()).Title))
	}
	if s.res.Token != nil && d.Flow != oauth.FlowApp {
		line("")
		line(st.Muted.Render(padRight("Requested", 34) + "Granted"))
		for _, scope := range s.res.Requested {
			mark := st.OK.Render("✓ granted")
			for _, m := range s.res.Missing {
				if strings.EqualFold(m, scope) {
					mark = st.Error.Render("✗ not granted (admin consent needed?)")
				}
			}
			line(padRight(shortScope(scope), 34) + mark)
		}
		if len(s.res.Missing) > 0 {
			line(st.Warn.Render("You can save now and re-consent later (m365creds, then p on the profile)."))
		}
	}
	line("")
	if s.rotated != nil {
		line("Press enter to continue.")
		return
	}
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
	line(ansi.Wrap(g.Meaning, width, " "))
	action, urls := splitURLs(g.Action, width/2)
	if action != "" {
		line("")
		text := ansi.Wrap("What to do: "+action, width, " ")
		line(st.Title.Render("What to do:") + strings.TrimPrefix(text, "What to do:"))
	}
	for _, u := range urls {
		line(linkLine(c, "", u))
	}
	if g.PortalLink != "" {
		line(pageLine(c, g.PortalLink))
	}
	if g.Raw != "" {
		line("")
		line(st.Muted.Render(ansi.Wrap("Microsoft said: "+g.Raw, width, " ")))
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
	line(para(c, "Which error did Microsoft show on its sign-in page? (p pastes its text instead)"))
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

// links are the addresses the screen shows, for the copy keys the screen leaves to the root
// (ctrl+y on the device code screen, c or ctrl+y on an error).
func (s *consentScreen) links(c *shared) []namedLink {
	switch s.state {
	case csBrowser, csPaste:
		if s.signIn != nil {
			return []namedLink{{"the sign-in address", s.signIn.URL}}
		}
	case csDeviceIntro:
		return []namedLink{{"the Authentication page link", portalLinks(c).Authentication}}
	case csDevice:
		if s.dc != nil {
			return []namedLink{{"the device login address", s.dc.VerificationURI}}
		}
	case csDone:
		if c.wiz.Draft.Flow == oauth.FlowApp {
			return []namedLink{{"the admin consent link", c.opts.Engine.AdminConsentURL(c.wiz.Draft)}}
		}
	case csFailed:
		var out []namedLink
		if needsAdmin(s.guide) {
			out = append(out, namedLink{"the admin consent link", c.opts.Engine.AdminConsentURL(c.wiz.Draft)})
		}
		_, urls := splitURLs(s.guide.Action, max(c.width-2, 40)/2)
		for _, u := range urls {
			out = append(out, namedLink{"the link under What to do", u})
		}
		if s.guide.PortalLink != "" {
			out = append(out, namedLink{"the portal page link", s.guide.PortalLink})
		}
		return uniqueLinks(out)
	case csProbe, csCheck, csStarting, csWorking, csVerify, csPick:
	}
	return nil
}

// textFocus: letters are text in the paste fields.
func (s *consentScreen) textFocus() bool { return s.typing() }

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

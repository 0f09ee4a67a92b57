package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/steps"
)

// screen is one step of the wizard. A screen changes only its own state and the draft; it asks
// the root to move on by returning navigation messages (next, back, jumpTo).
type screen interface {
	enter(c *shared) tea.Cmd
	update(c *shared, msg tea.Msg) tea.Cmd
	view(c *shared) string
	bindings(c *shared) []key.Binding
	// typing reports whether the focused field accepts '?' as text (a secret or a pasted
	// address), so '?' does not open the help there.
	typing() bool
}

// cursorer is a screen with a text field: it says where the terminal's real cursor goes,
// relative to the top-left corner of the screen's body, or nil to hide it.
type cursorer interface {
	cursorPos(c *shared) *tea.Cursor
}

// shared is what every screen can see: the wizard, the options, size, styles and keys.
type shared struct {
	wiz      *steps.Wizard
	opts     Options
	st       Styles
	keys     KeyMap
	width    int
	height   int
	bodyRows int
	fieldErr *steps.FieldError // from the last refused Next
	status   string            // one-line notice ("Copied …")
	carry    string            // a notice for the screen a navigation leads to
	ctx      context.Context   // cancelled when the program ends
	rotated  *creds.Rotated    // set once the consent step has swapped in a new secret
	// nav is the navigation a screen asked for during this update. The root carries it out
	// before the next message, so keys typed right after enter reach the new screen.
	nav tea.Msg
}

// next asks the root to validate the current step and move on.
func (c *shared) next() tea.Cmd { c.nav = nextMsg{}; return nil }

// back asks the root to go to the previous step.
func (c *shared) back() tea.Cmd { c.nav = backMsg{}; return nil }

// jumpTo asks the root to go to an earlier step (after an error that names one).
func (c *shared) jumpTo(id steps.ID) tea.Cmd { c.nav = jumpMsg{id}; return nil }

func (c *shared) consentTimeout() time.Duration {
	if c.opts.ConsentTimeout > 0 {
		return c.opts.ConsentTimeout
	}
	return creds.DefaultConsentTimeout
}

func (c *shared) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// errorFor returns the refused-Next message for a field of the current step, or "".
func (c *shared) errorFor(field string) string {
	if c.fieldErr != nil && c.fieldErr.Field == field && c.fieldErr.Step == c.wiz.Current() {
		return c.fieldErr.Msg
	}
	return ""
}

// Navigation requests (set by screens through shared.next, back and jumpTo) and messages
// handled by the root.
type (
	nextMsg   struct{}
	backMsg   struct{}
	jumpMsg   struct{ to steps.ID }
	quitMsg   struct{ result Result }
	statusMsg string
)

func finish(r Result) tea.Cmd { return func() tea.Msg { return quitMsg{r} } }

// say puts a one-line notice on the status line at once; the next key clears it.
func (c *shared) say(format string, args ...any) tea.Cmd {
	c.status = fmt.Sprintf(format, args...)
	return nil
}

// copyCmd puts text on the clipboard with OSC 52, which also reaches the local clipboard over
// SSH in terminals that support it, and says so on the status line.
func (c *shared) copyCmd(what, text string) tea.Cmd {
	c.say("Copied %s to the clipboard (if your terminal allows it; the text is on screen too).", what)
	return tea.SetClipboard(text)
}

// Model is the root of the wizard. It holds a pointer so that the copies Bubble Tea passes
// around share one state.
type Model struct{ s *state }

type state struct {
	c        shared
	screens  map[steps.ID]screen
	home     *homeScreen
	onHome   bool
	showHelp bool
	help     help.Model
	result   Result
	cancel   context.CancelFunc
	// The unfinished wizard kept between runs (see draft.go): asking is the quit question,
	// resume the resume question with the wizard it would restore.
	drafts    *draftKeeper
	draftSeq  uint64
	drafted   bool       // a draft of this wizard is kept
	initial   steps.Kept // the wizard as it started, to tell whether anything was entered
	asking    bool
	resume    *creds.Draft
	resumeWiz *steps.Wizard
	// frames, when a test sets it, receives each screen after an update, ANSI removed.
	frames chan<- string

	// helpScroll and scroll are the first lines shown of the help and of a body taller than
	// the screen; overflow says the last body drawn was taller.
	helpScroll, scroll int
	overflow           bool
	picker             *linkPicker // the list of links to copy, while it is open
}

// New builds the wizard for opts.
func New(opts Options) Model {
	ctx, cancel := context.WithCancel(context.Background())
	d := opts.Draft
	if d.Port == 0 {
		d.Port = steps.DefaultPort
	}
	s := &state{
		c: shared{
			wiz: steps.New(opts.Mode, d), opts: opts, st: NewStyles(true, opts.NoColor), keys: DefaultKeyMap(),
			width: 80, height: 24, ctx: ctx,
		},
		help:   help.New(),
		cancel: cancel,
	}
	s.help.Styles = helpStyles(true, opts.NoColor)
	s.screens = newScreens(&s.c)
	if len(opts.Profiles) > 0 {
		s.home = newHomeScreen(opts.Profiles)
		s.onHome = true
	}
	s.drafts, s.initial = draftsFor(opts), s.c.wiz.Keep()
	if s.drafts != nil && opts.Resume != nil {
		s.resume, s.resumeWiz = opts.Resume, opts.Resume.Wizard()
	}
	s.layout()
	return Model{s}
}

// newScreens builds the screens from the wizard's draft.
func newScreens(c *shared) map[steps.ID]screen {
	return map[steps.ID]screen{
		steps.Account:     newAccountScreen(c),
		steps.Register:    &registerScreen{},
		steps.IDs:         newIDsScreen(c),
		steps.Secret:      newSecretScreen(c),
		steps.Permissions: newPermissionsScreen(),
		steps.Create:      newCreateScreen(),
		steps.Consent:     newConsentScreen(),
		steps.Save:        &saveScreen{},
	}
}

// navBindings are enter and esc as the wizard's steps use them; the home screen gives both
// keys their own meaning in its bindings.
func (m Model) navBindings() []key.Binding {
	if m.s.onHome {
		return nil
	}
	return []key.Binding{m.s.c.keys.Next, m.s.c.keys.Back}
}

// stopAll ends every background task (listener, polling) the screens started: they all run
// under the model's context.
func (m Model) stopAll() {
	m.s.cancel()
	m.s.settleDraft()
}

// Init asks for the terminal's background colour and enters the first screen. The program
// sends the terminal's size by itself; asking again would only resize to the same size,
// which makes the renderer clear and redraw the whole screen if its first frame has gone out.
func (m Model) Init() tea.Cmd {
	if m.s.onHome && m.s.resume == nil {
		return tea.Batch(tea.RequestBackgroundColor, m.s.home.enter(&m.s.c))
	}
	if m.s.resume != nil {
		return tea.RequestBackgroundColor
	}
	return tea.Batch(tea.RequestBackgroundColor, m.current().enter(&m.s.c))
}

// current is the active screen. After the last step the summary of the save stays up until
// the program ends.
func (m Model) current() screen {
	id := m.s.c.wiz.Current()
	if id == steps.Done {
		id = steps.Save
	}
	return m.s.screens[id]
}

// Update routes one message: global keys first, then wizard navigation, then the active screen.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	model, cmd := m.route(msg)
	if m.s.frames != nil {
		select {
		case m.s.frames <- ansi.Strip(m.View().Content):
		default: // a test that stopped listening must not stall the program
		}
	}
	return model, cmd
}

func (m Model) route(msg tea.Msg) (tea.Model, tea.Cmd) {
	s := m.s
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case s.asking:
			return m, m.quitting(msg)
		case s.resume != nil:
			return m, m.resuming(msg)
		case key.Matches(msg, s.c.keys.Quit),
			// esc on the first step asks to quit, unless it is closing the help
			key.Matches(msg, s.c.keys.Back) && !s.onHome && !s.showHelp && s.c.wiz.Current() == steps.Account:
			return m, m.askQuit()
		}
		if s.showHelp {
			if !m.scrollKey(msg, &s.helpScroll, true) {
				s.showHelp = false
			}
			return m, nil
		}
		if s.picker != nil {
			s.c.status = ""
			return m, m.pickerKey(msg)
		}
		typing := (s.onHome && s.home.typing()) || (!s.onHome && m.current().typing())
		if key.Matches(msg, s.c.keys.Help) && (!typing || msg.String() == "f1") {
			s.showHelp, s.helpScroll = true, 0
			return m, nil
		}
		s.c.status = ""
		if b := m.copyLinkKey(); b.Enabled() && key.Matches(msg, b) {
			return m, m.copyLink()
		}
		if s.overflow && !s.onHome && !bindsKey(m.current().bindings(&s.c), msg) && m.scrollKey(msg, &s.scroll, false) {
			return m, nil
		}
		if !key.Matches(msg, s.c.keys.Next) {
			s.c.fieldErr = nil // the user is changing something: the old complaint may no longer hold
		}
	case tea.PasteMsg:
		s.c.fieldErr = nil
	case tea.WindowSizeMsg:
		s.c.width, s.c.height = msg.Width, msg.Height
		s.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		s.c.st = NewStyles(msg.IsDark(), s.c.opts.NoColor)
		s.help.Styles = helpStyles(msg.IsDark(), s.c.opts.NoColor)
		return m, nil
	case statusMsg:
		s.c.status = string(msg)
		return m, nil
	case draftKeptMsg:
		if msg.err != nil {
			s.c.status = "Your answers could not be kept for a later run: " + msg.err.Error()
		}
		return m, nil
	case quitMsg:
		s.result = msg.result
		s.cancel()
		return m, tea.Quit
	case nextMsg:
		return m, m.navigate(s.c.wiz.Next)
	case backMsg:
		return m, m.navigate(func() error {
			if !s.c.wiz.Back() {
				return errNoStepBack
			}
			return nil
		})
	case jumpMsg:
		return m, m.navigate(func() error { return s.c.wiz.JumpTo(msg.to) })
	case usePortalMsg:
		return m, m.navigate(func() error { s.c.wiz.UsePortal(); return nil })
	}
	if s.onHome {
		return m, s.home.update(&s.c, msg, m.startWizard)
	}
	cmd := m.current().update(&s.c, msg)
	if nav := s.c.nav; nav != nil {
		s.c.nav = nil
		_, navCmd := m.route(nav)
		cmd = tea.Batch(cmd, navCmd)
	}
	return m, cmd
}

// errNoStepBack is a back key on the first step: nothing happens.
var errNoStepBack = errors.New("no step before this one")

// navigate runs one wizard transition, lets the screen being left forget what it must not
// keep (the secret field), and starts the new one.
func (m Model) navigate(step func() error) tea.Cmd {
	from := m.current()
	err := step()
	if errors.Is(err, errNoStepBack) {
		if m.s.home != nil { // a wizard started from the home screen goes back there
			return m.returnHome(nil)
		}
		return m.askQuit() // esc on the first step
	}
	if l, ok := from.(interface{ leave(*shared) }); ok && err == nil {
		l.leave(&m.s.c)
	}
	return m.move(err)
}

// move finishes a navigation: on error the screen shows it; otherwise the new screen starts.
func (m Model) move(err error) tea.Cmd {
	s := m.s
	var fe *steps.FieldError
	if errors.As(err, &fe) {
		s.c.fieldErr, s.c.carry = fe, ""
		if r, ok := m.current().(interface {
			refused(*steps.FieldError) tea.Cmd
		}); ok {
			return r.refused(fe)
		}
		return nil
	}
	if err != nil {
		s.c.status, s.c.carry = err.Error(), ""
		return nil
	}
	s.c.fieldErr = nil
	s.c.status, s.c.carry = s.c.carry, ""
	s.scroll, s.picker = 0, nil
	keep := s.keepDraft()
	if s.c.wiz.Current() == steps.Done {
		saved := s.screens[steps.Save].(*saveScreen).saved
		if s.home != nil {
			return m.returnHome(saved) // the home screen reports it
		}
		s.result.Saved = saved
		s.cancel()
		return tea.Quit
	}
	return tea.Batch(keep, m.current().enter(&s.c))
}

// startWizard leaves the home screen for the wizard in mode, with fresh screens for d.
func (m Model) startWizard(mode steps.Mode, d steps.Draft) tea.Cmd {
	s := m.s
	if d.Port == 0 {
		d.Port = steps.DefaultPort
	}
	s.c.wiz = steps.New(mode, d)
	s.c.rotated, s.c.fieldErr, s.c.status = nil, nil, ""
	s.screens = newScreens(&s.c)
	s.onHome = false
	return m.current().enter(&s.c)
}

// returnHome ends a wizard started from the home screen; saved is what it saved, if anything.
func (m Model) returnHome(saved *keyring.Profile) tea.Cmd {
	s := m.s
	s.screens[steps.Consent].(*consentScreen).stop() // no listener outlives its step
	s.onHome = true
	return s.home.wizardEnded(&s.c, s.c.wiz.Mode, saved)
}

func (s *state) layout() {
	chrome := 6 // breadcrumb, rule, title, blank, status, help
	if s.c.opts.Demo != nil || s.c.opts.Banner != "" {
		chrome++
	}
	s.c.bodyRows = max(s.c.height-chrome, 6)
}

// demoBanner labels every screen of `m365creds demo`.
const demoBanner = " DEMO — simulated Microsoft endpoints, nothing leaves this machine "

// View draws the whole screen: banner, breadcrumb, title, the screen's body, status and keys.
// The real cursor, when a text field has focus, is placed from the screen's cursor.
func (m Model) View() tea.View {
	s := m.s
	c := &s.c
	st := c.st
	width := max(c.width-2, 20) // App style pads one column on each side
	var top []string
	switch {
	case c.opts.Demo != nil:
		top = append(top, st.Banner.Render(fit(demoBanner, width)))
	case c.opts.Banner != "":
		top = append(top, st.Banner.Render(fit(" "+c.opts.Banner+" ", width)))
	}
	var title, body string
	var binds []key.Binding
	var cur *tea.Cursor
	windowTitle := "m365creds"
	if s.resume != nil {
		top = append(top, st.Title.Render("m365creds")+st.Muted.Render(" — setup"))
		title = "Resume the unfinished setup?"
		body, binds = m.resumeView()
	} else if s.onHome {
		top = append(top, st.Title.Render("m365creds")+st.Muted.Render(" — profiles"))
		title, body, binds = s.home.title(), s.home.view(c), s.home.bindings(c)
		if !s.showHelp {
			cur = s.home.cursorPos(c)
		}
	} else {
		top = append(top, m.breadcrumb())
		scr := m.current()
		id := c.wiz.Current()
		title = stepTitle(c, id)
		body, binds = scr.view(c), scr.bindings(c)
		if cs, ok := scr.(cursorer); ok && !s.showHelp && !s.asking {
			cur = cs.cursorPos(c)
		}
		windowTitle = fmt.Sprintf("m365creds — %s (%d/%d)", id, c.wiz.Index()+1, len(c.wiz.Steps())-1)
		if s.asking {
			body, binds = m.quitView()
		}
	}
	top = append(top, st.Muted.Render(strings.Repeat("─", width)), st.Title.Render(title), "")

	var footer []string
	if c.status != "" {
		footer = append(footer, st.Warn.Render(wrapText(c.status, width)))
	}
	global := []key.Binding{c.keys.Help, c.keys.Quit}
	if !s.onHome && m.current().typing() { // '?' is text here: say which key opens the help
		global[0] = key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "help"))
	}
	if s.asking || s.resume != nil {
		global = global[1:] // a question answers only its own keys
	}
	if copyLink := m.copyLinkKey(); copyLink.Enabled() && !s.asking && s.resume == nil {
		binds = append(binds, copyLink)
	}
	switch {
	case s.showHelp:
		body, cur = m.helpView(width, append(append(binds, m.navBindings()...), global...)), nil
	case s.picker != nil:
		body, cur = m.pickerView(), nil
	}
	footer = append(footer, m.shortHelp(binds, global, width))

	rows := c.height - len(top) - lineCount(footer)
	bodyLines := strings.Split(body, "\n")
	if s.showHelp {
		bodyLines = scrollLines(st, bodyLines, rows, &s.helpScroll, false)
	} else {
		s.overflow = len(bodyLines) > rows
		bodyLines = scrollLines(st, bodyLines, rows, &s.scroll, true)
		if cur != nil && s.overflow {
			cur.Y -= s.scroll
			if cur.Y >= rows-2 { // under the scroll indicator or the pinned last line
				cur = nil
			}
		}
	}
	// One entry per terminal line: a wrapped status would otherwise be cut as one line.
	all := strings.Split(strings.Join(append(append(top, bodyLines...), footer...), "\n"), "\n")
	for i, l := range all {
		if strings.Contains(l, fullWidth) { // a piece of an address: first to last column
			all[i] = ansi.Truncate(strings.ReplaceAll(l, fullWidth, ""), c.width, "")
			continue
		}
		all[i] = " " + ansi.Truncate(l, width, "…") // the one-column margin
	}
	v := tea.NewView(strings.Join(all, "\n"))
	v.AltScreen = true
	v.WindowTitle = windowTitle
	if cur != nil && cur.Y >= 0 && cur.Y < rows {
		cur.Y += len(top)
		cur.X = min(cur.X, width) + 1 // the App style's left padding
		v.Cursor = cur
	}
	return v
}

// shortHelp is the one-line key help: as many of the screen's keys as fit, then the global
// ones, which are always shown so "?" stays discoverable. (help.ShortHelpView can overflow
// its width when even its ellipsis does not fit, so the cut is made here.)
func (m Model) shortHelp(binds, global []key.Binding, width int) string {
	h := m.s.help
	sep := h.Styles.ShortSeparator.Inline(true).Render(h.ShortSeparator)
	item := func(b key.Binding) string {
		return h.Styles.ShortKey.Inline(true).Render(b.Help().Key) + " " + h.Styles.ShortDesc.Inline(true).Render(b.Help().Desc)
	}
	var tail []string
	for _, b := range global {
		tail = append(tail, item(b))
	}
	g := strings.Join(tail, sep)
	room := width - ansi.StringWidth(g)
	sepWidth := ansi.StringWidth(sep)
	ellipsis := h.Styles.Ellipsis.Inline(true).Render("…")
	var parts []string
	used := 0
	binds = uniqueBindings(binds)
	for i, b := range binds {
		it := item(b)
		reserve := 0
		if i < len(binds)-1 {
			reserve = 1 + sepWidth // room for "…" and its separator
		}
		w := ansi.StringWidth(it) + sepWidth
		if used+w+reserve > room {
			parts = append(parts, ellipsis)
			break
		}
		parts = append(parts, it)
		used += w
	}
	return strings.Join(append(parts, g), sep)
}

// uniqueBindings drops bindings whose keys an earlier one already lists.
func uniqueBindings(in []key.Binding) []key.Binding {
	seen := map[string]bool{}
	var out []key.Binding
	for _, b := range in {
		k := strings.Join(b.Keys(), ",")
		if seen[k] || !b.Enabled() {
			continue
		}
		seen[k] = true
		out = append(out, b)
	}
	return out
}

func lineCount(parts []string) int {
	n := 0
	for _, p := range parts {
		n += strings.Count(p, "\n") + 1
	}
	return n
}

func chunk(b []key.Binding, n int) [][]key.Binding {
	var out [][]key.Binding
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

func (m Model) breadcrumb() string {
	c := &m.s.c
	st := c.st
	var parts []string
	cur := c.wiz.Index()
	for i, id := range c.wiz.Steps() {
		if id == steps.Done {
			continue
		}
		switch {
		case i == cur:
			parts = append(parts, st.CrumbActive.Render(id.String()))
		case i < cur:
			parts = append(parts, st.CrumbDone.Render(id.String()))
		default:
			parts = append(parts, st.Crumb.Render(id.String()))
		}
	}
	return strings.Join(parts, st.Muted.Render(" › "))
}

func stepTitle(c *shared, id steps.ID) string {
	n := fmt.Sprintf("  (%d/%d)", c.wiz.Index()+1, len(c.wiz.Steps())-1)
	rotate := c.wiz.Mode == steps.ModeRotate
	var t string
	switch id {
	case steps.Account:
		t = "Who will sign in, and where"
	case steps.Register:
		t = "Register the app in the Azure portal"
	case steps.IDs:
		t = "Copy the IDs from the app's Overview page"
	case steps.Secret:
		t = "Create a client secret and paste its Value"
		if rotate {
			t = "Add a new client secret (keep the old one until this works)"
		}
	case steps.Permissions:
		t = "Choose the Microsoft Graph permissions"
	case steps.Create:
		t = "Create the app registration through Microsoft Graph"
	case steps.Consent:
		t = "Sign in once to grant consent"
		if rotate {
			t = "Prove the new secret works"
		}
	case steps.Save:
		t = "Save to the keychain"
		if e := c.opts.Engine; e != nil && e.Store != nil && e.Store.InMemory() {
			t = "Save (in memory only: no keychain here)"
		}
	case steps.Done:
		t = "Done"
	}
	return t + n
}

// fit pads or cuts s to exactly width cells.
func fit(s string, width int) string {
	s = ansi.Truncate(s, width, "…")
	if w := ansi.StringWidth(s); w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// wrapText wraps plain text to width cells.
func wrapText(s string, width int) string {
	return lipgloss.NewStyle().Width(max(width, 10)).Render(s)
}

// helpStyles are the key line's styles; without colour they are plain, like every other style.
func helpStyles(isDark, noColor bool) help.Styles {
	if !noColor {
		return help.DefaultStyles(isDark)
	}
	plain := lipgloss.NewStyle()
	return help.Styles{Ellipsis: plain, ShortKey: plain.Bold(true), ShortDesc: plain, ShortSeparator: plain,
		FullKey: plain.Bold(true), FullDesc: plain, FullSeparator: plain}
}

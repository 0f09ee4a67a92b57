package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// sendScreen seals the selected profile's app credentials to a support person's one-time
// code (their m365creds receive) and shows the block to copy.
type sendScreen struct {
	profile keyring.Profile
	code    *textinput.Model
	problem string
	busy    bool
	attempt int
	block   string
	scroll  int
}

type sealedMsg struct {
	attempt int
	block   string
	err     error
}

// noPasswordNote is said where a user might expect to hand over a password.
const noPasswordNote = "No password is asked for or carried: Microsoft 365 apps sign in with OAuth, which needs none. Never send a mailbox password, whoever asks for it."

// canSend says why a profile has nothing to hand off, or "" when it has.
func canSend(p keyring.Profile) string {
	if p.Kind == oauth.KindPublic {
		return fmt.Sprintf("Profile %s is a public client: it has no client secret to hand off. Send the support person its client ID and tenant instead.", p.Name)
	}
	return ""
}

func newSendScreen(p keyring.Profile, c *shared) *sendScreen {
	in := newInput("age1…", max(min(62, c.width-24), 20)) // a code is 62 characters
	noColor := c.opts.NoColor
	in.CharLimit = 120
	uncolour(in, noColor)
	return &sendScreen{profile: p, code: in}
}

func (s *sendScreen) title() string { return "Seal " + s.profile.Name + " for a support person" }

func (s *sendScreen) typing() bool { return s.block == "" && !s.busy }

func (s *sendScreen) update(c *shared, msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case sealedMsg:
		if msg.attempt != s.attempt {
			return nil, false
		}
		s.busy = false
		if msg.err != nil {
			s.problem = onboardUsage(msg.err)
			return s.code.Focus(), false
		}
		s.block, s.scroll = msg.block, 0
		return nil, false
	case tea.KeyPressMsg:
		return s.key(c, msg)
	case tea.PasteMsg:
		if s.typing() {
			s.problem = ""
			updated, cmd := s.code.Update(msg)
			*s.code = updated
			return cmd, false
		}
	}
	return nil, false
}

func (s *sendScreen) key(c *shared, km tea.KeyPressMsg) (tea.Cmd, bool) {
	k := c.keys
	switch {
	case s.busy:
		if key.Matches(km, k.Back) {
			s.attempt++
			return nil, true
		}
		return nil, false
	case s.block != "":
		switch {
		case key.Matches(km, k.Copy):
			return c.copyCmd("the sealed block", s.block), false
		case key.Matches(km, k.Up), key.Matches(km, k.PageUp):
			s.scroll = max(s.scroll-scrollStep(c, km), 0)
		case key.Matches(km, k.Down), key.Matches(km, k.PageDown):
			s.scroll += scrollStep(c, km)
		case key.Matches(km, k.Back), key.Matches(km, k.Next):
			return nil, true
		}
		return nil, false
	}
	switch {
	case key.Matches(km, k.Back):
		return nil, true
	case key.Matches(km, k.Next):
		code := strings.TrimSpace(s.code.Value())
		if code == "" {
			s.problem = "Paste the code the support person's m365creds receive printed: it starts with age1."
			return nil, false
		}
		s.attempt++
		s.busy, s.problem = true, ""
		s.code.Blur()
		engine, ctx, p, attempt := c.opts.Engine, c.ctx, s.profile, s.attempt
		return func() tea.Msg {
			block, err := engine.SealProfile(ctx, p, code)
			return sealedMsg{attempt: attempt, block: block, err: err}
		}, false
	}
	s.problem = ""
	updated, cmd := s.code.Update(km)
	*s.code = updated
	return cmd, false
}

func (s *sendScreen) intro(c *shared) string {
	return para(c, fmt.Sprintf("This seals the client ID, tenant, client secret Value, its expiry and the scopes of %s to a support person's one-time code. Only the keychain that made the code can open the block, so it can go by mail or chat. Refresh and access tokens stay here.", s.profile.Name))
}

func (s *sendScreen) view(c *shared) string {
	st := c.st
	if s.block != "" {
		return s.viewBlock(c)
	}
	var b strings.Builder
	line := func(l string) { b.WriteString(l + "\n") }
	line(s.intro(c))
	line("")
	line(st.Title.Render("› ") + st.Title.Render(padRight("Support's code", 18)) + s.code.View())
	switch {
	case s.problem != "":
		line(indent(st.Error.Render(ansi.Wordwrap("✗ "+s.problem, max(c.width-24, 30), " ")), 20))
	case s.busy:
		line(indent(st.Muted.Render("Sealing…"), 20))
	default:
		line(indent(st.Hint.Render(ansi.Wordwrap("They get it from m365creds receive; it starts with age1.", max(c.width-24, 30), " ")), 20))
	}
	line("")
	line(st.Warn.Render(para(c, noPasswordNote)))
	line("")
	line("Press " + st.Key.Render("enter") + " to seal, " + st.Key.Render("esc") + " to go back.")
	return strings.TrimRight(b.String(), "\n")
}

// viewBlock shows the sealed block: its lines as they are (the code line in full-width pieces,
// as an address), so what is selected on screen is what import reads.
func (s *sendScreen) viewBlock(c *shared) string {
	st := c.st
	code := sanitize.Line(strings.TrimSpace(s.code.Value()), 120)
	short := code
	if len(code) > 20 {
		short = code[:10] + "…" + code[len(code)-6:]
	}
	head := []string{
		para(c, st.OK.Render("✓ Sealed "+s.profile.Name+" for code "+short+".")+" Send the whole block to the support person."),
		st.Warn.Render(para(c, noPasswordNote)),
		"",
	}
	var body []string
	for _, l := range strings.Split(strings.TrimRight(s.block, "\n"), "\n") {
		if ansi.StringWidth(l) > max(c.width-2, 20) {
			body = append(body, plainBlock(c, l))
			continue
		}
		body = append(body, st.Value.Render(l))
	}
	tail := "Press " + st.Key.Render("c") + " to copy the block, " + st.Key.Render("enter") + " to go back to the list."
	return fitBody(c, head, body, para(c, tail), &s.scroll)
}

// plainBlock is a line too long for the screen in exact pieces of the terminal's width, as
// urlBlock draws an address, so nothing is cut or added where the pieces join.
func plainBlock(c *shared, text string) string {
	width := max(c.width, 20)
	var lines []string
	for rest := text; rest != ""; {
		piece := ansi.Cut(rest, 0, width)
		if piece == "" {
			break
		}
		lines = append(lines, fullWidth+c.st.Value.Render(piece))
		rest = rest[len(piece):]
	}
	return strings.Join(lines, "\n")
}

func (s *sendScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	switch {
	case s.busy:
		return []key.Binding{relabel(k.Back, "stop")}
	case s.block != "":
		return []key.Binding{relabel(k.Copy, "copy block"), relabel(k.Next, "back to list")}
	}
	return []key.Binding{relabel(k.Next, "seal"), k.Back}
}

func (s *sendScreen) cursorPos(c *shared) *tea.Cursor {
	if !s.typing() {
		return nil
	}
	cur := s.code.Cursor()
	if cur == nil {
		return nil
	}
	cur.Y = strings.Count(s.intro(c), "\n") + 2
	cur.X += labelWidth
	return cur
}

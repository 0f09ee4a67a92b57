package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/oauth"
)

// registerScreen is the portal checklist: one line per thing to do, with the exact value.
type registerScreen struct {
	cursor int
	ticked map[int]bool
}

func (s *registerScreen) enter(c *shared) tea.Cmd {
	if s.ticked == nil {
		s.ticked = map[int]bool{}
	}
	return nil
}

func (s *registerScreen) typing() bool { return false }

func (s *registerScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	items := c.wiz.Draft.Checklist()
	k := c.keys
	item := items[min(s.cursor, len(items)-1)]
	switch {
	case key.Matches(km, k.Next), key.Matches(km, k.NextField):
		if !s.anyTicked() {
			// Ticking is optional, so enter still goes on, but not without a word.
			c.carry = "Nothing was ticked on the Register checklist: if a portal step was skipped, esc goes back to it."
		}
		return c.next()
	case key.Matches(km, k.Back), key.Matches(km, k.PrevField):
		return c.back()
	case key.Matches(km, k.Up):
		s.cursor = max(0, s.cursor-1)
	case key.Matches(km, k.Down):
		s.cursor = min(len(items)-1, s.cursor+1)
	case key.Matches(km, k.Toggle):
		s.ticked[s.cursor] = !s.ticked[s.cursor]
		if s.ticked[s.cursor] {
			s.cursor = min(len(items)-1, s.cursor+1)
		}
	case key.Matches(km, k.Copy):
		switch {
		case item.Value != "" && !strings.HasPrefix(item.Value, "("):
			return c.copyCmd(item.Label, item.Value)
		case item.Link != "":
			return c.copyCmd("the link", item.Link)
		}
		return c.say("Nothing to copy on this line.")
	case key.Matches(km, k.Open):
		if item.Link == "" {
			return c.say("This line has no page to open; the line above it does.")
		}
		return openCmd(c, item.Link)
	}
	return nil
}

func (s *registerScreen) anyTicked() bool {
	for _, t := range s.ticked {
		if t {
			return true
		}
	}
	return false
}

// links is the page of the line under the cursor, for ctrl+y (c copies the line's value).
func (s *registerScreen) links(c *shared) []namedLink {
	items := c.wiz.Draft.Checklist()
	if it := items[min(s.cursor, len(items)-1)]; it.Link != "" {
		return []namedLink{{"the link of " + it.Label, it.Link}}
	}
	return nil
}

func (s *registerScreen) view(c *shared) string {
	st := c.st
	items := c.wiz.Draft.Checklist()
	var b strings.Builder
	for i, it := range items {
		box := "[ ] "
		if s.ticked[i] {
			box = st.OK.Render("[x] ")
		}
		label := padRight(it.Label, 30)
		value := it.Value
		if value == "" && it.Link != "" {
			value = "press o to open"
		}
		// A value too long for the line goes on its own line: it must be readable whole.
		wrapped := ""
		// A label that fills its column would run into the value: the value moves down too.
		if 4+30+ansi.StringWidth(value) > c.width-2 || ansi.StringWidth(it.Label) >= 30 {
			wrapped, value = value, ""
		}
		line := box + label + st.Value.Render(value)
		if i == s.cursor {
			line = st.Selected.Render(box + label + value)
		}
		b.WriteString(line + "\n")
		if wrapped != "" {
			b.WriteString("      " + st.Value.Render(wrapped) + "\n")
		}
	}
	it := items[min(s.cursor, len(items)-1)]
	if it.Link == "" || c.opts.Demo == nil { // the demo's box needs the line at 80x24
		b.WriteString("\n")
	}
	if it.Link != "" {
		b.WriteString(pageLine(c, it.Link) + "\n")
	}
	if c.wiz.Draft.Flow.Kind() == oauth.KindWeb {
		b.WriteString(st.Hint.Render(para(c, "The redirect URI goes under Web (not \"Mobile and desktop\", not SPA). Microsoft ignores the port of localhost addresses when matching.")) + "\n")
	}
	if c.opts.Demo != nil {
		b.WriteString(demoBox(c, false) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *registerScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	return []key.Binding{k.Next, k.Toggle, k.Copy, k.Open, k.Back}
}

// openCmd opens url in the browser in the background. The address is always on screen too,
// because on a remote shell the browser opens (if at all) on the wrong machine.
func openCmd(c *shared, url string) tea.Cmd {
	if c.opts.NoBrowser {
		return c.say("Not opening a browser (--no-browser): the address is on screen; c copies it.")
	}
	open := c.opts.Engine.OpenBrowser
	return func() tea.Msg {
		if open == nil {
			return statusMsg("No browser can be opened here: the address is on screen; c copies it.")
		}
		if err := open(url); err != nil {
			return statusMsg("Could not open a browser (" + err.Error() + "): open the address shown yourself.")
		}
		return statusMsg("Opened in the browser.")
	}
}

package tui

import (
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// fullWidth starts a body line that holds a piece of an address. The root view prints such
// lines from the terminal's first column to its last, without the margin, the "…" cut or
// anything else that a mouse selection would pick up inside the address. The marker itself
// is removed before drawing.
const fullWidth = "\x00url\x00"

// hyperlink makes text an OSC 8 hyperlink to url: clickable in terminals that support it,
// plain text in the others. Every piece of one address carries the same id, so a terminal
// underlines and opens them as one link.
func hyperlink(url, text string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(url))
	return ansi.SetHyperlink(url, "id=m365creds-"+strconv.FormatUint(uint64(h.Sum32()), 36)) + text + ansi.ResetHyperlink()
}

// urlBlock shows url whole, on as many lines of the terminal's full width as it needs: the
// lines are exact pieces of the address, so nothing is lost or added where they join.
func urlBlock(c *shared, url string) string {
	width := max(c.width, 20)
	var lines []string
	for rest := url; ; {
		piece := ansi.Cut(rest, 0, width)
		lines = append(lines, fullWidth+hyperlink(url, c.st.Link.Render(piece))) // each piece opens the whole address
		rest = rest[len(piece):]
		if rest == "" || piece == "" {
			return strings.Join(lines, "\n")
		}
	}
}

// linkLine is label followed by url on one line when both fit in the screen's width, or the
// label on its own line and the address below it, whole (see urlBlock).
func linkLine(c *shared, label, url string) string {
	room := max(c.width-2, 20)
	link := hyperlink(url, c.st.Link.Render(url))
	if ansi.StringWidth(label)+ansi.StringWidth(url) <= room {
		return label + link
	}
	if strings.TrimSpace(ansi.Strip(label)) == "" {
		return urlBlock(c, url)
	}
	return strings.TrimRight(label, " ") + "\n" + urlBlock(c, url)
}

// pageLine is "Page: <url>" when it fits, else the address alone on full-width lines: an
// address of a portal page says what it is, and the screen keeps its line.
func pageLine(c *shared, url string) string {
	label := c.st.Muted.Render("Page: ")
	if ansi.StringWidth(label)+ansi.StringWidth(url) <= max(c.width-2, 20) {
		return label + hyperlink(url, c.st.Link.Render(url))
	}
	return urlBlock(c, url)
}

// urlRE finds addresses inside explanations, so they can be shown whole on their own lines.
var urlRE = regexp.MustCompile(`https?://[^\s"'<>]+[^\s"'<>.,;:)]`)

// splitURLs takes the addresses longer than long out of text, to be shown whole on their own
// lines under it; shorter ones stay, as wrapped prose keeps them whole. One that ends the
// text is simply dropped from it (the text reads on into the address below); one in the
// middle becomes "the address below".
func splitURLs(text string, long int) (string, []string) {
	var urls []string
	out := urlRE.ReplaceAllStringFunc(text, func(u string) string {
		if len(u) <= long {
			return u
		}
		urls = append(urls, u)
		return "\x00"
	})
	if len(urls) == 0 {
		return text, nil
	}
	out = strings.TrimSpace(out)
	out = strings.TrimSuffix(out, "\x00")
	out = strings.TrimSpace(strings.ReplaceAll(out, "\x00", "the address below"))
	return out, urls
}

// namedLink is an address on screen with what it is, for the copy list.
type namedLink struct{ name, url string }

// uniqueLinks drops the links whose address an earlier one has.
func uniqueLinks(in []namedLink) []namedLink {
	var out []namedLink
	seen := map[string]bool{}
	for _, l := range in {
		if !seen[l.url] {
			seen[l.url] = true
			out = append(out, l)
		}
	}
	return out
}

// linker is a screen with addresses on it that the root's copy key can put on the clipboard.
type linker interface {
	links(c *shared) []namedLink
}

// textFocuser is a screen whose focused field takes letters as text: there the copy key is
// ctrl+y, because c types a "c".
type textFocuser interface {
	textFocus() bool
}

// screenLinks are the addresses the current screen shows, if it lists any.
func (m Model) screenLinks() []namedLink {
	if m.s.onHome {
		return nil
	}
	if l, ok := m.current().(linker); ok {
		return l.links(&m.s.c)
	}
	return nil
}

// bindsKey reports whether one of binds answers to km: the screen's own meaning comes first.
func bindsKey(binds []key.Binding, km tea.KeyPressMsg) bool {
	for _, b := range binds {
		if b.Enabled() && key.Matches(km, b) {
			return true
		}
	}
	return false
}

// copyLinkKey is the key that copies a link on the current screen, or a disabled binding
// when the screen has no link the root copies (none, or the screen's c copies it itself).
func (m Model) copyLinkKey() key.Binding {
	c := &m.s.c
	if len(m.screenLinks()) == 0 {
		return key.NewBinding(key.WithDisabled())
	}
	binds := m.current().bindings(c)
	typing := m.current().typing()
	if tf, ok := m.current().(textFocuser); ok && tf.textFocus() {
		typing = true
	}
	var keys []string
	for _, b := range []key.Binding{c.keys.Copy, c.keys.CopyAddress} {
		name := b.Keys()[0]
		if name == c.keys.Copy.Keys()[0] && typing {
			continue // c is a letter in a text field
		}
		if !bindsKey(binds, tea.KeyPressMsg(keyFor(name))) {
			keys = append(keys, name)
		}
	}
	if len(keys) == 0 {
		return key.NewBinding(key.WithDisabled())
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], "copy link"))
}

// keyFor is the key press a binding's first key name stands for (only the copy keys).
func keyFor(name string) tea.Key {
	if name == "ctrl+y" {
		return tea.Key{Code: 'y', Mod: tea.ModCtrl}
	}
	r := []rune(name)[0]
	return tea.Key{Code: r, Text: name}
}

// linkPicker is the small list the copy key offers when a screen shows several links.
type linkPicker struct {
	links []namedLink
	pick  int
}

// copyLink handles the copy key on a screen that does not use it itself: one link is copied
// at once; several are offered as a list.
func (m Model) copyLink() tea.Cmd {
	links := m.screenLinks()
	switch len(links) {
	case 0:
		return nil
	case 1:
		return m.s.c.copyCmd(links[0].name, links[0].url)
	}
	m.s.picker = &linkPicker{links: links}
	return nil
}

// pickerKey moves in the link list, copies the chosen link, or closes the list.
func (m Model) pickerKey(km tea.KeyPressMsg) tea.Cmd {
	p, k := m.s.picker, m.s.c.keys
	switch {
	case key.Matches(km, k.Up):
		p.pick = max(0, p.pick-1)
	case key.Matches(km, k.Down):
		p.pick = min(len(p.links)-1, p.pick+1)
	case key.Matches(km, k.Next):
		m.s.picker = nil
		return m.s.c.copyCmd(p.links[p.pick].name, p.links[p.pick].url)
	default:
		if n, err := strconv.Atoi(km.String()); err == nil && n >= 1 && n <= len(p.links) {
			m.s.picker = nil
			return m.s.c.copyCmd(p.links[n-1].name, p.links[n-1].url)
		}
		m.s.picker = nil // esc or any other key closes the list
	}
	return nil
}

// pickerView draws the link list in place of the screen's body.
func (m Model) pickerView() string {
	c := &m.s.c
	st := c.st
	p := m.s.picker
	var b strings.Builder
	b.WriteString("Which link should be copied? (↑/↓ and enter, or its number; esc closes)\n\n")
	for i, l := range p.links {
		text := strconv.Itoa(i+1) + "  " + l.name
		if i == p.pick {
			text = st.Selected.Render("› " + text)
		} else {
			text = "  " + text
		}
		b.WriteString(text + "\n")
	}
	b.WriteString("\n" + linkLine(c, "", p.links[p.pick].url))
	return b.String()
}

package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/steps"
)

// helpView is the help overlay: what the current step's portal page is and the usual
// mistakes (assets/help/<step>.txt), then every key the screen answers to.
func (m Model) helpView(width int, binds []key.Binding) string {
	c := &m.s.c
	st := c.st
	var b strings.Builder
	if !m.s.onHome {
		id := c.wiz.Current()
		if id == steps.Done {
			id = steps.Save
		}
		if text := assets.Help(id.String()); text != "" {
			b.WriteString(st.Title.Render("About this step") + "\n\n")
			b.WriteString(reflow(text, width) + "\n\n")
		}
	}
	b.WriteString(st.Title.Render("Keys") + st.Muted.Render("  (↑/↓ pgup/pgdown scroll; any other key closes this)") + "\n\n")
	b.WriteString(m.s.help.FullHelpView(chunk(uniqueBindings(binds), 5)))
	return b.String()
}

// reflow wraps help text to width: each line of the file is a paragraph or a list item,
// blank lines separate them.
func reflow(text string, width int) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		indent := len(l) - len(strings.TrimLeft(l, " "))
		if strings.HasPrefix(strings.TrimSpace(l), "- ") {
			indent += 2 // a list item's continuation lines align with its text
		}
		wrapped := ansi.Wrap(strings.TrimLeft(l, " "), max(width-indent, 20), " ")
		pad := strings.Repeat(" ", indent)
		first := len(l) - len(strings.TrimLeft(l, " "))
		lines[i] = strings.Repeat(" ", first) + strings.ReplaceAll(wrapped, "\n", "\n"+pad)
	}
	return strings.Join(lines, "\n")
}

// scrollKey moves *offset for the scroll keys and reports whether km was one. The arrows
// scroll only when asked: on a screen they move its cursor.
func (m Model) scrollKey(km tea.KeyPressMsg, offset *int, arrows bool) bool {
	k := m.s.c.keys
	page := max(m.s.c.bodyRows-2, 1)
	switch {
	case !arrows && (key.Matches(km, k.Up) || key.Matches(km, k.Down)):
		return false
	case key.Matches(km, k.Up):
		*offset--
	case key.Matches(km, k.Down):
		*offset++
	case key.Matches(km, k.PageUp):
		*offset -= page
	case key.Matches(km, k.PageDown):
		*offset += page
	default:
		return false
	}
	*offset = max(*offset, 0) // the view clamps the other end, which only it knows
	return true
}

// isActionLine reports whether a screen's last line says what to press next ("Press enter to
// go back …"): that line stays on screen while the rest scrolls.
func isActionLine(l string) bool {
	return strings.HasPrefix(strings.TrimSpace(ansi.Strip(l)), "Press ")
}

// scrollLines fits lines into rows. A taller text shows a window of it starting at *offset,
// then a line saying what is hidden; with pinLast the text's last line (a screen's action
// line, "Press enter to …") stays visible under it.
func scrollLines(st Styles, lines []string, rows int, offset *int, pinLast bool) []string {
	if len(lines) <= rows {
		*offset = 0
		for len(lines) < rows {
			lines = append(lines, "")
		}
		return lines
	}
	pinned := 0
	if pinLast && isActionLine(lines[len(lines)-1]) {
		pinned = 1
	}
	window := max(rows-1-pinned, 1)
	last := max(len(lines)-pinned-window, 0)
	*offset = min(max(*offset, 0), last)
	out := append([]string(nil), lines[*offset:*offset+window]...)
	var where []string
	if *offset > 0 {
		where = append(where, fmt.Sprintf("↑ %d lines above", *offset))
	}
	if below := last - *offset; below > 0 {
		where = append(where, fmt.Sprintf("↓ %d more below", below))
	}
	keys := "pgup/pgdown scroll"
	if !pinLast {
		keys = "↑/↓ scroll"
	}
	out = append(out, st.Muted.Render("── "+strings.Join(where, " · ")+" ("+keys+") ──"))
	if pinned == 1 {
		out = append(out, lines[len(lines)-1])
	}
	return out[:min(len(out), max(rows, 0))]
}

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

// presetRow is the cursor position of the preset line above the table.
const presetRow = -1

// permissionsScreen is the permission table, then the portal instruction for what was ticked.
// Letters type into the filter; the table scrolls within the rows the screen has.
type permissionsScreen struct {
	filter  string
	cursor  int // a table row, or presetRow
	offset  int // first table row shown
	preset  int // preset chosen on the preset line
	portal  bool
	presets []assets.Preset
	rows    []steps.ScopeRow // rows for the current filter, recomputed only when it changes
	rowsFor string
}

func newPermissionsScreen() *permissionsScreen {
	return &permissionsScreen{presets: assets.Presets(), rowsFor: "\x00"}
}

func (s *permissionsScreen) enter(c *shared) tea.Cmd {
	s.portal = false
	return nil
}

// typing is false: no scope name contains '?', so '?' opens the help even while filtering.
func (s *permissionsScreen) typing() bool { return false }

// cursor sits at the end of the filter text while the table is shown.
func (s *permissionsScreen) cursorPos(c *shared) *tea.Cursor {
	if s.portal {
		return nil
	}
	return tea.NewCursor(len("Filter: ")+ansi.StringWidth(s.filter), 0)
}

func (s *permissionsScreen) visibleRows(c *shared) []steps.ScopeRow {
	if s.rowsFor != s.filter {
		s.rows = c.wiz.Draft.PermissionRows(s.filter)
		s.rowsFor = s.filter
	}
	// Selection changes do not change which rows match, only their marks.
	for i := range s.rows {
		s.rows[i].Selected = c.wiz.Draft.HasScope(s.rows[i].Scope)
	}
	return s.rows
}

// Lines of the body that are not table rows: filter, presets, header, detail, legend.
const permChrome = 5

// adminLegend explains the ADMIN column in words, so it reads without colour.
const adminLegend = "ADMIN yes: always · yes*: in tenants on Microsoft's default policy · -: never"

// adminMark is the ADMIN cell: who must consent under the default user-consent policy.
func adminMark(c assets.UserConsent) string {
	switch c {
	case assets.AdminConsentAlways:
		return "yes"
	case assets.AdminConsentOnDefaultPolicy:
		return "yes*"
	case assets.UsersCanConsent:
	}
	return "-"
}

// tableRows is how many table rows fit, given the warnings shown under the table.
func (s *permissionsScreen) tableRows(c *shared) int {
	return max(c.bodyRows-permChrome-len(warningLines(c)), 3)
}

// warningLines are the warnings under the table, wrapped to the screen: they say what breaks
// (no refresh token without offline_access), so they are never cut.
func warningLines(c *shared) []string {
	var out []string
	for _, w := range c.wiz.Draft.ScopeWarnings() {
		out = append(out, strings.Split(para(c, "! "+w), "\n")...)
	}
	return out
}

func (s *permissionsScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	if s.portal {
		return s.updatePortal(c, msg)
	}
	k := c.keys
	switch msg := msg.(type) {
	case tea.PasteMsg:
		s.setFilter(s.filter + strings.TrimSpace(msg.Content))
		return nil
	case tea.KeyPressMsg:
		rows := s.visibleRows(c)
		page := s.tableRows(c)
		var cmd tea.Cmd
		switch {
		case key.Matches(msg, k.Next):
			if len(c.wiz.Draft.Scopes) == 0 {
				return c.say("Tick at least one permission first (space).")
			}
			if c.wiz.Draft.Path == steps.PathGraph {
				return c.next() // the registration lists them: nothing to add in the portal
			}
			s.portal = true
			return nil
		case key.Matches(msg, k.Back), key.Matches(msg, k.PrevField):
			if s.filter != "" && key.Matches(msg, k.Back) {
				s.setFilter("")
				return nil
			}
			return c.back()
		case key.Matches(msg, k.Up):
			s.cursor--
		case key.Matches(msg, k.Down):
			s.cursor++
		case key.Matches(msg, k.PageUp):
			s.cursor = max(0, s.cursor-page)
		case key.Matches(msg, k.PageDown):
			s.cursor += page
		case s.cursor == presetRow && key.Matches(msg, k.Left):
			s.preset = (s.preset + len(s.presets) - 1) % len(s.presets)
		case s.cursor == presetRow && key.Matches(msg, k.Right):
			s.preset = (s.preset + 1) % len(s.presets)
		case s.cursor == presetRow && key.Matches(msg, k.Toggle):
			cmd = s.apply(c, s.preset)
		case key.Matches(msg, k.Toggle):
			if len(rows) > 0 {
				c.wiz.Draft.ToggleScope(rows[s.cursor].Scope)
			}
		case msg.String() == "backspace":
			if s.filter != "" {
				r := []rune(s.filter)
				s.setFilter(string(r[:len(r)-1]))
			}
		case len(msg.Text) == 1 && msg.Text[0] >= '1' && msg.Text[0] <= '9':
			if i := int(msg.Text[0] - '1'); i < len(s.presets) {
				cmd = s.apply(c, i)
			}
		case msg.Text != "" && (msg.Mod == 0 || msg.Mod == tea.ModShift):
			s.setFilter(s.filter + msg.Text)
		}
		s.cursor = max(presetRow, min(s.cursor, len(rows)-1))
		s.scroll(page)
		return cmd
	}
	return nil
}

func (s *permissionsScreen) apply(c *shared, i int) tea.Cmd {
	p := s.presets[i]
	c.wiz.Draft.ApplyPreset(p)
	return c.say("Added preset %s: %s.", p.Name, strings.Join(p.Scopes, ", "))
}

// scroll keeps the cursor row inside the window of page rows.
func (s *permissionsScreen) scroll(page int) {
	cur := max(s.cursor, 0)
	if cur < s.offset {
		s.offset = cur
	}
	if cur >= s.offset+page {
		s.offset = cur - page + 1
	}
}

func (s *permissionsScreen) setFilter(f string) {
	s.filter = f
	s.cursor, s.offset = 0, 0
}

func (s *permissionsScreen) updatePortal(c *shared, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, c.keys.Next):
		return c.next()
	case key.Matches(km, c.keys.Back), key.Matches(km, c.keys.PrevField):
		s.portal = false
	case key.Matches(km, c.keys.Copy):
		return c.copyCmd("the permission list", c.wiz.Draft.PortalScopeList())
	}
	return nil
}

// Column widths of the table; the summary takes what is left, and from 110 columns on a
// "needed for" column appears.
const (
	colBox      = 4
	colScope    = 27
	colAdmin    = 6
	colPersonal = 8
)

func (s *permissionsScreen) view(c *shared) string {
	if s.portal {
		return s.viewPortal(c)
	}
	st := c.st
	width := max(c.width-2, 40)
	rows := s.visibleRows(c)
	var b strings.Builder
	filter := s.filter
	if filter == "" {
		filter = st.Hint.Render("type to filter")
	}
	b.WriteString("Filter: " + filter + st.Muted.Render(fmt.Sprintf("   %d selected · %d of %d shown", len(c.wiz.Draft.Scopes), len(rows), len(assets.Permissions()))) + "\n")
	b.WriteString(s.presetLines(c, width) + "\n")

	rest := width - colBox - colScope - colAdmin - colPersonal
	summaryWidth, neededWidth := rest, 0
	if width >= 110 {
		summaryWidth = rest * 55 / 100
		neededWidth = rest - summaryWidth
	}
	cell := func(text string, w int) string {
		return padRight(ansi.Truncate(text, w-1, "…"), w)
	}
	header := strings.Repeat(" ", colBox) + cell("SCOPE", colScope) + cell("WHAT IT ALLOWS", summaryWidth)
	if neededWidth > 0 {
		header += cell("NEEDED FOR", neededWidth)
	}
	b.WriteString(st.Muted.Render(header+cell("ADMIN", colAdmin)+"PERSONAL") + "\n")

	page := s.tableRows(c)
	s.scroll(page)
	if len(rows) == 0 {
		b.WriteString(st.Warn.Render("No permission matches \""+s.filter+"\". Backspace or esc clears the filter.") + "\n")
	}
	for i := s.offset; i < min(len(rows), s.offset+page); i++ {
		r := rows[i]
		box := "[ ] "
		if r.Selected {
			box = "[x] "
		}
		admin, personal := adminMark(r.UserConsent), "yes"
		if !r.Personal {
			personal = "no"
		}
		if r.Problem != "" {
			if strings.HasPrefix(r.Problem, "work") {
				personal = "✗ no"
			} else {
				admin = "✗ yes"
			}
		}
		line := box + cell(r.Scope, colScope) + cell(r.Summary, summaryWidth)
		if neededWidth > 0 {
			line += cell(r.NeededFor, neededWidth)
		}
		line += cell(admin, colAdmin) + personal
		switch {
		case i == s.cursor:
			line = st.Selected.Render(line)
		case r.Problem != "":
			line = st.Muted.Render(line)
		case r.Selected:
			line = st.OK.Render(line)
		}
		b.WriteString(line + "\n")
	}
	switch {
	case s.cursor == presetRow:
		b.WriteString(st.Hint.Render("←/→ choose a preset, space adds its permissions, ↓ back to the table") + "\n")
	case len(rows) > 0:
		r := rows[s.cursor]
		detail := "Needed for: " + r.NeededFor
		if r.Problem != "" {
			detail = "✗ " + r.Scope + ": " + r.Problem
		}
		b.WriteString(st.Hint.Render(ansi.Truncate(detail, width, "…")) + "\n")
	}
	b.WriteString(st.Muted.Render(ansi.Truncate(adminLegend, width, "…")) + "\n")
	for _, w := range warningLines(c) {
		b.WriteString(st.Warn.Render(w) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// presetLines draws the preset line. The first nine presets have number keys; up from the
// first table row reaches the line itself, where left/right go through every preset and space
// adds the one shown.
func (s *permissionsScreen) presetLines(c *shared, width int) string {
	st := c.st
	if s.cursor == presetRow {
		p := s.presets[s.preset]
		name := p.Name
		if s.preset < 9 {
			name = fmt.Sprintf("%d %s", s.preset+1, p.Name)
		}
		line := "Preset " + st.Selected.Render("‹ "+name+" ›") + " " + p.Title + ": " + strings.Join(p.Scopes, " ")
		return ansi.Truncate(line, width, "…")
	}
	words := make([]string, 0, 9)
	for i, p := range s.presets[:min(9, len(s.presets))] {
		words = append(words, fmt.Sprintf("%d %s", i+1, p.Name))
	}
	hint := fmt.Sprintf(" (↑ browses all %d)", len(s.presets))
	list := ansi.Truncate("Presets: "+strings.Join(words, " · "), width-ansi.StringWidth(hint), "…")
	return st.Muted.Render(list + hint)
}

func (s *permissionsScreen) viewPortal(c *shared) string {
	st := c.st
	var b strings.Builder
	b.WriteString("Now add the same permissions to the app in the portal:\n")
	b.WriteString(st.Value.Render(para(c, "API permissions › + Add a permission › Microsoft Graph › Delegated permissions")) + "\n")
	b.WriteString("then tick these and press Add permissions (c copies the list):\n\n")
	for _, line := range strings.Split(c.wiz.Draft.PortalScopeList(), "\n") {
		b.WriteString("  " + st.Value.Render(line) + "\n")
	}
	b.WriteString("\n" + pageLine(c, portalLinks(c).APIPermissions) + "\n")
	return strings.TrimRight(b.String(), "\n")
}

// textFocus: letters type into the filter while the table is shown.
func (s *permissionsScreen) textFocus() bool { return !s.portal }

// links is the API permissions page, shown once the table is done.
func (s *permissionsScreen) links(c *shared) []namedLink {
	if !s.portal {
		return nil
	}
	return []namedLink{{"the API permissions link", portalLinks(c).APIPermissions}}
}

func (s *permissionsScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	if s.portal {
		return []key.Binding{k.Next, k.Copy, k.Back}
	}
	return []key.Binding{k.Next, k.Toggle, k.Up, k.Presets, k.PageDown, k.Back}
}

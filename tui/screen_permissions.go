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

// permissionsScreen is the permission table, then the portal instruction for what was ticked.
type permissionsScreen struct {
	filter  string
	cursor  int
	offset  int
	portal  bool // showing the "now add them in the portal" part
	presets []assets.Preset
	rows    []steps.ScopeRow // rows for the current filter, recomputed on change
	rowsFor string
}

func newPermissionsScreen() *permissionsScreen {
	return &permissionsScreen{presets: assets.Presets(), rowsFor: "\x00"}
}

func (s *permissionsScreen) enter(c *shared) tea.Cmd {
	s.portal = false
	return nil
}

// typing is true: letters go to the filter.
func (s *permissionsScreen) typing() bool { return !s.portal }

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

func (s *permissionsScreen) tableRows(c *shared) int { return max(c.bodyRows-7, 3) }

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
		switch {
		case key.Matches(msg, k.Next):
			if len(c.wiz.Draft.Scopes) == 0 {
				return notify("Tick at least one permission first (space).")
			}
			s.portal = true
			return nil
		case key.Matches(msg, k.Back), key.Matches(msg, k.PrevField):
			if s.filter != "" && key.Matches(msg, k.Back) {
				s.setFilter("")
				return nil
			}
			return back
		case key.Matches(msg, k.Up):
			s.cursor--
		case key.Matches(msg, k.Down):
			s.cursor++
		case key.Matches(msg, k.PageUp):
			s.cursor -= page
		case key.Matches(msg, k.PageDown):
			s.cursor += page
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
				c.wiz.Draft.ApplyPreset(s.presets[i])
				return notify("Added preset %s: %s.", s.presets[i].Name, strings.Join(s.presets[i].Scopes, ", "))
			}
		case msg.Text != "" && msg.Mod == 0 || msg.Text != "" && strings.HasPrefix(msg.String(), "shift+"):
			s.setFilter(s.filter + msg.Text)
		}
		s.cursor = max(0, min(s.cursor, len(rows)-1))
		if s.cursor < s.offset {
			s.offset = s.cursor
		}
		if s.cursor >= s.offset+page {
			s.offset = s.cursor - page + 1
		}
	}
	return nil
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
		return next
	case key.Matches(km, c.keys.Back), key.Matches(km, c.keys.PrevField):
		s.portal = false
	case key.Matches(km, c.keys.Copy):
		return copyCmd("the permission list", c.wiz.Draft.PortalScopeList())
	}
	return nil
}

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
	b.WriteString(st.Muted.Render("Filter: ") + filter + st.Muted.Render(fmt.Sprintf("   %d selected · %d shown", len(c.wiz.Draft.Scopes), len(rows))) + "\n")
	var presets []string
	for i, p := range s.presets[:min(9, len(s.presets))] {
		presets = append(presets, fmt.Sprintf("%d %s", i+1, p.Name))
	}
	b.WriteString(ansi.Truncate(st.Muted.Render("Presets: "+strings.Join(presets, " · ")), width, "…") + "\n")
	page := s.tableRows(c)
	if len(rows) == 0 {
		b.WriteString("\n" + st.Warn.Render("No permission matches \""+s.filter+"\". Backspace or esc clears the filter.") + "\n")
	}
	summaryWidth := max(width-4-26-12, 10)
	for i := s.offset; i < min(len(rows), s.offset+page); i++ {
		r := rows[i]
		box := "[ ] "
		if r.Selected {
			box = "[x] "
		}
		flags := ""
		switch {
		case r.Problem != "":
			flags = "✗ " + shortProblem(r.Problem)
		case r.AdminConsent:
			flags = "admin"
		case !r.Personal:
			flags = "work only"
		}
		line := box + padRight(r.Scope, 26) + padRight(ansi.Truncate(r.Summary, summaryWidth-1, "…"), summaryWidth) + flags
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
	if len(rows) > 0 {
		r := rows[s.cursor]
		detail := "Needed for: " + r.NeededFor
		if r.Problem != "" {
			detail += " — " + r.Problem
		}
		b.WriteString(st.Hint.Render(ansi.Truncate(detail, width, "…")) + "\n")
	}
	for _, w := range c.wiz.Draft.ScopeWarnings() {
		b.WriteString(st.Warn.Render(ansi.Truncate("! "+w, width, "…")) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func shortProblem(p string) string {
	if strings.HasPrefix(p, "work") {
		return "work only"
	}
	return "admin only"
}

func (s *permissionsScreen) viewPortal(c *shared) string {
	st := c.st
	var b strings.Builder
	b.WriteString("Now add the same permissions to the app in the portal:\n")
	b.WriteString(st.Value.Render("API permissions › + Add a permission › Microsoft Graph › Delegated permissions") + "\n")
	b.WriteString("then tick these and press Add permissions:\n\n")
	for _, line := range strings.Split(c.wiz.Draft.PortalScopeList(), "\n") {
		b.WriteString("  " + st.Value.Render(line) + "\n")
	}
	b.WriteString("\n" + st.Muted.Render("Page: ") + st.Link.Render(portalLinks(c).APIPermissions) + "\n")
	return strings.TrimRight(b.String(), "\n")
}

func (s *permissionsScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	if s.portal {
		return []key.Binding{k.Next, k.Copy, k.Back}
	}
	return []key.Binding{k.Next, k.Toggle, k.Up, k.Presets, k.Back}
}

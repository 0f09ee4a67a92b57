package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/steps"
)

type idsScreen struct{ form form }

func newIDsScreen(c *shared) *idsScreen {
	d := c.wiz.Draft
	// "e.g." marks the all-zero GUIDs as examples, which without colour look like values.
	client := newInput("e.g. 00000000-0000-0000-0000-000000000000", 42)
	client.SetValue(d.ClientID)
	client.CharLimit = 80
	tenant := newInput("e.g. 00000000-0000-0000-0000-000000000000", 42)
	tenant.SetValue(d.TenantID)
	tenant.CharLimit = 80
	return &idsScreen{form: form{fields: []*field{
		{name: "client-id", label: "Application ID", input: client, hint: "Application (client) ID — Overview page, not the Object ID.",
			check: func(v string) (string, string) {
				if _, err := steps.CheckClientID(v); err != nil {
					return "", err.Error()
				}
				return "looks like a client ID", ""
			}},
		{name: "tenant-id", label: "Directory ID", input: tenant, hint: "Directory (tenant) ID, on the same page. Single-tenant apps need it.",
			check: func(v string) (string, string) {
				if _, err := steps.CheckGUID(v); err != nil {
					return "", "Not a Directory (tenant) ID: " + err.Error()
				}
				if strings.EqualFold(strings.TrimSpace(v), c.wiz.Draft.Tenant) {
					return "the tenant given on step 1", ""
				}
				return "looks like a tenant ID", ""
			}},
	}}}
}

// enter shows what the draft holds: the Account step may have filled in the Directory ID.
func (s *idsScreen) enter(c *shared) tea.Cmd {
	d := c.wiz.Draft
	s.form.fields[0].input.SetValue(d.ClientID)
	s.form.fields[1].input.SetValue(d.TenantID)
	s.form.fields[1].hint = "Directory (tenant) ID, on the same page. Single-tenant apps need it."
	if _, err := steps.CheckGUID(d.Tenant); err == nil {
		s.form.fields[1].hint = "Filled in from the tenant given on step 1."
	} else if d.Tenant != "" {
		s.form.fields[1].hint = "Optional: step 1 named the tenant (" + d.Tenant + ")."
	}
	return s.form.focusOn(s.form.focus)
}

func (s *idsScreen) typing() bool                         { return false } // IDs never contain '?'
func (s *idsScreen) textFocus() bool                      { return true }
func (s *idsScreen) cursorPos(c *shared) *tea.Cursor      { return s.form.cursor() }
func (s *idsScreen) refused(fe *steps.FieldError) tea.Cmd { return s.form.focusField(fe.Field) }

func (s *idsScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	cmd, forward, backward := s.form.update(c, msg)
	c.wiz.Draft.ClientID = s.form.fields[0].input.Value()
	c.wiz.Draft.TenantID = s.form.fields[1].input.Value()
	switch {
	case forward:
		return c.next()
	case backward:
		return c.back()
	}
	return cmd
}

func (s *idsScreen) view(c *shared) string {
	var b strings.Builder
	b.WriteString(c.st.Muted.Render("Both are in the Essentials box of the app's Overview page. Pasting works.") + "\n\n")
	s.form.top = 2
	b.WriteString(s.form.view(c, c.errorFor))
	if c.opts.Demo != nil {
		b.WriteString("\n\n" + demoBox(c, true))
	}
	return b.String()
}

func (s *idsScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	return []key.Binding{k.Next, k.NextField, k.Back}
}

// demoObjectID is what the simulated Overview page shows as the Object ID: the value people
// paste by mistake instead of the client ID.
const demoObjectID = "3c9d5e7f-8a1b-4c2d-9e3f-5a7b9c1d3e5f"

// demoBox shows what the simulated portal's pages show, in a box titled so, including the
// values people copy by mistake (Object ID, Secret ID). It appears only on the screens that
// ask for these values; the secret's Value is never drawn after the Secret step.
func demoBox(c *shared, objectID bool) string {
	demo := c.opts.Demo
	st := c.st
	rows := [][2]string{
		{"Application (client) ID", demo.ClientID},
		{"Directory (tenant) ID", demo.TenantID},
	}
	if objectID {
		rows = append(rows, [2]string{"Object ID (not this one!)", demoObjectID})
	}
	rows = append(rows, [2]string{"Secret Value", demo.SecretValue}, [2]string{"Secret ID (not this one!)", demo.SecretID})
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = st.Muted.Render(padRight(r[0], 27)) + st.Value.Render(r[1])
	}
	box := strings.Split(st.Box.Render(strings.Join(lines, "\n")), "\n")
	// The title goes into the top border, which saves a line at 80x24.
	border := st.Box.GetBorderStyle()
	title := border.Top + " The simulated portal shows "
	inner := ansi.StringWidth(box[0]) - ansi.StringWidth(border.TopLeft) - ansi.StringWidth(border.TopRight)
	if fill := inner - ansi.StringWidth(title); fill > 0 {
		box[0] = st.Muted.Render(border.TopLeft + title + strings.Repeat(border.Top, fill) + border.TopRight)
	}
	return strings.Join(box, "\n")
}

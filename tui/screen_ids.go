package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/steps"
)

type idsScreen struct{ form form }

func newIDsScreen(c *shared) *idsScreen {
	d := c.wiz.Draft
	client := newInput("00000000-0000-0000-0000-000000000000", 40)
	client.SetValue(d.ClientID)
	client.CharLimit = 80
	tenant := newInput("00000000-0000-0000-0000-000000000000", 40)
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
		{name: "tenant-id", label: "Directory ID", input: tenant, hint: "Directory (tenant) ID, on the same page.",
			check: func(v string) (string, string) {
				if _, err := steps.CheckGUID(v); err != nil {
					return "", "Not a Directory (tenant) ID: " + err.Error()
				}
				return "looks like a tenant ID", ""
			}},
	}}}
}

func (s *idsScreen) enter(c *shared) tea.Cmd              { return s.form.focusOn(s.form.focus) }
func (s *idsScreen) typing() bool                         { return true }
func (s *idsScreen) refused(fe *steps.FieldError) tea.Cmd { return s.form.focusField(fe.Field) }

func (s *idsScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	cmd, forward, backward := s.form.update(c, msg)
	c.wiz.Draft.ClientID = s.form.fields[0].input.Value()
	c.wiz.Draft.TenantID = s.form.fields[1].input.Value()
	switch {
	case forward:
		return next
	case backward:
		return back
	}
	return cmd
}

func (s *idsScreen) view(c *shared) string {
	var b strings.Builder
	b.WriteString(c.st.Muted.Render("Both are in the Essentials box of the app's Overview page. Pasting works.") + "\n\n")
	b.WriteString(s.form.view(c, c.errorFor))
	if demo := c.opts.Demo; demo != nil {
		b.WriteString("\n\n" + demoBox(c, [][2]string{{"Application (client) ID", demo.ClientID}, {"Directory (tenant) ID", demo.TenantID}, {"Object ID (not this one!)", "3c9d5e7f-8a1b-4c2d-9e3f-5a7b9c1d3e5f"}}))
	}
	return b.String()
}

func (s *idsScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	return []key.Binding{k.Next, k.NextField, k.Back}
}

// demoBox shows what the simulated portal would show on its pages.
func demoBox(c *shared, rows [][2]string) string {
	var lines []string
	lines = append(lines, c.st.Warn.Render("The simulated portal shows:"))
	for _, r := range rows {
		lines = append(lines, c.st.Muted.Render(padRight(r[0], 27))+c.st.Value.Render(r[1]))
	}
	return c.st.Box.Render(strings.Join(lines, "\n"))
}

package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

type secretScreen struct {
	form     form
	revealed bool
}

func newSecretScreen(c *shared) *secretScreen {
	secret := newInput("paste the Value column here", 48)
	secret.EchoMode = textinput.EchoPassword
	secret.EchoCharacter = '•'
	secret.CharLimit = 256
	expiry := newInput("6m, 12m, 18m, 24m or 2027-05-01", 30)
	if c.wiz.Draft.SecretExpires.IsZero() {
		expiry.SetValue("6m")
	} else {
		expiry.SetValue(c.wiz.Draft.SecretExpires.Format("2006-01-02"))
	}
	s := &secretScreen{}
	s.form = form{fields: []*field{
		{name: "secret", label: "Secret Value", input: secret},
		{name: "expiry", label: "Expires", input: expiry, hint: "The expiry you picked in the portal: 6m, 12m, 18m, 24m, or a date.",
			check: func(v string) (string, string) {
				t, err := steps.ParseExpiry(v, c.now())
				if err != nil {
					return "", err.Error()
				}
				return fmt.Sprintf("expires %s (in %d days)", t.Format("2 Jan 2006"), daysUntil(c, t)), ""
			}},
	}}
	return s
}

// enter never puts an entered secret back on screen, not even masked: the field starts empty
// and an empty field keeps what was entered before.
func (s *secretScreen) enter(c *shared) tea.Cmd {
	in := s.form.fields[0].input
	in.SetValue("")
	if c.wiz.Draft.ClientSecret != "" {
		in.Placeholder = "(secret entered — type or paste to replace it)"
	}
	s.revealed = false
	in.EchoMode = textinput.EchoPassword
	return s.form.focusOn(0)
}

func (s *secretScreen) typing() bool { return true }

func (s *secretScreen) refused(fe *steps.FieldError) tea.Cmd { return s.form.focusField(fe.Field) }

func (s *secretScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok && key.Matches(km, c.keys.Reveal) {
		s.revealed = !s.revealed
		in := s.form.fields[0].input
		in.EchoMode = textinput.EchoPassword
		if s.revealed {
			in.EchoMode = textinput.EchoNormal
		}
		return nil
	}
	cmd, forward, backward := s.form.update(c, msg)
	d := &c.wiz.Draft
	if v := s.form.fields[0].input.Value(); v != "" {
		d.ClientSecret = v
	}
	if t, err := steps.ParseExpiry(s.form.fields[1].input.Value(), c.now()); err == nil {
		d.SecretExpires = t
	} else {
		d.SecretExpires = zeroTime
	}
	switch {
	case forward:
		s.mask()
		return next
	case backward:
		s.mask()
		return back
	}
	return cmd
}

// mask hides the value again whenever the screen is left.
func (s *secretScreen) mask() {
	s.revealed = false
	s.form.fields[0].input.EchoMode = textinput.EchoPassword
}

func (s *secretScreen) view(c *shared) string {
	st := c.st
	var b strings.Builder
	links := oauth.PortalLinks(c.wiz.Draft.Cloud, c.wiz.Draft.ClientID)
	if c.wiz.Mode == steps.ModeRotate {
		b.WriteString(para(c, "In the portal: Certificates & secrets › + New client secret. Do not delete the old one yet: it keeps working until the new one is proven and saved.") + "\n")
	} else {
		b.WriteString(para(c, "In the portal: Certificates & secrets › + New client secret › Add. Copy the Value column at once (it is shown only once), not the Secret ID.") + "\n")
	}
	b.WriteString(st.Link.Render(links.Credentials) + "\n\n")
	b.WriteString(s.form.view(c, c.errorFor))
	if raw := s.form.fields[0].input.Value(); raw != "" {
		check := steps.CheckSecret(raw)
		b.WriteString("\n")
		switch {
		case check.Err != nil:
			b.WriteString(st.Error.Render(para(c, "✗ "+check.Err.Error())) + "\n")
		case check.LooksCurrent:
			b.WriteString(st.OK.Render("✓ the shape of a current Entra ID secret Value") + "\n")
		}
		for _, w := range check.Warnings {
			b.WriteString(st.Warn.Render(para(c, "! "+w)) + "\n")
		}
	}
	if demo := c.opts.Demo; demo != nil {
		b.WriteString("\n" + demoBox(c, [][2]string{{"Value", demo.SecretValue}, {"Secret ID", demo.SecretID}}))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *secretScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	return []key.Binding{k.Next, k.NextField, k.Reveal, k.Back}
}

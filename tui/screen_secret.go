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

// Field positions on the secret screen.
const (
	secretField = iota
	expiryChoiceField
	expiryDateField
)

type secretScreen struct {
	form     form
	revealed bool
	choices  []string // steps.ExpiryChoices, then "a date"
}

// otherDate is the last expiry choice: the user types the date the portal showed.
const otherDate = "a date…"

func newSecretScreen(c *shared) *secretScreen {
	secret := newInput("paste the Value column here", 48)
	secret.EchoMode = textinput.EchoPassword
	secret.EchoCharacter = '•'
	secret.CharLimit = 256
	date := newInput("e.g. 2027-05-01", 16)
	date.CharLimit = 10
	s := &secretScreen{choices: append(append([]string(nil), steps.ExpiryChoices...), otherDate)}
	choice := max(0, indexOf(s.choices, "180d")) // the portal's recommended lifetime
	if t := c.wiz.Draft.SecretExpires; !t.IsZero() {
		choice = len(s.choices) - 1
		date.SetValue(t.Format("2006-01-02"))
	}
	labels := make([]string, len(s.choices))
	for i, ch := range s.choices {
		labels[i] = ch
		if l, ok := expiryLabels[ch]; ok {
			labels[i] = l
		}
	}
	s.form = form{fields: []*field{
		{name: "secret", label: "Secret Value", input: secret},
		{name: "expiry-choice", label: "Expires after", options: labels, choice: choice,
			explain: func(i int) string {
				if s.choices[i] == otherDate {
					return "\"Custom\" in the portal: the date in the Expires column of Certificates & secrets."
				}
				t, err := steps.ParseExpiry(s.choices[i], c.now())
				if err != nil {
					return err.Error()
				}
				return fmt.Sprintf("The expiry you picked in the portal: %s (in %d days).", t.Format("2 Jan 2006"), daysUntil(c, t))
			}},
		{name: "expiry", label: "Expiry date", input: date, hint: "YYYY-MM-DD, as the portal shows it.",
			hidden: func() bool { return s.choices[s.form.fields[expiryChoiceField].choice] != otherDate },
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

// expiryLabels name the lifetimes as the portal's Expires list does.
var expiryLabels = map[string]string{
	"90d":  "90 days (3 months)",
	"180d": "180 days (6 months, recommended)",
	"365d": "365 days (12 months)",
	"545d": "545 days (18 months)",
	"730d": "730 days (24 months)",
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// enter never puts an entered secret back on screen, not even masked: the field starts empty
// and an empty field keeps what was entered before.
func (s *secretScreen) enter(c *shared) tea.Cmd {
	s.clear(c)
	return s.form.focusOn(secretField)
}

// clear empties the secret field and masks it again. It runs when the screen is entered and
// left, so the value lives only in the draft once the user moves on.
func (s *secretScreen) clear(c *shared) {
	in := s.form.fields[secretField].input
	in.SetValue("")
	in.Placeholder = "paste the Value column here"
	if c.wiz.Draft.ClientSecret != "" {
		in.Placeholder = "(secret entered: type or paste to replace it)"
	}
	s.revealed = false
	in.EchoMode = textinput.EchoPassword
}

// textFocus: letters are text in every field but the expiry choice.
func (s *secretScreen) textFocus() bool { return s.form.focused().input != nil }

// links is the Certificates & secrets page shown at the top.
func (s *secretScreen) links(c *shared) []namedLink {
	return []namedLink{{"the Certificates & secrets link", portalLinks(c).Credentials}}
}

// typing is true in the secret field: older secrets may contain '?'.
func (s *secretScreen) typing() bool { return s.form.focus == secretField }

func (s *secretScreen) cursorPos(c *shared) *tea.Cursor { return s.form.cursor() }

func (s *secretScreen) refused(fe *steps.FieldError) tea.Cmd { return s.form.focusField(fe.Field) }

func (s *secretScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok && key.Matches(km, c.keys.Reveal) {
		s.revealed = !s.revealed
		in := s.form.fields[secretField].input
		in.EchoMode = textinput.EchoPassword
		if s.revealed {
			in.EchoMode = textinput.EchoNormal
		}
		return nil
	}
	cmd, forward, backward := s.form.update(c, msg)
	d := &c.wiz.Draft
	if v := s.form.fields[secretField].input.Value(); v != "" {
		d.ClientSecret = v
	}
	d.SecretExpires = zeroTime
	expiry := s.choices[s.form.fields[expiryChoiceField].choice]
	if expiry == otherDate {
		expiry = s.form.fields[expiryDateField].input.Value()
	}
	if t, err := steps.ParseExpiry(expiry, c.now()); err == nil {
		d.SecretExpires = t
	}
	switch {
	case forward:
		// The secret stays in the field until Next succeeds: a refused Next shows the
		// complaint next to what was typed. Entering the next screen clears it (see leave).
		return c.next()
	case backward:
		s.clear(c)
		return c.back()
	}
	return cmd
}

// leave is called by the root when the wizard moves past this screen.
func (s *secretScreen) leave(c *shared) { s.clear(c) }

func (s *secretScreen) view(c *shared) string {
	st := c.st
	var b strings.Builder
	links := oauth.PortalLinks(c.wiz.Draft.Cloud, c.wiz.Draft.ClientID)
	if c.wiz.Mode == steps.ModeRotate {
		b.WriteString(para(c, "In the portal: Certificates & secrets › + New client secret. Do not delete the old one yet: it keeps working until the new one is proven and saved.") + "\n")
	} else {
		b.WriteString(para(c, "In the portal: Certificates & secrets › + New client secret › Add. Copy the Value column at once (it is shown only once), not the Secret ID.") + "\n")
	}
	b.WriteString(linkLine(c, "", links.Credentials) + "\n\n")
	s.form.top = strings.Count(b.String(), "\n")
	b.WriteString(s.form.view(c, c.errorFor))
	if raw := s.form.fields[secretField].input.Value(); raw != "" {
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
	if c.opts.Demo != nil {
		b.WriteString("\n" + demoBox(c, false))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *secretScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	if s.form.focused().options != nil {
		return []key.Binding{k.Next, k.Left, k.NextField, k.Back}
	}
	return []key.Binding{k.Next, k.NextField, k.Reveal, k.Back}
}

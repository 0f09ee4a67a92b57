package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/keyring"
)

// homeScreen lists saved profiles. Picking an action ends the program with a Result the
// command line carries out (rotate and re-consent start the wizard in that mode), except
// "new", which starts the wizard here.
type homeScreen struct {
	profiles []keyring.Profile
	cursor   int
}

func (s *homeScreen) update(c *shared, msg tea.Msg, startNew func() tea.Cmd) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := c.keys
	name := s.profiles[s.cursor].Name
	act := func(a string) tea.Cmd { return finish(Result{Action: a, Profile: name}) }
	switch {
	case key.Matches(km, k.Up):
		s.cursor = max(0, s.cursor-1)
	case key.Matches(km, k.Down):
		s.cursor = min(len(s.profiles)-1, s.cursor+1)
	case key.Matches(km, k.New):
		return startNew()
	case key.Matches(km, k.Rotate):
		return act("rotate")
	case key.Matches(km, k.Reconsent):
		return act("reconsent")
	case key.Matches(km, k.Verify), key.Matches(km, k.Next):
		return act("verify")
	case key.Matches(km, k.Delete):
		return act("delete")
	case key.Matches(km, k.Done), key.Matches(km, k.Back):
		return finish(Result{})
	}
	return nil
}

func (s *homeScreen) view(c *shared) string {
	st := c.st
	width := max(c.width-2, 40)
	var b strings.Builder
	b.WriteString(st.Muted.Render(fmt.Sprintf("%-14s %-26s %-15s %-7s %s", "PROFILE", "ACCOUNT", "SECRET", "SCOPES", "LAST REFRESH")) + "\n")
	for i, p := range s.profiles {
		account := p.Account
		if account == "" {
			account = string(p.Kind) + " · " + p.Tenant
		}
		secret := "no secret"
		if p.Kind != "public" {
			secret = relDays(c, p.SecretExpires)
		}
		scopes := p.GrantedScopes
		if len(scopes) == 0 {
			scopes = p.RequestedScopes
		}
		refreshed := "never"
		if !p.LastRefresh.IsZero() {
			refreshed = p.LastRefresh.Format("2006-01-02")
		}
		row := fmt.Sprintf("%-14s %-26s %-15s %-7d %s", ansi.Truncate(p.Name, 14, "…"), ansi.Truncate(account, 26, "…"), secret, len(scopes), refreshed)
		row = ansi.Truncate(row, width, "…")
		switch {
		case i == s.cursor:
			row = st.Selected.Render(row)
		case secret == "expired":
			row = st.Error.Render(row)
		}
		b.WriteString(row + "\n")
	}
	b.WriteString("\n" + st.Muted.Render(para(c, "n new profile · r rotate the secret · p change permissions (sign in again) · v verify (refresh and /me) · d delete · q quit")))
	return b.String()
}

func (s *homeScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	return []key.Binding{k.New, k.Rotate, k.Reconsent, relabel(k.Verify, "verify (or enter)"), k.Delete, relabel(k.Done, "quit (or esc)")}
}

package tui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/steps"
)

type saveMsg struct {
	profile keyring.Profile
	err     error
}

// saveScreen writes the profile as soon as it is reached, then shows where everything went.
type saveScreen struct {
	saving bool
	saved  *keyring.Profile
	err    error
}

// saveCmd saves the finished draft through the engine.
func saveCmd(ctx context.Context, engine *creds.Service, d steps.Draft) tea.Cmd {
	return func() tea.Msg {
		p, err := engine.Save(ctx, d)
		return saveMsg{p, err}
	}
}

func (s *saveScreen) enter(c *shared) tea.Cmd {
	if s.saved != nil {
		return nil
	}
	if r := c.rotated; r != nil { // the rotation saved the profile once the new secret worked
		p := r.Profile
		s.saved, c.wiz.Draft.Saved = &p, true
		return nil
	}
	s.saving, s.err = true, nil
	return saveCmd(c.ctx, c.opts.Engine, c.wiz.Draft)
}

func (s *saveScreen) typing() bool { return false }

func (s *saveScreen) update(c *shared, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case saveMsg:
		s.saving, s.err = false, msg.err
		if msg.err == nil {
			p := msg.profile
			s.saved = &p
			c.wiz.Draft.Saved = true
		}
	case tea.KeyPressMsg:
		k := c.keys
		switch {
		case s.saving:
		case s.saved != nil && (key.Matches(msg, k.Next) || key.Matches(msg, k.Done)):
			return c.next()
		case s.err != nil && key.Matches(msg, k.Retry):
			return s.enter(c)
		case s.err != nil && key.Matches(msg, k.Back):
			return c.back()
		}
	}
	return nil
}

func (s *saveScreen) view(c *shared) string {
	st := c.st
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	switch {
	case s.saving:
		where := "the keychain"
		if c.opts.Engine != nil {
			where = c.opts.Engine.Store.BackendName()
		}
		line("Saving to " + where + "…")
	case s.err != nil:
		g := keychainGuidance(s.err)
		line(st.Error.Render("✗ Saving failed"))
		line("")
		line(para(c, g.Meaning))
		var ue *keyring.UnavailableError
		if errors.As(s.err, &ue) && ue.Hint != "" {
			line(para(c, sentence(ue.Hint)))
		}
		line("")
		line(para(c, "Nothing was changed: if a profile named "+c.wiz.Draft.Profile+" existed before, it is untouched and still works as before. The sign-in is kept: no need to sign in again."))
		line("")
		line("Press r to try again (after unlocking the keychain, for example).")
	case s.saved != nil:
		p := s.saved
		line(st.OK.Render("✓ Saved profile ") + st.Value.Render(p.Name))
		line("")
		row := func(k, v string) {
			line(st.Muted.Render(padRight(k, 16)) + indent(ansi.Wordwrap(v, max(c.width-20, 30), " /"), 16)[16:])
		}
		if p.Account != "" {
			row("Account", p.AccountName+" ("+p.Account+")")
		}
		row("Tenant", p.Tenant)
		row("Client ID", p.ClientID)
		scopes := p.GrantedScopes
		if len(scopes) == 0 {
			scopes = p.RequestedScopes
		}
		row("Scopes", shortList(scopes, c.width-22))
		row("Secrets in", c.opts.Engine.Store.BackendName())
		if !c.opts.Engine.Store.InMemory() { // else a temporary directory, of no use to anyone
			row("Settings in", c.opts.Engine.Store.Path())
		}
		if c.wiz.Draft.NeedsSecret() && !p.SecretExpires.IsZero() {
			row("Secret expires", p.SecretExpires.Format("2 Jan 2006")+" ("+relDays(c, p.SecretExpires)+")")
		}
		line("")
		if c.opts.Demo != nil {
			if c.opts.Engine.Store.InMemory() {
				line(st.Warn.Render(para(c, inMemoryNotice(c.opts.Demo.NoKeychain))))
			} else {
				line(st.Warn.Render(para(c, "This demo profile works only against the simulator. Run m365creds (without demo) to set up your real one.")))
			}
			line("")
			line("Press enter to finish.")
			break
		}
		line("Next:")
		cmdWidth := max(len("m365creds token "+p.Name), len("m365creds status")) + 3
		line("  " + st.Value.Render(padRight("m365creds token "+p.Name, cmdWidth)) + "an access token for scripts")
		line("  " + st.Value.Render(padRight("m365creds status", cmdWidth)) + "every profile and when its secret expires")
		if c.wiz.Mode == steps.ModeRotate {
			line("")
			line(st.Warn.Render("Now delete the OLD secret in the portal (Certificates & secrets):"))
			line(linkLine(c, "", portalLinks(c).Credentials))
		}
		line("")
		line("Press enter to finish.")
	}
	return strings.TrimRight(b.String(), "\n")
}

// sentence ends s with a full stop unless it ends with punctuation already: the keychain's
// hints are phrases, and the screens go on with another sentence after them.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?:") {
		return s
	}
	return s + "."
}

// links is the Certificates & secrets page a rotation's summary points to.
func (s *saveScreen) links(c *shared) []namedLink {
	if s.saved != nil && c.wiz.Mode == steps.ModeRotate {
		return []namedLink{{"the Certificates & secrets link", portalLinks(c).Credentials}}
	}
	return nil
}

func shortList(list []string, width int) string {
	var short []string
	for _, s := range list {
		short = append(short, shortScope(s))
	}
	out := strings.Join(short, " ")
	if width > 10 {
		out = ansi.Truncate(out, width, "…")
	}
	return out
}

func (s *saveScreen) bindings(c *shared) []key.Binding {
	k := c.keys
	if s.err != nil {
		return []key.Binding{k.Retry, k.Back}
	}
	return []key.Binding{k.Next}
}

// inMemoryNotice says, on the demo's Save screen, that the profile was not kept and what the
// real wizard needs instead. why is the keychain's failure, when known.
func inMemoryNotice(why error) string {
	reason := ""
	var ue *keyring.UnavailableError
	switch {
	case errors.As(why, &ue):
		reason = ": " + ue.Reason
	case why != nil:
		reason = ": " + why.Error()
	}
	return "The keychain is not available here" + sanitize.Line(reason, 300) + ". So the demo profile is kept in memory " +
		"and is gone when the demo ends. The real wizard needs a keychain: on Linux, a Secret Service such " +
		"as gnome-keyring; or m365creds setup --store file (secrets in a plain-text file)."
}

package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// homeScreen lists the saved profiles with their health and runs verify and delete itself;
// rotate, re-consent and new start the wizard in place and come back here when it ends.
type homeScreen struct {
	profiles []keyring.Profile
	health   map[string]creds.Health // from the keychain read; absent: from the saved facts
	cursor   int
	view_    homeView
	filter   textinput.Model
	// busy names what runs in the background ("Verifying contoso…"); result is what it found.
	busy   string
	target string // the profile the dialog, the work or the result is about
	result homeResult
	// gen tags background answers: one that arrives after the user moved on is dropped.
	gen int
	// sub is the onboarding or hand-off screen open over the list, if any.
	sub homeSub
}

type homeView int

const (
	homeList homeView = iota
	homeFiltering
	homeConfirm
	homeBusy
	homeResultView
)

// homeResult is the outcome of an action, drawn in its own view until esc.
type homeResult struct {
	verified *creds.Verified
	err      error
	guide    oauth.Guidance
}

// Background answers for the home screen.
type (
	homeHealthMsg struct {
		gen    int
		health map[string]creds.Health
	}
	homeListMsg struct {
		gen      int
		profiles []keyring.Profile
		err      error
	}
	homeVerifiedMsg struct {
		gen int
		res creds.Verified
		err error
	}
	homeDeletedMsg struct {
		gen  int
		name string
		err  error
	}
	homeWizardMsg struct {
		gen   int
		mode  steps.Mode
		draft steps.Draft
		err   error
	}
)

// wizardStarter starts the wizard in place in a mode with a draft.
type wizardStarter func(mode steps.Mode, d steps.Draft) tea.Cmd

func newHomeScreen(profiles []keyring.Profile) *homeScreen {
	f := textinput.New()
	f.Prompt = "/"
	f.Placeholder = "type to filter by name, account or tenant"
	f.SetVirtualCursor(false)
	f.SetWidth(40)
	return &homeScreen{profiles: profiles, filter: f}
}

// store is where the profiles are kept, or nil when the run has none (tests of the look).
func (s *homeScreen) store(c *shared) *keyring.Store {
	if c.opts.Engine == nil {
		return nil
	}
	return c.opts.Engine.Store
}

// enter refreshes the list and reads the keychain for items it has lost.
func (s *homeScreen) enter(c *shared) tea.Cmd {
	store := s.store(c)
	if store == nil {
		return nil
	}
	gen := s.gen
	return func() tea.Msg {
		list, err := store.List()
		return homeListMsg{gen: gen, profiles: list, err: err}
	}
}

// healthCmd reads every profile's keychain items once; a keychain that cannot be read at all
// leaves the health from the saved facts.
func (s *homeScreen) healthCmd(c *shared) tea.Cmd {
	engine, list, gen, ctx := c.opts.Engine, append([]keyring.Profile(nil), s.profiles...), s.gen, c.ctx
	if engine == nil || engine.Store == nil {
		return nil
	}
	return func() tea.Msg {
		out := map[string]creds.Health{}
		for _, p := range list {
			if h, err := engine.HealthOf(ctx, p); err == nil {
				out[p.Name] = h
			}
		}
		return homeHealthMsg{gen: gen, health: out}
	}
}

// shown is the profiles the filter lets through.
func (s *homeScreen) shown() []keyring.Profile {
	q := strings.ToLower(strings.TrimSpace(s.filter.Value()))
	if q == "" {
		return s.profiles
	}
	var out []keyring.Profile
	for _, p := range s.profiles {
		if strings.Contains(strings.ToLower(p.Name+" "+p.Account+" "+p.Tenant), q) {
			out = append(out, p)
		}
	}
	return out
}

func (s *homeScreen) selected() (keyring.Profile, bool) {
	list := s.shown()
	if len(list) == 0 {
		return keyring.Profile{}, false
	}
	return list[min(s.cursor, len(list)-1)], true
}

func (s *homeScreen) healthOf(c *shared, p keyring.Profile) creds.Health {
	if h, ok := s.health[p.Name]; ok {
		return h
	}
	return creds.HealthAt(p, c.now())
}

func (s *homeScreen) typing() bool {
	if s.sub != nil {
		return s.sub.typing()
	}
	return s.view_ == homeFiltering
}

// title is the screen's title: the open sub-screen's, or the list's.
func (s *homeScreen) title() string {
	if s.sub != nil {
		return s.sub.title()
	}
	return "Your profiles"
}

func (s *homeScreen) update(c *shared, msg tea.Msg, start wizardStarter) tea.Cmd {
	if s.sub != nil {
		switch msg.(type) {
		case homeListMsg, homeHealthMsg:
		default:
			cmd, closed := s.sub.update(c, msg)
			if closed {
				s.sub, s.view_ = nil, homeList
				return tea.Batch(cmd, s.enter(c)) // a customer profile may have been saved
			}
			return cmd
		}
	}
	switch msg := msg.(type) {
	case homeListMsg:
		if msg.gen != s.gen {
			return nil
		}
		if msg.err != nil {
			return c.say("Could not read the profiles: %v", msg.err)
		}
		s.profiles = msg.profiles
		s.cursor = min(s.cursor, max(len(s.shown())-1, 0))
		return s.healthCmd(c)
	case homeHealthMsg:
		if msg.gen == s.gen {
			s.health = msg.health
		}
		return nil
	case homeVerifiedMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.view_, s.busy = homeResultView, ""
		s.result = homeResult{err: msg.err}
		if msg.err == nil || msg.res.Profile.Name != "" {
			s.result.verified = &msg.res
		}
		if msg.err != nil {
			s.result.guide = guidanceFor(msg.err, oauth.App{})
		}
		return s.enter(c) // verify records the account and the refresh
	case homeDeletedMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.busy = ""
		if msg.err != nil {
			s.view_, s.result = homeResultView, homeResult{err: msg.err, guide: guidanceFor(msg.err, oauth.App{})}
			return nil
		}
		s.view_ = homeList
		c.say("Deleted profile %s and its keychain items. The app registration in Entra ID is untouched.", msg.name)
		return s.enter(c)
	case homeWizardMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.busy = ""
		if msg.err != nil {
			s.view_, s.result = homeResultView, homeResult{err: msg.err, guide: guidanceFor(msg.err, oauth.App{})}
			return nil
		}
		s.view_ = homeList
		return start(msg.mode, msg.draft)
	case tea.KeyPressMsg:
		return s.key(c, msg, start)
	case tea.PasteMsg:
		if s.view_ == homeFiltering {
			var cmd tea.Cmd
			s.filter, cmd = s.filter.Update(msg)
			s.cursor = 0
			return cmd
		}
	}
	return nil
}

func (s *homeScreen) key(c *shared, km tea.KeyPressMsg, start wizardStarter) tea.Cmd {
	k := c.keys
	switch s.view_ {
	case homeFiltering:
		switch {
		case key.Matches(km, k.Back):
			s.filter.SetValue("")
			fallthrough
		case key.Matches(km, k.Next), key.Matches(km, k.Up), key.Matches(km, k.Down):
			s.filter.Blur()
			s.view_ = homeList
			if key.Matches(km, k.Up) || key.Matches(km, k.Down) {
				return s.key(c, km, start)
			}
			return nil
		}
		var cmd tea.Cmd
		s.filter, cmd = s.filter.Update(km)
		s.cursor = 0
		return cmd
	case homeConfirm:
		s.view_ = homeList
		if km.String() != "y" && km.String() != "Y" {
			return c.say("Kept profile %s.", s.target)
		}
		s.gen++
		s.view_, s.busy = homeBusy, "Deleting profile "+s.target+"…"
		engine, ctx, gen, name := c.opts.Engine, c.ctx, s.gen, s.target
		return func() tea.Msg { return homeDeletedMsg{gen: gen, name: name, err: engine.Delete(ctx, name)} }
	case homeBusy:
		if key.Matches(km, k.Back) {
			s.gen++ // the answer is dropped; the engine's own timeouts end the work
			s.view_, s.busy = homeList, ""
			return c.say("Stopped waiting; the result will not be shown.")
		}
		return nil
	case homeResultView:
		switch {
		case key.Matches(km, k.Back), key.Matches(km, k.Next), key.Matches(km, k.Done):
			s.view_ = homeList
			return nil
		case key.Matches(km, k.Rotate), key.Matches(km, k.Reconsent):
			s.view_ = homeList // then act on the same profile, as from the list
		default:
			return nil
		}
	case homeList:
	}
	p, ok := s.selected()
	switch {
	case key.Matches(km, k.Up):
		s.cursor = max(0, s.cursor-1)
	case key.Matches(km, k.Down):
		s.cursor = min(max(len(s.shown())-1, 0), s.cursor+1)
	case km.String() == "/":
		s.view_ = homeFiltering
		return s.filter.Focus()
	case key.Matches(km, k.New):
		return start(steps.ModeNew, c.opts.Draft)
	case key.Matches(km, k.Done), key.Matches(km, k.Back):
		if key.Matches(km, k.Back) && s.filter.Value() != "" {
			s.filter.SetValue("") // esc first drops the filter, as it closes any sub-view
			return nil
		}
		return finish(Result{})
	case !ok:
		return nil
	case s.store(c) == nil:
		return c.say("There is no profile store in this run.")
	case key.Matches(km, k.Verify), key.Matches(km, k.Next):
		s.gen++
		s.target, s.view_, s.busy = p.Name, homeBusy, "Verifying "+p.Name+": a fresh token from Microsoft, then Graph /me…"
		if p.Kind == oauth.KindApp {
			s.busy = "Verifying " + p.Name + ": a fresh app-only token from Microsoft…"
		}
		engine, ctx, gen := c.opts.Engine, c.ctx, s.gen
		return func() tea.Msg {
			res, err := engine.Verify(ctx, p)
			if res.Profile.Name == "" {
				res.Profile = p
			}
			return homeVerifiedMsg{gen: gen, res: res, err: err}
		}
	case key.Matches(km, k.Delete):
		s.target, s.view_ = p.Name, homeConfirm
	case key.Matches(km, k.Rotate):
		if p.Kind == oauth.KindPublic {
			return c.say("Profile %s is a public client: it has no client secret to rotate.", p.Name)
		}
		return s.wizardFor(c, p, steps.ModeRotate)
	case key.Matches(km, k.Reconsent):
		return s.wizardFor(c, p, steps.ModeReconsent)
	case key.Matches(km, k.Onboard):
		if why := canOnboard(p); why != "" {
			return c.say("%s", why)
		}
		o := newOnboardScreen(p, c.opts.NoColor)
		s.sub = o
		return o.tenant.Focus()
	case key.Matches(km, k.Send):
		if why := canSend(p); why != "" {
			return c.say("%s", why)
		}
		snd := newSendScreen(p, c)
		s.sub = snd
		return snd.code.Focus()
	}
	return nil
}

// wizardFor reads what the wizard needs from the keychain, then starts it in mode. A lost
// client secret is what rotation replaces, and a lost refresh token what re-consent does.
func (s *homeScreen) wizardFor(c *shared, p keyring.Profile, mode steps.Mode) tea.Cmd {
	s.gen++
	s.target, s.view_, s.busy = p.Name, homeBusy, "Reading profile "+p.Name+" from the keychain…"
	engine, ctx, gen := c.opts.Engine, c.ctx, s.gen
	return func() tea.Msg {
		d, err := engine.WizardDraft(ctx, p, mode)
		if err != nil {
			return homeWizardMsg{gen: gen, err: err}
		}
		return homeWizardMsg{gen: gen, mode: mode, draft: d}
	}
}

// wizardEnded is the wizard started from here coming back: saved is nil when it was left
// before saving.
func (s *homeScreen) wizardEnded(c *shared, mode steps.Mode, saved *keyring.Profile) tea.Cmd {
	s.view_ = homeList
	switch {
	case saved == nil:
		c.say("Nothing was changed.")
	case mode == steps.ModeRotate:
		c.say("Rotated the secret of %s. Delete the old secret in the portal once scripts use the new one.", saved.Name)
	case mode == steps.ModeReconsent:
		c.say("Signed in again for %s; its permissions are saved.", saved.Name)
	default:
		c.say("Saved profile %s. Scripts get tokens with: m365creds token %s", saved.Name, saved.Name)
	}
	if saved != nil {
		s.filter.SetValue("")
		s.cursor = 0
		for i, p := range s.profiles {
			if p.Name == saved.Name {
				s.cursor = i
			}
		}
	}
	return s.enter(c)
}

func (s *homeScreen) view(c *shared) string {
	if s.sub != nil {
		return s.sub.view(c)
	}
	switch s.view_ {
	case homeConfirm:
		return s.viewConfirm(c)
	case homeBusy:
		return s.busy + "\n\n" + c.st.Muted.Render("esc stops waiting.")
	case homeResultView:
		return s.viewResult(c)
	case homeList, homeFiltering:
	}
	return s.viewList(c)
}

// severityStyle colours a health; the words carry the meaning without colour.
func (s *homeScreen) severityText(c *shared, h creds.Health, width int) string {
	text := ansi.Truncate(h.Words(), width, "…")
	switch h.Severity() {
	case creds.SeverityAction:
		return c.st.Error.Render("✗ " + text)
	case creds.SeverityWarning:
		return c.st.Warn.Render("! " + text)
	case creds.SeverityOK:
	}
	return c.st.OK.Render("✓ " + text)
}

func (s *homeScreen) viewList(c *shared) string {
	st := c.st
	width := max(c.width-2, 40)
	nameW, usedW := 12, 10
	accountW := min(max(width-2-nameW-usedW-3-28, 12), 34)
	healthW := width - 2 - nameW - accountW - usedW - 3 - 2 // 2: the cursor mark, 2: the "✓ " mark
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	line(st.Muted.Render("  " + padRight("PROFILE", nameW+1) + padRight("ACCOUNT", accountW+1) + padRight("LAST USED", usedW+1) + "HEALTH"))
	list := s.shown()
	// The list scrolls to keep the cursor on screen; below it stay the details of the selected one.
	rows := max(c.bodyRows-9, 3)
	first := max(0, min(s.cursor-rows/2, len(list)-rows))
	for i := first; i < min(len(list), first+rows); i++ {
		p := list[i]
		account := p.Account
		if account == "" {
			account = kindWords(p.Kind)
			if p.Kind == oauth.KindWeb {
				account += " (no account yet)"
			}
		}
		used := "never"
		if !p.LastRefresh.IsZero() {
			used = p.LastRefresh.Format(time.DateOnly)
		}
		row := padRight(ansi.Truncate(p.Name, nameW, "…"), nameW+1) + padRight(ansi.Truncate(account, accountW, "…"), accountW+1) + padRight(used, usedW+1)
		// The mark shows the selection where reverse video does not (a copy, a screen reader).
		if i == s.cursor {
			row = st.Selected.Render("› " + row)
		} else {
			row = "  " + row
		}
		line(row + s.severityText(c, s.healthOf(c, p), healthW))
	}
	switch {
	case len(s.profiles) == 0:
		line(st.Muted.Render("No profiles left. Press n to set one up."))
	case len(list) == 0:
		line(st.Muted.Render("No profile matches the filter; esc clears it."))
	}
	line("")
	if s.view_ == homeFiltering || s.filter.Value() != "" {
		line(s.filter.View())
	}
	if p, ok := s.selected(); ok {
		s.viewDetail(c, line, p, width)
	}
	line("")
	line(st.Muted.Render(para(c, "v verify · r rotate · p re-consent · d delete · n new · / filter · q quit")))
	if p, ok := s.selected(); ok {
		var support []string // offered only where they apply
		if canOnboard(p) == "" {
			support = append(support, "o onboard a customer tenant")
		}
		if canSend(p) == "" {
			support = append(support, "s seal for a support person")
		}
		if len(support) > 0 {
			line(st.Muted.Render(para(c, strings.Join(support, " · "))))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// viewDetail is the selected profile's facts and, when it needs something, what and which key.
func (s *homeScreen) viewDetail(c *shared, line func(string), p keyring.Profile, width int) {
	st := c.st
	expiry := "none (public client)"
	if p.Kind != oauth.KindPublic {
		expiry = "unknown"
		if !p.SecretExpires.IsZero() {
			expiry = p.SecretExpires.Format(time.DateOnly) + " (" + relDays(c, p.SecretExpires) + ")"
		}
	}
	line(st.Title.Render(p.Name) + st.Muted.Render(fmt.Sprintf(" · %s · secret expires %s", kindWords(p.Kind), expiry)))
	// IDs are never broken over lines: a copied half of a GUID is worse than none.
	ids := []string{"tenant " + p.Tenant, "client ID " + p.ClientID}
	if joined := strings.Join(ids, " · "); ansi.StringWidth(joined) <= width {
		ids = []string{joined}
	}
	for _, l := range ids {
		line(st.Muted.Render(l))
	}
	for _, f := range s.healthOf(c, p).Findings {
		text := f.Detail
		switch f.Remedy {
		case creds.RemedyRotate:
			text += " Press r to rotate."
		case creds.RemedyReconsent:
			text += " Press p to sign in again."
		case creds.RemedyNone:
		}
		style := st.Error
		if f.Severity == creds.SeverityWarning {
			style = st.Warn
		}
		line(style.Render(ansi.Wordwrap(text, width, " ")))
	}
}

func kindWords(k oauth.Kind) string {
	switch k {
	case oauth.KindApp:
		return "app-only"
	case oauth.KindPublic:
		return "public client"
	case oauth.KindWeb:
	}
	return "delegated"
}

func (s *homeScreen) viewConfirm(c *shared) string {
	st := c.st
	var b strings.Builder
	b.WriteString(st.Warn.Render("Delete profile "+s.target+"?") + "\n\n")
	b.WriteString(para(c, "This removes its client secret, refresh token and cached token from the keychain and its entry from the config file. Scripts using it stop working. The app registration in Entra ID stays; the secret Value cannot be shown again there, so using this app again needs a new secret.") + "\n\n")
	b.WriteString("Press " + st.Key.Render("y") + " to delete, any other key to keep it.")
	return b.String()
}

func (s *homeScreen) viewResult(c *shared) string {
	st := c.st
	width := max(c.width-2, 40)
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	r := s.result
	if r.err == nil && r.verified != nil {
		v := r.verified
		line(st.OK.Render("✓ Profile "+s.target+" works.") + " Microsoft issued a fresh token.")
		line("")
		line(padRight("Kind", 19) + kindWords(v.Profile.Kind))
		line(padRight("Tenant", 19) + v.Profile.Tenant)
		if v.User != nil {
			line(padRight("Signed-in account", 19) + st.Value.Render(v.User.DisplayName) + " (" + v.User.UserPrincipalName + ")")
		}
		if len(v.Granted) > 0 {
			line(padRight("Granted", 19) + ansi.Wordwrap(shortList(v.Granted, 0), width-19, " "))
		}
		if v.RecordErr != nil {
			line(st.Warn.Render(ansi.Wordwrap("The account could not be recorded: "+v.RecordErr.Error(), width, " ")))
		}
	} else {
		g := r.guide
		title := g.Title
		if g.Code != 0 {
			title = fmt.Sprintf("AADSTS%d: %s", g.Code, g.Title)
		}
		if title == "" && r.err != nil {
			title = r.err.Error()
		}
		line(st.Error.Render("✗ " + ansi.Wordwrap(s.target+": "+title, width-2, " ")))
		line("")
		if g.Meaning != "" {
			line(ansi.Wordwrap(g.Meaning, width, " "))
		}
		if r.verified != nil && len(r.verified.Missing) > 0 {
			line(st.Warn.Render(ansi.Wordwrap("Not granted: "+shortList(r.verified.Missing, 0), width, " ")))
		}
		switch creds.ProblemOf(r.err) {
		case creds.ProblemSecret:
			line("")
			line("Press r to rotate: create a new secret in the portal and paste it.")
		case creds.ProblemConsent, creds.ProblemNoOfflineAccess:
			line("")
			line("Press p to sign in again and consent.")
		default:
			if g.Action != "" {
				line("")
				line(st.Title.Render("What to do: ") + ansi.Wordwrap(g.Action, width-12, " "))
			}
		}
	}
	line("")
	line(st.Muted.Render("esc or enter goes back to the list."))
	return strings.TrimRight(b.String(), "\n")
}

func (s *homeScreen) bindings(c *shared) []key.Binding {
	if s.sub != nil {
		return s.sub.bindings(c)
	}
	k := c.keys
	switch s.view_ {
	case homeFiltering:
		return []key.Binding{relabel(k.Next, "keep filter"), relabel(k.Back, "clear filter")}
	case homeConfirm:
		return []key.Binding{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "delete")), relabel(k.Back, "keep")}
	case homeBusy:
		return []key.Binding{relabel(k.Back, "stop waiting")}
	case homeResultView:
		return []key.Binding{relabel(k.Back, "back to list"), k.Rotate, k.Reconsent}
	case homeList:
	}
	back := relabel(k.Back, "quit")
	if s.filter.Value() != "" {
		back = relabel(k.Back, "clear filter")
	}
	return []key.Binding{relabel(k.Verify, "verify"), k.Rotate, k.Reconsent, k.Delete, k.New, k.Onboard, k.Send,
		key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")), relabel(k.Done, "quit"), back}
}

// cursorPos puts the terminal cursor in the filter while typing there.
func (s *homeScreen) cursorPos(c *shared) *tea.Cursor {
	if s.sub != nil {
		return s.sub.cursorPos(c)
	}
	if s.view_ != homeFiltering {
		return nil
	}
	cur := s.filter.Cursor()
	if cur == nil {
		return nil
	}
	list := s.shown()
	rows := max(c.bodyRows-9, 3)
	cur.Y = 1 + max(min(len(list), rows), 1) + 1 // header, rows, blank
	cur.X += 1                                   // the "/" prompt
	return cur
}

package tui

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/steps"
)

// draftKeeper writes the unfinished wizard through the engine. Writes run in commands, which
// may finish out of order: each carries a sequence number, and one older than the last
// written is dropped, so the file always holds the newest state.
type draftKeeper struct {
	engine *creds.Service
	mu     sync.Mutex
	seq    uint64
	secret string // the client secret last put in the keychain
	closed bool   // the profile is saved: nothing more is kept
}

// keep writes the draft, the secret first: the file never says a secret is kept before the
// keychain has it. secret is "" when the draft holds no accepted secret.
func (k *draftKeeper) keep(ctx context.Context, seq uint64, kept steps.Kept, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || seq <= k.seq {
		return nil
	}
	k.seq = seq
	if secret != "" && secret != k.secret {
		if err := k.engine.KeepDraftSecret(ctx, secret); err != nil {
			kept.HasSecret = k.secret != ""
			if werr := k.engine.KeepDraft(kept); werr != nil {
				return werr
			}
			return fmt.Errorf("the client secret could not be kept in the keychain (enter it again after a restart): %w", err)
		}
		k.secret = secret
	}
	kept.HasSecret = kept.HasSecret && k.secret != ""
	return k.engine.KeepDraft(kept)
}

// discard removes the draft and its keychain item. final stops all later writes (the profile
// is saved); otherwise the wizard starts over and keeps a new draft from then on.
func (k *draftKeeper) discard(ctx context.Context, seq uint64, final bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if final {
		k.closed = true
	} else if seq <= k.seq {
		return nil
	}
	k.seq = max(k.seq, seq)
	k.secret = ""
	return k.engine.DiscardDraft(ctx)
}

// draftKeptMsg reports a failed write of the draft; a successful one says nothing.
type draftKeptMsg struct{ err error }

// draftsFor is the keeper of a run, or nil when this run keeps no draft: only a new profile
// has one (rotation and re-consent start from a saved profile), and only with a store.
func draftsFor(opts Options) *draftKeeper {
	if opts.Mode != steps.ModeNew || opts.Engine == nil || opts.Engine.Store == nil {
		return nil
	}
	return &draftKeeper{engine: opts.Engine}
}

// keepDraft writes the wizard as it is now. The write outlives the program's context: it is
// what a quit relies on.
func (s *state) keepDraft() tea.Cmd {
	if s.drafts == nil || s.c.wiz.Draft.Saved {
		return nil
	}
	s.draftSeq++
	s.drafted = true
	seq, kept, k := s.draftSeq, s.c.wiz.Keep(), s.drafts
	secret := ""
	if d := s.c.wiz.Draft; d.NeedsSecret() {
		if check := steps.CheckSecret(d.ClientSecret); check.Err == nil {
			secret = check.Value
		}
	}
	ctx := context.WithoutCancel(s.c.ctx)
	return func() tea.Msg { return draftKeptMsg{k.keep(ctx, seq, kept, secret)} }
}

// settleDraft runs when the program has ended: a saved profile needs its draft no more.
func (s *state) settleDraft() {
	if s.drafts != nil && s.c.wiz.Draft.Saved {
		_ = s.drafts.discard(context.WithoutCancel(s.c.ctx), 0, true)
	}
}

// entered reports whether quitting now would lose anything: the user has moved past the first
// step, changed a field, or resumed a kept draft.
func (s *state) entered() bool {
	if s.onHome || s.c.wiz.Draft.Saved {
		return false
	}
	return s.drafted || s.c.wiz.Index() > 0 || !reflect.DeepEqual(s.c.wiz.Keep(), s.initial)
}

var (
	quitYes  = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "quit"))
	quitNo   = key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "stay"))
	resumeGo = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "resume"))
	resumeNo = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "start over"))
)

// askQuit is ctrl+c, or esc on the first step: with nothing entered the program ends at once,
// otherwise it asks first.
func (m Model) askQuit() tea.Cmd {
	s := m.s
	if !s.entered() {
		s.cancel()
		return tea.Interrupt
	}
	s.asking = true
	return nil
}

// quitting answers a key while the quit question is up. A second ctrl+c is a yes.
func (m Model) quitting(msg tea.KeyPressMsg) tea.Cmd {
	s := m.s
	switch {
	case key.Matches(msg, quitYes), key.Matches(msg, s.c.keys.Quit):
		s.asking = false
		keep := s.keepDraft()
		s.cancel()
		if keep == nil {
			return tea.Interrupt
		}
		return tea.Sequence(keep, tea.Interrupt)
	case key.Matches(msg, quitNo):
		s.asking = false
	}
	return nil
}

func (m Model) quitView() (string, []key.Binding) {
	c := &m.s.c
	q := "Quit? Your answers are kept and you can resume: y quit / n stay"
	if m.s.drafts == nil {
		q = "Quit? What you entered is not kept: y quit / n stay"
	}
	return c.st.Warn.Render(wrapText(q, max(c.width-2, 20))), []key.Binding{quitYes, quitNo}
}

// resuming answers a key while the resume question is up.
func (m Model) resuming(msg tea.KeyPressMsg) tea.Cmd {
	s := m.s
	switch {
	case key.Matches(msg, s.c.keys.Quit):
		s.cancel()
		return tea.Interrupt // the draft stays for the next run
	case key.Matches(msg, resumeGo):
		s.c.wiz = s.resumeWiz
		s.resume, s.resumeWiz = nil, nil
		s.screens = newScreens(&s.c)
		s.onHome, s.drafted = false, true
		return m.current().enter(&s.c)
	case key.Matches(msg, resumeNo):
		s.resume, s.resumeWiz = nil, nil
		var discard tea.Cmd
		if k := s.drafts; k != nil {
			s.draftSeq++
			seq, ctx := s.draftSeq, context.WithoutCancel(s.c.ctx)
			discard = func() tea.Msg { return draftKeptMsg{k.discard(ctx, seq, false)} }
		}
		if s.onHome {
			return discard
		}
		return tea.Batch(discard, m.current().enter(&s.c))
	}
	return nil
}

func (m Model) resumeView() (string, []key.Binding) {
	c := &m.s.c
	st := c.st
	w := m.s.resumeWiz
	d := m.s.resume
	width := max(c.width-2, 20)
	lines := []string{
		wrapText(fmt.Sprintf("You were at step %d (%s) for profile %s — resume? (enter resume / n start over)",
			w.Index()+1, w.Current(), sanitize.Line(w.Draft.Profile, 64)), width),
		"",
	}
	switch {
	case d.SecretErr != nil:
		lines = append(lines, st.Warn.Render(wrapText("The client secret could not be read from the keychain ("+
			sanitize.Line(d.SecretErr.Error(), 200)+"): you will be asked to paste it again.", width)))
	case d.Secret != "":
		lines = append(lines, st.Muted.Render(wrapText("Every field is kept; the client secret is in the keychain and is not shown.", width)))
	default:
		lines = append(lines, st.Muted.Render(wrapText("Every field you entered is kept.", width)))
	}
	lines = append(lines, "", st.Muted.Render(wrapText("Start over removes the kept answers (and the secret in the keychain).", width)))
	return strings.Join(lines, "\n"), []key.Binding{resumeGo, resumeNo}
}

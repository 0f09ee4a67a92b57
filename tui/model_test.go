package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

// press runs one key through Update, and the Cmds it returns that are plain messages of this
// package (navigation), the way the program would.
func press(t *testing.T, m Model, k string) {
	t.Helper()
	feed(m, keyMsg(k))
}

func feed(m Model, msg tea.Msg) {
	_, cmd := m.Update(msg)
	for _, follow := range drain(cmd) {
		switch follow.(type) {
		case nextMsg, backMsg, jumpMsg, statusMsg:
			feed(m, follow)
		}
	}
}

// drain runs cmd and any batch inside it, keeping only messages that arrive at once.
func drain(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(100 * time.Millisecond):
		return nil // a tick or network call: not needed here
	}
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, drain(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func newModel(t *testing.T, opts Options) Model {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return frozen }
	}
	m := New(opts)
	t.Cleanup(m.stopAll)
	for _, msg := range drain(m.Init()) {
		feed(m, msg)
	}
	return m
}

// TestCursorFollowsTheInput checks the real cursor: it sits after the typed text of the
// focused field, below the breadcrumb, rule, title and intro, right of the label column.
func TestCursorFollowsTheInput(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft()})
	press(t, m, "enter")
	press(t, m, "enter") // IDs
	for _, r := range "0f3e" {
		press(t, m, string(r))
	}
	v := m.View()
	if v.Cursor == nil {
		t.Fatal("no cursor on the IDs screen")
	}
	// Rows: breadcrumb, rule, title, blank, intro, blank, then the first field.
	if v.Cursor.X != 1+labelWidth+4 || v.Cursor.Y != 6 {
		t.Fatalf("cursor at %d,%d, want %d,6", v.Cursor.X, v.Cursor.Y, 1+labelWidth+4)
	}
	lines := strings.Split(ansi.Strip(v.Content), "\n")
	if got := ansi.Cut(lines[v.Cursor.Y], 0, v.Cursor.X); !strings.HasSuffix(got, "0f3e") {
		t.Fatalf("the cursor is not after the typed text: %q", got)
	}
	press(t, m, "tab")
	if v := m.View(); v.Cursor == nil || v.Cursor.Y <= 6 {
		t.Fatalf("the cursor did not move to the second field: %+v", v.Cursor)
	}
	press(t, m, "?")
	if v := m.View(); v.Cursor != nil {
		t.Fatal("the help overlay must hide the cursor")
	}
}

func TestWindowTitleAndAltScreen(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft()})
	press(t, m, "enter")
	v := m.View()
	if v.WindowTitle != "m365creds — Register (2/7)" || !v.AltScreen {
		t.Fatalf("title %q, alt screen %v", v.WindowTitle, v.AltScreen)
	}
}

// TestResizeReflows draws every step at several sizes: the screen always fills the terminal
// exactly and nothing is wider than it.
func TestResizeReflows(t *testing.T) {
	t.Parallel()
	d := readyDraft()
	demo := shownDemo()
	for _, size := range [][2]int{{80, 24}, {100, 30}, {132, 43}, {60, 20}} {
		m := newModel(t, Options{Draft: d, Demo: demo})
		feed(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for step := range 5 { // Account .. Permissions
			screen := ansi.Strip(m.View().Content)
			if n := strings.Count(screen, "\n") + 1; n != size[1] {
				t.Errorf("%dx%d step %d: %d lines", size[0], size[1], step, n)
			}
			checkFits(t, m.s.c.wiz.Current().String(), screen, size[0], size[1])
			press(t, m, "enter")
		}
	}
}

// TestSecretValueNotInDraftView: after the secret step, no screen of the wizard draws the
// secret, whichever step the user goes back to.
func TestSecretValueNotInLaterScreens(t *testing.T) {
	t.Parallel()
	d := readyDraft()
	d.ClientSecret = ""
	m := newModel(t, Options{Draft: d})
	press(t, m, "enter")
	press(t, m, "enter")
	press(t, m, "enter") // Secret
	feed(m, tea.PasteMsg{Content: simulator.DemoSecretValue})
	press(t, m, "ctrl+r")
	if !strings.Contains(m.View().Content, simulator.DemoSecretValue) {
		t.Fatal("ctrl+r should show the secret while on its step")
	}
	press(t, m, "enter") // Permissions
	for range 4 {
		if s := m.View().Content; strings.Contains(s, simulator.DemoSecretValue) || strings.Contains(s, "•••") {
			t.Fatalf("the secret is drawn on %s", m.s.c.wiz.Current())
		}
		press(t, m, "esc")
	}
}

// BenchmarkPermissionsKeystroke is one keystroke on the permission table (69 rows, 80x24):
// Update and the View that follows. It must stay well under a millisecond.
func BenchmarkPermissionsKeystroke(b *testing.B) {
	d := readyDraft()
	m := New(Options{Draft: d, Mode: steps.ModeReconsent, Now: func() time.Time { return frozen }})
	defer m.stopAll()
	m.Init()
	keys := []tea.KeyPressMsg{keyMsg("down"), keyMsg("space"), keyMsg("m"), keyMsg("backspace"), keyMsg("pgdown"), keyMsg("up")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.Update(keys[i%len(keys)])
		_ = m.View()
	}
}

// TestNoColor: with NO_COLOR set, the styles carry no colour, only bold, underline and
// reverse, so selection stays visible.
func TestNoColor(t *testing.T) {
	t.Parallel()
	st := NewStyles(true, true)
	for name, s := range map[string]lipgloss.Style{"title": st.Title, "selected": st.Selected, "error": st.Error, "banner": st.Banner} {
		if _, ok := s.GetForeground().(lipgloss.NoColor); !ok {
			t.Errorf("%s has a foreground colour under NO_COLOR", name)
		}
		if _, ok := s.GetBackground().(lipgloss.NoColor); !ok {
			t.Errorf("%s has a background colour under NO_COLOR", name)
		}
	}
	if !st.Selected.GetReverse() {
		t.Error("the selected row must stay visible (reverse) without colour")
	}
}

// BenchmarkFirstFrame is what the wizard does before its first frame appears: build the
// root model for a new profile, run Init, and draw the first View at 80x24. Process start-up
// comes on top; scripts/bench.sh measures that part.
func BenchmarkFirstFrame(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m := New(Options{Draft: steps.NewDraft()})
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		if v := m.View(); v.Content == "" {
			b.Fatal("empty first frame")
		}
		m.stopAll()
	}
}

// TestBannerOnEveryScreen: other Microsoft endpoints are named on every screen, since the
// warning printed before the wizard is hidden behind it.
func TestBannerOnEveryScreen(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft(), Banner: "Other Microsoft endpoints: M365CREDS_LOGIN_URL=http://127.0.0.1:8400"})
	screen := h.waitFor("Who will sign in")
	if first := strings.SplitN(strings.TrimLeft(screen, "\n"), "\n", 2)[0]; !strings.Contains(first, "Other Microsoft endpoints") {
		t.Errorf("first line %q", first)
	}
	h.final()
}

// TestEscClosesHelpOnTheFirstStep: esc on the first step asks to quit, but with the help
// open it only closes the help.
func TestEscClosesHelpOnTheFirstStep(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Draft: steps.NewDraft()})
	h.waitFor("Who will sign in")
	h.send("f1")
	h.waitFor("About this step")
	h.send("esc")
	screen := h.waitFor("Walk me through the portal") // the form again, not the help
	if !strings.Contains(screen, "Profile name") {
		t.Errorf("not the account form:\n%s", screen)
	}
	if strings.Contains(screen, "About this step") || strings.Contains(screen, "Quit?") {
		t.Errorf("after esc:\n%s", screen)
	}
	h.final()
}

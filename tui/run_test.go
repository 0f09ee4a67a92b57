package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/m365creds/m365creds/steps"
)

// TestStartingWaitsForSize: until the program has told the wizard the terminal's size, Run's
// first model shows nothing, so a first tick that comes before that draws no frame at the
// default size, to be cleared and drawn again a tick later. The size hands the program the
// wizard itself, drawn at that size.
func TestStartingWaitsForSize(t *testing.T) {
	t.Parallel()
	opts := Options{Mode: steps.ModeNew, Draft: steps.NewDraft()}
	s := &starting{opts: opts}
	_ = s.Init()
	if v := s.View(); v.Content != "" {
		t.Fatalf("before the size is known the first model shows %q", v.Content)
	}
	next, _ := s.Update(tea.ColorProfileMsg{Profile: colorprofile.ANSI256})
	if next != tea.Model(s) {
		t.Fatalf("the first model handed over to %T before the size was known", next)
	}
	if v := next.View(); v.Content != "" {
		t.Fatalf("before the size is known the first model shows %q", v.Content)
	}
	size := tea.WindowSizeMsg{Width: 100, Height: 30}
	next, _ = next.Update(size)
	got, ok := next.(Model)
	if !ok {
		t.Fatalf("after the size the program runs %T, want the wizard", next)
	}
	want, _ := New(opts).Update(size)
	if got.View().Content != want.View().Content {
		t.Fatalf("the wizard handed over is not drawn at the terminal's size:\n%s", got.View().Content)
	}
}

// TestStartingHandsOverOnAKey: a terminal whose size never comes shows the wizard once a key
// is pressed, and that key does nothing in a wizard nobody has seen yet.
func TestStartingHandsOverOnAKey(t *testing.T) {
	t.Parallel()
	s := &starting{opts: Options{Mode: steps.ModeNew, Draft: steps.NewDraft()}}
	_ = s.Init()
	before := s.m.View().Content
	next, _ := s.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	m, ok := next.(Model)
	if !ok {
		t.Fatalf("after a key the program runs %T, want the wizard", next)
	}
	if m.View().Content != before {
		t.Fatal("the key that showed the wizard also acted on it")
	}
}

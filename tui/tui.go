// Package tui draws the m365creds wizard: one screen per step of the steps package, a home
// screen listing saved profiles, and the keys, styles and help they share.
//
// Only the root Model implements tea.Model. It handles global keys (ctrl+c, ?), window size
// and background colour, then hands each message to the active screen alone. A screen
// changes its own state and the draft, and asks for navigation through shared.next, back and
// jumpTo; the root carries that out (validating with steps.Wizard) before the next message.
// All network and keychain work runs in tea.Cmds that take copies and a context created in
// Update, and reports back as typed messages tagged with the attempt they belong to; Update
// and View only move state and draw it.
//
// The home screen runs verify and delete through the engine and shows their results; rotate,
// re-consent and new start the wizard in place, which comes back to the list when it ends.
package tui

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"

	"github.com/m365creds/m365creds/tui/launch"
)

// The types of a run live in the tea-free launch package, so that the command line can name
// them without linking Bubble Tea; here they keep their short names.
type (
	Options = launch.Options
	Demo    = launch.Demo
	Result  = launch.Result
)

// Run runs the wizard full-screen on in/out until it finishes or the user quits. ctrl+c
// returns launch.ErrInterrupted, and nothing is saved.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) (Result, error) {
	final, err := tea.NewProgram(&starting{opts: opts}, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(frameRate)).Run()
	if st, ok := final.(*starting); ok {
		final = st.m // the program ended before its first message
	}
	if fm, ok := final.(Model); ok && fm.s != nil {
		fm.stopAll()
		if err == nil {
			return fm.s.result, nil
		}
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	if errors.Is(err, tea.ErrInterrupted) {
		return Result{}, launch.ErrInterrupted
	}
	return Result{}, err
}

// frameRate is the renderer's: it writes only on its ticks, the first one a full period after
// it starts, so the highest rate bubbletea allows shows the first frame soonest.
const frameRate = 120

// starting builds the wizard in Init, which the program calls once its renderer runs: the
// first frame is written a full tick after that, and building the screens then fills part
// of that wait instead of adding to it. It shows nothing until the wizard knows the
// terminal's size, then hands the program the wizard itself: on a busy machine the first
// tick can come first, and a frame drawn for the default size would be cleared and drawn
// again a tick later.
type starting struct {
	opts Options
	m    Model
}

func (s *starting) Init() tea.Cmd {
	s.m = New(s.opts)
	return tea.Batch(s.m.Init(), warmRenderer(s.m.View().Content))
}

func (s *starting) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if key, ok := msg.(tea.KeyPressMsg); ok && key.String() != "ctrl+c" {
		// Bubble Tea reports a size at start unless the terminal's is implausible; then a key
		// on the empty screen shows the wizard at the default size. The key itself is not
		// the wizard's: nobody has seen what it would act on.
		return s.m, nil
	}
	next, cmd := s.m.Update(msg)
	m, ok := next.(Model)
	if !ok {
		return next, cmd
	}
	s.m = m
	if _, sized := msg.(tea.WindowSizeMsg); sized {
		return m, cmd
	}
	return s, cmd
}

func (s *starting) View() tea.View { return tea.View{} }

// warmRenderer draws a view into an off-screen cell buffer, as the renderer does with each
// frame, while the program waits for its first tick: the first such draw of a process costs
// about a millisecond more than later ones (code and tables touched for the first time), and
// the first frame then leaves on the tick without that.
func warmRenderer(content string) tea.Cmd {
	return func() tea.Msg {
		ss := uv.NewStyledString(content)
		buf := uv.NewScreenBuffer(ss.Bounds().Dx(), ss.Height())
		ss.Draw(buf, buf.Bounds())
		return nil
	}
}

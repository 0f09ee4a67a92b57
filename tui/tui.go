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
	m := New(opts)
	// The renderer writes only on its ticks, the first one a full period after start: at the
	// highest rate bubbletea allows, the first frame shows about 8 ms sooner.
	final, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(120)).Run()
	if fm, ok := final.(Model); ok {
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

package tui

import (
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
)

// busySpinner turns while its screen is busy: one chain of ticks, started when the screen
// becomes busy and ended by the first tick that finds it idle.
type busySpinner struct {
	spin     spinner.Model
	spinning bool // a tick is on its way
}

func newBusySpinner() busySpinner {
	return busySpinner{spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

// update hands every message but the spinner's own ticks to handle, then starts the chain
// of ticks if the screen has become busy.
func (b *busySpinner) update(msg tea.Msg, busy func() bool, handle func() tea.Cmd) tea.Cmd {
	if tick, ok := msg.(spinner.TickMsg); ok {
		if !busy() {
			b.spinning = false // the chain ends here; the next busy state starts one
			return nil
		}
		var cmd tea.Cmd
		b.spin, cmd = b.spin.Update(tick)
		return cmd
	}
	cmd := handle()
	if busy() && !b.spinning {
		b.spinning = true
		cmd = tea.Batch(cmd, b.spin.Tick)
	}
	return cmd
}

// prefix is the spinner and a space to put before a line, or "" when the screen is idle.
func (b *busySpinner) prefix(busy bool) string {
	if !busy {
		return ""
	}
	return b.spin.View() + " "
}

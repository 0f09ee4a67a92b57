package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/creds"
)

// The consent step runs the engine's plan in the background. Its progress comes back as
// eventMsg, its outcome as consentDoneMsg or rotatedMsg; each carries the attempt it belongs
// to, so answers to a cancelled attempt are ignored.
type (
	eventMsg struct {
		attempt int
		ev      creds.Event
		events  <-chan creds.Event
	}
	consentDoneMsg struct {
		attempt int
		res     creds.Consent
		err     error
	}
	rotatedMsg struct {
		attempt int
		res     creds.Rotated
		err     error
	}
	simulatedMsg struct {
		attempt int
		err     error
	}
	tickMsg struct {
		attempt int
		at      time.Time
	}
)

// consentCmd runs the plan; events go to the channel that listenCmd reads, which is closed
// when the plan ends.
func consentCmd(ctx context.Context, attempt int, engine *creds.Service, req creds.ConsentRequest, events chan creds.Event) tea.Cmd {
	return func() tea.Msg {
		defer close(events)
		req.Events = sendUntilDone(ctx, events)
		res, err := engine.Consent(ctx, req)
		return consentDoneMsg{attempt, res, err}
	}
}

// sendUntilDone is an engine's event callback that hands each event to the screen's
// listener, and drops it once ctx is done: the screen has gone and nobody reads any more.
func sendUntilDone[E any](ctx context.Context, events chan<- E) func(E) {
	return func(ev E) {
		select {
		case events <- ev:
		case <-ctx.Done():
		}
	}
}

// listenCmd waits for the plan's next event.
func listenCmd(attempt int, events <-chan creds.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			return nil
		}
		return eventMsg{attempt, ev, events}
	}
}

// rotateCmd proves the new secret with the engine and swaps it in.
func rotateCmd(ctx context.Context, attempt int, engine *creds.Service, req creds.RotateRequest) tea.Cmd {
	return func() tea.Msg {
		p, err := engine.Store.Profile(req.Profile.Name)
		if err != nil {
			return rotatedMsg{attempt, creds.Rotated{}, err}
		}
		req.Profile = p
		res, err := engine.Rotate(ctx, req)
		return rotatedMsg{attempt, res, err}
	}
}

func simulateCmd(attempt int, simulate func(string) error, url string) tea.Cmd {
	return func() tea.Msg { return simulatedMsg{attempt, simulate(url)} }
}

// browserNotOpened is what a screen says when the engine could not open a browser for a
// sign-in, and, in the demo, the command that plays the browser's part instead.
func browserNotOpened(c *shared, attempt int, openErr error, url string) ([]string, tea.Cmd) {
	notes := []string{"Could not open a browser (" + openErr.Error() + "): open the address above yourself."}
	if demo := c.opts.Demo; demo != nil && demo.SimulateBrowser != nil {
		notes = append(notes, "Demo: no browser here, so the demo plays the browser's part.")
		return notes, simulateCmd(attempt, demo.SimulateBrowser, url)
	}
	return notes, nil
}

func tickCmd(attempt int) tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg{attempt, t} })
}

package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the wizard answers to. Screens pick the ones they use for the help line.
type KeyMap struct {
	Next, Back, NextField, PrevField, Up, Down, PageUp, PageDown key.Binding
	Left, Right, Toggle, Copy, Open, Help, Quit, Reveal          key.Binding
	Retry, Paste, Device, Browser, Simulate, PickError, Done     key.Binding
	New, Rotate, Reconsent, Verify, Delete, Presets              key.Binding
}

// DefaultKeyMap returns the wizard's keys.
func DefaultKeyMap() KeyMap {
	b := func(help string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
	}
	return KeyMap{
		Next:      b("next", "enter"),
		Back:      b("back", "esc"),
		NextField: b("next field", "tab"),
		PrevField: b("previous field", "shift+tab"),
		Up:        key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "move")),
		Down:      key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
		PageUp:    b("page up", "pgup"),
		PageDown:  b("page down", "pgdown"),
		Left:      b("previous choice", "left"),
		Right:     b("next choice", "right"),
		Toggle:    b("tick", "space"),
		Copy:      b("copy", "c"),
		Open:      b("open in browser", "o"),
		Help:      b("all keys", "?"),
		Quit:      b("quit", "ctrl+c"),
		Reveal:    b("show/hide secret", "ctrl+r"),
		Retry:     b("retry", "r"),
		Paste:     b("paste the URL instead", "p"),
		Device:    b("device code instead", "d"),
		Browser:   b("browser instead", "b"),
		Simulate:  b("simulate the browser", "s"),
		PickError: b("Microsoft showed an error", "e"),
		Done:      b("finish", "q"),
		New:       b("new profile", "n"),
		Rotate:    b("rotate secret", "r"),
		Reconsent: b("change permissions", "p"),
		Verify:    b("verify", "v"),
		Delete:    b("delete", "d"),
		Presets:   b("preset", "1-9"),
	}
}

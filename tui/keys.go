package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the wizard answers to. Screens pick the ones they use for the help line.
type KeyMap struct {
	Next, Back, NextField, PrevField, Up, Down, PageUp, PageDown key.Binding
	Left, Right, Toggle, Copy, Open, Help, Quit, Reveal          key.Binding
	Retry, Paste, Simulate, PickError, Done, CopyAddress         key.Binding
	New, Rotate, Reconsent, Verify, Delete, Presets              key.Binding
	Onboard, Send, CopyMessage                                   key.Binding
}

// relabel is b with other help text, for screens where a key means something specific.
func relabel(b key.Binding, help string) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(b.Help().Key, help))
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
		// Down shares Up's help entry ("↑/↓ move"); screens list only Up.
		Down:     key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
		PageUp:   b("page up", "pgup"),
		PageDown: b("page down", "pgdown"),
		Left:     key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "choose")),
		Right:    key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "next choice")),
		Toggle:   b("tick", "space"),
		Copy:     b("copy", "c"),
		Open:     b("open", "o"),
		Help:     b("help", "?", "f1"), // f1 also where '?' is text (the secret field)
		Quit:     b("quit", "ctrl+c"),
		Reveal:   b("show/hide", "ctrl+r"),
		Retry:    b("retry", "r"),
		// ctrl+y, because letters are text in the paste field.
		CopyAddress: b("copy address", "ctrl+y"),
		Paste:       b("paste address", "p"),
		Simulate:    b("simulate browser", "s"),
		PickError:   b("error page", "e"),
		Done:        b("finish", "q"),
		New:         b("new", "n"),
		Rotate:      b("rotate", "r"),
		Reconsent:   b("permissions", "p"),
		Verify:      b("verify", "v"),
		Delete:      b("delete", "d"),
		Onboard:     b("onboard customer", "o"),
		Send:        b("seal and send", "s"),
		CopyMessage: b("copy message", "m"),
		Presets:     key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "preset")),
	}
}

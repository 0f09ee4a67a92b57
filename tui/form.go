package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// field is one row of a form: a text input or a choice among options.
type field struct {
	name    string // the FieldError name it answers to
	label   string
	input   *textinput.Model
	options []string
	choice  int
	explain func(choice int) string // one line under a choice
	hint    string
	check   func(value string) (ok string, problem string) // live validation of a text field
	hidden  func() bool                                    // the field does not apply right now
}

func (fl *field) shown() bool { return fl.hidden == nil || !fl.hidden() }

func newInput(placeholder string, width int) *textinput.Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.SetWidth(width)
	// The terminal's own cursor (placed by the root View) does not blink on its own schedule
	// inside the frame, so screens and golden files stay steady.
	ti.SetVirtualCursor(false)
	return &ti
}

// form is a column of fields with one focused.
type form struct {
	fields []*field
	focus  int
	// top is how many lines the screen draws above the form, set by the screen before view;
	// curRow is the line of the focused input within the form, recorded by view.
	top, curRow int
}

// labelWidth is the marker plus the label column in front of every input.
const labelWidth = 20

// cursor is where the focused input's cursor is, relative to the screen's body.
func (f *form) cursor() *tea.Cursor {
	in := f.focused().input
	if in == nil {
		return nil
	}
	cur := in.Cursor()
	if cur == nil {
		return nil
	}
	cur.X += labelWidth
	cur.Y = f.top + f.curRow
	return cur
}

func (f *form) focused() *field { return f.fields[f.focus] }

func (f *form) focusOn(i int) tea.Cmd {
	for _, fl := range f.fields {
		if fl.input != nil {
			fl.input.Blur()
		}
	}
	f.focus = max(0, min(i, len(f.fields)-1))
	if in := f.focused().input; in != nil {
		return in.Focus()
	}
	return nil
}

func (f *form) focusField(name string) tea.Cmd {
	for i, fl := range f.fields {
		if fl.name == name {
			return f.focusOn(i)
		}
	}
	return nil
}

// step finds the next shown field in direction dir, or -1 at the end of the form.
func (f *form) step(dir int) int {
	for i := f.focus + dir; i >= 0 && i < len(f.fields); i += dir {
		if f.fields[i].shown() {
			return i
		}
	}
	return -1
}

// update moves focus and edits the focused field. It reports done when the user asks to
// leave the form forward (enter, or tab on the last field) or backward (esc, or shift+tab on
// the first field).
func (f *form) update(c *shared, msg tea.Msg) (cmd tea.Cmd, forward, backward bool) {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		k := c.keys
		fl := f.focused()
		switch {
		case key.Matches(km, k.Next):
			return nil, true, false
		case key.Matches(km, k.Back):
			return nil, false, true
		case key.Matches(km, k.NextField), key.Matches(km, k.Down):
			i := f.step(+1)
			if i < 0 {
				return nil, key.Matches(km, k.NextField), false
			}
			return f.focusOn(i), false, false
		case key.Matches(km, k.PrevField), key.Matches(km, k.Up):
			i := f.step(-1)
			if i < 0 {
				return nil, false, key.Matches(km, k.PrevField)
			}
			return f.focusOn(i), false, false
		case fl.options != nil && (key.Matches(km, k.Right) || key.Matches(km, k.Toggle)):
			fl.choice = (fl.choice + 1) % len(fl.options)
			return nil, false, false
		case fl.options != nil && key.Matches(km, k.Left):
			fl.choice = (fl.choice + len(fl.options) - 1) % len(fl.options)
			return nil, false, false
		}
	}
	if in := f.focused().input; in != nil {
		updated, cmd := in.Update(msg)
		*in = updated
		return cmd, false, false
	}
	return nil, false, false
}

// view draws the form; errs maps field names to the message of a refused Next.
func (f *form) view(c *shared, errs func(string) string) string {
	st := c.st
	var b strings.Builder
	for i, fl := range f.fields {
		if !fl.shown() {
			continue
		}
		marker := "  "
		label := st.Muted.Render(padRight(fl.label, 18))
		if i == f.focus {
			marker = st.Key.Render("› ")
			label = st.Title.Render(padRight(fl.label, 18))
		}
		b.WriteString(marker + label)
		if fl.options != nil {
			opt := fl.options[fl.choice]
			if i == f.focus {
				b.WriteString(st.Key.Render("‹ ") + st.Value.Render(opt) + st.Key.Render(" ›"))
			} else {
				b.WriteString(opt)
			}
			b.WriteString("\n")
			if fl.explain != nil {
				b.WriteString(indent(st.Hint.Render(ansi.Wordwrap(fl.explain(fl.choice), max(c.width-24, 30), " ")), 20) + "\n")
			}
		} else {
			if i == f.focus {
				f.curRow = strings.Count(b.String(), "\n")
			}
			b.WriteString(fl.input.View() + "\n")
			line := ""
			if fl.check != nil && fl.input.Value() != "" {
				ok, problem := fl.check(fl.input.Value())
				if problem != "" {
					line = st.Error.Render("✗ " + problem)
				} else if ok != "" {
					line = st.OK.Render("✓ " + ok)
				}
			}
			if line == "" && fl.hint != "" && i == f.focus {
				line = st.Hint.Render(fl.hint)
			}
			if line != "" {
				b.WriteString(indent(ansi.Wordwrap(line, max(c.width-24, 30), " "), 20) + "\n")
			}
		}
		if msg := errs(fl.name); msg != "" {
			b.WriteString(indent(st.Error.Render(ansi.Wordwrap("✗ "+msg, max(c.width-24, 30), " ")), 20) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// indent puts n spaces before every line of s.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// padRight pads s with spaces to n terminal cells.
func padRight(s string, n int) string {
	if w := ansi.StringWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// para wraps prose to the screen's width. A word longer than the line (a path) is broken
// rather than cut off with "…".
func para(c *shared, s string) string { return ansi.Wrap(s, max(c.width-2, 30), " ") }

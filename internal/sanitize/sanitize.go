// Package sanitize makes text from outside (server answers, config files, command-line
// arguments) safe to print on a terminal: no control characters, no escape sequences that
// could clear the screen, set the window title or write to the clipboard (OSC 52), no bidi
// overrides that reorder what is shown, and no unbounded length.
package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ellipsis marks a clipped value.
const Ellipsis = "…"

// Line returns s as one printable line: escape sequences and control characters removed,
// line breaks and tabs turned into single spaces, bidi controls removed, and the result clipped
// to max terminal columns (with "…" as the last column). max <= 0 means no limit.
func Line(s string, max int) string {
	return clip(strings.TrimSpace(strip(s, false)), max)
}

// Text is Line for text that may span lines: line breaks are kept (CR LF and lone CR become
// LF), everything else is cleaned as Line does, and the whole is clipped to max columns
// (line breaks count as one). max <= 0 means no limit.
func Text(s string, max int) string {
	return clip(strings.TrimSpace(strip(s, true)), max)
}

// Clean reports whether s is already what Line(s, 0) returns, so callers can refuse a value
// instead of altering it.
func Clean(s string) bool { return Line(s, 0) == s }

// strip removes escape sequences and control characters. keepNewlines keeps LF (and turns
// CR LF and CR into LF); otherwise every run of line breaks and tabs becomes one space.
func strip(s string, keepNewlines bool) string {
	var b strings.Builder
	b.Grow(len(s))
	spaced := false // the last rune written is a space made from a break or tab
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			// A byte that is not UTF-8: some terminals read 0x80-0x9f as C1 controls.
			b.WriteRune(utf8.RuneError)
			spaced = false
			i++
			continue
		}
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r >= 0x80 && r <= 0x9f:
			i += c1Len(s[i:], r, size)
			continue
		case r == '\r' || r == '\n':
			if keepNewlines {
				if r == '\r' && strings.HasPrefix(s[i+size:], "\n") {
					size++
				}
				b.WriteByte('\n')
				spaced = false
				i += size
				continue
			}
			fallthrough
		case r == '\t' || r == '\v' || r == '\f':
			if !spaced {
				b.WriteByte(' ')
				spaced = true
			}
			i += size
			continue
		case r < 0x20 || r == 0x7f, isBidiControl(r):
			i += size
			continue
		}
		b.WriteString(s[i : i+size])
		spaced = false
		i += size
	}
	return b.String()
}

// isBidiControl reports the characters that change the display order of what follows them
// (embeddings, overrides, isolates and the invisible direction marks).
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

// escapeLen is the length of the escape sequence at the start of s (which starts with ESC).
// An unterminated string sequence runs to the end of s: printing its tail could still
// complete it on the terminal.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC
		return 2 + stringLen(s[2:])
	}
	// ESC, intermediate bytes 0x20-0x2f, one final byte 0x30-0x7e (ESC c, ESC ( B, ...).
	n := 1
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && s[n] >= 0x30 && s[n] <= 0x7e {
		n++
	}
	return n
}

// c1Len is the length of what starts with the C1 control r (encoded in size bytes): the
// 8-bit forms of CSI, OSC, DCS, SOS, PM and APC take their sequence with them.
func c1Len(s string, r rune, size int) int {
	switch r {
	case 0x9b: // CSI
		return size + csiLen(s[size:])
	case 0x9d, 0x90, 0x98, 0x9e, 0x9f: // OSC, DCS, SOS, PM, APC
		return size + stringLen(s[size:])
	}
	return size
}

// csiLen reads parameter bytes 0x30-0x3f and intermediate bytes 0x20-0x2f up to and including
// the final byte 0x40-0x7e. Anything else ends the sequence before it.
func csiLen(s string) int {
	for n := 0; n < len(s); n++ {
		c := s[n]
		switch {
		case c >= 0x20 && c <= 0x3f:
		case c >= 0x40 && c <= 0x7e:
			return n + 1
		default:
			return n
		}
	}
	return len(s)
}

// stringLen reads a control string up to and including its terminator: BEL, ESC \ or the
// 8-bit ST (U+009C).
func stringLen(s string) int {
	for n := 0; n < len(s); n++ {
		switch {
		case s[n] == 0x07:
			return n + 1
		case s[n] == 0x1b && n+1 < len(s) && s[n+1] == '\\':
			return n + 2
		case strings.HasPrefix(s[n:], "\u009c"):
			return n + len("\u009c")
		case s[n] == 0x1b:
			// ESC not followed by '\' aborts the string on real terminals.
			return n
		}
	}
	return len(s)
}

// Width is the number of terminal columns s takes, by the usual rules: East Asian wide and
// emoji characters take two, combining marks and zero-width characters none.
func Width(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

func runeWidth(r rune) int {
	switch {
	case r == 0x200b || r == 0x200c || r == 0x200d || r == 0xfeff:
		return 0
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		return 0
	case isWide(r):
		return 2
	}
	return 1
}

// isWide covers the East Asian Wide and Fullwidth blocks and the emoji planes.
func isWide(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115f, // Hangul Jamo initials
		r >= 0x2e80 && r <= 0x303e, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33ff, // kana, CJK compatibility
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified ideographs
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xac00 && r <= 0xd7a3, // Hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // fullwidth forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, // pictographs, emoticons
		r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x20000 && r <= 0x3fffd: // CJK extensions B and later
		return true
	}
	return false
}

// clip cuts s to max columns, the last of them "…" when anything was cut.
func clip(s string, max int) string {
	if max <= 0 || Width(s) <= max {
		return s
	}
	budget := max - Width(Ellipsis)
	w := 0
	for i, r := range s {
		rw := runeWidth(r)
		if w+rw > budget {
			return strings.TrimRight(s[:i], " \n") + Ellipsis
		}
		w += rw
	}
	return s
}

package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Ada Lovelace", 0, "Ada Lovelace"},
		{"clear screen", "Ada\x1b[2J\x1b[HLovelace", 0, "AdaLovelace"},
		{"colour", "\x1b[1;31mred\x1b[0m", 0, "red"},
		{"OSC 0 title with BEL", "a\x1b]0;owned\x07b", 0, "ab"},
		{"OSC 52 clipboard with ST", "a\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x1b\\b", 0, "ab"},
		{"OSC unterminated", "name\x1b]52;c;AAAA", 0, "name"},
		{"DCS", "x\x1bPq#0;2;0;0;0\x1b\\y", 0, "xy"},
		{"APC PM SOS", "1\x1b_apc\x1b\\2\x1b^pm\x1b\\3\x1bXsos\x1b\\4", 0, "1234"},
		{"two-byte escape", "a\x1bcb\x1b(Bc", 0, "abc"},
		{"8-bit CSI", "a\u009b2Jb", 0, "ab"},
		{"8-bit OSC", "a\u009d0;t\u009cb", 0, "ab"},
		{"other C1", "a\u0085b\u0084c", 0, "abc"},
		{"raw C1 byte", "a\x9b2Jb", 0, "a\ufffd2Jb"},
		{"C0 and DEL", "a\x00b\x07c\x08d\x7fe", 0, "abcde"},
		{"newlines and tabs", "line one\r\nline two\tend\n", 0, "line one line two end"},
		{"bidi override", "user\u202egpj.exe", 0, "usergpj.exe"},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", 0, "abc"},
		{"clip", "abcdefghij", 5, "abcd…"},
		{"clip exact", "abcde", 5, "abcde"},
		{"clip wide", "日本語のテキスト", 7, "日本語…"},
		{"clip after stripping", "\x1b[2J\x1b[2J\x1b[2Jabc", 3, "abc"},
		{"umlauts kept", "Jürgen Müller", 0, "Jürgen Müller"},
	} {
		if got := Line(tc.in, tc.max); got != tc.want {
			t.Errorf("%s: Line(%q, %d) = %q, want %q", tc.name, tc.in, tc.max, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	in := "AADSTS700016: not found.\r\nTrace ID: 1f2e\rCorrelation ID: 9a8b\x1b]52;c;QQ==\x07\n"
	want := "AADSTS700016: not found.\nTrace ID: 1f2e\nCorrelation ID: 9a8b"
	if got := Text(in, 0); got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if got := Text(strings.Repeat("x", 100), 10); got != "xxxxxxxxx…" {
		t.Errorf("Text clip = %q", got)
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	if !Clean("contoso.onmicrosoft.com") || Clean("a\x1b[2Jb") || Clean(" padded ") {
		t.Error("Clean misjudges")
	}
}

func TestWidth(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"abc": 3, "日本": 4, "e\u0301": 1, "…": 1, "🙂": 2} {
		if got := Width(in); got != want {
			t.Errorf("Width(%q) = %d, want %d", in, got, want)
		}
	}
}

// FuzzLine checks that nothing a terminal would act on survives, whatever the input.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\x1b]52;c;QQ==\x07", "\u009b31m", "a\r\nb", "\u202e", "日本語", "\x1b", "\x1b[", "\x1bP"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, in string, max int) {
		max %= 200
		for _, keep := range []bool{false, true} {
			var out string
			if keep {
				out = Text(in, max)
			} else {
				out = Line(in, max)
			}
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of %q: %q", in, out)
			}
			for _, r := range out {
				switch {
				case r == '\n' && keep:
				case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, isBidiControl(r):
					t.Fatalf("control %U survived in %q (from %q)", r, out, in)
				}
			}
			if max > 0 && Width(out) > max {
				t.Fatalf("width %d > %d: %q", Width(out), max, out)
			}
			if keep {
				continue
			}
			if again := Line(out, max); again != out {
				t.Fatalf("not idempotent: %q -> %q", out, again)
			}
		}
	})
}

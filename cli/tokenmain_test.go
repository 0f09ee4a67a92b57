package cli

import (
	"strings"
	"testing"

	"github.com/m365creds/m365creds/keyring"
)

// TestTokenProgramMatchesToken: m365creds-token ARGS prints, says and exits exactly as
// m365creds token ARGS does, for good calls, bad flags and unknown profiles alike.
func TestTokenProgramMatchesToken(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("work")
		h.setupWeb("home")
		for _, args := range [][]string{
			{"work"},
			{"home", "--format", "header"},
			{"work", "-json"},
			{"work", "--format=xoauth2", "--user", testUPN},
			{"work", "--min-valid", "10m", "--scope", "User.Read"},
			{"work", "--format", "xml"},
			{"work", "--bogus=1"},
			{"work", "--store"},
			{"work", "--min-valid", "2h"},
			{"work", "extra"},
			{"nobody"},
			{},
			{"--help"},
			{"-h"},
		} {
			want := h.run("", append([]string{"token"}, args...)...)
			got := h.runTokenProgram(args...)
			if got != want {
				t.Errorf("m365creds-token %s:\n got  %d %q %q\n want %d %q %q", strings.Join(args, " "),
					got.code, got.stdout, got.stderr, want.code, want.stdout, want.stderr)
			}
		}
		r := h.runTokenProgram("--version")
		expectCode(t, r, ExitOK)
		if !strings.HasPrefix(r.stdout, "m365creds-token ") {
			t.Errorf("--version printed %q", r.stdout)
		}
	})
}

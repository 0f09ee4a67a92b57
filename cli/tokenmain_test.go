package cli

import (
	"context"
	"strings"
	"testing"
	"time"

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
			{"-help"},
			{"help"},
			{"--"},
			{"--", "--json"},
			{"work", "--", "extra"},
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

// TestTokenProgramWatchesInterruptsOnlyToRefresh: a cached token is served without setting up
// the interrupt watch; a refresh sets it up once, and an interrupt arriving after Microsoft
// answered still leaves the rotated refresh token saved, and the call ends with exit 130.
func TestTokenProgramWatchesInterruptsOnlyToRefresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	var watches int
	var interrupt context.CancelFunc
	h.env.WatchInterrupts = func(cancel context.CancelFunc) { watches++; interrupt = cancel }
	h.env.interruptGrace = time.Hour // only a refresh watches, however slow the machine
	r := h.runTokenProgram("work")
	if r.code != 0 {
		t.Fatalf("cached token: exit %d: %s", r.code, r.stderr)
	}
	if watches != 0 {
		t.Fatalf("cached token: %d interrupt watches, want 0", watches)
	}
	watches = 0
	h.expireCache("work", time.Now().Add(-time.Hour))
	before := h.secrets("work").RefreshToken
	h.env.HTTPClient = interruptOnRefresh(func() {
		if interrupt != nil { // set by the watch, if the refresh set one up
			interrupt()
		}
	})
	r = h.runTokenProgram("work")
	if watches != 1 || r.code != ExitInterrupted {
		t.Fatalf("interrupted refresh: exit %d, %d interrupt watches; want %d and 1: %s", r.code, watches, ExitInterrupted, r.stderr)
	}
	if after := h.secrets("work").RefreshToken; after == before {
		t.Fatal("the rotated refresh token was not saved after the interruption")
	}
}

// TestTokenProgramLateWatchEndsWithTheCall: a call slower than the grace period watches for
// interrupts from then on, and nothing is set up once the call has returned, even when the
// late watch started just as the call ended. (The race detector fails the unsynchronised
// counter below if a watch is set up after TokenMain returns.)
func TestTokenProgramLateWatchEndsWithTheCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	watches := 0
	h.env.WatchInterrupts = func(context.CancelFunc) { watches++ }
	h.env.interruptGrace = time.Nanosecond
	for i := 0; i < 20; i++ {
		before := watches
		if r := h.runTokenProgram("work"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if n := watches - before; n > 1 {
			t.Fatalf("call %d set up %d watches, want at most 1", i, n)
		}
		returned := watches
		time.Sleep(time.Millisecond)
		if watches != returned {
			t.Fatalf("call %d set up a watch after it returned", i)
		}
	}
}

//go:build unix

package cli

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/m365creds/m365creds/keyring"
)

// TestTokenProgramWatchesInterruptsWhenSlow: a call that is still reading the keychain after
// a moment (an unlock prompt, a daemon that does not answer) watches for interrupts too, and
// an interrupt then ends it with exit 130. The secrets file is a FIFO nobody writes to.
func TestTokenProgramWatchesInterruptsWhenSlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work")
	path := filepath.Join(h.dir, "secrets-"+testService+".json")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	t.Cleanup(func() {
		// Let the abandoned read finish: open the writing end, then close it (EOF).
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			_ = f.Close()
		}
	})
	watched := make(chan struct{}, 1)
	h.env.WatchInterrupts = func(cancel context.CancelFunc) {
		watched <- struct{}{}
		cancel() // SIGINT arrives as soon as it is watched for
	}
	r := h.runTokenProgram("work")
	select {
	case <-watched:
	default:
		t.Fatalf("a call stuck in the keychain never watched for interrupts (exit %d: %s)", r.code, r.stderr)
	}
	if r.code != ExitInterrupted {
		t.Fatalf("interrupted while reading the keychain: exit %d, want %d: %s", r.code, ExitInterrupted, r.stderr)
	}
}

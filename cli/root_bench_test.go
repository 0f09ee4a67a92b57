package cli

import (
	"context"
	"io"
	"testing"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/keyring"
)

// BenchmarkCommandTree is what the command line costs each run before a command starts:
// building the cobra tree and parsing the arguments.
func BenchmarkCommandTree(b *testing.B) {
	for b.Loop() {
		a := &app{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard, env: OSEnv()}
		if err := newCommandTree(a).execute(a, []string{"--version"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenProgram is one m365creds-token call with a valid cached token, in process:
// arguments, config file, the keychain read (the real Secret Service when the tests have
// one), printing. Start-up and package init are not in it: scripts/bench.sh measures those.
func BenchmarkTokenProgram(b *testing.B) {
	backend := keyring.BackendFile
	if testkeychain.Active() {
		backend = keyring.BackendKeychain
	}
	h := newHarness(b, backend)
	h.setupWeb("work")
	b.ReportAllocs()
	for b.Loop() {
		if r := h.runTokenProgram("work"); r.code != 0 {
			b.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
}

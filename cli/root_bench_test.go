package cli

import (
	"context"
	"io"
	"testing"
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

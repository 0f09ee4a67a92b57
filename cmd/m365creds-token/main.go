// Command m365creds-token is `m365creds token` alone, for mail clients and scripts that ask
// for a token on every connection: the same flags, output and exit codes, in a program that
// links nothing else and so starts sooner and uses less memory.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/m365creds/m365creds/cli"
)

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		// A token call mostly waits for the keychain daemon. With one processor the runtime
		// does not spin a second thread while it waits, which on a small machine takes the
		// CPU the daemon needs to answer: 0.4 ms of a 5 ms call.
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.TokenMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, cli.OSEnv())
	stop()
	os.Exit(code)
}

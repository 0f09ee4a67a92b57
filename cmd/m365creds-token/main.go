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
		// CPU the daemon needs to answer: 0.1 to 0.2 ms of a 4.5 ms call.
		runtime.GOMAXPROCS(1)
	}
	env := cli.OSEnv()
	env.WatchInterrupts = watchInterrupts
	os.Exit(cli.TokenMain(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env))
}

// watchInterrupts cancels a token call on SIGINT or SIGTERM, so that a refresh Microsoft has
// answered is still saved before the program ends; a second signal ends it at once. It is
// set up only when a call goes past the cache or runs for 50 ms: signal handling starts a
// thread of its own, 0.4 ms, which a call served from the cache does not need (an interrupt
// during one loses nothing).
func watchInterrupts(cancel context.CancelFunc) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		signal.Stop(signals)
		cancel()
	}()
}

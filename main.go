// Command m365creds sets up Microsoft 365 OAuth credentials, keeps them in the OS keychain and
// serves fresh access tokens to scripts.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/m365creds/m365creds/cli"
	"github.com/m365creds/m365creds/tui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.OSEnv()
	env.Wizard = cli.Wizard{Run: tui.Run, StartDemo: tui.StartDemo}
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env)
	stop()
	os.Exit(code)
}

package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// TokenMain runs `m365creds token` and nothing else: args are token's own (a profile and
// flags), and the output, messages and exit codes are token's. It is the whole of
// m365creds-token, for programs that ask for a token on every connection: its command tree
// has no other command, so that program links neither the wizard nor the other commands,
// and starts as fast as the keychain lets it.
func TokenMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env Env) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := newApp(ctx, stdin, stdout, stderr, env)
	if env.WatchInterrupts != nil {
		var once sync.Once
		a.beforeRefresh = func() { once.Do(func() { env.WatchInterrupts(cancel) }) }
		// A cached call ends in a few milliseconds. One that takes longer (a keychain waiting
		// for an unlock, a daemon not answering) watches from here on too, so an interrupt
		// ends it as m365creds token's would.
		grace := env.interruptGrace
		if grace == 0 {
			grace = defaultInterruptGrace
		}
		watchLate := time.AfterFunc(grace, a.beforeRefresh)
		defer func() {
			if !watchLate.Stop() {
				// The late watch has started: wait for it, so that nothing is set up after
				// the call has ended.
				once.Do(func() {})
			}
		}()
	}
	var err error
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-v" || args[0] == "-version") {
		_, err = fmt.Fprintf(stdout, "m365creds-token %s\n", Version())
	} else {
		err = runTokenAlone(a, args)
	}
	return a.finish(err)
}

// defaultInterruptGrace is how long a token call of m365creds-token runs before it watches for
// interrupts even without a refresh.
const defaultInterruptGrace = 50 * time.Millisecond

// runTokenAlone parses token's flags and runs it without cobra's Execute, whose command
// search, completion and usage templates would add 200 KB of code to map on every start.
// Errors and help read as they do under m365creds token.
func runTokenAlone(a *app, args []string) error {
	t := &commandTree{root: &cobra.Command{Use: "m365creds"}}
	c := a.tokenCommand()
	t.root.AddCommand(c)
	t.ordered = []*cobra.Command{c}
	c.SetOut(a.stdout)
	c.InitDefaultHelpFlag()
	t.args = t.longForms(append([]string{"token"}, args...))
	fs := c.Flags()
	if err := fs.Parse(t.args[1:]); err != nil {
		return t.flagError(c, err)
	}
	if help, _ := fs.GetBool("help"); help {
		t.printHelp(c)
		return nil
	}
	return c.RunE(c, fs.Args())
}

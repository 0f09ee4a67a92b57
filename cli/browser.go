package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ErrNoBrowser means no way to open a browser was found.
var ErrNoBrowser = errors.New("no browser could be opened")

// openBrowser opens url in the user's browser. $BROWSER (browserVar) wins when set: it is split like a
// command line (quotes respected), "%s" in it is replaced by the URL, else the URL is appended;
// several commands may be separated by ':' as in xdg-utils and the first that starts wins.
// Without it the platform opener is used (xdg-open, open, rundll32). The browser is started
// and not waited for.
func openBrowser(browserVar, url string) error {
	if b := strings.TrimSpace(browserVar); b != "" {
		var firstErr error
		for _, cmdline := range splitBrowserList(b) {
			args := splitCommandLine(cmdline)
			if len(args) == 0 {
				continue
			}
			if err := start(browserArgs(args, url)); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			return nil
		}
		if firstErr != nil {
			return fmt.Errorf("%w: $BROWSER: %v", ErrNoBrowser, firstErr)
		}
	}
	var args []string
	switch runtime.GOOS {
	case "darwin":
		args = []string{"open", url}
	case "windows":
		args = []string{"rundll32", "url.dll,FileProtocolHandler", url}
	default:
		for _, opener := range []string{"xdg-open", "wslview", "sensible-browser"} {
			if _, err := exec.LookPath(opener); err == nil {
				args = []string{opener, url}
				break
			}
		}
	}
	if args == nil {
		return fmt.Errorf("%w: set $BROWSER or open the address yourself", ErrNoBrowser)
	}
	if err := start(args); err != nil {
		return fmt.Errorf("%w: %v", ErrNoBrowser, err)
	}
	return nil
}

func browserArgs(args []string, url string) []string {
	out := make([]string, 0, len(args)+1)
	replaced := false
	for _, a := range args {
		if strings.Contains(a, "%s") {
			a = strings.ReplaceAll(a, "%s", url)
			replaced = true
		}
		out = append(out, a)
	}
	if !replaced {
		out = append(out, url)
	}
	return out
}

// splitBrowserList splits $BROWSER at ':' separators, except where a ':' belongs to a Windows
// drive letter such as C:\.
func splitBrowserList(s string) []string {
	if runtime.GOOS == "windows" {
		return []string{s}
	}
	return strings.Split(s, ":")
}

// start runs a command without waiting for it, so a browser staying open does not block.
// The process is reaped in the background so it never lingers as a zombie.
// openerVerdict is how long start waits for an opener to fail. Openers such as xdg-open and
// sensible-browser exit at once with an error when no browser is configured; a browser that
// really starts either hands over and exits 0 or keeps running.
const openerVerdict = 1500 * time.Millisecond

func start(args []string) error {
	// Not tied to a context: the browser must outlive this call.
	cmd := exec.CommandContext(context.Background(), args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(args[0]), err)
		}
	case <-time.After(openerVerdict):
	}
	return nil
}

// splitCommandLine splits s at spaces, honouring single and double quotes and backslash
// escapes outside single quotes, like a POSIX shell without expansions.
func splitCommandLine(s string) []string {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'' && runtime.GOOS != "windows":
			escaped = true
			inArg = true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote = r
			inArg = true
		case r == ' ' || r == '\t' || r == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

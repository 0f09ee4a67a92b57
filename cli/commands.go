package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand: its help and how it runs.
type command struct {
	name     string
	aliases  []string
	args     string // positional part of the usage line, e.g. "[PROFILE]"
	summary  string // one line for the global help
	long     string // paragraphs for the command's help
	examples string
	hidden   []string // flags left out of the help (internal plumbing)
	flags    func(fs *flag.FlagSet) any
	exec     func(a *app, opts any, pos []string) error
}

// commands in the order the global help lists them.
var commands []*command

func init() {
	commands = []*command{
		setupCmd, tokenCmd, statusCmd, rotateCmd, verifyCmd, deleteCmd, demoCmd, completionCmd,
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
		for _, al := range c.aliases {
			if al == name {
				return c
			}
		}
	}
	return nil
}

// flagSet builds the command's flags into a fresh set and returns the options they fill.
func (c *command) flagSet() (*flag.FlagSet, any) {
	fs := newFlagSet(c.name)
	var opts any
	if c.flags != nil {
		opts = c.flags(fs)
	}
	return fs, opts
}

func (c *command) run(a *app, args []string) error {
	fs, opts := c.flagSet()
	pos, err := parseArgs(c.name, fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(a.stdout)
		return nil
	}
	if err != nil {
		return err
	}
	return c.exec(a, opts, pos)
}

func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: m365creds %s", c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fs, _ := c.flagSet()
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, " [flags]")
	}
	fmt.Fprintln(w)
	if len(c.aliases) > 0 {
		fmt.Fprintf(w, "Alias: %s\n", strings.Join(c.aliases, ", "))
	}
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	fmt.Fprintln(w, "\nFlags:")
	printFlags(w, fs, c.hidden)
	fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.examples, "\n"))
}

// flagUsage splits a flag's usage "`VALUE` what it does" into the value name and the text.
// Flags without a backquoted name are switches or take a plain VALUE.
func flagUsage(f *flag.Flag) (value, usage string) {
	usage = f.Usage
	if i := strings.Index(usage, "`"); i == 0 {
		if j := strings.Index(usage[1:], "`"); j >= 0 {
			return usage[1 : j+1], strings.TrimSpace(usage[j+2:])
		}
	}
	if isBool(f) {
		return "", usage
	}
	return "VALUE", usage
}

// flagColumn is where flag descriptions start; longer flag names put theirs on the next line.
const flagColumn = 26

// printFlags lists the flags as --name VALUE followed by the description.
func printFlags(w io.Writer, fs *flag.FlagSet, hidden []string) {
	type row struct{ left, usage string }
	var rows []row
	fs.VisitAll(func(f *flag.Flag) {
		for _, h := range hidden {
			if h == f.Name {
				return
			}
		}
		value, usage := flagUsage(f)
		left := "--" + f.Name
		if value != "" {
			left += " " + value
		}
		rows = append(rows, row{left, usage})
	})
	rows = append(rows, row{"-h, --help", "show this help"})
	for _, r := range rows {
		lines := wrap(r.usage, 78-flagColumn)
		if len(r.left)+2 > flagColumn-2 {
			fmt.Fprintf(w, "  %s\n", r.left)
		} else {
			fmt.Fprintf(w, "  %-*s", flagColumn-2, r.left)
			fmt.Fprintln(w, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", flagColumn), l)
		}
	}
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func (a *app) printGlobalHelp(w io.Writer) {
	fmt.Fprint(w, `m365creds sets up Microsoft 365 OAuth credentials once, keeps them in the OS keychain,
and hands out fresh access tokens to scripts.

Usage:
  m365creds                 the wizard (or, with saved profiles, the home screen); needs a terminal
  m365creds COMMAND [flags]

Commands:
`)
	for _, c := range commands {
		name := c.name
		if len(c.aliases) > 0 {
			name += " (" + strings.Join(c.aliases, ", ") + ")"
		}
		fmt.Fprintf(w, "  %-18s %s\n", name, c.summary)
	}
	fmt.Fprintf(w, "  %-18s %s\n", "help COMMAND", "show a command's help (same as m365creds COMMAND --help)")
	fmt.Fprint(w, `
Flags:
  -h, --help     show this help
  -v, --version  print the version

`)
	fmt.Fprint(w, exitCodesHelp)
	fmt.Fprint(w, `
Environment:
  M365CREDS_CONFIG_DIR      where profiles are kept (default: the user config directory/m365creds)
  M365CREDS_KEYRING_TIMEOUT how long to wait for the keychain, e.g. 10s
  M365CREDS_LOGIN_URL       other sign-in endpoint (tests, private deployments); https, or http on this machine only
  M365CREDS_GRAPH_URL       other Microsoft Graph endpoint; same rule
  BROWSER                   the browser to open sign-in pages with
  NO_COLOR                  plain output

Examples:
  m365creds                                   # first time: the wizard walks you through it
  m365creds demo                              # try the whole walk against a built-in simulator
  curl -H "Authorization: Bearer $(m365creds token)" https://graph.microsoft.com/v1.0/me
  m365creds status
`)
}

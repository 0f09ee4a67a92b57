package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is the widest line a help text may have, so it reads in an 80-column terminal.
const helpWidth = 78

// printHelp writes the help of c (the global help for the root) to stdout.
func (t *commandTree) printHelp(c *cobra.Command) {
	w := c.OutOrStdout()
	t.expandUsages(false)
	if !c.HasParent() {
		t.printGlobalHelp(w)
		return
	}
	fmt.Fprintf(w, "Usage: m365creds %s", c.Use)
	if hasVisibleFlags(c) {
		fmt.Fprint(w, " [flags]")
	}
	fmt.Fprintln(w)
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "Alias: %s\n", strings.Join(c.Aliases, ", "))
	}
	fmt.Fprintf(w, "\n%s\n", reflow(strings.TrimSpace(c.Long), helpWidth))
	fmt.Fprintln(w, "\nFlags:")
	printFlags(w, c.LocalFlags())
	fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
}

func hasVisibleFlags(c *cobra.Command) bool {
	visible := false
	c.LocalFlags().VisitAll(func(f *pflag.Flag) { visible = visible || (!f.Hidden && f.Name != "help") })
	return visible
}

// reflow fills the lines of each paragraph up to width. Indented lines (lists, tables) are
// kept as they are.
func reflow(text string, width int) string {
	var out, run []string
	flush := func() {
		if len(run) > 0 {
			out = append(out, wrap(strings.Join(run, " "), width)...)
			run = nil
		}
	}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
			out = append(out, "")
		case line[0] == ' ':
			flush()
			out = append(out, line)
		default:
			run = append(run, line)
		}
	}
	flush()
	return strings.Join(out, "\n")
}

// flagUsage splits a flag's usage "`VALUE` what it does" into the value name and the text.
// Flags without a backquoted name are switches or take a plain VALUE.
func flagUsage(f *pflag.Flag) (value, usage string) {
	usage = f.Usage
	if i := strings.Index(usage, "`"); i == 0 {
		if j := strings.Index(usage[1:], "`"); j >= 0 {
			return usage[1 : j+1], strings.TrimSpace(usage[j+2:])
		}
	}
	if f.Value.Type() == "bool" {
		return "", usage
	}
	return "VALUE", usage
}

// flagColumn is where flag descriptions start; longer flag names put theirs on the next line.
const flagColumn = 26

// printFlags lists the flags as --name VALUE followed by the description, then -h, --help.
func printFlags(w io.Writer, fs *pflag.FlagSet) {
	type row struct{ left, usage string }
	var rows []row
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
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
		lines := wrap(r.usage, helpWidth-flagColumn)
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
		if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
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

func (t *commandTree) printGlobalHelp(w io.Writer) {
	fmt.Fprint(w, `m365creds sets up Microsoft 365 OAuth credentials once, keeps them in the OS
keychain, and hands out fresh access tokens to scripts.

Usage:
  m365creds                  the wizard (or, with saved profiles, the home
                             screen); needs a terminal
  m365creds COMMAND [flags]

Commands:
`)
	for _, c := range t.ordered {
		name := c.Name()
		if len(c.Aliases) > 0 {
			name += " (" + strings.Join(c.Aliases, ", ") + ")"
		}
		fmt.Fprintf(w, "  %-18s %s\n", name, c.Short)
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
  M365CREDS_CONFIG_DIR       where profiles are kept (default: the user config
                             directory/m365creds)
  M365CREDS_KEYRING_TIMEOUT  how long to wait for the keychain, e.g. 10s
  M365CREDS_LOGIN_URL        other sign-in endpoint (tests, private
                             deployments): https, or http on this machine only
  M365CREDS_GRAPH_URL        other Microsoft Graph endpoint; same rule
  BROWSER                    the browser to open sign-in pages with
  NO_COLOR                   plain output

Examples:
  m365creds           # first time: the wizard walks you through it
  m365creds demo      # try the whole walk against a built-in simulator
  curl -H "Authorization: Bearer $(m365creds token)" \
      https://graph.microsoft.com/v1.0/me
  m365creds status
`)
}

package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/steps"
)

func init() {
	// A double-click on m365creds.exe opens a console, where the wizard is what a person wants;
	// cobra would instead print a notice and quit.
	cobra.MousetrapHelpText = ""
}

// commandTree is the cobra command tree of one run, with the subcommands in the order the
// global help lists them (cobra itself sorts them by name).
type commandTree struct {
	root    *cobra.Command
	ordered []*cobra.Command
	args    []string // the command line, as cobra parses it
}

// newCommandTree builds the commands for one run of a. It is built afresh each time, so runs
// in one process (the tests) share no flag state.
func newCommandTree(a *app) *commandTree {
	t := &commandTree{}
	var showVersion bool
	var port int
	t.root = &cobra.Command{
		Use:           "m365creds",
		Args:          t.noCommand,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(*cobra.Command, []string) error {
			if showVersion {
				fmt.Fprintf(a.stdout, "m365creds %s\n", Version())
				return nil
			}
			if err := a.checkEndpoints(""); err != nil {
				return err
			}
			if port < 0 || port > 65535 {
				return usagef("", "--port must be between 1 and 65535")
			}
			return a.runHome(port)
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	t.root.Flags().BoolVarP(&showVersion, "version", "v", false, "print the version")
	t.root.Flags().IntVar(&port, "port", 0, fmt.Sprintf("`N` the wizard's loopback port for the sign-in redirect (default %d)", steps.DefaultPort))
	t.root.SetArgs([]string{})
	t.root.SetIn(a.stdin)
	t.root.SetOut(a.stdout)
	t.root.SetErr(a.stderr)
	t.root.SetFlagErrorFunc(t.flagError)
	t.root.SetHelpFunc(func(c *cobra.Command, _ []string) { t.printHelp(c) })

	t.ordered = []*cobra.Command{
		a.setupCommand(), a.tokenCommand(), a.execCommand(), a.exportCommand(), a.snippetCommand(), a.statusCommand(), a.rotateCommand(),
		a.verifyCommand(), a.deleteCommand(), a.onboardCommand(), a.sendCommand(), a.receiveCommand(), a.publishCommand(),
		a.keepaliveCommand(), a.demoCommand(), a.completionCommand(t),
	}
	for _, c := range t.ordered {
		c.SetFlagErrorFunc(t.flagError)
		t.root.AddCommand(c)
		// cobra completes command names but not aliases: offer those as arguments of the root.
		for _, alias := range c.Aliases {
			t.root.ValidArgs = append(t.root.ValidArgs, cobra.CompletionWithDesc(alias, c.Short))
		}
	}
	t.root.SetHelpCommand(&cobra.Command{
		Use:   "help [COMMAND]",
		Short: "show a command's help (same as m365creds COMMAND --help)",
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				t.printHelp(t.root)
				return nil
			}
			c := t.lookup(args[0])
			if c == nil {
				return unknownCommand(args[0])
			}
			t.printHelp(c)
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return t.commandNames(), cobra.ShellCompDirectiveNoFileComp
		},
	})
	return t
}

// execute runs the command line args. Flags come after the command: a flag first is a usage
// error, except the global --help and --version.
func (t *commandTree) execute(a *app, args []string) error {
	if len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		switch args[0] {
		case "-h", "-help", "--help":
			t.printHelp(t.root)
			return nil
		case "-v", "-version", "--version":
			args = []string{"--version"}
		case "--port", "-port":
			// The wizard's own flag: m365creds --port N opens the wizard.
		default:
			if strings.HasPrefix(args[0], "--port=") {
				break
			}
			return usagef("", "unknown flag %s (commands come first: m365creds COMMAND [flags])", typedFlag(args[0]))
		}
	}
	if len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd) {
		t.prepareCompletion(a)
	}
	t.args = t.longForms(args)
	t.root.SetArgs(t.args)
	return t.root.ExecuteContext(a.ctx)
}

// noCommand rejects a first argument that names no command.
func (t *commandTree) noCommand(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommand(args[0])
	}
	return nil
}

func unknownCommand(name string) error {
	if looksSecret(name) {
		return usagef("", "%s", secretOnCommandLine)
	}
	return usagef("", "unknown command %q", clip(name))
}

// lookup finds a subcommand by name or alias.
func (t *commandTree) lookup(name string) *cobra.Command {
	for _, c := range t.ordered {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

func (t *commandTree) commandNames() []string {
	var out []string
	for _, c := range t.ordered {
		out = append(out, c.Name())
		out = append(out, c.Aliases...)
	}
	return append(out, "help")
}

// longForms keeps the single-dash spelling of long flags working (`-json`, `-store file`),
// which m365creds has always accepted: pflag alone would read -json as -j -s -o -n.
func (t *commandTree) longForms(args []string) []string {
	out := append([]string(nil), args...)
	if len(out) == 0 {
		return out
	}
	c := t.lookup(out[0])
	if c == nil {
		return out
	}
	flags := c.Flags()
	for i := 1; i < len(out); i++ {
		arg := out[i]
		if arg == "--" {
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		long := strings.HasPrefix(arg, "--")
		if !long && len(name) > 1 && (flags.Lookup(name) != nil || name == "help") {
			out[i] = "-" + arg
			long = true
		}
		// The next word is this flag's value: leave it alone even when it starts with a dash.
		if f := flags.Lookup(name); long && !hasValue && f != nil && f.NoOptDefVal == "" {
			i++
		}
	}
	return out
}

// flagError turns pflag's parse errors into usage errors that point at the command's help and
// show the flag as it was typed. A value is never repeated when it looks like a secret.
func (t *commandTree) flagError(c *cobra.Command, err error) error {
	cmd := c.Name()
	if !c.HasParent() {
		cmd = ""
	}
	var (
		notExist *pflag.NotExistError
		needsArg *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
	)
	switch {
	case errors.As(err, &notExist) && notExist.GetSpecifiedShortnames() == "" && looksSecret(t.flagValue(notExist.GetSpecifiedName())):
		return usagef(cmd, "%s", secretOnCommandLine)
	case errors.As(err, &notExist):
		typed := typedFlag(spelled(notExist.GetSpecifiedName(), notExist.GetSpecifiedShortnames()))
		msg := "unknown flag " + typed
		if strings.Contains(typed, "secret") {
			msg += "; a secret is never taken from the command line (it would end up in shell history and ps): pipe it on stdin with --client-secret-stdin"
		}
		return usagef(cmd, "%s", msg)
	case errors.As(err, &needsArg):
		return usagef(cmd, "flag needs an argument: %s", typedFlag(spelled(needsArg.GetSpecifiedName(), needsArg.GetSpecifiedShortnames())))
	case errors.As(err, &invalid):
		value := invalid.GetValue()
		if looksSecret(value) {
			return usagef(cmd, "%s", secretOnCommandLine)
		}
		want := "a valid value"
		switch invalid.GetFlag().Value.Type() {
		case "int":
			want = "a whole number"
		case "bool":
			want = "true or false"
		}
		return usagef(cmd, "invalid value %q for --%s: want %s", clip(value), invalid.GetFlag().Name, want)
	}
	return usagef(cmd, "%s", clip(err.Error()))
}

// flagValue is the value given as --name=value on the command line, if any.
func (t *commandTree) flagValue(name string) string {
	for _, arg := range t.args {
		if arg == "--" {
			break
		}
		if v, ok := strings.CutPrefix(arg, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// spelled is a flag the way pflag saw it: a group of shorthands (-bogus) or a long name.
func spelled(name, shorthands string) string {
	if shorthands != "" {
		return "-" + shorthands
	}
	return "--" + name
}

// typedFlag is a flag as typed, without any =value (which may be a secret) and clipped.
func typedFlag(arg string) string {
	name, _, _ := strings.Cut(arg, "=")
	return clip(name)
}

// clip makes an argument safe to repeat in a message: no control characters, and short.
func clip(s string) string {
	const most = 64
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}

// run is the RunE of a subcommand: check the endpoint overrides, then run it.
func (a *app) run(name string, fn func(pos []string) error) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, pos []string) error {
		if err := a.checkEndpoints(name); err != nil {
			return err
		}
		return fn(pos)
	}
}

// storeFlag adds --store to a command that reads profiles.
func storeFlag(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "store", "", "`keychain|file` where the profile's secrets are kept (default keychain)")
}

// presetsMark stands for the list of presets in a flag's usage until help or completion
// needs it: the list comes from the permission catalogue, and parsing that on every run would
// slow down `token` by half a millisecond.
const presetsMark = "{presets}"

// expandUsages fills in the preset list where a flag's usage has the mark. For the shell,
// whose completion menu shows the usage as the flag's description, it also drops the value
// name.
func (t *commandTree) expandUsages(forShell bool) {
	for _, c := range t.ordered {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Usage, presetsMark) {
				f.Usage = strings.ReplaceAll(f.Usage, presetsMark, strings.Join(assets.PresetNames(), ", "))
			}
			if forShell {
				_, f.Usage = flagUsage(f)
			}
		})
	}
}

func (a *app) setupCommand() *cobra.Command {
	o := &setupOptions{}
	c := &cobra.Command{
		Use:   "setup",
		Short: "create or redo a profile (wizard, or scripted: --no-input)",
		Long: `Create a profile: register an app in the Azure portal, sign in once, and keep the
credentials in the OS keychain. Running it again for an existing profile replaces it only once
the new sign-in has worked.

Without --no-input this opens the wizard with the flags already filled in. With --no-input
there is no wizard: every value comes from flags, a missing one is a usage error (exit 2), and
the command ends after saving or failing. The client secret is never taken from the command
line: with --client-secret-stdin it is read from the first line of stdin (or typed at a
masked prompt on a terminal). With --flow paste the redirect URL you copy from the browser is
read from the next line.

Flows: browser (default; a local listener on --port receives the redirect, so register
http://localhost:53365/ as a Web redirect URI), paste (same registration; you paste the URL
the browser ends on), device (device code, public client, no secret), app (application
permissions with client credentials; an administrator grants them once).

The authorize URL is printed to stderr and opened with $BROWSER unless --no-browser.

--register auto skips the portal: you sign in once to Microsoft Graph Command Line Tools (a
Microsoft app; --bootstrap-client-id names your organisation's own approved client instead),
and m365creds creates the app registration, its service principal and its client secret (none
with --credential none), makes you an owner, with --grant-admin-consent grants admin consent
for exactly the chosen permissions, waits until Microsoft knows the new app, then signs in with
it as usual. Exit 4 when an administrator is needed (the admin-consent link goes to stderr).

--store file keeps secrets in a plain-text file (mode 0600) instead of the keychain: only for
machines without one. Later commands for such a profile need --store file as well.`,
		Example: `  m365creds setup
  m365creds setup --profile work --tenant contoso.onmicrosoft.com \
      --client-id 0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b \
      --preset basic,mail-read --secret-expires 12m \
      --client-secret-stdin --no-input < secret.txt
  m365creds setup --profile ci --flow device --account-type multi \
      --client-id 0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b --no-input
  m365creds setup --no-input --register auto --profile work \
      --tenant contoso.onmicrosoft.com --preset basic,mail-read`,
		RunE: a.run("setup", func(pos []string) error { return a.runSetup(o, pos) }),
	}
	fs := c.Flags()
	fs.StringVar(&o.profile, "profile", "", "`NAME` profile name (default \"default\")")
	fs.StringVar(&o.cloud, "cloud", "", "`global|usgov|usgov-dod|china` Microsoft cloud (default global)")
	fs.StringVar(&o.accountType, "account-type", "", "`single|multi|multi-personal|personal` who signs in: one organisation, any, any + personal accounts, personal only (default single)")
	fs.StringVar(&o.tenant, "tenant", "", "`TENANT` Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com")
	fs.StringVar(&o.clientID, "client-id", "", "`ID` Application (client) ID from the app's Overview page")
	fs.StringVar(&o.scopes, "scopes", "", "`\"SCOPE …\"` scopes to request, e.g. \"User.Read Mail.Read\" (default: the basic preset)")
	fs.StringVar(&o.preset, "preset", "", "`NAME,…` scope presets: "+presetsMark)
	fs.StringVar(&o.flow, "flow", "", "`browser|paste|device|app` how to sign in (default browser)")
	fs.StringVar(&o.credential, "credential", "secret", "`secret|none` none: a public client that holds no secret")
	fs.IntVar(&o.port, "port", 0, fmt.Sprintf("`N` loopback port of the redirect URI http://localhost:N/ (default %d)", steps.DefaultPort))
	fs.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in URL but do not open a browser")
	fs.StringVar(&o.secretExpires, "secret-expires", "", "`6m|12m|18m|24m|YYYY-MM-DD` when the client secret expires, as chosen in the portal")
	fs.BoolVar(&o.secretStdin, "client-secret-stdin", false, "read the client secret from stdin (masked prompt on a terminal)")
	fs.BoolVar(&o.noInput, "no-input", false, "no wizard: take everything from flags and fail instead of asking")
	fs.StringVar(&o.store, "store", "", "`keychain|file` where secrets go (default keychain; file is plain text)")
	fs.StringVar(&o.register, "register", "portal", "`auto|portal` auto: create the app registration through Microsoft Graph")
	fs.BoolVar(&o.grantAdminConsent, "grant-admin-consent", false, "with --register auto: grant admin consent (administrators)")
	fs.StringVar(&o.appName, "app-name", "", "`NAME` display name of the app --register auto creates")
	fs.StringVar(&o.bootstrapClientID, "bootstrap-client-id", "", "`ID` the public client --register auto signs in to")
	return c
}

func (a *app) tokenCommand() *cobra.Command {
	o := &tokenOptions{}
	c := &cobra.Command{
		Use:   "token [PROFILE]",
		Short: "print a valid access token (refreshed when needed)",
		Long: `Print a valid access token for PROFILE on stdout, followed by a newline, and nothing else.

The cached token is used while it is valid for at least --min-valid more (5 minutes unless
told otherwise); otherwise the refresh token is redeemed, and the new refresh token Microsoft
returns is saved to the keychain before the access token is printed. Concurrent calls for one
profile wait for each other, so only one of them refreshes. A token with less than
--min-valid left is never printed: when Microsoft cannot be reached, token exits 6.

PROFILE defaults to the only profile, else to "default".

--format says how the token is printed: raw (the token alone), header ("Authorization:
Bearer …"), xoauth2 (the base64 SASL XOAUTH2 string IMAP and SMTP clients send, for the
profile's account or --user) or json (as --json).

--scope asks for other scopes than the profile's Microsoft Graph scopes, for example Outlook's
IMAP scope. Such tokens are fetched with the refresh token each time and never cached, so the
cached Graph token stays as it is (the rotated refresh token is still saved).

A warning goes to stderr when the client secret expires within 30 days. Exit codes 3
(secret expired: run m365creds rotate PROFILE), 4 (sign in again), 5 (keychain) and 6
(network) tell a script what went wrong.

m365creds-token, installed beside m365creds, is this command on its own: the same arguments
and answers, in a program that starts faster, for mail clients and scripts that ask for a
token on every connection.`,
		Example: `  m365creds token
  curl -H "Authorization: Bearer $(m365creds token work)" \
      https://graph.microsoft.com/v1.0/me
  m365creds token work --json
  m365creds token work --format header --min-valid 30m
  m365creds token work --format xoauth2 \
      --scope https://outlook.office.com/IMAP.AccessAsUser.All`,
		RunE: a.run("token", func(pos []string) error { return a.runToken(o, pos) }),
	}
	fs := c.Flags()
	fs.StringVar(&o.scope, "scope", "", "`\"SCOPE …\"` scopes to request instead of the profile's Graph scopes")
	fs.BoolVar(&o.json, "json", false, "print JSON with access_token, expires_at, scopes and profile")
	fs.StringVar(&o.format, "format", "raw", "`raw|header|xoauth2|json` how to print the token")
	fs.DurationVar(&o.minValid, "min-valid", creds.DefaultMinValidity, "`DUR` refresh when less than this is left, e.g. 30m")
	fs.StringVar(&o.user, "user", "", "`ADDRESS` mailbox for --format xoauth2 (default: the profile's account)")
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) statusCommand() *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:     "status [PROFILE]",
		Aliases: []string{"list"},
		Short:   "show profiles, secret expiry and refresh-token health",
		Long: `Show the saved profiles: account, tenant, client ID, credential kind, granted scopes, when
the client secret expires, when the refresh token was last used and the date it dies if it
stays unused (Microsoft drops refresh tokens after 90 days of inactivity), and the keychain
backend. With PROFILE, only that profile, in detail. Nothing is sent over the network and no
secret is read.

The exit status says whether a shown profile needs action:
  0  all fine (a secret expiring within 30 days is a warning only, exit 0)
  3  a client secret has expired: create a new one and run m365creds rotate
     PROFILE
  4  a refresh token is past its 90-day inactivity deadline, or granted scopes
     are missing: run m365creds setup --profile PROFILE
When several apply, 3 wins over 4.`,
		Example: `  m365creds status
  m365creds status work
  m365creds status --json | jq '.[] | select(.secret_days_left < 30) | .profile'`,
		RunE: a.run("status", func(pos []string) error { return a.runStatus(o, pos) }),
	}
	fs := c.Flags()
	fs.BoolVar(&o.json, "json", false, "print the profiles as a JSON array")
	fs.BoolVar(&o.names, "names", false, "print profile names only, one per line (for shell completion)")
	_ = fs.MarkHidden("names") // plumbing for completion scripts
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) rotateCommand() *cobra.Command {
	o := &rotateOptions{}
	c := &cobra.Command{
		Use:   "rotate PROFILE",
		Short: "replace a profile's client secret without downtime",
		Long: `Replace the client secret of PROFILE before (or after) it expires.

Add a NEW secret in the portal first (Certificates & secrets > + New client secret) and keep
the old one for now. m365creds checks the new secret against Microsoft with a refresh-token
grant (no browser needed) and only then saves it, with the rotated refresh token and the new
expiry date. If the check fails, nothing changes: the old secret stays saved and keeps
working. Afterwards it tells you which old secret to delete in the portal, with the link.

A profile shared with m365creds publish gets the new secret in every target first; if one of
them fails, the others get the old secret back and the profile keeps it.

Without --no-input the wizard opens at the secret step. With --no-input the new secret is read
from stdin (the first line), never from the command line.

--via-graph needs no portal: after one sign-in to Microsoft Graph Command Line Tools (as an
owner of the app or an administrator) m365creds adds a new secret to the app, waits until
Microsoft accepts it, proves and swaps it in, and only then removes the old secret. A failure
at any point leaves the working secret in place.

Public-client profiles have no secret to rotate.`,
		Example: `  m365creds rotate work
  m365creds rotate work --no-input --client-secret-stdin --secret-expires 12m \
      < new-secret.txt
  pass show azure/work-secret | m365creds rotate work --no-input \
      --client-secret-stdin --secret-expires 2027-05-01
  m365creds rotate work --via-graph --secret-expires 6m`,
		RunE: a.run("rotate", func(pos []string) error { return a.runRotate(o, pos) }),
	}
	fs := c.Flags()
	fs.BoolVar(&o.secretStdin, "client-secret-stdin", false, "read the new client secret from stdin (masked prompt on a terminal)")
	fs.StringVar(&o.expires, "secret-expires", "", "`6m|12m|18m|24m|YYYY-MM-DD` when the new secret expires, as chosen in the portal")
	fs.BoolVar(&o.noInput, "no-input", false, "no wizard: fail instead of asking")
	fs.BoolVar(&o.viaGraph, "via-graph", false, "create the new secret through Microsoft Graph and remove the old one")
	fs.StringVar(&o.bootstrapClientID, "bootstrap-client-id", "", "`ID` with --via-graph: the public client to sign in to")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "with --via-graph: print the sign-in URL, do not open a browser")
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) verifyCommand() *cobra.Command {
	o := &verifyOptions{}
	mail := &mailVerifyOptions{}
	c := &cobra.Command{
		Use:   "verify [PROFILE]",
		Short: "refresh, call Graph /me, check the granted scopes",
		Long: `Check that PROFILE works end to end: redeem the refresh token (saving the rotated one),
call Microsoft Graph /me with the new access token, and print the account and the granted
scopes next to the requested ones. Application-permission profiles get an app-only token and
skip /me. PROFILE defaults to the only profile, else to "default".

With --imap or --smtp, sign in to Exchange Online's mail servers instead, with XOAUTH2 and a
token for the cloud's Outlook resource, and explain a refusal (SMTP AUTH turned off, a
missing scope, a mailbox the token cannot open). Nothing is read or sent.

Exits 4 when a requested scope was not granted (consent again with
m365creds setup --profile PROFILE), 3 when the secret is rejected, 6 on network errors,
1 when a mail server refuses for another reason.`,
		Example: `  m365creds verify work
  m365creds verify work --imap --smtp
  m365creds verify robot --imap --user shared@contoso.com`,
		RunE: a.run("verify", func(pos []string) error {
			if mail.wanted() {
				return a.runMailVerify(o.store, mail, pos)
			}
			return a.runVerify(o, pos)
		}),
	}
	storeFlag(c.Flags(), &o.store)
	mail.flags(c.Flags())
	a.completeProfiles(c)
	return c
}

func (a *app) deleteCommand() *cobra.Command {
	o := &deleteOptions{}
	c := &cobra.Command{
		Use:   "delete PROFILE",
		Short: "remove a profile and all its keychain items",
		Long: `Remove PROFILE: its client secret, refresh token and cached access token from the keychain,
and its entry in the config file. On a terminal it asks you to type the profile name to
confirm; without a terminal --yes is required. The app registration in the portal is not
touched.`,
		Example: `  m365creds delete old-customer
  m365creds delete old-customer --yes`,
		RunE: a.run("delete", func(pos []string) error { return a.runDelete(o, pos) }),
	}
	fs := c.Flags()
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation")
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) demoCommand() *cobra.Command {
	reset := false
	c := &cobra.Command{
		Use:   "demo",
		Short: "try the wizard against a built-in simulator of Microsoft",
		Long: `Run the wizard against a simulator of Microsoft's sign-in and Graph endpoints built into
m365creds, so you can walk the whole setup without an Azure account. The screens show the
values the simulated portal would give you (client ID, tenant ID, secret). The resulting
profile is stored under the separate keychain service "m365creds-demo", never mixed with real
profiles, and its tokens only work against the simulator. Where no keychain works (no D-Bus
session, no Secret Service), the demo keeps its profile in memory instead, and it is gone
when the demo ends. Needs a terminal, nothing else.

--reset removes what earlier demos saved: the demo profiles in the "m365creds-demo" keychain
service and the demo's config file.`,
		Example: `  m365creds demo
  m365creds demo --reset`,
		RunE: a.run("demo", func(pos []string) error {
			if err := maxArgs("demo", pos, 0); err != nil {
				return err
			}
			if reset {
				return a.resetDemo()
			}
			return a.runDemo()
		}),
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	c.Flags().BoolVar(&reset, "reset", false, "remove what the demo saved (its profiles and config file), then exit")
	return c
}

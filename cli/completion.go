package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/m365creds/m365creds/assets"
)

// shells are the shells `completion` writes scripts for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

func (a *app) completionCommand(t *commandTree) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "print a shell completion script",
		Long: `Print a completion script for bash, zsh, fish or PowerShell. It completes commands, flags,
flag values (clouds, flows, presets, expiry choices) and the names of saved profiles, which it
gets from m365creds itself when you press tab.`,
		Example: `  m365creds completion bash > /etc/bash_completion.d/m365creds
  source <(m365creds completion bash)                  # bash, this shell only
  m365creds completion zsh > "${fpath[1]}/_m365creds"  # zsh
  m365creds completion fish > ~/.config/fish/completions/m365creds.fish
  m365creds completion powershell >> $PROFILE          # PowerShell`,
		ValidArgs: shells,
		RunE: a.run("completion", func(pos []string) error {
			if len(pos) != 1 {
				return usagef("completion", "say which shell: bash, zsh, fish or powershell")
			}
			w := a.stdout
			switch pos[0] {
			case "bash":
				return t.root.GenBashCompletionV2(w, true)
			case "zsh":
				return t.root.GenZshCompletion(w)
			case "fish":
				return t.root.GenFishCompletion(w, true)
			case "powershell":
				return t.root.GenPowerShellCompletionWithDesc(w)
			}
			if looksSecret(pos[0]) {
				return usagef("completion", "%s", secretOnCommandLine)
			}
			return usagef("completion", "unknown shell %q: bash, zsh, fish or powershell", clip(pos[0]))
		}),
	}
}

// flagChoices are the values some flags accept.
var flagChoices = map[string][]string{
	"cloud":          {"global", "usgov", "usgov-dod", "china"},
	"account-type":   {"single", "multi", "multi-personal", "personal"},
	"flow":           {"browser", "paste", "device", "app"},
	"store":          {"keychain", "file"},
	"secret-expires": {"6m", "12m", "18m", "24m"},
}

// prepareCompletion readies the tree to answer the shell (the hidden __complete command).
// Only then: cobra keeps flag completions in a process-wide map, and filling it on every
// run would cost each `token` call time for nothing.
func (t *commandTree) prepareCompletion(a *app) {
	t.expandUsages(true)
	a.completeFlagValues(t.lookup("setup"))
	for _, c := range t.ordered {
		noFileCompletion(c)
	}
}

// completeFlagValues offers the choices of setup's flags: fixed lists, presets as a comma
// list, and the saved profiles for --profile (to redo one).
func (a *app) completeFlagValues(c *cobra.Command) {
	_ = c.RegisterFlagCompletionFunc("preset", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		done := ""
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			done = toComplete[:i+1]
		}
		var out []cobra.Completion
		for _, p := range assets.PresetNames() {
			if strings.HasPrefix(done+p, toComplete) {
				out = append(out, done+p)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
	_ = c.RegisterFlagCompletionFunc("profile", func(c *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return a.profileNames(c), cobra.ShellCompDirectiveNoFileComp
	})
}

// completeProfiles offers the saved profiles for a command's one PROFILE argument.
func (a *app) completeProfiles(c *cobra.Command) {
	c.ValidArgsFunction = func(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return a.profileNames(c), cobra.ShellCompDirectiveNoFileComp
	}
}

// profileNames lists the saved profiles from the config file (no keychain access), in the
// store the command line names with --store.
func (a *app) profileNames(c *cobra.Command) []cobra.Completion {
	backend, _ := c.Flags().GetString("store")
	store, err := a.openStore(backend)
	if err != nil {
		return nil
	}
	list, err := store.List()
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, p := range list {
		out = append(out, p.Name)
	}
	return out
}

// noFileCompletion gives every value-taking flag of c a completion, so that no shell falls
// back to completing file names where a file makes no sense.
func noFileCompletion(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Value.Type() == "bool" {
			return
		}
		if _, ok := c.GetFlagCompletionFunc(f.Name); ok {
			return
		}
		if choices, ok := flagChoices[f.Name]; ok {
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp))
			return
		}
		_ = c.RegisterFlagCompletionFunc(f.Name, cobra.NoFileCompletions)
	})
	if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
		c.ValidArgsFunction = cobra.NoFileCompletions
	}
}

package cli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/m365creds/m365creds/assets"
)

var completionCmd = &command{
	name:    "completion",
	args:    "bash|zsh|fish",
	summary: "print a shell completion script",
	long: `Print a completion script for bash, zsh or fish. It completes commands, flags, flag values
(clouds, flows, presets, expiry choices) and the names of saved profiles, which it gets from
m365creds itself when you press tab.`,
	examples: `  m365creds completion bash > /etc/bash_completion.d/m365creds
  source <(m365creds completion bash)                    # bash, this shell only
  m365creds completion zsh > "${fpath[1]}/_m365creds"    # zsh
  m365creds completion fish > ~/.config/fish/completions/m365creds.fish`,
	exec: func(a *app, _ any, pos []string) error {
		if len(pos) != 1 {
			return usagef("completion", "say which shell: bash, zsh or fish")
		}
		switch pos[0] {
		case "bash":
			writeBash(a.stdout)
		case "zsh":
			writeZsh(a.stdout)
		case "fish":
			writeFish(a.stdout)
		default:
			return usagef("completion", "unknown shell %q: bash, zsh or fish", pos[0])
		}
		return nil
	},
}

// profileCommands take a profile name as their positional argument.
var profileCommands = []string{"token", "status", "list", "rotate", "verify", "delete"}

// flagChoices are the values some flags accept; "@profiles" and "@presets" are filled in by
// the shell (profiles at tab time, presets as a comma-separated list).
var flagChoices = map[string][]string{
	"cloud":          {"global", "usgov", "usgov-dod", "china"},
	"account-type":   {"single", "multi", "multi-personal", "personal"},
	"flow":           {"browser", "paste", "device", "app"},
	"store":          {"keychain", "file"},
	"secret-expires": {"6m", "12m", "18m", "24m"},
	"profile":        {"@profiles"},
	"preset":         {"@presets"},
}

type compFlag struct {
	name, usage string
	boolean     bool
}

// visibleFlags lists a command's documented flags.
func (c *command) visibleFlags() []compFlag {
	fs, _ := c.flagSet()
	var out []compFlag
	fs.VisitAll(func(f *flag.Flag) {
		for _, h := range c.hidden {
			if h == f.Name {
				return
			}
		}
		_, usage := flagUsage(f)
		out = append(out, compFlag{name: f.Name, usage: usage, boolean: isBool(f)})
	})
	return append(out, compFlag{name: "help", usage: "show help", boolean: true})
}

func commandNames() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
		out = append(out, c.aliases...)
	}
	return append(out, "help")
}

func writeBash(w io.Writer) {
	presets := strings.Join(assets.PresetNames(), " ")
	fmt.Fprintf(w, `# bash completion for m365creds. Load with: source <(m365creds completion bash)
_m365creds_profiles() {
    m365creds status --names 2>/dev/null
}

_m365creds() {
    local cur prev cmd i
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -*) ;;
            *) cmd="${COMP_WORDS[i]}"; break ;;
        esac
    done
    if [[ -z "$cmd" ]]; then
        COMPREPLY=($(compgen -W "%s --help --version" -- "$cur"))
        return
    fi
    case "$prev" in
`, strings.Join(commandNames(), " "))
	keys := make([]string, 0, len(flagChoices))
	for k := range flagChoices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := flagChoices[k]
		switch v[0] {
		case "@profiles":
			fmt.Fprintf(w, "        --%s) COMPREPLY=($(compgen -W \"$(_m365creds_profiles)\" -- \"$cur\")); return ;;\n", k)
		case "@presets":
			fmt.Fprintf(w, `        --%s)
            local pre=""
            [[ "$cur" == *,* ]] && pre="${cur%%,*},"
            COMPREPLY=($(compgen -P "$pre" -W "%s" -- "${cur##*,}"))
            return ;;
`, k, presets)
		default:
			fmt.Fprintf(w, "        --%s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n", k, strings.Join(v, " "))
		}
	}
	fmt.Fprint(w, "        --tenant|--client-id|--scopes|--scope|--port) return ;;\n    esac\n    case \"$cmd\" in\n")
	for _, c := range commands {
		names := append([]string{c.name}, c.aliases...)
		var flags []string
		for _, f := range c.visibleFlags() {
			flags = append(flags, "--"+f.name)
		}
		fmt.Fprintf(w, "        %s)\n", strings.Join(names, "|"))
		fmt.Fprintf(w, "            if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return; fi\n", strings.Join(flags, " "))
		switch {
		case contains(profileCommands, c.name):
			fmt.Fprint(w, "            COMPREPLY=($(compgen -W \"$(_m365creds_profiles)\" -- \"$cur\")) ;;\n")
		case c.name == "completion":
			fmt.Fprint(w, "            COMPREPLY=($(compgen -W \"bash zsh fish\" -- \"$cur\")) ;;\n")
		default:
			fmt.Fprint(w, "            ;;\n")
		}
	}
	fmt.Fprintf(w, "        help) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n", strings.Join(commandNames(), " "))
	fmt.Fprint(w, "    esac\n}\ncomplete -F _m365creds m365creds\n")
}

// zshQuote makes text safe inside a zsh _arguments spec: no brackets, colons or quotes.
func zshQuote(s string) string {
	s = strings.SplitN(s, "\n", 2)[0]
	r := strings.NewReplacer("[", "(", "]", ")", ":", " -", "'", "", "\\", "")
	return r.Replace(s)
}

func writeZsh(w io.Writer) {
	fmt.Fprint(w, `#compdef m365creds
# zsh completion for m365creds. Put it in a directory on $fpath as _m365creds, or load it
# with: source <(m365creds completion zsh)

_m365creds_profiles() {
    local -a profiles
    profiles=(${(f)"$(m365creds status --names 2>/dev/null)"})
    _describe -t profiles 'profile' profiles
}

_m365creds() {
    local -a cmds
    cmds=(
`)
	for _, c := range commands {
		fmt.Fprintf(w, "        '%s:%s'\n", c.name, zshQuote(c.summary))
		for _, al := range c.aliases {
			fmt.Fprintf(w, "        '%s:%s'\n", al, zshQuote(c.summary))
		}
	}
	fmt.Fprint(w, `        'help:show a command''s help'
    )
    if (( CURRENT == 2 )); then
        _describe -t commands 'command' cmds
        return
    fi
    local cmd=$words[2]
    shift words
    (( CURRENT-- ))
    case $cmd in
`)
	presets := strings.Join(assets.PresetNames(), " ")
	for _, c := range commands {
		names := append([]string{c.name}, c.aliases...)
		fmt.Fprintf(w, "        %s)\n            _arguments -s \\\n", strings.Join(names, "|"))
		for _, f := range c.visibleFlags() {
			spec := fmt.Sprintf("'--%s[%s]", f.name, zshQuote(f.usage))
			if !f.boolean {
				choices := flagChoices[f.name]
				switch {
				case len(choices) == 0:
					spec += ":" + f.name + ":"
				case choices[0] == "@profiles":
					spec += ":profile:_m365creds_profiles"
				case choices[0] == "@presets":
					spec += ":presets:_values -s , preset " + presets
				default:
					spec += ":" + f.name + ":(" + strings.Join(choices, " ") + ")"
				}
			}
			fmt.Fprintf(w, "                %s' \\\n", spec)
		}
		switch {
		case contains(profileCommands, c.name):
			fmt.Fprint(w, "                '1:profile:_m365creds_profiles'\n")
		case c.name == "completion":
			fmt.Fprint(w, "                '1:shell:(bash zsh fish)'\n")
		default:
			fmt.Fprint(w, "                '*::'\n")
		}
		fmt.Fprint(w, "            ;;\n")
	}
	fmt.Fprintf(w, "        help) _describe -t commands 'command' cmds ;;\n")
	fmt.Fprint(w, `    esac
}

if [[ "${funcstack[1]}" == "_m365creds" ]]; then
    _m365creds "$@"
else
    compdef _m365creds m365creds
fi
`)
}

// fishQuote makes text safe inside single quotes in fish.
func fishQuote(s string) string {
	s = strings.SplitN(s, "\n", 2)[0]
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

func writeFish(w io.Writer) {
	fmt.Fprintf(w, `# fish completion for m365creds. Save as ~/.config/fish/completions/m365creds.fish
function __m365creds_presets
    set -l tok (commandline -ct)
    set -l prefix (string replace -r '[^,]*$' '' -- $tok)
    for p in %s
        echo $prefix$p
    end
end

complete -c m365creds -f
complete -c m365creds -n __fish_use_subcommand -s h -l help -d 'show help'
complete -c m365creds -n __fish_use_subcommand -s v -l version -d 'print the version'
`, strings.Join(assets.PresetNames(), " "))
	for _, c := range commands {
		for _, n := range append([]string{c.name}, c.aliases...) {
			fmt.Fprintf(w, "complete -c m365creds -n __fish_use_subcommand -a %s -d '%s'\n", n, fishQuote(c.summary))
		}
	}
	fmt.Fprintf(w, "complete -c m365creds -n __fish_use_subcommand -a help -d 'show a command\\'s help'\n")
	for _, c := range commands {
		cond := fmt.Sprintf("'__fish_seen_subcommand_from %s'", strings.Join(append([]string{c.name}, c.aliases...), " "))
		for _, f := range c.visibleFlags() {
			line := fmt.Sprintf("complete -c m365creds -n %s -l %s -d '%s'", cond, f.name, fishQuote(f.usage))
			if !f.boolean {
				choices := flagChoices[f.name]
				switch {
				case len(choices) == 0:
					line += " -r"
				case choices[0] == "@profiles":
					line += " -x -a '(m365creds status --names 2>/dev/null)'"
				case choices[0] == "@presets":
					line += " -x -a '(__m365creds_presets)'"
				default:
					line += " -x -a '" + strings.Join(choices, " ") + "'"
				}
			}
			fmt.Fprintln(w, line)
		}
		switch {
		case contains(profileCommands, c.name):
			fmt.Fprintf(w, "complete -c m365creds -n %s -a '(m365creds status --names 2>/dev/null)'\n", cond)
		case c.name == "completion":
			fmt.Fprintf(w, "complete -c m365creds -n %s -a 'bash zsh fish'\n", cond)
		}
	}
	fmt.Fprintf(w, "complete -c m365creds -n '__fish_seen_subcommand_from help' -a '%s'\n", strings.Join(commandNames(), " "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

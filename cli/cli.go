// Package cli is the command line of m365creds: it parses arguments, runs the wizard or one of
// the script-facing commands (token, status, rotate, verify, delete), and turns every outcome
// into one of the documented exit codes. Data goes to stdout, messages to stderr.
package cli

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
	"github.com/m365creds/m365creds/tui/launch"
)

// version is set at build time with -ldflags "-X github.com/m365creds/m365creds/cli.version=v1.2.3".
var version string

// Env is what the commands take from the world around the process. Tests replace parts of it;
// OSEnv returns the real one.
type Env struct {
	// Getenv reads an environment variable. Only this package reads the environment; what
	// the packages below need is passed to them.
	Getenv func(string) string
	// Service is the keychain service name; empty means "m365creds".
	Service string
	// Backend, when set, overrides the --store choice and the platform default (tests use the
	// file backend for speed).
	Backend keyring.Backend
	// HTTPClient makes the calls to Microsoft; nil means the oauth package's default.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IsTerminal reports whether stdin, stdout or stderr is a terminal; nil asks the OS.
	IsTerminal func(stream any) bool
	// OpenBrowser opens the authorize URL; nil means $BROWSER, else xdg-open, open or rundll32.
	OpenBrowser func(url string) error
	// Environ is the whole environment, for the program exec runs; nil means os.Environ.
	Environ func() []string
	// PollUnit shortens the device-code polling interval in tests; zero means real time.
	PollUnit time.Duration
	// WatchInterrupts, when set, is called at most once, when a token call of TokenMain goes
	// past the cache or has run for 50 ms, with the cancel function of that call:
	// m365creds-token watches for SIGINT and SIGTERM only from there on, since setting up
	// signal handling costs more than a cached call's own work. An interrupt before that
	// ends the program by the signal, with nothing changed. Main's callers cancel its
	// context on signals themselves.
	WatchInterrupts func(cancel context.CancelFunc)
	// interruptGrace replaces defaultInterruptGrace in tests when set.
	interruptGrace time.Duration
	// Wizard is the full-screen front end; main passes it in. A program built without it
	// (m365creds-token) then links neither Bubble Tea nor the simulator.
	Wizard Wizard
	// MailRootCAs, when set, are the only roots trusted for IMAP and SMTP servers (tests);
	// nil means the system's.
	MailRootCAs *x509.CertPool
}

// Wizard runs the wizard and starts the demo's simulated Microsoft.
type Wizard struct {
	Run       func(ctx context.Context, opts launch.Options, in io.Reader, out io.Writer) (launch.Result, error)
	StartDemo func(propagationDelay time.Duration) (launch.DemoTenant, error)
}

// OSEnv is the environment of a real run.
func OSEnv() Env {
	return Env{Getenv: os.Getenv, Environ: os.Environ}
}

// app is one run of the program: its streams, its environment and the command being run.
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    Env
	in     *bufio.Reader // stdin, buffered once so successive line reads share it
	// endpoints replace Microsoft's hosts (M365CREDS_LOGIN_URL, M365CREDS_GRAPH_URL, or the
	// demo's simulator).
	endpoints oauth.Endpoints
	// beforeRefresh runs when a token call goes past the cache (TokenMain's interrupt watch).
	beforeRefresh func()
}

// Main runs m365creds with args (without the program name) and returns the exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env Env) int {
	a := newApp(ctx, stdin, stdout, stderr, env)
	return a.finish(a.dispatch(args))
}

func newApp(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, env Env) *app {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	return &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, env: env}
}

// finish reports how the run ended and returns its exit status: an interrupted run that
// otherwise succeeded still ends as interrupted.
func (a *app) finish(err error) int {
	if err == nil && a.ctx.Err() != nil {
		err = a.ctx.Err()
	}
	report(a.stderr, err)
	return exitCode(err)
}

func (a *app) dispatch(args []string) error {
	return newCommandTree(a).execute(a, args)
}

// Version is the version of this build: the one stamped by -ldflags, else the module
// version Go recorded, else "devel" with the commit when known.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel (" + rev + ")"
}

func (a *app) now() time.Time {
	if a.env.Now != nil {
		return a.env.Now()
	}
	return time.Now()
}

// isTerminal reports whether a stream is an interactive terminal.
func (a *app) isTerminal(stream any) bool {
	if a.env.IsTerminal != nil {
		return a.env.IsTerminal(stream)
	}
	f, ok := stream.(interface{ Fd() uintptr })
	return ok && isTerminalFd(f.Fd())
}

// interactive reports whether a person can answer: stdin and stdout are both terminals.
func (a *app) interactive() bool {
	return a.isTerminal(a.stdin) && a.isTerminal(a.stdout)
}

func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "Warning: "+format+"\n", args...)
}

func (a *app) infof(format string, args ...any) {
	fmt.Fprintf(a.stderr, format+"\n", args...)
}

// readLine reads one line of stdin without its line ending. io.EOF is returned only when
// nothing at all was read.
func (a *app) readLine() (string, error) {
	if a.in == nil {
		a.in = bufio.NewReader(a.stdin)
	}
	line, err := a.in.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readSecret reads a secret from stdin. On a terminal it prompts and turns echo off; from a
// pipe it reads the first (next) line. The value is never echoed or logged.
func (a *app) readSecret(prompt string) (string, error) {
	if f, ok := a.stdin.(interface{ Fd() uintptr }); ok && a.isTerminal(a.stdin) && a.in == nil {
		fmt.Fprint(a.stderr, prompt)
		s, err := readNoEcho(f.Fd())
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the secret from the terminal: %w", err)
		}
		return s, nil
	}
	s, err := a.readLine()
	if errors.Is(err, io.EOF) {
		return "", usagef("", "stdin ended before the client secret: pipe it in, e.g. `m365creds … --client-secret-stdin < secret.txt`")
	}
	if err != nil {
		return "", fmt.Errorf("reading the secret from stdin: %w", err)
	}
	return s, nil
}

// checkEndpoints refuses unsafe endpoint overrides and, on a terminal, says when overrides are
// in effect: a variable exported for testing and forgotten would send real credentials to the
// test server.
func (a *app) checkEndpoints(command string) error {
	if command == "demo" || command == "completion" {
		return nil // the demo uses its own simulator; completion sends nothing
	}
	if err := a.readEndpoints(); err != nil {
		return err
	}
	if list := a.endpoints.List(); len(list) > 0 && a.isTerminal(a.stderr) {
		a.warnf("Using other Microsoft endpoints: %s", strings.Join(list, " "))
	}
	return nil
}

// needTerminal is the error for an interactive command run without a terminal.
func needTerminal(what, alternative string) error {
	return &usageError{msg: what + " needs a terminal (stdin and stdout must both be one).\n" + alternative}
}

// openStore opens the profile store. backend is the --store flag ("" → the platform keychain).
func (a *app) openStore(backend string) (*keyring.Store, error) {
	opts := keyring.OptionsFrom(a.env.Getenv)
	if a.env.Service != "" {
		opts.Service = a.env.Service
	}
	if dir := a.env.Getenv("M365CREDS_CONFIG_DIR"); dir != "" {
		opts.ConfigDir = dir
	}
	switch backend {
	case "":
	case string(keyring.BackendFile):
		opts.Backend = keyring.BackendFile
	case string(keyring.BackendKeychain):
		opts.Backend = keyring.BackendKeychain
	default:
		return nil, usagef("", "--store must be keychain or file, not %q", backend)
	}
	if a.env.Backend != "" {
		opts.Backend = a.env.Backend
	}
	return keyring.Open(opts)
}

// maxArgs rejects surplus positional arguments.
func maxArgs(cmd string, pos []string, n int) error {
	if len(pos) > n {
		if looksSecret(pos[n]) {
			return usagef(cmd, "%s", secretOnCommandLine)
		}
		return usagef(cmd, "unexpected argument %q", pos[n])
	}
	return nil
}

// secretOnCommandLine answers an argument shaped like a client secret without repeating it.
const secretOnCommandLine = "an argument looks like a client secret: secrets are read from stdin only (--client-secret-stdin), never from the command line. Remove it from your shell history"

// looksSecret reports whether a command-line argument has the shape of an Entra client secret.
func looksSecret(arg string) bool { return steps.CheckSecret(arg).LooksCurrent }

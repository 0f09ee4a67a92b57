package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/tui/launch"
)

// The exit codes are a stable interface: cron jobs and scripts act on them.
const (
	ExitOK          = 0   // success
	ExitError       = 1   // any other error (unknown profile, corrupt config, …)
	ExitUsage       = 2   // bad command line, or a terminal is needed and there is none
	ExitSecret      = 3   // client secret expired or invalid: run `m365creds rotate`
	ExitConsent     = 4   // refresh token revoked/expired/inactive or scopes missing: sign in again
	ExitKeychain    = 5   // keychain unavailable, locked or timed out
	ExitNetwork     = 6   // Microsoft unreachable: timeout, DNS, 5xx
	ExitInterrupted = 130 // ctrl+c or a termination signal
)

// exitCodesHelp is the table printed by `m365creds --help`.
const exitCodesHelp = `Exit codes:
  0    ok
  1    error (for example an unknown profile)
  2    usage: invalid flags or arguments, or a terminal is needed
  3    client secret expired or invalid: run m365creds rotate PROFILE
  4    re-consent needed: refresh token revoked, expired or unused for 90 days,
       or permissions missing: run m365creds setup --profile PROFILE
  5    keychain unavailable, locked or not answering
  6    network: Microsoft unreachable (timeout, DNS, server error)
  130  interrupted
`

// usageError is a mistake on the command line. It prints with a pointer to the command's help.
type usageError struct {
	cmd string // "" for the top level
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// codeError carries an explicit exit code and, optionally, what to do next.
type codeError struct {
	code int
	err  error
	hint string // printed on its own line after the message
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func withCode(code int, err error, hint string) error {
	return &codeError{code: code, err: err, hint: hint}
}

// silentError has already been reported on stderr; only its code remains.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// oauthError is a failed call to Microsoft together with the app it was made for, so the
// message can explain it in the terms of that app (portal links, which step to revisit).
type oauthError struct {
	doing string // "refreshing the access token"
	app   oauth.App
	err   error
}

func (e *oauthError) Error() string { return e.doing + ": " + e.err.Error() }
func (e *oauthError) Unwrap() error { return e.err }

// exitCode maps an error to the process exit status. It is the only place that does.
func exitCode(err error) int {
	var (
		ce        *codeError
		se        *silentError
		ue        *usageError
		engineErr *creds.Error
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, launch.ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &engineErr):
		return problemExit(engineErr.Problem)
	case errors.Is(err, keyring.ErrUnavailable), errors.Is(err, keyring.ErrTimeout):
		return ExitKeychain
	}
	switch oauth.Classify(err) {
	case oauth.ClassSecret:
		return ExitSecret
	case oauth.ClassConsent:
		return ExitConsent
	case oauth.ClassNetwork:
		return ExitNetwork
	case oauth.ClassOther, oauth.ClassApp: // an unknown app: exit 1 with oauth.Explain's check of the IDs
	}
	return ExitError
}

// report writes the error to stderr the way a person should read it: what happened, then
// what to do.
func report(w io.Writer, err error) {
	var (
		ce *codeError
		se *silentError
		ue *usageError
		oe *oauthError
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp), errors.As(err, &se):
		return
	case errors.Is(err, launch.ErrInterrupted), errors.Is(err, context.Canceled):
		fmt.Fprintln(w, "m365creds: interrupted")
		return
	case errors.As(err, &ue):
		fmt.Fprintf(w, "m365creds: %s\n", ue.msg)
		if ue.cmd != "" {
			fmt.Fprintf(w, "Run 'm365creds %s --help' for usage.\n", ue.cmd)
		} else {
			fmt.Fprintln(w, "Run 'm365creds --help' for usage.")
		}
		return
	}
	fmt.Fprintf(w, "m365creds: %s\n", oneLine(err.Error()))
	hint := ""
	if errors.As(err, &ce) {
		hint = ce.hint
	}
	var engineErr *creds.Error
	if errors.As(err, &engineErr) {
		if hint == "" {
			hint = nextStep(engineErr)
		}
		if fromMicrosoft(err) {
			explainTo(w, engineErr.Explain(), err, hint)
		}
	} else if errors.As(err, &oe) {
		explainTo(w, oauth.Explain(oe.err, oe.app), err, hint)
	}
	if hint != "" {
		fmt.Fprintf(w, "  %s\n", hint)
	}
}

// explainTo prints what Microsoft's answer means, unless the message already says it.
func explainTo(w io.Writer, g oauth.Guidance, err error, hint string) {
	if g.Title != "" {
		fmt.Fprintf(w, "  %s\n", g.Title)
	}
	if g.Meaning != "" && !strings.Contains(err.Error(), strings.TrimSuffix(g.Meaning, ".")) {
		fmt.Fprintf(w, "  %s\n", g.Meaning)
	}
	if g.Action != "" && hint == "" {
		fmt.Fprintf(w, "  What to do: %s\n", g.Action)
	}
	if g.PortalLink != "" {
		fmt.Fprintf(w, "  Portal: %s\n", g.PortalLink)
	}
}

// oneLine keeps Microsoft's multi-line descriptions (trace and correlation IDs on separate
// lines) readable in a terminal by indenting the continuation lines.
func oneLine(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	return strings.ReplaceAll(s, "\n", "\n  ")
}

// fromMicrosoft reports whether err carries an answer (or a failure to reach) Microsoft, which
// the guidance catalogue explains.
func fromMicrosoft(err error) bool {
	var (
		ee *oauth.EntraError
		ge *oauth.GraphError
		ne *oauth.NetworkError
		re *oauth.ResponseError
	)
	return errors.As(err, &ee) || errors.As(err, &ge) || errors.As(err, &ne) || errors.As(err, &re) ||
		errors.Is(err, oauth.ErrTimeout) || errors.Is(err, oauth.ErrDeclined) || errors.Is(err, oauth.ErrExpired)
}

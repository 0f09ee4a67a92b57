package creds

import (
	"errors"
	"fmt"
	"slices"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// Problem is the kind of failure, which decides what the user (or a cron job) should do next.
type Problem int

// The problems a caller can act on. The command line maps each to one exit code.
const (
	ProblemOther           Problem = iota // anything else: read the message
	ProblemUsage                          // the request itself cannot work (same secret again, no secret to rotate …)
	ProblemNotFound                       // no such profile
	ProblemConfig                         // the config file cannot be read or written
	ProblemSecret                         // the client secret is expired, invalid or lost: rotate
	ProblemConsent                        // the sign-in is gone (revoked, expired, no refresh token) or scopes are missing: sign in again
	ProblemKeychain                       // the keychain is unavailable, locked or slow
	ProblemNetwork                        // Microsoft could not be reached, timed out or asked to slow down
	ProblemApp                            // Microsoft does not know the app there: check the client ID, tenant and cloud
	ProblemTimedOut                       // the user did not finish signing in in time
	ProblemNoOfflineAccess                // a delegated sign-in without offline_access gives no refresh token
	ProblemAdminRequired                  // an administrator must consent or act first
)

// Op names what the engine was doing, so front ends can word the next step.
type Op string

// The operations.
const (
	OpToken    Op = "token"
	OpConsent  Op = "consent"
	OpRotate   Op = "rotate"
	OpVerify   Op = "verify"
	OpSave     Op = "save"
	OpDelete   Op = "delete"
	OpExport   Op = "export"
	OpRegister Op = "register"
	OpOnboard  Op = "onboard"
	OpHandoff  Op = "handoff"
)

// Error is a failure of one operation on one profile.
type Error struct {
	Problem Problem
	Op      Op
	Profile string
	Doing   string    // what was under way, as a phrase: "getting a new access token"
	App     oauth.App // the app the call was made for, so Microsoft's errors can be explained
	Err     error
	// Kept says the saved profile is unchanged and still works (a failed rotate or save).
	Kept bool
}

func (e *Error) Error() string {
	switch {
	case e.Doing != "" && e.Err != nil:
		return e.Doing + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Doing
}

func (e *Error) Unwrap() error { return e.Err }

// Explain turns Microsoft's answer inside the error into guidance, when there is one.
func (e *Error) Explain() oauth.Guidance { return oauth.Explain(e.Err, e.App) }

// ProblemOf returns the problem of any error the engine returned, classifying errors that did
// not pass through it (a keychain error straight from the store, say) the same way.
func ProblemOf(err error) Problem {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Problem
	}
	return classify(err)
}

// classify decides the problem of an error from below: the keychain, the config file or
// Microsoft.
func classify(err error) Problem {
	var (
		nf *keyring.NotFoundError
		cf *keyring.ConfigFileError
	)
	switch {
	case err == nil:
		return ProblemOther
	case errors.As(err, &nf):
		return ProblemNotFound
	case errors.As(err, &cf):
		return ProblemConfig
	case errors.Is(err, keyring.ErrUnavailable), errors.Is(err, keyring.ErrTimeout):
		return ProblemKeychain
	}
	switch oauth.Classify(err) {
	case oauth.ClassSecret:
		return ProblemSecret
	case oauth.ClassConsent:
		return ProblemConsent
	case oauth.ClassNetwork:
		return ProblemNetwork
	case oauth.ClassApp:
		return ProblemApp
	case oauth.ClassOther:
	}
	return ProblemOther
}

// fail wraps err as an engine error, classifying it unless problem says otherwise.
func fail(op Op, profile, doing string, app oauth.App, err error) *Error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return &Error{Problem: classify(err), Op: op, Profile: profile, Doing: doing, App: app, Err: err}
}

// failAs is fail with a fixed problem.
func failAs(p Problem, op Op, profile string, err error) *Error {
	return &Error{Problem: p, Op: op, Profile: profile, Err: err}
}

func errorf(p Problem, op Op, profile, format string, args ...any) *Error {
	return failAs(p, op, profile, fmt.Errorf(format, args...))
}

// entraCodeIn reports whether err is an answer of Entra's with one of the AADSTS codes.
func entraCodeIn(err error, codes ...int) bool {
	var ee *oauth.EntraError
	return errors.As(err, &ee) && slices.Contains(codes, ee.Code())
}

package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// engine is the credential engine for a store, with everything it needs from the process's
// environment read here, once.
func (a *app) engine(store *keyring.Store) *creds.Service {
	return &creds.Service{
		Store:       store,
		HTTP:        a.env.HTTPClient,
		Endpoints:   a.endpoints,
		OpenBrowser: a.browserOpener(),
		Remote:      a.remoteShell(),
		Now:         a.env.Now,
		PollUnit:    a.env.PollUnit,
		Runner:      a.runner(),
	}
}

// browserOpener is how this process opens a sign-in address: the test's opener, else $BROWSER
// or the platform's opener.
func (a *app) browserOpener() func(string) error {
	if a.env.OpenBrowser != nil {
		return a.env.OpenBrowser
	}
	browser := a.env.Getenv("BROWSER")
	return func(url string) error { return openBrowser(browser, url) }
}

// remoteShell says whether this runs over SSH, where a browser started here would open on the
// wrong machine, and who and where the session is, for the port-forwarding hint.
func (a *app) remoteShell() *creds.RemoteShell {
	get := a.env.Getenv
	if get("SSH_CONNECTION") == "" && get("SSH_TTY") == "" && get("SSH_CLIENT") == "" {
		return nil
	}
	r := &creds.RemoteShell{User: get("USER")}
	if r.User == "" {
		r.User = get("LOGNAME")
	}
	// SSH_CONNECTION is "client-ip client-port server-ip server-port": the server address is
	// the one the user's machine reached.
	if f := strings.Fields(get("SSH_CONNECTION")); len(f) >= 3 {
		r.Host = f[2]
	} else if h, err := os.Hostname(); err == nil {
		r.Host = h
	}
	return r
}

// readEndpoints reads M365CREDS_LOGIN_URL and M365CREDS_GRAPH_URL.
func (a *app) readEndpoints() error {
	ep, err := oauth.ParseEndpoints(a.env.Getenv(oauth.EnvLoginURL), a.env.Getenv(oauth.EnvGraphURL))
	if err != nil {
		return withCode(ExitUsage, err, "Unset the variable, or point it at an https URL.")
	}
	a.endpoints = ep
	return nil
}

// problemExit is the exit code of each kind of engine failure.
func problemExit(p creds.Problem) int {
	switch p {
	case creds.ProblemUsage:
		return ExitUsage
	case creds.ProblemSecret:
		return ExitSecret
	case creds.ProblemConsent, creds.ProblemNoOfflineAccess, creds.ProblemAdminRequired:
		return ExitConsent
	case creds.ProblemKeychain:
		return ExitKeychain
	case creds.ProblemNetwork:
		return ExitNetwork
	case creds.ProblemOther, creds.ProblemNotFound, creds.ProblemConfig, creds.ProblemApp, creds.ProblemTimedOut:
	}
	return ExitError
}

// nextStep says, for a terminal, what to run after an engine failure.
func nextStep(e *creds.Error) string {
	name := e.Profile
	kept := ""
	if e.Kept {
		kept = "\n  Nothing was changed: the saved profile still works as before."
	}
	switch e.Problem {
	case creds.ProblemSecret:
		var lost bool
		if errors.Is(e.Err, keyring.ErrLostSecret) {
			lost = true
		}
		switch {
		case lost:
			return fmt.Sprintf("The keychain no longer has the client secret. Create a new secret in the portal, then run: m365creds rotate %s", name)
		case e.Op == creds.OpRotate:
			return "Microsoft rejected the new secret. Copy the Value (not the Secret ID) of the secret you just created." + kept
		case e.Op == creds.OpConsent:
			return ""
		}
		return fmt.Sprintf("The client secret has expired or is not valid. Create a new secret in the portal, then run: m365creds rotate %s\n  The saved refresh token was kept.", name)
	case creds.ProblemConsent:
		var missing *creds.MissingScopesError
		if errors.As(e.Err, &missing) {
			return fmt.Sprintf("Add them under API permissions (an administrator may have to grant them), then consent again: m365creds setup --profile %s", name)
		}
		return fmt.Sprintf("The sign-in is no longer valid (revoked, expired, unused for 90 days, lost, or consent missing). Sign in again: m365creds setup --profile %s", name) + kept
	case creds.ProblemAdminRequired:
		return "An administrator of the tenant must approve this first (see the link above), or register the app in the portal: m365creds setup --register portal"
	case creds.ProblemNoOfflineAccess:
		return "Add offline_access to the scopes (--scopes or --preset; the wizard's Permissions step) and sign in again."
	case creds.ProblemKeychain:
		if e.Op == creds.OpToken && strings.Contains(e.Doing, "saving") {
			return fmt.Sprintf("The saved sign-in may no longer work. Fix the keychain, then try again; if token then fails with exit 4, run m365creds setup --profile %s", name)
		}
		return "Unlock or start the keychain, then try again." + kept
	case creds.ProblemNetwork:
		return "Microsoft could not be reached. Check the network (proxy, DNS) and try again." + kept
	case creds.ProblemTimedOut:
		return "Run setup again when you are ready to sign in."
	case creds.ProblemUsage, creds.ProblemOther, creds.ProblemNotFound, creds.ProblemConfig, creds.ProblemApp:
	}
	return strings.TrimPrefix(kept, "\n  ")
}

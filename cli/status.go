package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	xterm "github.com/charmbracelet/x/term"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// inactivityLimit is how long Microsoft keeps an unused refresh token valid.
const inactivityLimit = creds.RefreshInactivityLimit

type statusOptions struct {
	json  bool
	names bool
	store string
}

// profileStatus is one profile as status reports it; it is also the --json shape.
type profileStatus struct {
	Profile         string     `json:"profile"`
	Account         string     `json:"account"`
	AccountName     string     `json:"account_name,omitempty"`
	Cloud           string     `json:"cloud"`
	Tenant          string     `json:"tenant"`
	TenantID        string     `json:"tenant_id,omitempty"`
	ClientID        string     `json:"client_id"`
	Kind            string     `json:"kind"`
	AccountType     string     `json:"account_type,omitempty"`
	RequestedScopes []string   `json:"requested_scopes"`
	GrantedScopes   []string   `json:"granted_scopes"`
	MissingScopes   []string   `json:"missing_scopes"`
	SecretExpires   *time.Time `json:"secret_expires"`
	SecretDaysLeft  *int       `json:"secret_days_left"`
	SecretExpired   bool       `json:"secret_expired"`
	LastRefresh     *time.Time `json:"last_refresh"`
	RefreshDeadline *time.Time `json:"refresh_deadline"`
	Backend         string     `json:"backend"`
	SecretFrom      string     `json:"secret_from,omitempty"`
	PublishedTo     []string   `json:"published_to,omitempty"`
	State           string     `json:"state"` // "ok", "warning" or "action"
	Problems        []string   `json:"problems"`
	code            int
}

func (a *app) runStatus(o *statusOptions, pos []string) error {
	if err := maxArgs("status", pos, 1); err != nil {
		return err
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	var list []keyring.Profile
	if len(pos) == 1 {
		p, err := pickProfile("status", store, pos[0])
		if err != nil {
			return err
		}
		list = []keyring.Profile{p}
	} else if list, err = store.List(); err != nil {
		return err
	}
	if o.names {
		for _, p := range list {
			fmt.Fprintln(a.stdout, p.Name)
		}
		return nil
	}
	now := a.now()
	backend := store.BackendName()
	rows := make([]profileStatus, 0, len(list))
	code := ExitOK
	for _, p := range list {
		st := assess(p, now, backend)
		rows = append(rows, st)
		if st.code == ExitSecret || (st.code == ExitConsent && code == ExitOK) {
			code = st.code
		}
	}
	switch {
	case o.json:
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	case len(list) == 0:
		a.infof("No profiles yet. Create one with `m365creds` (the wizard) or `m365creds setup --no-input …`.")
		return nil
	case len(pos) == 1:
		a.printDetail(rows[0], now)
	default:
		var table bytes.Buffer
		printTable(&table, rows, now)
		if width := a.terminalWidth(); width > 0 && widestLine(table.String()) > width {
			// A wrapped table is unreadable: give each profile its own block instead.
			for i, r := range rows {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				a.printDetail(r, now)
			}
		} else {
			_, _ = a.stdout.Write(table.Bytes())
			fmt.Fprintf(a.stdout, "\nKeychain: %s\n", backend)
		}
	}
	if !o.json && len(pos) == 0 {
		a.printSharedApps(list)
		a.printPendingOnboardings(store)
	}
	for _, st := range rows {
		for _, pr := range st.Problems {
			fmt.Fprintf(a.stderr, "%s: %s\n", st.Profile, pr)
		}
	}
	if code != ExitOK {
		return &silentError{code: code}
	}
	return nil
}

// assess works out what a profile needs, from the saved facts only.
func assess(p keyring.Profile, now time.Time, backend string) profileStatus {
	st := profileStatus{
		Profile: p.Name, Account: p.Account, AccountName: p.AccountName, Cloud: string(p.Cloud),
		Tenant: p.Tenant, TenantID: p.TenantID, ClientID: p.ClientID, Kind: string(p.Kind),
		AccountType: string(p.Audience), RequestedScopes: nonNil(p.RequestedScopes),
		GrantedScopes: nonNil(p.GrantedScopes), Backend: backend, State: "ok",
		SecretFrom: p.SecretFrom, PublishedTo: p.PublishedTo,
	}
	st.MissingScopes = nonNil(nil)
	if p.Kind != oauth.KindApp && len(p.GrantedScopes) > 0 {
		st.MissingScopes = nonNil(oauth.MissingScopes(p.RequestedScopes, p.GrantedScopes))
	}
	action := func(code int, msg string) {
		st.State = "action"
		st.Problems = append(st.Problems, msg)
		if st.code != ExitSecret {
			st.code = code
		}
	}
	if !p.SecretExpires.IsZero() && p.Kind != oauth.KindPublic {
		t := p.SecretExpires
		days := steps.DaysUntil(now, t)
		st.SecretExpires, st.SecretDaysLeft = &t, &days
		st.SecretExpired = !t.After(now)
	}
	if !p.LastRefresh.IsZero() {
		last := p.LastRefresh
		st.LastRefresh = &last
		if p.Kind != oauth.KindApp {
			dead := last.Add(inactivityLimit)
			st.RefreshDeadline = &dead
		}
	}
	// The rules are the engine's, which the home screen uses too; the wording is status's own.
	for _, f := range creds.Checks(p, now) {
		switch f.State {
		case creds.HealthSecretExpired:
			action(ExitSecret, fmt.Sprintf("client secret expired on %s: create a new one and run m365creds rotate %s", f.When.Format(dateFormat), p.Name))
		case creds.HealthSecretExpiring:
			st.State = "warning"
			st.Problems = append(st.Problems, fmt.Sprintf("client secret expires on %s (%s): create a new one and run m365creds rotate %s", f.When.Format(dateFormat), relDays(f.DaysLeft), p.Name))
		case creds.HealthReconsent:
			action(ExitConsent, fmt.Sprintf("refresh token unused since %s and past the 90-day limit: sign in again with m365creds setup --profile %s", f.When.Format(dateFormat), p.Name))
		case creds.HealthNoRefreshToken:
			action(ExitConsent, fmt.Sprintf("no refresh token (offline_access was not requested): tokens stop after an hour; sign in again with offline_access: m365creds setup --profile %s --preset basic", p.Name))
		case creds.HealthMissingScopes:
			action(ExitConsent, fmt.Sprintf("not granted: %s; consent again with m365creds setup --profile %s", strings.Join(f.Missing, ", "), p.Name))
		case creds.HealthOK, creds.HealthKeychainMissing: // status reads no secret, so cannot see a lost item
		}
	}
	if st.Problems == nil {
		st.Problems = []string{}
	}
	return st
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// terminalWidth is the width of the terminal stdout writes to, or 0 when it is not one.
func (a *app) terminalWidth() int {
	f, ok := a.stdout.(*os.File)
	if !ok || !a.isTerminal(a.stdout) {
		return 0
	}
	w, _, err := xterm.GetSize(f.Fd())
	if err != nil {
		return 0
	}
	return w
}

func widestLine(s string) int {
	widest := 0
	for _, l := range strings.Split(s, "\n") {
		widest = max(widest, utf8.RuneCountInString(l))
	}
	return widest
}

func printTable(w io.Writer, rows []profileStatus, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tACCOUNT\tTENANT\tCLIENT ID\tKIND\tSCOPES GRANTED\tSECRET EXPIRES\tREFRESH TOKEN\tSTATE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Profile, orDash(r.Account), orDash(r.Tenant), r.ClientID, kindLabel(oauth.Kind(r.Kind)),
			orDash(strings.Join(r.GrantedScopes, " ")), secretText(r), refreshText(r, now, dateFormat), r.State)
	}
	tw.Flush()
}

func (a *app) printDetail(r profileStatus, now time.Time) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	account := orDash(r.Account)
	if r.AccountName != "" {
		account += " (" + r.AccountName + ")"
	}
	tenant := orDash(r.Tenant)
	if r.TenantID != "" && r.TenantID != r.Tenant {
		tenant += " (" + r.TenantID + ")"
	}
	lines := [][2]string{
		{"Profile", r.Profile},
		{"Account", account},
		{"Cloud", r.Cloud},
		{"Tenant", tenant},
		{"Client ID", r.ClientID},
		{"Kind", kindLabel(oauth.Kind(r.Kind))},
		{"Scopes requested", orDash(strings.Join(r.RequestedScopes, " "))},
		{"Scopes granted", orDash(strings.Join(r.GrantedScopes, " "))},
		{"Secret expires", secretText(r)},
		{"Refresh token", refreshText(r, now, "2006-01-02 15:04")},
		{"Keychain", r.Backend},
		{"State", r.State},
	}
	if len(r.PublishedTo) > 0 {
		lines = append(lines, [2]string{"Published to", strings.Join(r.PublishedTo, " ")})
	}
	if len(r.MissingScopes) > 0 {
		lines = append(lines[:8], append([][2]string{{"Scopes missing", strings.Join(r.MissingScopes, " ")}}, lines[8:]...)...)
	}
	for _, l := range lines {
		fmt.Fprintf(tw, "%s:\t%s\n", l[0], l[1])
	}
	tw.Flush()
}

func secretText(r profileStatus) string {
	switch {
	case r.Kind == string(oauth.KindPublic):
		return "no secret (public client)"
	case r.SecretExpires == nil:
		return "unknown"
	case r.SecretExpired:
		return fmt.Sprintf("%s (expired %s)", r.SecretExpires.Format(dateFormat), relDays(*r.SecretDaysLeft))
	}
	return fmt.Sprintf("%s (%s)", r.SecretExpires.Format(dateFormat), relDays(*r.SecretDaysLeft))
}

func refreshText(r profileStatus, now time.Time, layout string) string {
	switch {
	case oauth.Kind(r.Kind) == oauth.KindApp:
		// App-only profiles get a new token from the secret each time; there is nothing to expire.
		if r.LastRefresh == nil {
			return "none (app-only)"
		}
		return "none (app-only); last token " + r.LastRefresh.Local().Format(layout)
	case r.LastRefresh == nil:
		return "never"
	case r.RefreshDeadline == nil:
		return "used " + r.LastRefresh.Local().Format(layout)
	}
	return fmt.Sprintf("used %s, dies unused %s (%s)", r.LastRefresh.Local().Format(layout),
		r.RefreshDeadline.Format(dateFormat), relDays(steps.DaysUntil(now, *r.RefreshDeadline)))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

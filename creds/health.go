package creds

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// SecretWarnDays is how many days before a client secret expires the front ends start warning.
const SecretWarnDays = 30

// RefreshInactivityLimit is how long Microsoft keeps an unused refresh token valid.
const RefreshInactivityLimit = 90 * 24 * time.Hour

// Severity orders how urgent a health finding is.
type Severity int

// The severities, least urgent first.
const (
	SeverityOK      Severity = iota // nothing to do
	SeverityWarning                 // works today, needs attention soon
	SeverityAction                  // does not work (or will not once the access token expires)
)

func (s Severity) String() string {
	switch s {
	case SeverityWarning:
		return "warning"
	case SeverityAction:
		return "action"
	case SeverityOK:
	}
	return "ok"
}

// HealthState is one thing a saved profile can suffer from.
type HealthState int

// The states, in the order a front end should mention them (most urgent first for the ones
// that need action).
const (
	HealthOK              HealthState = iota
	HealthKeychainMissing             // the config file names a keychain item the keychain no longer has
	HealthSecretExpired               // the client secret is past its expiry date
	HealthReconsent                   // the refresh token is past Microsoft's inactivity limit
	HealthNoRefreshToken              // a delegated profile without offline_access
	HealthMissingScopes               // Microsoft granted fewer scopes than the profile asks for
	HealthSecretExpiring              // the client secret expires within SecretWarnDays
)

// Remedy is what repairs a finding.
type Remedy int

// The remedies.
const (
	RemedyNone      Remedy = iota
	RemedyRotate           // enter a new client secret
	RemedyReconsent        // sign in again (and consent to the permissions)
)

// Finding is one health problem of a profile, worded for people.
type Finding struct {
	State    HealthState
	Severity Severity
	Words    string // short, for a column: "secret expires in 12 days"
	Detail   string // one sentence with the facts: dates, scopes, items
	Remedy   Remedy
	DaysLeft int       // HealthSecretExpiring and HealthSecretExpired: days until (negative: since) expiry
	When     time.Time // the date the finding is about: expiry, last refresh
	Missing  []string  // HealthMissingScopes: the scopes not granted
}

// Health is a profile's state as far as the saved facts tell: the most urgent finding first,
// then the others.
type Health struct {
	Findings []Finding
}

// Worst is the most urgent finding, or an "ok" one.
func (h Health) Worst() Finding {
	if len(h.Findings) == 0 {
		return Finding{State: HealthOK, Severity: SeverityOK, Words: "ok", Detail: "Nothing needs doing."}
	}
	return h.Findings[0]
}

// Severity is the severity of the worst finding.
func (h Health) Severity() Severity { return h.Worst().Severity }

// Words is the worst finding in a few words, with "+N" when there are more.
func (h Health) Words() string {
	w := h.Worst().Words
	if n := len(h.Findings) - 1; n > 0 {
		w += fmt.Sprintf(" (+%d)", n)
	}
	return w
}

// Checks lists a profile's findings from the saved facts alone (no network, no keychain),
// in a fixed order: the client secret, the refresh token's inactivity, offline_access, the
// granted scopes.
func Checks(p keyring.Profile, now time.Time) []Finding {
	var out []Finding
	if t := p.SecretExpires; !t.IsZero() && p.Kind != oauth.KindPublic {
		days := steps.DaysUntil(now, t)
		switch {
		case !t.After(now):
			out = append(out, Finding{State: HealthSecretExpired, Severity: SeverityAction, Remedy: RemedyRotate,
				Words: "secret expired", DaysLeft: days, When: t,
				Detail: fmt.Sprintf("The client secret expired on %s.", t.Format(time.DateOnly))})
		case days <= SecretWarnDays:
			out = append(out, Finding{State: HealthSecretExpiring, Severity: SeverityWarning, Remedy: RemedyRotate,
				Words: "secret expires " + inDays(days), DaysLeft: days, When: t,
				Detail: fmt.Sprintf("The client secret expires on %s (%s).", t.Format(time.DateOnly), inDays(days))})
		}
	}
	if p.Kind == oauth.KindApp {
		return out // app-only profiles have no refresh token and no delegated scopes
	}
	if last := p.LastRefresh; !last.IsZero() && !last.Add(RefreshInactivityLimit).After(now) {
		out = append(out, Finding{State: HealthReconsent, Severity: SeverityAction, Remedy: RemedyReconsent,
			Words: "re-consent", When: last,
			Detail: fmt.Sprintf("The refresh token is unused since %s, past Microsoft's 90-day inactivity limit.", last.Format(time.DateOnly))})
	}
	if !slices.ContainsFunc(p.RequestedScopes, func(s string) bool { return strings.EqualFold(s, "offline_access") }) {
		out = append(out, Finding{State: HealthNoRefreshToken, Severity: SeverityAction, Remedy: RemedyReconsent,
			Words:  "no refresh token",
			Detail: "offline_access was not requested, so there is no refresh token and tokens stop after an hour."})
	}
	if len(p.GrantedScopes) > 0 {
		if missing := oauth.MissingScopes(p.RequestedScopes, p.GrantedScopes); len(missing) > 0 {
			out = append(out, Finding{State: HealthMissingScopes, Severity: SeverityAction, Remedy: RemedyReconsent,
				Words: "missing scopes", Missing: missing,
				Detail: "Not granted: " + strings.Join(missing, ", ") + "."})
		}
	}
	return out
}

// HealthAt is a profile's health from the saved facts alone.
func HealthAt(p keyring.Profile, now time.Time) Health {
	return sorted(Checks(p, now))
}

// HealthOf is HealthAt plus one keychain read, which finds items the keychain has lost. An
// error means the keychain could not be read at all (unavailable, locked, another store);
// the health from the saved facts is returned with it.
func (s *Service) HealthOf(ctx context.Context, p keyring.Profile) (Health, error) {
	found := Checks(p, s.now())
	_, err := s.Store.Secrets(ctx, p.Name)
	var lost *keyring.LostItemError
	switch {
	case errors.As(err, &lost):
		f := Finding{State: HealthKeychainMissing, Severity: SeverityAction, Words: "keychain item missing",
			Detail: fmt.Sprintf("The keychain no longer has the %s of this profile.", strings.ReplaceAll(lost.Item, "-", " ")), Remedy: RemedyReconsent}
		if errors.Is(err, keyring.ErrLostSecret) {
			f.Remedy = RemedyRotate
		}
		found = append(found, f)
	case err != nil:
		return sorted(found), s.readFailure(err, p, OpVerify)
	}
	return sorted(found), nil
}

// sorted puts the most urgent finding first; findings of one state keep their order.
func sorted(f []Finding) Health {
	slices.SortStableFunc(f, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return int(a.State) - int(b.State)
	})
	return Health{Findings: f}
}

func inDays(d int) string {
	switch {
	case d <= 0:
		return "today"
	case d == 1:
		return "in 1 day"
	}
	return fmt.Sprintf("in %d days", d)
}

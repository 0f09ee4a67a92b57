// Package keyring keeps m365creds profiles: secrets (client secret, refresh token, cached access
// token) in the OS keychain, one item each, and everything else in a config file. A save never
// leaves a profile half-written: new items are written beside the old ones under a fresh
// generation, and the config file switches to them in one atomic rename.
//
// Layout. Keychain items live under the service name ("m365creds", "m365creds-demo" for the
// demo) with accounts "<profile>/<item>@<generation>", item being client-secret,
// refresh-token or access-token (token, expiry and scopes as one JSON value). A value over
// 2,000 bytes (under Windows' 2,560 and macOS's ~3 KB) is stored as chunks
// "<account>#1".."#n" behind a header item holding n and a SHA-256, so a partial set reads as
// damage, never as a wrong secret. The config directory ($M365CREDS_CONFIG_DIR, else
// os.UserConfigDir()/m365creds, mode 0700) holds profiles.json (profiles-<service>.json for
// other services, so demo profiles never mix with real ones, mode 0600, replaced by temp
// file + fsync + rename), locks/ with the advisory lock files, and, only when the file store
// was chosen, secrets-<service>.json (plain text, mode 0600).
package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/oauth"
)

// Profile is the non-secret part of a set of credentials.
type Profile struct {
	Name            string         `json:"name"`
	Cloud           oauth.Cloud    `json:"cloud"`
	Tenant          string         `json:"tenant"`   // authority segment sign-in uses
	TenantID        string         `json:"tenantId"` // Directory (tenant) ID, when known
	ClientID        string         `json:"clientId"`
	Audience        oauth.Audience `json:"audience"`
	Kind            oauth.Kind     `json:"kind"`
	RedirectURI     string         `json:"redirectUri,omitempty"`
	RequestedScopes []string       `json:"requestedScopes"`
	GrantedScopes   []string       `json:"grantedScopes,omitempty"`
	Account         string         `json:"account,omitempty"`     // user principal name from Graph /me
	AccountID       string         `json:"accountId,omitempty"`   // the user's object ID from Graph /me
	AccountName     string         `json:"accountName,omitempty"` // display name
	SecretExpires   time.Time      `json:"secretExpires,omitzero"`
	// AppObjectID and SecretKeyID identify the app registration and its client secret in
	// Microsoft Graph, for rotation without the portal; empty when registered by hand.
	AppObjectID string    `json:"appObjectId,omitempty"`
	SecretKeyID string    `json:"secretKeyId,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	LastRefresh time.Time `json:"lastRefresh,omitzero"`
	// PublishedTo lists the stores the client secret was published to
	// (azure-keyvault://…, gh://…, op://…), which rotate updates too.
	PublishedTo []string `json:"publishedTo,omitempty"`
	// SecretFrom names the profile whose client secret this one uses (see shared.go).
	SecretFrom string `json:"secretFrom,omitempty"`
}

// maxDisplayLen bounds the account fields: longer than any user principal name (113) or
// display name (256) Entra accepts.
const maxDisplayLen = 300

// cleaned returns the profile with every text field that gets printed stripped of control
// characters, and the account fields clipped. The config file is the user's to edit, so
// whatever it holds is outside text.
func (p Profile) cleaned() Profile {
	p.Cloud = oauth.Cloud(sanitize.Line(string(p.Cloud), maxDisplayLen))
	p.Tenant = sanitize.Line(p.Tenant, maxDisplayLen)
	p.TenantID = sanitize.Line(p.TenantID, maxDisplayLen)
	p.ClientID = sanitize.Line(p.ClientID, maxDisplayLen)
	p.Audience = oauth.Audience(sanitize.Line(string(p.Audience), maxDisplayLen))
	p.Kind = oauth.Kind(sanitize.Line(string(p.Kind), maxDisplayLen))
	p.RedirectURI = sanitize.Line(p.RedirectURI, 0)
	p.Account = sanitize.Line(p.Account, maxDisplayLen)
	p.AccountName = sanitize.Line(p.AccountName, maxDisplayLen)
	p.SecretFrom = sanitize.Line(p.SecretFrom, maxDisplayLen)
	p.RequestedScopes = cleanList(p.RequestedScopes)
	p.GrantedScopes = cleanList(p.GrantedScopes)
	p.PublishedTo = cleanList(p.PublishedTo)
	return p
}

func cleanList(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = sanitize.Line(s, 0)
	}
	return out
}

// Secrets is the part of a profile that lives only in the keychain.
type Secrets struct {
	ClientSecret string
	RefreshToken string
	AccessToken  string
	AccessExpiry time.Time
	AccessScopes []string
}

// nameChar reports the characters a profile name may use: letters, digits, '.', '_', '-'.
// A byte test rather than a regexp: every command checks a name, and compiling a regexp
// costs more than the rest of the check.
func nameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

func validNameChars(name string) bool {
	for _, r := range name {
		if !nameChar(r) {
			return false
		}
	}
	return true
}

// ValidateName checks a profile name: 1 to 64 letters, digits, '-', '_' or '.'.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("a profile needs a name: letters, digits, '-', '_' or '.'")
	case len(name) > 64:
		return fmt.Errorf("profile names have at most 64 characters (this one has %d)", len(name))
	case name == "." || name == "..":
		return fmt.Errorf("%q cannot be a profile name", name)
	case windowsDevice(name):
		// The name becomes a lock file name, and Windows treats these as devices.
		return fmt.Errorf("%q cannot be a profile name: Windows reserves it for a device", name)
	case !validNameChars(name):
		bad := strings.Map(func(r rune) rune {
			if nameChar(r) {
				return -1
			}
			return r
		}, name)
		// The name itself is not repeated: what lands where a name belongs may be a
		// secret pasted into the wrong place, and '~' is in every Entra secret.
		msg := fmt.Sprintf("profile names may use letters, digits, '-', '_' and '.'; this one has %q", firstRune(bad))
		if strings.Contains(name, "~") {
			msg += " (it looks like a client secret: secrets never go on the command line, the wizard asks for them)"
		}
		return errors.New(msg)
	}
	return nil
}

// windowsDevice reports names Windows reserves (CON, NUL, COM1, ...), with or without an
// extension.
func windowsDevice(name string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(name), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	return len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '1' && base[3] <= '9'
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

var (
	// ErrNotFound means there is no profile (or item) by that name.
	ErrNotFound = errors.New("profile not found")
	// ErrUnavailable means the keychain cannot be used right now.
	ErrUnavailable = errors.New("keychain unavailable")
	// ErrTimeout means the keychain did not answer in time.
	ErrTimeout = errors.New("keychain did not answer in time")
	// ErrTooLarge means the platform keychain refused a value as too large.
	ErrTooLarge = errors.New("value too large for the keychain")
)

// NotFoundError names the profile that was asked for and the ones that exist.
type NotFoundError struct {
	Name  string
	Known []string
}

func (e *NotFoundError) Error() string {
	what := fmt.Sprintf("no profile named %q", e.Name)
	if err := ValidateName(e.Name); err != nil {
		// Not a name at all (perhaps a secret in the wrong place): do not repeat it.
		what = "no such profile (" + err.Error() + ")"
	}
	if len(e.Known) == 0 {
		return what + ": there are no profiles yet (run m365creds to create one)"
	}
	return fmt.Sprintf("%s (known: %s)", what, strings.Join(e.Known, ", "))
}

// Is makes errors.Is(err, ErrNotFound) work.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// UnavailableError says why the keychain cannot be used and what to do about it. It never
// carries a secret.
type UnavailableError struct {
	Reason string
	Hint   string
	Err    error
}

func (e *UnavailableError) Error() string {
	msg := "keychain unavailable: " + e.Reason
	if e.Hint != "" {
		msg += ". " + e.Hint
	}
	return msg
}

// Unwrap exposes the cause and the ErrUnavailable (or ErrTimeout, ErrTooLarge) sentinel.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// CorruptConfigError means the config file could not be read. The file is left in place and a
// copy is kept aside, so nothing is lost while the user decides.
type CorruptConfigError struct {
	Path   string
	KeptAs string
	Err    error
}

func (e *CorruptConfigError) Error() string {
	return fmt.Sprintf("the config file %s is damaged (%v); a copy is kept at %s. Fix or remove the file, then run m365creds again",
		e.Path, e.Err, e.KeptAs)
}

func (e *CorruptConfigError) Unwrap() error { return e.Err }

// ConfigFileError means a file in the config directory could not be read or written: a
// read-only or full disk, a directory where the file should be, missing permissions. It is
// the machine's problem, not the network's nor the keychain's.
type ConfigFileError struct {
	Path string
	Op   string // "read", "write" or "lock"
	Err  error
}

func (e *ConfigFileError) Error() string {
	reason := e.Err.Error()
	var pe *fs.PathError
	if errors.As(e.Err, &pe) {
		reason = pe.Err.Error() // the path is said once, below
	}
	var le *os.LinkError
	if errors.As(e.Err, &le) {
		reason = le.Err.Error()
	}
	return fmt.Sprintf("cannot %s %s: %s", e.Op, e.Path, reason)
}

func (e *ConfigFileError) Unwrap() error { return e.Err }

// Class keeps oauth.Classify from reading the system error inside as a network failure.
func (e *ConfigFileError) Class() oauth.Class { return oauth.ClassOther }

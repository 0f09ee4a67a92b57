package steps

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// FieldError says which field of a step is not right and what to do about it.
type FieldError struct {
	Step  ID
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Msg }

func fieldErr(step ID, field, format string, args ...any) *FieldError {
	return &FieldError{Step: step, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks that step holds everything it must before the wizard moves on.
func (w *Wizard) Validate(step ID) error {
	d := &w.Draft
	switch step {
	case Account:
		return validateAccount(d)
	case IDs:
		return validateIDs(d)
	case Secret:
		if w.Mode == ModeRotate && d.ReplacedSecret != "" && CheckSecret(d.ClientSecret).Value == d.ReplacedSecret {
			return fieldErr(Secret, "secret", "This is the secret the profile already uses. Add a NEW client secret in the portal and paste its Value; keep the old one until this one works.")
		}
		return validateSecret(d)
	case Permissions:
		if len(d.Scopes) == 0 {
			return fieldErr(Permissions, "scopes", "Tick at least one permission (space toggles a row).")
		}
	case Create:
		if d.ClientID == "" {
			return fieldErr(Create, "create", "The app registration has not been created yet.")
		}
	case Consent:
		if d.Token == nil {
			return fieldErr(Consent, "consent", "Sign-in has not finished yet.")
		}
	case Save:
		if !d.Saved {
			return fieldErr(Save, "save", "The profile has not been saved yet.")
		}
	case Register, Done:
	}
	return nil
}

func validateAccount(d *Draft) error {
	if err := keyring.ValidateName(d.Profile); err != nil {
		return fieldErr(Account, "profile", "%s", err)
	}
	if _, err := oauth.ParseAudience(string(d.Audience)); err != nil {
		return fieldErr(Account, "audience", "Choose who will sign in.")
	}
	if _, err := oauth.ParseCloud(string(d.Cloud)); err != nil {
		return fieldErr(Account, "cloud", "Choose the cloud the tenant lives in.")
	}
	tenant, err := CheckTenant(d.Tenant)
	if err != nil {
		return fieldErr(Account, "tenant", "%s", err)
	}
	d.Tenant = tenant
	if id, err := CheckGUID(tenant); err == nil {
		// The Directory ID is already known: the IDs step shows it filled in, not asks again.
		d.TenantID = id
	}
	switch {
	case d.Audience == oauth.PersonalOnly && tenant != "" && tenant != "consumers":
		return fieldErr(Account, "tenant", "Apps for personal accounts only sign in through \"consumers\": leave the tenant empty.")
	case d.Flow == oauth.FlowApp && d.Audience == oauth.PersonalOnly:
		return fieldErr(Account, "flow", "Application permissions need a work or school tenant; personal accounts cannot grant them.")
	case d.Flow == oauth.FlowApp && isSharedTenant(tenant):
		return fieldErr(Account, "tenant", "Application permissions need the tenant's ID or domain, not %q.", tenant)
	case d.Path == PathGraph && d.Audience == oauth.PersonalOnly:
		return fieldErr(Account, "register", "%s", ErrPersonalRegister)
	case d.Path == PathGraph && d.Flow == oauth.FlowApp:
		return fieldErr(Account, "register", "Application permissions are chosen and granted in the portal: pick \"walk me through the portal\", or a credential that signs in as a user.")
	}
	return nil
}

// ErrPersonalRegister is why automatic registration cannot work for an app for personal
// Microsoft accounts only, and what to do instead.
var ErrPersonalRegister = errors.New("Personal Microsoft accounts can no longer create app registrations: create a free Microsoft Entra tenant (Microsoft 365 Developer Program) and use its account, or walk through the portal.")

func validateIDs(d *Draft) error {
	id, err := CheckClientID(d.ClientID)
	if err != nil {
		return fieldErr(IDs, "client-id", "%s", err)
	}
	d.ClientID = id
	tid, err := checkTenantID(d.TenantID)
	if err != nil {
		return fieldErr(IDs, "tenant-id", "%s", err)
	}
	d.TenantID = tid
	if given, err := CheckGUID(d.Tenant); err == nil && tid != "" && tid != given {
		return fieldErr(IDs, "tenant-id", "This is not the tenant ID given on step 1 (%s): correct one of them; sign-in goes to the one on step 1.", given)
	}
	if tid != "" && tid == id {
		return fieldErr(IDs, "tenant-id", "Both fields hold the same value: the client ID and the tenant ID are different GUIDs on the Overview page.")
	}
	needTenant := (d.Audience == oauth.SingleTenant || d.Flow == oauth.FlowApp) && isSharedTenant(d.Tenant)
	if needTenant && tid == "" {
		return fieldErr(IDs, "tenant-id", "Paste the Directory (tenant) ID too: single-tenant apps cannot sign in through the shared endpoints.")
	}
	return nil
}

func validateSecret(d *Draft) error {
	check := CheckSecret(d.ClientSecret)
	if check.Err != nil {
		return fieldErr(Secret, "secret", "%s", check.Err)
	}
	d.ClientSecret = check.Value
	if d.SecretExpires.IsZero() {
		return fieldErr(Secret, "expiry", "Enter when the secret expires (180d, 365d, 545d, 730d or a date like 2027-05-01), as chosen in the portal.")
	}
	return nil
}

func isSharedTenant(t string) bool {
	switch strings.ToLower(t) {
	case "", "common", "organizations", "consumers":
		return true
	}
	return false
}

var (
	guidRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	})
	domainRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))+$`)
	})
	// secretRE is the shape of the client secrets Entra ID generates today: 40 characters with
	// "8Q~" at positions 4-6 (37 characters with "7Q~" for an earlier generation).
	secretRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9~._-]{3}(8Q~[A-Za-z0-9~._-]{34}|7Q~[A-Za-z0-9~._-]{31})$`)
	})
)

// cleanPasted removes what terminals and web pages add around a copied value: white space,
// line breaks, and quotes or braces.
func cleanPasted(s string) string {
	s = strings.TrimSpace(s)
	for len(s) >= 2 {
		first, last := s[0], s[len(s)-1]
		if (first == '"' && last == '"') || (first == '\'' && last == '\'') || (first == '{' && last == '}') || (first == '`' && last == '`') {
			s = strings.TrimSpace(s[1 : len(s)-1])
			continue
		}
		break
	}
	return s
}

// IsGUID reports whether s is a GUID in its usual 8-4-4-4-12 form.
func IsGUID(s string) bool { return guidRE().MatchString(s) }

// CheckGUID cleans a pasted GUID and reports whether it has the right shape.
func CheckGUID(s string) (string, error) {
	s = cleanPasted(s)
	if s == "" {
		return "", errors.New("empty")
	}
	if !IsGUID(s) {
		return s, fmt.Errorf("%q is not a GUID: expected 8-4-4-4-12 hexadecimal digits like 0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b", truncate(s, 40))
	}
	return strings.ToLower(s), nil
}

// CheckClientID validates an Application (client) ID as the user types or pastes it.
func CheckClientID(s string) (string, error) {
	s = cleanPasted(s)
	switch {
	case s == "":
		return "", errors.New("Paste the Application (client) ID from the app's Overview page.")
	case strings.Contains(s, "~"):
		return "", errors.New("This looks like a client secret. The client ID is on the Overview page, not under Certificates & secrets.")
	}
	id, err := CheckGUID(s)
	if err != nil {
		return s, fmt.Errorf("Not a client ID: %w", err)
	}
	return id, nil
}

func checkTenantID(s string) (string, error) {
	s = cleanPasted(s)
	if s == "" {
		return "", nil
	}
	id, err := CheckGUID(s)
	if err != nil {
		return s, fmt.Errorf("Not a Directory (tenant) ID: %w", err)
	}
	return id, nil
}

// CheckTenant validates the tenant typed on the Account step: empty, a well-known name,
// a GUID or a domain.
func CheckTenant(s string) (string, error) {
	s = cleanPasted(s)
	low := strings.ToLower(s)
	switch {
	case s == "":
		return "", nil
	case low == "common" || low == "organizations" || low == "consumers":
		return low, nil
	case IsGUID(s):
		return low, nil
	case strings.Contains(s, "@"):
		// The value is echoed: only a clean, short excerpt of it.
		domain := sanitize.Line(s[strings.LastIndex(s, "@")+1:], maxEcho)
		if domain == "" {
			return s, errors.New("Type the domain only, not an e-mail address.")
		}
		return s, fmt.Errorf("Type the domain only (%s), not an e-mail address.", domain)
	case domainRE().MatchString(s):
		return low, nil
	}
	return s, errors.New("A tenant is a Directory (tenant) ID (a GUID), a domain such as contoso.onmicrosoft.com, or empty.")
}

// maxEcho is the most of a typed value an error message repeats.
const maxEcho = 64

// SecretCheck is the verdict on a pasted client secret.
type SecretCheck struct {
	Value        string   // cleaned value to use
	Warnings     []string // worth showing, not blocking
	Err          error    // blocking
	LooksCurrent bool     // the 40-character format Entra ID generates today
}

// CheckSecret looks at a pasted client secret without sending it anywhere. It never puts the
// value into a message.
func CheckSecret(raw string) SecretCheck {
	value := cleanPasted(raw)
	var c SecretCheck
	c.Value = value
	if value != raw && strings.TrimSpace(raw) != "" {
		c.Warnings = append(c.Warnings, "Removed spaces, line breaks or quotes around the value.")
	}
	switch {
	case value == "":
		c.Err = errors.New("Paste the secret's Value (Certificates & secrets, the Value column).")
	case IsGUID(value):
		c.Err = errors.New("This is the Secret ID, not the secret. Copy the Value column instead; if the portal no longer shows it, create a new secret.")
	case strings.ContainsAny(value, " \t\r\n"):
		c.Err = errors.New("The value has spaces or line breaks inside it: copy the Value again in one piece.")
	case len(value) < 16:
		c.Err = fmt.Errorf("Too short (%d characters): Entra ID secrets have 16 to 64. Copy the whole Value.", len(value))
	case secretRE().MatchString(value):
		c.LooksCurrent = true
	case len(value) > 64:
		c.Warnings = append(c.Warnings, fmt.Sprintf("Longer than Entra ID secrets usually are (%d characters); check that nothing else was pasted with it.", len(value)))
	default:
		c.Warnings = append(c.Warnings, "Not the 40-character format Entra ID uses today (…8Q~…); an older secret is fine if it is the Value.")
	}
	return c
}

// ExpiryChoices are the lifetimes the portal's "Expires" list offers when a client secret is
// added: 90, 180 (the recommended one), 365, 545 and 730 days, then "Custom" (a date).
var ExpiryChoices = []string{"90d", "180d", "365d", "545d", "730d"}

// monthDays is how many days each month-named lifetime means. The portal counts lifetimes in
// days and labels them in months ("180 days (6 months)"), so "6m" is 180 days, not the six
// calendar months to the same date, which would be a day or two later than the portal's.
var monthDays = map[int]int{3: 90, 6: 180, 12: 365, 18: 545, 24: 730}

// maxLifetimeDays is the portal's longest lifetime, "730 days (24 months)".
const maxLifetimeDays = 730

// lifetimeDays is the number of days a lifetime of n units stands for. Months the portal does
// not list count a twelfth of a year each, rounded down; a year is 365 days.
func lifetimeDays(n int, unit byte) int {
	switch unit {
	case 'm':
		if d, ok := monthDays[n]; ok {
			return d
		}
		return n * 365 / 12
	case 'y':
		return n * 365
	}
	return n
}

// ParseExpiry reads when a secret expires: a lifetime from now in days as the portal counts
// them ("180d"; "6m" is the same 180 days, "12m" 365, "18m" 545, "24m" 730; "1y" 365) or a
// date ("2027-05-01"). Microsoft caps a secret's life at 24 months.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return time.Time{}, errors.New("empty: use 180d, 365d, 545d, 730d (or 6m, 12m, 18m, 24m) or a date like 2027-05-01")
	}
	var t time.Time
	if n, unit, ok := splitLifetime(s); ok {
		days := lifetimeDays(n, unit)
		if days > maxLifetimeDays {
			return time.Time{}, fmt.Errorf("%s is %d days, more than the %d days (24 months) Microsoft allows", s, days, maxLifetimeDays)
		}
		t = now.AddDate(0, 0, days)
	} else {
		date, err := time.ParseInLocation("2006-01-02", s, now.Location())
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is neither a lifetime (90d, 180d, 365d, 545d, 730d, or 6m, 12m, 18m, 24m) nor a date (2027-05-01)", truncate(s, 30))
		}
		t = date
	}
	switch {
	case !t.After(now):
		return time.Time{}, fmt.Errorf("%s is not in the future: a secret that has expired no longer works; create a new one", t.Format("2006-01-02"))
	case t.After(now.AddDate(2, 0, 1)):
		return time.Time{}, fmt.Errorf("%s is more than 24 months away, the longest Microsoft allows", t.Format("2006-01-02"))
	}
	return t, nil
}

func splitLifetime(s string) (int, byte, bool) {
	if len(s) < 2 {
		return 0, 0, false
	}
	unit := s[len(s)-1]
	if unit != 'm' && unit != 'd' && unit != 'y' {
		return 0, 0, false
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 1000 {
		return 0, 0, false
	}
	return n, unit, true
}

var scopeRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(https://[A-Za-z0-9.-]+(/[A-Za-z0-9._-]+)*/)?[A-Za-z][A-Za-z0-9._-]*$`)
})

// ParseScopes reads a scope list as typed on the command line: names separated by spaces or
// commas, with or without a resource prefix. Duplicates are dropped; order is kept.
func ParseScopes(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		if !scopeRE().MatchString(f) {
			return nil, fmt.Errorf("%q is not a scope name (expected something like Mail.Read or https://graph.microsoft.com/Mail.Read)", truncate(f, 60))
		}
		name := f
		if p, ok := assets.PermissionByScope(f); ok && (p.Resource == "" || p.Resource == assets.GraphResource) {
			name = p.Scope // canonical spelling for catalogue rows
		}
		if key := strings.ToLower(name); !seen[key] {
			seen[key] = true
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no scopes given")
	}
	return out, nil
}

// ExpandPresets turns a comma-separated preset list ("basic,mail-read") into scopes.
func ExpandPresets(list string) ([]string, error) {
	var scopes []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		p, ok := assets.PresetByName(name)
		if !ok {
			return nil, fmt.Errorf("unknown preset %q (known: %s)", truncate(name, 30), strings.Join(assets.PresetNames(), ", "))
		}
		scopes = append(scopes, p.Scopes...)
	}
	return ParseScopes(strings.Join(scopes, " "))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

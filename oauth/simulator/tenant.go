package simulator

import (
	"strings"
	"time"
)

// ConsentPolicy is a tenant's user-consent setting (Entra admin center › Enterprise
// applications › Consent and permissions › User consent settings).
type ConsentPolicy string

const (
	// PolicyMicrosoftManaged is "Let Microsoft manage your consent settings", the default
	// since 2025 (field-2026.md §1; MicrosoftDocs/entra-docs manage-app-consent-policies.md):
	// users may not consent on their own to mail, files, sites, calendars, chats, meetings,
	// mailbox settings, contacts (write), tasks, people and Exchange protocol access.
	PolicyMicrosoftManaged ConsentPolicy = "microsoft-managed"
	// PolicyAllowUserConsent is "Allow user consent for apps": users consent to anything that
	// does not need an administrator everywhere.
	PolicyAllowUserConsent ConsentPolicy = "allow-user-consent"
	// PolicyNoUserConsent is "Do not allow user consent" (microsoft-identity.md §8, `delegate`).
	PolicyNoUserConsent ConsentPolicy = "no-user-consent"
)

// ConsentRule says who may consent to a delegated permission.
type ConsentRule string

const (
	// ConsentAdminAlways: only an administrator, in every tenant (the Graph permissions
	// reference's "Admin consent required: Yes").
	ConsentAdminAlways ConsentRule = "admin"
	// ConsentAdminOnDefaultPolicy: an administrator in tenants on Microsoft's managed policy,
	// users elsewhere.
	ConsentAdminOnDefaultPolicy ConsentRule = "admin-default-policy"
	// ConsentUsers: users may consent unless the tenant forbids all user consent.
	ConsentUsers ConsentRule = "users"
)

// Tenant is a directory. Apps' home tenants exist from New on, with the default policy.
type Tenant struct {
	ID      string
	Domains []string // verified domains, usable in place of the ID in the {tenant} segment
	// Policy is the user-consent setting; empty means PolicyMicrosoftManaged.
	Policy ConsentPolicy
	// AdminConsentWorkflow is "Users can request admin consent to apps they are unable to
	// consent to": refused users then get AADSTS90095 (request sent) instead of 90094.
	AdminConsentWorkflow bool
	// BlockDeviceCode is the Conditional Access policy "Block device code flow", which
	// Microsoft turns on by itself in tenants that have not used the flow (field-2026.md §1,
	// Entra blog 4286758): the user's approval then ends in AADSTS53003.
	BlockDeviceCode bool
	// AdminDeclines makes the tenant's administrator press Cancel on the admin-consent page.
	AdminDeclines bool
}

type tenant struct {
	Tenant
	servicePrincipals map[string]bool // lower-case client ID → exists
	adminConsented    map[string]bool // lower-case client ID → consented for all users
	disabled          map[string]bool // lower-case client ID → service principal disabled
}

// ensureTenant returns the tenant, creating it with the default policy. Callers hold s.mu.
func (s *Sim) ensureTenant(id string) *tenant {
	k := strings.ToLower(id)
	if t := s.tenants[k]; t != nil {
		return t
	}
	t := &tenant{Tenant: Tenant{ID: id, Policy: PolicyMicrosoftManaged},
		servicePrincipals: map[string]bool{}, adminConsented: map[string]bool{}, disabled: map[string]bool{}}
	s.tenants[k] = t
	return t
}

func (t *tenant) consentForAll(clientID string) {
	t.servicePrincipals[strings.ToLower(clientID)] = true
	t.adminConsented[strings.ToLower(clientID)] = true
}

// AddTenant adds a directory, or replaces the settings of one that exists (its service
// principals and consents stay).
func (s *Sim) AddTenant(cfg Tenant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.ensureTenant(cfg.ID)
	if cfg.Policy == "" {
		cfg.Policy = PolicyMicrosoftManaged
	}
	cfg.Domains = append([]string(nil), cfg.Domains...)
	t.Tenant = cfg
}

// SetConsentPolicy changes a tenant's user-consent setting.
func (s *Sim) SetConsentPolicy(tenantID string, p ConsentPolicy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureTenant(tenantID).Policy = p
}

// SetUserAdmin gives or takes a user's administrator role.
func (s *Sim) SetUserAdmin(upn string, admin bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.users {
		if strings.EqualFold(s.users[i].UPN, upn) {
			s.users[i].Admin = admin
		}
	}
}

// DisableServicePrincipal turns off "Enabled for users to sign in?" on the app's enterprise
// application in the tenant: Entra then refuses its tokens there with AADSTS7000112
// (microsoft-identity.md §5, 7000112 "application disabled").
func (s *Sim) DisableServicePrincipal(tenantID, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureTenant(tenantID).disabled[strings.ToLower(clientID)] = true
}

// HasServicePrincipal reports whether the app has a service principal in the tenant.
func (s *Sim) HasServicePrincipal(tenantID, clientID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[strings.ToLower(tenantID)]
	return t != nil && t.servicePrincipals[strings.ToLower(clientID)]
}

// AgeRefreshTokens moves the issue time of the app's refresh tokens back by d, to let tests
// reach the inactivity limits without waiting.
func (s *Sim) AgeRefreshTokens(clientID string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.refresh {
		if strings.EqualFold(g.clientID, clientID) {
			g.issued = g.issued.Add(-d)
		}
	}
}

// resolveTenant maps the {tenant} path segment to a directory: nil for the shared endpoints
// (common, organizations, consumers), AADSTS90002 for a GUID or domain no tenant has.
// Callers hold s.mu.
func (s *Sim) resolveTenant(seg string) (*tenant, *aadError) {
	l := strings.ToLower(seg)
	if sharedTenant(l) {
		return nil, nil
	}
	if isGUID(l) {
		if t := s.tenants[l]; t != nil {
			return t, nil
		}
		return nil, errTenantNotFound(seg)
	}
	if strings.Contains(l, ".") {
		for _, t := range s.tenants {
			for _, d := range t.Domains {
				if strings.EqualFold(d, l) {
					return t, nil
				}
			}
		}
	}
	return nil, errTenantNotFound(seg)
}

// ConsentRuleOf says who may consent to a delegated scope. Admin-only rows follow the Graph
// permissions reference (microsoft-identity.md §8, "Admin consent" column); the rows
// Microsoft's managed policy withholds from users follow MicrosoftDocs/entra-docs
// manage-app-consent-policies.md as summarised in field-2026.md §1 (Mail.Send, SMTP.Send and
// reading contacts are not on that list).
func ConsentRuleOf(scope string) ConsentRule {
	n := normScope(scope)
	if i := strings.LastIndex(n, "/"); strings.Contains(n, "://") && i >= 0 {
		n = n[i+1:]
	}
	if adminAlways[n] {
		return ConsentAdminAlways
	}
	if managedPolicyWithholds[n] {
		return ConsentAdminOnDefaultPolicy
	}
	for _, p := range managedPolicyPrefixes {
		if strings.HasPrefix(n, p) {
			return ConsentAdminOnDefaultPolicy
		}
	}
	return ConsentUsers
}

var adminAlways = setOf("user.read.all", "user.readwrite.all", "people.read.all", "sites.fullcontrol.all",
	"channelmessage.read.all", "group.read.all", "group.readwrite.all", "groupmember.read.all",
	"directory.read.all", "directory.readwrite.all", "application.read.all", "application.readwrite.all",
	"auditlog.read.all", "reports.read.all")

var managedPolicyWithholds = setOf("mail.read", "mail.readwrite", "mail.readbasic", "mail.read.shared",
	"mail.readwrite.shared", "mail.readbasic.shared", "mailboxitem.read", "contacts.readwrite",
	"contacts.readwrite.shared", "people.read", "imap.accessasuser.all", "pop.accessasuser.all",
	"ews.accessasuser.all", "eas.accessasuser.all")

var managedPolicyPrefixes = []string{"files.", "sites.", "calendars.", "chat.", "onlinemeetings.",
	"mailboxfolder.", "mailboxsettings.", "tasks."}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// refusedConsent is the scopes user u may not consent to for app a in tenant t, as Entra
// decides before it shows the consent page. Callers hold s.mu.
func refusedConsent(a *App, t *tenant, u User, scopes []string) []string {
	if u.Personal || u.Admin || (t != nil && t.adminConsented[strings.ToLower(a.ClientID)]) {
		// Personal accounts consent for themselves; admins are not bound by the policy.
		return nil
	}
	policy := PolicyMicrosoftManaged
	if t != nil {
		policy = t.Policy
	}
	var out []string
	for _, sc := range scopes {
		if oidc[strings.ToLower(sc)] {
			continue
		}
		rule := ConsentRuleOf(sc)
		if containsScope(a.AdminOnlyScopes, sc) {
			rule = ConsentAdminAlways
		}
		switch {
		case rule == ConsentAdminAlways,
			policy == PolicyNoUserConsent,
			policy == PolicyMicrosoftManaged && rule == ConsentAdminOnDefaultPolicy:
			out = append(out, sc)
		}
	}
	return out
}

// errAdminConsentNeeded is what a user sees when the policy withholds a scope: AADSTS90094,
// or 90095 when the tenant lets users ask an admin (microsoft-identity.md §5, 90094/90095).
func errAdminConsentNeeded(t *tenant, refused []string) *aadError {
	if t != nil && t.AdminConsentWorkflow {
		return newErr(400, "access_denied", 90095, "Admin consent is required for the permissions requested by this application (%s). An admin consent request may be sent to the admin.", strings.Join(refused, ", "))
	}
	return newErr(400, "access_denied", 90094, "The grant requires admin permission.")
}

// signInTenant is the directory a user signs in to: the named one, else the user's home
// tenant, else the app's.
func (s *Sim) signInTenant(named *tenant, a *App, u User) *tenant {
	switch {
	case named != nil:
		return named
	case u.Personal:
		return nil
	case u.TenantID != "":
		return s.ensureTenant(u.TenantID)
	case a.TenantID != "":
		return s.ensureTenant(a.TenantID)
	}
	return nil
}

// refreshLifetime is the fixed lifetime of a refresh token's inactivity window: 24 hours for
// single-page apps, 90 days otherwise (microsoft-identity.md §2, `rt`).
func refreshLifetime(spa bool) time.Duration {
	if spa {
		return 24 * time.Hour
	}
	return 90 * 24 * time.Hour
}

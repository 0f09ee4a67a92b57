package assets

import (
	"regexp"
	"strings"
	"testing"

	"github.com/m365creds/m365creds/oauth"
)

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestCatalogueIsConsistent(t *testing.T) {
	t.Parallel()
	perms := Permissions()
	if len(perms) < 60 {
		t.Fatalf("catalogue has %d rows; the permission table is meant to carry at least 60", len(perms))
	}
	seenScope := map[string]bool{}
	seenID := map[string]bool{}
	for _, p := range perms {
		key := strings.ToLower(p.Scope)
		if seenScope[key] {
			t.Errorf("scope %s listed twice", p.Scope)
		}
		seenScope[key] = true
		if p.ID != "" {
			if !guidPattern.MatchString(p.ID) {
				t.Errorf("%s: id %q is not a lower-case GUID", p.Scope, p.ID)
			}
			if seenID[p.ID] {
				t.Errorf("%s: id %s used twice", p.Scope, p.ID)
			}
			seenID[p.ID] = true
		}
		if p.Summary == "" || p.NeededFor == "" || p.Group == "" {
			t.Errorf("%s: summary, neededFor and group are all required", p.Scope)
		}
		if p.OIDC != (p.Resource == "") {
			t.Errorf("%s: only OpenID Connect scopes may lack a resource", p.Scope)
		}
	}
	// The rows the walkthroughs rely on must be present with Microsoft's defaults.
	for scope, admin := range map[string]bool{
		"offline_access": false, "User.Read": false, "Mail.ReadWrite": false, "Mail.Send": false,
		"Files.ReadWrite.All": false, "Sites.ReadWrite.All": false, "Directory.Read.All": true,
	} {
		p, ok := PermissionByScope(scope)
		if !ok {
			t.Errorf("%s missing", scope)
			continue
		}
		if p.AdminConsent != admin {
			t.Errorf("%s: adminConsent = %v, want %v", scope, p.AdminConsent, admin)
		}
	}
	if p, _ := PermissionByScope("Sites.ReadWrite.All"); p.Personal {
		t.Error("SharePoint permissions do not work for personal accounts")
	}
}

func TestPermissionLookupAcceptsPrefixAndCase(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"mail.send", "https://graph.microsoft.com/Mail.Send", "MAIL.SEND"} {
		p, ok := PermissionByScope(in)
		if !ok || p.Scope != "Mail.Send" {
			t.Errorf("PermissionByScope(%q) = %q, %v", in, p.Scope, ok)
		}
	}
	if _, ok := PermissionByScope("Mail.Fly"); ok {
		t.Error("unknown scope found")
	}
	imap, _ := PermissionByScope("IMAP.AccessAsUser.All")
	if got := imap.FullScope(); got != "https://outlook.office.com/IMAP.AccessAsUser.All" {
		t.Errorf("IMAP full scope = %q", got)
	}
	if got := Permissions()[4].FullScope(); got != "User.Read" {
		t.Errorf("Graph scopes go short, got %q", got)
	}
}

func TestPresetsOnlyNameCatalogueRows(t *testing.T) {
	t.Parallel()
	want := []string{"basic", "mail-read", "mail-send", "mail-readwrite", "files-read", "files-readwrite", "sites-read", "sites-readwrite"}
	for _, name := range want {
		if _, ok := PresetByName(name); !ok {
			t.Errorf("preset %s missing", name)
		}
	}
	for _, p := range Presets() {
		if len(p.Scopes) == 0 || p.Title == "" {
			t.Errorf("preset %s is empty", p.Name)
		}
		for _, s := range p.Scopes {
			if _, ok := PermissionByScope(s); !ok {
				t.Errorf("preset %s names %s, which is not in the catalogue", p.Name, s)
			}
		}
	}
	basic, _ := PresetByName("basic")
	if strings.Join(basic.Scopes, " ") != "User.Read offline_access" {
		t.Errorf("basic preset = %v", basic.Scopes)
	}
}

func TestEveryStepHasHelp(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"account", "register", "ids", "secret", "permissions", "consent", "save"} {
		if Help(step) == "" {
			t.Errorf("no help for %s", step)
		}
	}
	if Help("nope") != "" {
		t.Error("unknown step has help")
	}
}

// TestUserConsentMarks: every row carries one of the three marks, agrees with adminConsent,
// and the examples of Microsoft's managed consent policy (MicrosoftDocs/entra-docs
// manage-app-consent-policies.md) carry the documented mark.
func TestUserConsentMarks(t *testing.T) {
	t.Parallel()
	for _, p := range Permissions() {
		if !p.UserConsent.Valid() {
			t.Errorf("%s: userConsent %q is not admin, admin-default-policy or users", p.Scope, p.UserConsent)
		}
		if p.AdminConsent != (p.UserConsent == AdminConsentAlways) {
			t.Errorf("%s: adminConsent %v disagrees with userConsent %q", p.Scope, p.AdminConsent, p.UserConsent)
		}
		if p.NeedsAdmin() != (p.UserConsent != UsersCanConsent) {
			t.Errorf("%s: NeedsAdmin", p.Scope)
		}
	}
	documented := map[string]UserConsent{
		// Withheld from users under the managed policy.
		"Files.Read": AdminConsentOnDefaultPolicy, "Files.ReadWrite.All": AdminConsentOnDefaultPolicy,
		"Sites.Read.All": AdminConsentOnDefaultPolicy, "Sites.ReadWrite.All": AdminConsentOnDefaultPolicy,
		"Mail.Read": AdminConsentOnDefaultPolicy, "Mail.ReadWrite": AdminConsentOnDefaultPolicy,
		"Mail.ReadBasic": AdminConsentOnDefaultPolicy, "Mail.Read.Shared": AdminConsentOnDefaultPolicy,
		"Calendars.ReadWrite": AdminConsentOnDefaultPolicy, "Chat.Read": AdminConsentOnDefaultPolicy,
		"OnlineMeetings.ReadWrite": AdminConsentOnDefaultPolicy, "MailboxSettings.Read": AdminConsentOnDefaultPolicy,
		"Contacts.ReadWrite": AdminConsentOnDefaultPolicy, "Tasks.ReadWrite": AdminConsentOnDefaultPolicy,
		"People.Read": AdminConsentOnDefaultPolicy, "IMAP.AccessAsUser.All": AdminConsentOnDefaultPolicy,
		"POP.AccessAsUser.All": AdminConsentOnDefaultPolicy,
		// Not on the list.
		"Mail.Send": UsersCanConsent, "SMTP.Send": UsersCanConsent, "User.Read": UsersCanConsent,
		"offline_access": UsersCanConsent, "openid": UsersCanConsent,
		// Admin consent required everywhere (Graph permissions reference).
		"Directory.Read.All": AdminConsentAlways, "Group.Read.All": AdminConsentAlways,
		"Application.Read.All": AdminConsentAlways, "Application.ReadWrite.All": AdminConsentAlways,
	}
	for scope, want := range documented {
		p, ok := PermissionByScope(scope)
		if !ok {
			t.Errorf("%s missing", scope)
			continue
		}
		if p.UserConsent != want {
			t.Errorf("%s: userConsent %q, want %q", scope, p.UserConsent, want)
		}
	}
}

// TestAppRoles: every application permission has a Graph app role ID and a unique name.
func TestAppRoles(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range AppRoles() {
		if len(r.ID) != 36 || strings.Count(r.ID, "-") != 4 || r.Summary == "" {
			t.Errorf("%+v", r)
		}
		if seen[strings.ToLower(r.Name)] {
			t.Errorf("%s twice", r.Name)
		}
		seen[strings.ToLower(r.Name)] = true
		if got, ok := AppRoleByName(strings.ToUpper(r.Name)); !ok || got.ID != r.ID {
			t.Errorf("AppRoleByName(%s)", r.Name)
		}
	}
	if len(seen) < 5 {
		t.Fatalf("%d app roles", len(seen))
	}
}

// TestMailPermissionsPerCloud: the Outlook rows name each cloud's Outlook resource, the same
// one the mail check asks a token for, and the app-only rows stay out of the sign-in
// catalogue (microsoft-identity.md §11).
func TestMailPermissionsPerCloud(t *testing.T) {
	t.Parallel()
	for _, cloud := range []oauth.Cloud{oauth.Global, oauth.USGov, oauth.USGovDoD, oauth.China} {
		for _, scope := range []string{"IMAP.AccessAsUser.All", "SMTP.Send"} {
			p, _ := PermissionByScope(scope)
			proto := oauth.ProtocolIMAP
			if scope == "SMTP.Send" {
				proto = oauth.ProtocolSMTP
			}
			if got, want := p.FullScopeIn(string(cloud)), cloud.MailScope(proto); got != want {
				t.Errorf("%s in %s: %q, want %q", scope, cloud, got, want)
			}
		}
	}
	if p, _ := PermissionByScope("User.Read"); p.FullScopeIn("usgov") != "User.Read" {
		t.Error("Graph scopes must stay short in every cloud")
	}
	apps := ExchangeAppPermissions()
	names := map[string]Permission{}
	for _, p := range apps {
		names[p.Scope] = p
		if !p.AppOnly || p.UserConsent != AdminConsentAlways || !p.AdminConsent || p.Personal {
			t.Errorf("%s: application permissions need an administrator and a work account", p.Scope)
		}
		if _, ok := PermissionByScope(p.Scope); ok {
			t.Errorf("%s is findable as a delegated scope", p.Scope)
		}
	}
	for _, want := range []string{"IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp"} {
		if _, ok := names[want]; !ok {
			t.Errorf("%s missing", want)
		}
	}
	if got := names["IMAP.AccessAsApp"].DefaultScope("global"); got != "https://outlook.office365.com/.default" {
		t.Errorf("app-only IMAP scope = %q", got)
	}
	if got := names["SMTP.SendAsApp"].DefaultScope("usgov"); got != "https://outlook.office365.us/.default" {
		t.Errorf("GCC High app-only SMTP scope = %q", got)
	}
	for _, p := range Permissions() {
		if p.AppOnly {
			t.Errorf("%s: app-only row in the sign-in catalogue", p.Scope)
		}
	}
	for name, scopes := range map[string]string{"mail-imap": "IMAP.AccessAsUser.All", "mail-smtp": "SMTP.Send", "mail-client": "IMAP.AccessAsUser.All SMTP.Send"} {
		if p, ok := PresetByName(name); !ok || strings.Join(p.Scopes, " ") != scopes {
			t.Errorf("preset %s = %v, %v", name, p.Scopes, ok)
		}
	}
}

package assets

import (
	"regexp"
	"strings"
	"testing"
)

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestCatalogueIsConsistent(t *testing.T) {
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
	for _, step := range []string{"account", "register", "ids", "secret", "permissions", "consent", "save"} {
		if Help(step) == "" {
			t.Errorf("no help for %s", step)
		}
	}
	if Help("nope") != "" {
		t.Error("unknown step has help")
	}
}

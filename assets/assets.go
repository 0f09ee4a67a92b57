// Package assets holds the data m365creds ships inside its binary: the Microsoft Graph
// permission catalogue, the presets that group its rows, and the help text of each wizard step.
package assets

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed permissions.json presets.json approles.json help/*.txt snippets/*.tmpl
var files embed.FS

// Permission is one delegated permission a user can tick in the wizard.
type Permission struct {
	Scope        string `json:"scope"`
	Resource     string `json:"resource"` // empty for the OpenID Connect scopes, which belong to no API
	Summary      string `json:"summary"`
	NeededFor    string `json:"neededFor"`
	AdminConsent bool   `json:"adminConsent"`
	// UserConsent says who may consent to the permission; see UserConsent's constants.
	UserConsent UserConsent `json:"userConsent"`
	Personal    bool        `json:"personal"` // works for personal Microsoft accounts
	OIDC        bool        `json:"oidc"`
	ID          string      `json:"id"`
	Group       string      `json:"group"`
	// ResourceByCloud names the resource in the national clouds where it differs from
	// Resource (Exchange Online is outlook.office365.us in GCC High and DoD, partner.outlook.cn
	// in China), keyed by the cloud names profiles use ("usgov", "usgov-dod", "china").
	ResourceByCloud map[string]string `json:"resourceByCloud,omitempty"`
	// AppOnly marks an application permission (an app role), which is granted by an
	// administrator and used through "<resource>/.default", never ticked for a sign-in.
	AppOnly bool `json:"appOnly,omitempty"`
}

// ResourceIn is the permission's resource in a cloud ("global", "usgov", "usgov-dod",
// "china"; empty means global).
func (p Permission) ResourceIn(cloud string) string {
	if r, ok := p.ResourceByCloud[strings.ToLower(cloud)]; ok && r != "" {
		return r
	}
	return p.Resource
}

// FullScopeIn is FullScope for a cloud: Outlook scopes carry that cloud's Outlook resource.
// Graph scopes stay short, which every cloud reads as its own Graph.
func (p Permission) FullScopeIn(cloud string) string {
	r := p.ResourceIn(cloud)
	if r == "" || r == GraphResource {
		return p.Scope
	}
	return r + "/" + p.Scope
}

// DefaultScope is the scope an app-only token for this permission's resource is asked with.
func (p Permission) DefaultScope(cloud string) string {
	return p.ResourceIn(cloud) + "/.default"
}

// UserConsent is who may consent to a delegated permission. Since 2025 Entra's default
// user-consent setting is "Let Microsoft manage your consent settings", under which users may
// not consent on their own to mail, files, sites, calendars, chats, meetings, mailbox
// settings, contacts (write), tasks, people and Exchange protocol access (Mail.Send and
// SMTP.Send stay open); tenants may also allow all user consent or none.
type UserConsent string

const (
	// AdminConsentAlways: only an administrator can consent, in every tenant.
	AdminConsentAlways UserConsent = "admin"
	// AdminConsentOnDefaultPolicy: an administrator must consent in tenants on Microsoft's
	// managed default policy; users can where the tenant allows user consent.
	AdminConsentOnDefaultPolicy UserConsent = "admin-default-policy"
	// UsersCanConsent: users can consent unless the tenant forbids all user consent.
	UsersCanConsent UserConsent = "users"
)

// Valid reports whether c is one of the three marks.
func (c UserConsent) Valid() bool {
	switch c {
	case AdminConsentAlways, AdminConsentOnDefaultPolicy, UsersCanConsent:
		return true
	}
	return false
}

// NeedsAdmin reports whether an administrator must consent to the permission in a tenant on
// Microsoft's default user-consent policy, which is where most users are.
func (p Permission) NeedsAdmin() bool {
	return p.UserConsent == AdminConsentAlways || p.UserConsent == AdminConsentOnDefaultPolicy
}

// FullScope returns the scope as it is sent to Microsoft. Graph scopes go short (Microsoft
// assumes Graph when the resource is missing); other resources need their prefix.
func (p Permission) FullScope() string {
	if p.Resource == "" || p.Resource == GraphResource {
		return p.Scope
	}
	return p.Resource + "/" + p.Scope
}

// AppRole is one Microsoft Graph application permission (an app role of Graph's service
// principal), which an app-only app registered through Graph can ask for. IDs are Graph's
// appRole IDs as the Microsoft Graph permissions reference lists them; they are the same in
// every tenant.
type AppRole struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

// AppRoles returns the application permissions m365creds offers, in display order.
func AppRoles() []AppRole {
	load()
	return append([]AppRole(nil), appRoles...)
}

// AppRoleByName finds an application permission by name, ignoring case.
func AppRoleByName(name string) (AppRole, bool) {
	load()
	for _, r := range appRoles {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return AppRole{}, false
}

// Preset is a named group of permissions that matches a common job.
type Preset struct {
	Name   string   `json:"name"`
	Title  string   `json:"title"`
	Scopes []string `json:"scopes"`
}

// GraphResource is the resource identifier of Microsoft Graph in the global cloud.
const GraphResource = "https://graph.microsoft.com"

var (
	loadOnce    sync.Once
	permissions []Permission
	appPerms    []Permission
	byScope     map[string]int
	presets     []Preset
	appRoles    []AppRole
)

// load parses the embedded files once. A parse failure is a build mistake, so it panics.
func load() {
	loadOnce.Do(func() {
		var all []Permission
		mustDecode("permissions.json", &all)
		mustDecode("presets.json", &presets)
		mustDecode("approles.json", &appRoles)
		for _, p := range all {
			if p.AppOnly {
				appPerms = append(appPerms, p)
			} else {
				permissions = append(permissions, p)
			}
		}
		byScope = make(map[string]int, len(permissions))
		for i, p := range permissions {
			byScope[strings.ToLower(p.Scope)] = i
		}
	})
}

func mustDecode(name string, v any) {
	raw, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("assets: %s missing from the build: %v", name, err))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		panic(fmt.Sprintf("assets: %s is not valid: %v", name, err))
	}
}

// Permissions returns the catalogue in display order. The slice is a copy.
func Permissions() []Permission {
	load()
	return append([]Permission(nil), permissions...)
}

// ExchangeAppPermissions returns Exchange Online's IMAP, POP and SMTP application permissions
// (app roles of "Office 365 Exchange Online", not of Graph). They are not in Permissions: a
// sign-in cannot ask for them. The slice is a copy.
func ExchangeAppPermissions() []Permission {
	load()
	return append([]Permission(nil), appPerms...)
}

// PermissionByScope finds a catalogue row by scope name, ignoring case and a resource prefix.
func PermissionByScope(scope string) (Permission, bool) {
	load()
	name := scope
	if i := strings.LastIndex(name, "/"); i >= 0 && strings.HasPrefix(name, "https://") {
		name = name[i+1:]
	}
	i, ok := byScope[strings.ToLower(name)]
	if !ok {
		return Permission{}, false
	}
	return permissions[i], true
}

// Presets returns the presets in display order. The slice is a copy.
func Presets() []Preset {
	load()
	out := make([]Preset, len(presets))
	for i, p := range presets {
		out[i] = Preset{Name: p.Name, Title: p.Title, Scopes: append([]string(nil), p.Scopes...)}
	}
	return out
}

// PresetByName finds a preset by its name.
func PresetByName(name string) (Preset, bool) {
	for _, p := range Presets() {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Preset{}, false
}

// PresetNames lists the preset names, sorted, for usage messages and completion.
func PresetNames() []string {
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// Help returns the help text of a wizard step ("account", "register", "ids", "secret",
// "permissions", "consent", "save"), or "" when there is none.
func Help(step string) string {
	raw, err := files.ReadFile("help/" + strings.ToLower(step) + ".txt")
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(raw), "\n")
}

// SnippetNames lists the tools `m365creds snippet` has a configuration fragment for.
func SnippetNames() []string {
	entries, err := files.ReadDir("snippets")
	if err != nil {
		panic(fmt.Sprintf("assets: snippets missing from the build: %v", err))
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".tmpl"))
	}
	return names
}

// Snippet is the text/template source of one tool's configuration fragment.
func Snippet(tool string) (string, bool) {
	raw, err := files.ReadFile("snippets/" + tool + ".tmpl")
	if err != nil {
		return "", false
	}
	return string(raw), true
}

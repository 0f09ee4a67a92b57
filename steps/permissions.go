package steps

import (
	"slices"
	"strings"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/oauth"
)

// ScopeRow is one line of the permission table as the current draft sees it.
type ScopeRow struct {
	assets.Permission
	Selected bool
	// Problem says why the row cannot work for the chosen accounts, or "".
	Problem string
}

// PermissionRows returns the catalogue rows whose scope, summary, purpose or group contains
// filter (case-insensitive), marked with the draft's selection and any problem.
func (d Draft) PermissionRows(filter string) []ScopeRow {
	filter = strings.ToLower(strings.TrimSpace(filter))
	var rows []ScopeRow
	for _, p := range assets.Permissions() {
		if filter != "" && !matchesFilter(p, filter) {
			continue
		}
		rows = append(rows, ScopeRow{Permission: p, Selected: d.HasScope(p.Scope), Problem: d.scopeProblem(p)})
	}
	return rows
}

func matchesFilter(p assets.Permission, filter string) bool {
	for _, field := range []string{p.Scope, p.Summary, p.NeededFor, p.Group} {
		if strings.Contains(strings.ToLower(field), filter) {
			return true
		}
	}
	return false
}

func (d Draft) scopeProblem(p assets.Permission) string {
	switch {
	case d.Audience == oauth.PersonalOnly && !p.Personal:
		return "work or school accounts only"
	case d.Audience == oauth.PersonalOnly && p.AdminConsent:
		return "needs admin consent, which personal accounts cannot give"
	}
	return ""
}

// HasScope reports whether the draft requests scope (case-insensitive).
func (d Draft) HasScope(scope string) bool {
	return slices.IndexFunc(d.Scopes, func(s string) bool { return strings.EqualFold(s, scope) }) >= 0
}

// ToggleScope adds scope to the request or removes it.
func (d *Draft) ToggleScope(scope string) {
	if d.HasScope(scope) {
		d.Scopes = slices.DeleteFunc(d.Scopes, func(s string) bool { return strings.EqualFold(s, scope) })
		return
	}
	d.Scopes = append(d.Scopes, scope)
}

// ApplyPreset adds the preset's scopes to the request.
func (d *Draft) ApplyPreset(p assets.Preset) {
	for _, s := range p.Scopes {
		if !d.HasScope(s) {
			d.Scopes = append(d.Scopes, s)
		}
	}
}

// RequestScopes is what sign-in asks for: the chosen scopes with their resource prefix where
// they are not Graph's, in catalogue order, then anything not in the catalogue.
func (d Draft) RequestScopes() []string {
	if d.Flow == oauth.FlowApp {
		// Tokens do not cross clouds: app-only access asks for the cloud's own Graph.
		return []string{d.Cloud.GraphResource() + "/.default"}
	}
	var out []string
	for _, s := range d.Scopes {
		if p, ok := assets.PermissionByScope(s); ok {
			out = append(out, p.FullScopeIn(string(d.Cloud)))
		} else {
			out = append(out, s)
		}
	}
	return out
}

// ScopeWarnings lists what the user should know about the chosen scopes before consent.
func (d Draft) ScopeWarnings() []string {
	var warn []string
	if !d.HasScope("offline_access") && d.Flow != oauth.FlowApp {
		warn = append(warn, "Without offline_access there is no refresh token: scripts stop working after about an hour.")
	}
	var admin, personal, outlook []string
	for _, s := range d.Scopes {
		p, ok := assets.PermissionByScope(s)
		if !ok {
			continue
		}
		if p.AdminConsent {
			admin = append(admin, p.Scope)
		}
		if d.scopeProblem(p) != "" {
			personal = append(personal, p.Scope)
		}
		if p.Resource != "" && p.Resource != assets.GraphResource {
			outlook = append(outlook, p.Scope)
		}
	}
	if len(admin) > 0 && d.Audience != oauth.PersonalOnly {
		warn = append(warn, "An administrator must consent to "+strings.Join(admin, ", ")+".")
	}
	if len(personal) > 0 {
		warn = append(warn, strings.Join(personal, ", ")+" cannot work with personal accounts.")
	}
	if len(outlook) > 0 {
		verb := "belongs"
		if len(outlook) > 1 {
			verb = "belong"
		}
		warn = append(warn, strings.Join(outlook, ", ")+" "+verb+" to Outlook, not Graph: get its token with `m365creds token --scope https://outlook.office.com/"+outlook[0]+"`.")
	}
	return warn
}

// PortalScopeList is the list to tick under API permissions, one name per line.
func (d Draft) PortalScopeList() string {
	var names []string
	for _, s := range d.Scopes {
		if p, ok := assets.PermissionByScope(s); ok {
			names = append(names, p.Scope)
		} else {
			names = append(names, s)
		}
	}
	return strings.Join(names, "\n")
}

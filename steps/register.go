package steps

import (
	"github.com/m365creds/m365creds/oauth"
)

// ChecklistItem is one thing to do in the portal, with the exact value to type (or "") and the
// page that opens for it (or "").
type ChecklistItem struct {
	Label string
	Value string
	Link  string
}

// Checklist is the portal walkthrough for registering the app of this draft.
func (d Draft) Checklist() []ChecklistItem {
	links := oauth.PortalLinks(d.Cloud, d.ClientID)
	items := []ChecklistItem{
		{Label: "Open App registrations", Link: links.List},
		{Label: "Press + New registration", Link: links.New},
		{Label: "Name", Value: d.SuggestedAppName()},
		{Label: "Supported account types", Value: d.Audience.PortalOption()},
	}
	switch {
	case d.Kind() == oauth.KindPublic && d.Flow != oauth.FlowDevice:
		items = append(items,
			ChecklistItem{Label: "Redirect URI: platform", Value: "Public client/native (mobile & desktop)"},
			ChecklistItem{Label: "Redirect URI: value", Value: "http://localhost"},
			ChecklistItem{Label: "Press Register"},
			ChecklistItem{Label: "Authentication: Allow public client flows", Value: "Yes", Link: links.Authentication},
		)
	case d.Kind() == oauth.KindWeb:
		items = append(items,
			ChecklistItem{Label: "Redirect URI: platform", Value: "Web"},
			ChecklistItem{Label: "Redirect URI: value", Value: d.RedirectURI()},
			ChecklistItem{Label: "Press Register"},
		)
	case d.Kind() == oauth.KindPublic:
		items = append(items,
			ChecklistItem{Label: "Redirect URI", Value: "(leave empty)"},
			ChecklistItem{Label: "Press Register"},
			ChecklistItem{Label: "Authentication: Allow public client flows", Value: "Yes", Link: links.Authentication},
		)
	case d.Kind() == oauth.KindApp:
		items = append(items,
			ChecklistItem{Label: "Redirect URI", Value: "(leave empty)"},
			ChecklistItem{Label: "Press Register"},
			ChecklistItem{Label: "API permissions: + Add a permission", Value: "Microsoft Graph › Application permissions", Link: links.APIPermissions},
			ChecklistItem{Label: "Tick what the app needs", Value: "e.g. Mail.Read, Mail.Send"},
			ChecklistItem{Label: "Grant admin consent", Value: "(an administrator presses it)"},
		)
	}
	return items
}

package creds

import (
	"strings"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// DefaultScopes is what a plain refresh asks for: the profile's Microsoft Graph scopes as
// granted at consent (asking for a scope that was never granted fails with AADSTS65001, which
// would make a partly granted profile unusable), else as requested. Scopes of other resources
// (Outlook's IMAP/SMTP) cannot share a token with Graph, so they are left to explicit scope
// requests; a profile with only such scopes refreshes for all of them. This is the one scope
// rule: token, verify and rotate all use it.
func DefaultScopes(p keyring.Profile) []string {
	if p.Kind == oauth.KindApp {
		return []string{GraphDefault(p.Cloud)}
	}
	base := p.RequestedScopes
	if len(p.GrantedScopes) > 0 {
		base = append([]string(nil), p.GrantedScopes...)
		for _, s := range p.RequestedScopes {
			if strings.EqualFold(s, "offline_access") && !containsFold(base, s) {
				base = append(base, s)
			}
		}
	}
	var out []string
	for _, s := range base {
		if !OtherResource(p.Cloud, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 || onlyOIDC(out) {
		return base
	}
	return out
}

// GraphDefault is the app-only scope of Microsoft Graph in a cloud.
func GraphDefault(c oauth.Cloud) string {
	return strings.TrimRight(oauth.HostsFor(c).GraphResource, "/") + "/.default"
}

// RequestedGraphScopes are the profile's requested scopes that a Graph token can carry.
func RequestedGraphScopes(p keyring.Profile) []string {
	var out []string
	for _, sc := range p.RequestedScopes {
		if !OtherResource(p.Cloud, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func onlyOIDC(scopes []string) bool {
	for _, s := range scopes {
		switch strings.ToLower(s) {
		case "openid", "profile", "email", "offline_access":
		default:
			return false
		}
	}
	return true
}

// OtherResource reports whether scope belongs to an API other than Microsoft Graph.
func OtherResource(c oauth.Cloud, scope string) bool {
	if !strings.Contains(scope, "://") {
		if perm, ok := assets.PermissionByScope(scope); ok && perm.Resource != "" && perm.Resource != assets.GraphResource {
			return true
		}
		return false
	}
	low := strings.ToLower(scope)
	for _, g := range []string{assets.GraphResource, oauth.HostsFor(c).GraphResource} {
		if g != "" && strings.HasPrefix(low, strings.ToLower(strings.TrimRight(g, "/"))+"/") {
			return false
		}
	}
	return true
}

// CoveredByDefault reports whether scopes are all Graph scopes the profile already asks for, so
// the cached token (or a default refresh) serves them.
func CoveredByDefault(p keyring.Profile, scopes []string) bool {
	for _, s := range scopes {
		if OtherResource(p.Cloud, s) {
			return false
		}
	}
	have := append(append([]string(nil), p.RequestedScopes...), p.GrantedScopes...)
	return len(oauth.MissingScopes(scopes, have)) == 0
}

// delegated reports whether a kind signs in a user, and so lives on a refresh token.
func delegated(k oauth.Kind) bool { return k != oauth.KindApp }

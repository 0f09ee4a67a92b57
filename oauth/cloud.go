// Package oauth gets Microsoft 365 tokens from Microsoft Entra ID: the browser flow (authorization
// code with PKCE through a loopback listener), the paste flow for remote shells, the device code
// flow, client credentials, refresh, a Graph /me check, and one catalogue that turns every Entra
// error into what to do next.
package oauth

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Cloud is the Microsoft cloud an app is registered in. Apps, tokens and portals do not cross
// clouds, so the cloud picks every host the package talks to.
type Cloud string

// The clouds the wizard supports.
const (
	Global Cloud = "global"
	USGov  Cloud = "usgov" // US Government L4 (GCC High)
	// USGovDoD is US Government L5 (DoD): the same sign-in host as USGov, its own Graph.
	USGovDoD Cloud = "usgov-dod"
	China    Cloud = "china"
)

// ParseCloud accepts the names used on the command line and in profiles.
func ParseCloud(s string) (Cloud, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "global", "public", "worldwide", "azurecloud":
		return Global, nil
	case "usgov", "us-gov", "gcchigh", "gcc-high", "azureusgovernment":
		return USGov, nil
	case "usgov-dod", "us-gov-dod", "usgovdod", "dod":
		return USGovDoD, nil
	case "china", "cn", "21vianet", "azurechinacloud":
		return China, nil
	}
	return "", fmt.Errorf("unknown cloud %q (use global, usgov, usgov-dod or china)", s)
}

// Label names the cloud with its sign-in host, as shown in pickers.
func (c Cloud) Label() string {
	switch c {
	case USGov:
		return "US Government GCC High (login.microsoftonline.us)"
	case USGovDoD:
		return "US Government DoD (login.microsoftonline.us, dod-graph.microsoft.us)"
	case China:
		return "China, operated by 21Vianet (login.partner.microsoftonline.cn)"
	default:
		return "Global (login.microsoftonline.com)"
	}
}

// Hosts are the base URLs for one cloud, without a trailing slash.
type Hosts struct {
	Login  string // sign-in and token endpoints
	Graph  string // Microsoft Graph API calls
	Portal string // Azure portal, for deep links
	// GraphResource is Microsoft's resource identifier for Graph in this cloud. Scopes are
	// built from it, so unlike Graph it is never replaced by Endpoints.
	GraphResource string
}

// Environment variables that point m365creds at other servers (the simulator, a proxy). Only
// the command line reads them; the package takes the values as Endpoints.
const (
	EnvLoginURL = "M365CREDS_LOGIN_URL"
	EnvGraphURL = "M365CREDS_GRAPH_URL"
)

// Hosts are the cloud's own hosts, as Microsoft documents them for national clouds, without
// any override.
func (c Cloud) Hosts() Hosts {
	switch c {
	case USGov:
		return Hosts{Login: "https://login.microsoftonline.us", Graph: "https://graph.microsoft.us",
			Portal: "https://portal.azure.us", GraphResource: "https://graph.microsoft.us"}
	case USGovDoD:
		return Hosts{Login: "https://login.microsoftonline.us", Graph: "https://dod-graph.microsoft.us",
			Portal: "https://portal.azure.us", GraphResource: "https://dod-graph.microsoft.us"}
	case China:
		return Hosts{Login: "https://login.partner.microsoftonline.cn", Graph: "https://microsoftgraph.chinacloudapi.cn",
			Portal: "https://portal.azure.cn", GraphResource: "https://microsoftgraph.chinacloudapi.cn"}
	default:
		return Hosts{Login: "https://login.microsoftonline.com", Graph: "https://graph.microsoft.com",
			Portal: "https://portal.azure.com", GraphResource: "https://graph.microsoft.com"}
	}
}

// GraphResource is Microsoft Graph's resource identifier in the cloud; app-only scopes are
// built from it ("<resource>/.default").
func (c Cloud) GraphResource() string { return c.Hosts().GraphResource }

// Endpoints replace a cloud's sign-in and Graph hosts, for the simulator or a private
// deployment. The zero value keeps Microsoft's hosts.
type Endpoints struct {
	Login string // replaces Hosts.Login
	Graph string // replaces Hosts.Graph
}

// IsZero reports whether no host is replaced.
func (e Endpoints) IsZero() bool { return e.Login == "" && e.Graph == "" }

// List names the replacements in effect as "NAME=value", for a warning.
func (e Endpoints) List() []string {
	var out []string
	if e.Login != "" {
		out = append(out, EnvLoginURL+"="+e.Login)
	}
	if e.Graph != "" {
		out = append(out, EnvGraphURL+"="+e.Graph)
	}
	return out
}

// ParseEndpoints checks the two replacement URLs (either may be empty) and refuses those that
// would send credentials where they must not go: anything but an http(s) URL, and plain http to
// anywhere but this machine.
func ParseEndpoints(login, graph string) (Endpoints, error) {
	var e Endpoints
	for _, f := range []struct {
		name, value string
		dst         *string
	}{{EnvLoginURL, login, &e.Login}, {EnvGraphURL, graph, &e.Graph}} {
		v := strings.TrimSpace(f.value)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return Endpoints{}, fmt.Errorf("%s=%q is not an http(s) URL", f.name, v)
		}
		if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
			return Endpoints{}, fmt.Errorf("%s=%q would send credentials unencrypted: plain http is allowed only to this machine (localhost, 127.0.0.1); use https", f.name, v)
		}
		*f.dst = strings.TrimRight(v, "/")
	}
	return e, nil
}

// HostsFor returns Microsoft's hosts for a cloud.
func HostsFor(c Cloud) Hosts { return c.Hosts() }

// With applies endpoint replacements. GraphResource stays: scopes name Microsoft's resource
// whichever server answers.
func (h Hosts) With(e Endpoints) Hosts {
	if e.Login != "" {
		h.Login = e.Login
	}
	if e.Graph != "" {
		h.Graph = e.Graph
	}
	return h
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// graphResources lists every cloud's Graph resource so scope comparison can strip any of them.
var graphResources = []string{
	"https://graph.microsoft.com/",
	"https://graph.microsoft.us/",
	"https://dod-graph.microsoft.us/",
	"https://microsoftgraph.chinacloudapi.cn/",
}

// Audience is the "Supported account types" choice of an app registration.
type Audience string

// The four account-type choices the portal offers.
const (
	SingleTenant           Audience = "single"
	MultiTenant            Audience = "multi"
	MultiTenantAndPersonal Audience = "multi-personal"
	PersonalOnly           Audience = "personal"
)

// ParseAudience accepts the wizard's names and the manifest's signInAudience values.
func ParseAudience(s string) (Audience, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "single", "single-tenant", "azureadmyorg":
		return SingleTenant, nil
	case "multi", "multi-tenant", "azureadmultipleorgs":
		return MultiTenant, nil
	case "multi-personal", "multi+personal", "azureadandpersonalmicrosoftaccount":
		return MultiTenantAndPersonal, nil
	case "personal", "consumers", "personalmicrosoftaccount":
		return PersonalOnly, nil
	}
	return "", fmt.Errorf("unknown account type %q (use single, multi, multi-personal or personal)", s)
}

// PortalOption is the label of the matching "Supported account types" radio button on the
// portal's registration form, so the wizard can say exactly which one to pick.
func (a Audience) PortalOption() string {
	switch a {
	case MultiTenant:
		return "Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant)"
	case MultiTenantAndPersonal:
		return "Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant) and personal Microsoft accounts (e.g. Skype, Xbox)"
	case PersonalOnly:
		return "Personal Microsoft accounts only"
	default:
		return "Accounts in this organizational directory only (Single tenant)"
	}
}

// Explain says in one line who can sign in with this choice.
func (a Audience) Explain() string {
	switch a {
	case MultiTenant:
		return "Work or school accounts from any organisation."
	case MultiTenantAndPersonal:
		return "Work or school accounts from any organisation, and personal Microsoft accounts (outlook.com, hotmail.com)."
	case PersonalOnly:
		return "Personal Microsoft accounts only (outlook.com, hotmail.com, live.com)."
	default:
		return "Work or school accounts of your own organisation only; needs your tenant ID or domain."
	}
}

// Authority returns the tenant segment of the sign-in URLs: the given tenant when set, else the
// shared endpoint that matches the audience.
func (a Audience) Authority(tenant string) string {
	if t := strings.TrimSpace(tenant); t != "" {
		return t
	}
	switch a {
	case MultiTenantAndPersonal:
		return "common"
	case PersonalOnly:
		return "consumers"
	default:
		return "organizations"
	}
}

// AllowsPersonal reports whether personal Microsoft accounts can sign in.
func (a Audience) AllowsPersonal() bool {
	return a == MultiTenantAndPersonal || a == PersonalOnly
}

// Kind is the kind of credential a profile holds; it decides whether the client secret is sent.
type Kind string

// Credential kinds.
const (
	KindWeb    Kind = "web"    // delegated token, confidential client: secret sent on redeem and refresh
	KindPublic Kind = "public" // delegated token from the device flow: the secret is never sent
	KindApp    Kind = "app"    // app-only token from client credentials
)

// Flow is how consent is obtained.
type Flow string

// Consent flows.
const (
	FlowBrowser Flow = "browser"
	FlowPaste   Flow = "paste"
	FlowDevice  Flow = "device"
	FlowApp     Flow = "app"
)

// ParseFlow accepts a flow name as typed on the command line.
func ParseFlow(s string) (Flow, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "browser", "web", "":
		return FlowBrowser, nil
	case "paste", "manual":
		return FlowPaste, nil
	case "device", "device-code", "devicecode":
		return FlowDevice, nil
	case "app", "app-only", "client-credentials":
		return FlowApp, nil
	}
	return "", fmt.Errorf("unknown flow %q (use browser, paste, device or app)", s)
}

// Kind is the credential kind the flow produces.
func (f Flow) Kind() Kind {
	switch f {
	case FlowDevice:
		return KindPublic
	case FlowApp:
		return KindApp
	default:
		return KindWeb
	}
}

// Links are portal pages for one app registration. The per-app pages fall back to the list of
// registrations while the client ID is not known yet.
type Links struct {
	List, New, Overview, Authentication, Credentials, APIPermissions string
}

// PortalLinks builds the portal deep links for an app in a cloud. These are the portal's
// view routes; Microsoft does not document them, but they have been stable for years.
func PortalLinks(c Cloud, clientID string) Links {
	base := HostsFor(c).Portal + "/#view/Microsoft_AAD_RegisteredApps/"
	l := Links{
		List: base + "ApplicationsListBlade",
		New:  base + "CreateApplicationBlade/quickStartType~/null/isMSAApp~/false",
	}
	id := strings.TrimSpace(clientID)
	if id == "" || !isGUID(id) {
		l.Overview, l.Authentication, l.Credentials, l.APIPermissions = l.List, l.List, l.List, l.List
		return l
	}
	blade := func(name string) string {
		return base + "ApplicationMenuBlade/~/" + name + "/appId/" + url.PathEscape(id) + "/isMSAApp~/false"
	}
	l.Overview = blade("Overview")
	l.Authentication = blade("Authentication")
	l.Credentials = blade("Credentials")
	l.APIPermissions = blade("CallAnAPI")
	return l
}

// isGUID reports whether s has the 8-4-4-4-12 hex shape of tenant, client and secret IDs.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if !isHex(ch) {
				return false
			}
		}
	}
	return true
}

func isHex(ch byte) bool {
	return ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'
}

// isSharedTenant reports whether the tenant segment is one of Microsoft's shared endpoints,
// which cannot run app-only requests.
func isSharedTenant(t string) bool {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "", "common", "organizations", "consumers":
		return true
	}
	return false
}

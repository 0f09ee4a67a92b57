package oauth

import (
	"strings"
	"testing"
)

func TestHostsFor(t *testing.T) {
	t.Parallel()
	cases := map[Cloud][3]string{
		Global: {"https://login.microsoftonline.com", "https://graph.microsoft.com", "https://portal.azure.com"},
		USGov:  {"https://login.microsoftonline.us", "https://graph.microsoft.us", "https://portal.azure.us"},
		China:  {"https://login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn", "https://portal.azure.cn"},
	}
	for c, want := range cases {
		h := HostsFor(c)
		if h.Login != want[0] || h.Graph != want[1] || h.Portal != want[2] || h.GraphResource != want[1] {
			t.Errorf("%s: %+v", c, h)
		}
	}
	ep, err := ParseEndpoints("http://127.0.0.1:9999/", " http://127.0.0.1:9998 ")
	if err != nil {
		t.Fatal(err)
	}
	h := HostsFor(USGov).With(ep)
	if h.Login != "http://127.0.0.1:9999" || h.Graph != "http://127.0.0.1:9998" || h.GraphResource != "https://graph.microsoft.us" {
		t.Errorf("overrides: %+v", h)
	}
	c := NewClientAt(App{Cloud: Global, Tenant: "contoso.onmicrosoft.com", ClientID: "id"}, nil, ep)
	if c.TokenURL() != "http://127.0.0.1:9999/contoso.onmicrosoft.com/oauth2/v2.0/token" ||
		c.DeviceCodeURL() != "http://127.0.0.1:9999/contoso.onmicrosoft.com/oauth2/v2.0/devicecode" {
		t.Errorf("endpoints %s %s", c.TokenURL(), c.DeviceCodeURL())
	}
	if NewClientAt(App{ClientID: "id"}, nil, ep).AuthorizeURL() != "http://127.0.0.1:9999/organizations/oauth2/v2.0/authorize" {
		t.Error("empty tenant should use organizations")
	}
}

func TestParsers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Cloud{"": Global, "Global": Global, "usgov": USGov, "GCCHigh": USGov, "china": China} {
		if got, err := ParseCloud(in); err != nil || got != want {
			t.Errorf("ParseCloud(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCloud("mars"); err == nil {
		t.Error("ParseCloud accepted mars")
	}
	for in, want := range map[string]Audience{"single": SingleTenant, "AzureADMultipleOrgs": MultiTenant, "multi-personal": MultiTenantAndPersonal, "personal": PersonalOnly} {
		if got, err := ParseAudience(in); err != nil || got != want {
			t.Errorf("ParseAudience(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAudience("everyone"); err == nil {
		t.Error("ParseAudience accepted everyone")
	}
	for in, want := range map[string]Flow{"browser": FlowBrowser, "paste": FlowPaste, "device-code": FlowDevice, "app": FlowApp} {
		if got, err := ParseFlow(in); err != nil || got != want {
			t.Errorf("ParseFlow(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFlow("carrier-pigeon"); err == nil {
		t.Error("ParseFlow accepted carrier-pigeon")
	}
	if FlowBrowser.Kind() != KindWeb || FlowPaste.Kind() != KindWeb || FlowDevice.Kind() != KindPublic || FlowApp.Kind() != KindApp {
		t.Error("Flow.Kind")
	}
	for _, c := range []Cloud{Global, USGov, China} {
		if !strings.Contains(c.Label(), "login.") {
			t.Errorf("label %q", c.Label())
		}
	}
}

func TestAudience(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a         Audience
		authority string
		personal  bool
	}{
		{SingleTenant, "organizations", false},
		{MultiTenant, "organizations", false},
		{MultiTenantAndPersonal, "common", true},
		{PersonalOnly, "consumers", true},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if tc.a.Authority("") != tc.authority || tc.a.Authority(" contoso.com ") != "contoso.com" || tc.a.AllowsPersonal() != tc.personal {
			t.Errorf("%s", tc.a)
		}
		if tc.a.PortalOption() == "" || tc.a.Explain() == "" || seen[tc.a.PortalOption()] {
			t.Errorf("%s: portal option %q", tc.a, tc.a.PortalOption())
		}
		seen[tc.a.PortalOption()] = true
	}
}

func TestPortalLinks(t *testing.T) {
	t.Parallel()
	l := PortalLinks(Global, testClientID)
	for name, link := range map[string]string{"Overview": l.Overview, "Authentication": l.Authentication, "Credentials": l.Credentials, "CallAnAPI": l.APIPermissions} {
		if !strings.HasPrefix(link, "https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/"+name+"/appId/"+testClientID) {
			t.Errorf("%s link %s", name, link)
		}
	}
	if !strings.HasSuffix(l.List, "ApplicationsListBlade") || !strings.Contains(l.New, "CreateApplicationBlade") {
		t.Errorf("list/new %+v", l)
	}
	if g := PortalLinks(USGov, testClientID); !strings.HasPrefix(g.Overview, "https://portal.azure.us/") {
		t.Errorf("usgov %s", g.Overview)
	}
	// Unknown or malformed client IDs fall back to the list.
	for _, id := range []string{"", "not-a-guid", "../../evil"} {
		if l := PortalLinks(Global, id); l.Authentication != l.List {
			t.Errorf("%q: %s", id, l.Authentication)
		}
	}
}

func TestMissingScopes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		req, granted, want []string
	}{
		{[]string{"openid", "offline_access", "User.Read", "Mail.Read"}, []string{"User.Read", "Mail.Read", "profile", "openid"}, nil},
		{[]string{"https://graph.microsoft.com/Mail.Send", "User.Read"}, []string{"user.read"}, []string{"https://graph.microsoft.com/Mail.Send"}},
		{[]string{"Mail.Send"}, []string{"https://graph.microsoft.com/mail.send"}, nil},
		// A Graph token cannot speak for an Outlook scope: not judged, not reported.
		{[]string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, []string{"IMAP.AccessAsUser.All"}, nil},
		// An Outlook token that lacks the Outlook scope asked for does report it.
		{[]string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"}, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, []string{"https://outlook.office.com/SMTP.Send"}},
		{[]string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, nil},
		{[]string{"https://graph.microsoft.com/.default"}, nil, nil},
		{[]string{"Files.Read", "files.read"}, nil, []string{"Files.Read"}},
		{[]string{"https://graph.microsoft.us/Mail.Read"}, []string{"Mail.Read"}, nil},
	}
	for _, tc := range cases {
		got := MissingScopes(tc.req, tc.granted)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("MissingScopes(%v, %v) = %v, want %v", tc.req, tc.granted, got, tc.want)
		}
	}
}

func TestParseEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		login, graph string
		ok           bool
	}{
		{"", "", true},
		{"https://login.example.net", "https://graph.example.net/", true},
		{"http://127.0.0.1:8400", "http://localhost:8400", true},
		{"http://[::1]:8400", "", true},
		{"http://login.example.net", "", false}, // credentials in clear text over the network
		{"", "http://10.0.0.5:8400", false},
		{"ftp://127.0.0.1", "", false},
		{"login.example.net", "", false},
	}
	for _, tt := range tests {
		if _, err := ParseEndpoints(tt.login, tt.graph); (err == nil) != tt.ok {
			t.Errorf("login %q graph %q: err = %v, want ok %v", tt.login, tt.graph, err, tt.ok)
		}
	}
	ep, _ := ParseEndpoints("https://login.example.net", "")
	if got := ep.List(); len(got) != 1 || got[0] != EnvLoginURL+"=https://login.example.net" {
		t.Errorf("List() = %v", got)
	}
	if !(Endpoints{}).IsZero() || ep.IsZero() {
		t.Error("IsZero")
	}
}

func TestNationalCloudHosts(t *testing.T) {
	t.Parallel()
	cases := map[Cloud][3]string{
		Global:   {"https://login.microsoftonline.com", "https://graph.microsoft.com", "https://portal.azure.com"},
		USGov:    {"https://login.microsoftonline.us", "https://graph.microsoft.us", "https://portal.azure.us"},
		USGovDoD: {"https://login.microsoftonline.us", "https://dod-graph.microsoft.us", "https://portal.azure.us"},
		China:    {"https://login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn", "https://portal.azure.cn"},
	}
	for c, want := range cases {
		h := c.Hosts()
		if h.Login != want[0] || h.Graph != want[1] || h.Portal != want[2] || h.GraphResource != want[1] || c.GraphResource() != want[1] {
			t.Errorf("%s: %+v", c, h)
		}
	}
	for in, want := range map[string]Cloud{"dod": USGovDoD, "usgov-dod": USGovDoD, "DoD": USGovDoD, "usgov": USGov, "gcchigh": USGov, "gcc-high": USGov} {
		if got, err := ParseCloud(in); err != nil || got != want {
			t.Errorf("ParseCloud(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if l := USGovDoD.Label(); !strings.Contains(l, "DoD") || !strings.Contains(l, "login.microsoftonline.us") {
		t.Errorf("DoD label %q", l)
	}
	if l := USGov.Label(); strings.Contains(l, "DoD") {
		t.Errorf("GCC High label %q names DoD", l)
	}
	if _, err := ParseCloud("mars"); err == nil || !strings.Contains(err.Error(), "usgov-dod") {
		t.Errorf("unknown cloud: %v", err)
	}
	// A DoD token is for DoD's Graph; a request for it must not ask GCC High's.
	c := &Client{app: App{Cloud: USGovDoD, Tenant: testTenant, ClientID: testClientID}, hosts: USGovDoD.Hosts()}
	if u := c.AdminConsentURL("", ""); !strings.Contains(u, "dod-graph.microsoft.us") {
		t.Errorf("admin consent URL %s", u)
	}
}

package oauth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/m365creds/m365creds/internal/sanitize"
)

// Step names the wizard step a user should go back to.
type Step string

// Wizard steps an error can send the user back to.
const (
	StepNone        Step = ""
	StepAccount     Step = "account"
	StepRegister    Step = "register"
	StepIDs         Step = "ids"
	StepSecret      Step = "secret"
	StepPermissions Step = "permissions"
	StepConsent     Step = "consent"
)

// Guidance is what the wizard shows for an error: what it means, what to do, where.
type Guidance struct {
	Code       int    // AADSTS code, 0 when the error is not Entra's
	Title      string // a few words
	Meaning    string // one plain line
	Action     string // what to do, and where in the portal
	Step       Step   // where to go back to in the wizard
	PortalLink string // the portal page for this app where the fix is made, or ""
	Raw        string // Microsoft's own text and trace ID, unchanged, when there is one
}

type linkKind int

const (
	linkNone linkKind = iota
	linkList
	linkOverview
	linkAuth
	linkCreds
	linkPerms
)

type entry struct {
	title, meaning, action string
	step                   Step
	link                   linkKind
	class                  Class
}

// unknownAppAction is the check for every "the app is not known there" answer: a new secret
// cannot fix it, the IDs or the cloud can.
const unknownAppAction = "Check the client ID, the tenant and the cloud: copy the Application (client) ID and the Directory (tenant) ID from the app's Overview page in the portal of the cloud it is registered in (Global, US Government, China). The client ID may be the Object ID, not the Application (client) ID: both are GUIDs on the same page."

// catalogue holds the errors users of M365 tools run into, with the fix for each. Microsoft
// warns that its texts change, so matching is by code only.
var catalogue = map[int]entry{
	7000215: {"Wrong client secret",
		"Microsoft does not recognise the client secret that was sent.",
		"Paste the secret's Value, not its Secret ID. The Value is shown only once, right after the secret is created: if you no longer have it, open Certificates & secrets, add a new client secret and copy its Value.",
		StepSecret, linkCreds, ClassSecret},
	7000222: {"Client secret expired",
		"The client secret has passed its expiry date.",
		"Open Certificates & secrets, add a new client secret, copy its Value and paste it here (m365creds rotate does this for a saved profile).",
		StepSecret, linkCreds, ClassSecret},
	70002: {"Client credentials rejected",
		"The client secret does not match what Microsoft expects for this app.",
		"Check that the secret belongs to this app's client ID and paste its Value again; if in doubt add a new client secret under Certificates & secrets.",
		StepSecret, linkCreds, ClassSecret},
	7000218: {"Secret missing, or public client flows are off",
		"Microsoft treated the app as a confidential client and expected a client secret, but none was sent.",
		"For the device code flow, open Authentication, set \"Allow public client flows\" to Yes, save and wait a few minutes. For the browser flow, enter the client secret.",
		StepRegister, linkAuth, ClassOther},
	700025: {"Secret sent to a public client",
		"The app is set up as a public client, so it must not receive a client secret.",
		"Open Authentication: if http://localhost:53365/ is listed under \"Mobile and desktop applications\", remove it there and add it under Web instead. Save, wait a few minutes, and sign in again.",
		StepRegister, linkAuth, ClassOther},
	700016: {"App not found in this directory",
		"No app with this client ID exists in the tenant (or cloud) the sign-in went to.",
		unknownAppAction,
		StepIDs, linkOverview, ClassApp},
	7000229: {"App not yet set up in this tenant",
		"The app exists, but its service principal (enterprise application) has not been created in this tenant yet; app-only access needs one.",
		"Have an administrator of this tenant open the admin consent link (or sign in once with the browser flow and accept the permissions), then try again.",
		StepConsent, linkPerms, ClassConsent},
	7000112: {"App disabled in this tenant",
		"The app's enterprise application (service principal) in this tenant is turned off, so Microsoft issues it no tokens there.",
		"Ask an administrator of this tenant to open Enterprise applications, find the app, and set \"Enabled for users to sign in?\" to Yes under Properties.",
		StepNone, linkNone, ClassApp},
	650052: {"A service the app needs is missing in this tenant",
		"The app asks for access to an API (for example Exchange Online or SharePoint) that this organisation has no subscription or service principal for.",
		"Remove the permissions of that API from the app, or ask the organisation's administrator to enable the service (a Microsoft 365 licence that includes it), then consent again.",
		StepPermissions, linkPerms, ClassConsent},
	700011: {"App not found in the organisation",
		"Microsoft could not find an app with this client ID in the organisation.",
		unknownAppAction,
		StepIDs, linkOverview, ClassApp},
	50011: {"Redirect URI not registered",
		"The redirect URI sent with the sign-in is not one of the app's registered redirect URIs.",
		"Open Authentication, add the redirect URI under the Web platform exactly as shown, save, and wait 3 to 5 minutes before signing in again.",
		StepRegister, linkAuth, ClassOther},
	500113: {"No redirect URI registered",
		"The app has no redirect URI at all.",
		"Open Authentication, press \"Add a platform\", choose Web, enter the redirect URI exactly as shown and save; wait a few minutes.",
		StepRegister, linkAuth, ClassOther},
	65001: {"Consent missing",
		"Nobody has consented to this app using these permissions for this account.",
		"Sign in again and accept the permissions. If your organisation does not let users consent, an administrator must press \"Grant admin consent\" on API permissions.",
		StepConsent, linkPerms, ClassConsent},
	65004: {"Consent declined",
		"The permissions request was cancelled or declined on Microsoft's consent page.",
		"Sign in again and press Accept on the permissions page, or remove permissions you do not want to grant.",
		StepConsent, linkNone, ClassConsent},
	90094: {"Administrator approval required",
		"At least one requested permission needs an administrator's consent in this organisation.",
		"Remove the admin-only permissions, or ask an administrator to open API permissions and press \"Grant admin consent\" (or send them the admin consent link).",
		StepPermissions, linkPerms, ClassConsent},
	90095: {"Waiting for administrator approval",
		"The organisation uses an approval workflow; a request for these permissions went to the administrators.",
		"Wait until an administrator approves the request, then sign in again; or remove the admin-only permissions.",
		StepPermissions, linkPerms, ClassConsent},
	50194: {"Single-tenant app used with common",
		"The app accepts only accounts of its own organisation, so the shared 'common' sign-in endpoint cannot be used.",
		"Enter the Directory (tenant) ID or the organisation's domain instead of common, or change Supported account types to multitenant on Authentication.",
		StepAccount, linkAuth, ClassOther},
	50020: {"Account not in the app's organisation",
		"The account that signed in does not belong to the organisation the app is registered in.",
		"Sign in with an account from that organisation (pick it in the account chooser), have it invited as a guest, or make the app multitenant.",
		StepAccount, linkAuth, ClassOther},
	500200: {"Personal account not allowed",
		"A personal Microsoft account signed in, but the app accepts only work or school accounts.",
		"Sign in with a work or school account, or register an app whose supported account types include personal Microsoft accounts.",
		StepAccount, linkAuth, ClassOther},
	9002331: {"App is for personal accounts only",
		"The app accepts only personal Microsoft accounts, which sign in through the 'consumers' endpoint.",
		"Choose \"Personal Microsoft accounts only\" as the account type (tenant consumers).",
		StepAccount, linkNone, ClassOther},
	9002332: {"App is for work or school accounts only",
		"The app accepts only work or school accounts, so the 'consumers' endpoint cannot be used.",
		"Choose a work or school account type and enter the tenant ID or domain (or organizations).",
		StepAccount, linkNone, ClassOther},
	70011: {"Invalid permission",
		"A requested permission (scope) does not exist or is written wrongly.",
		"Check the permission names; Graph permissions look like Mail.Read or https://graph.microsoft.com/Mail.Read.",
		StepPermissions, linkPerms, ClassOther},
	700022: {"Permissions from two APIs mixed",
		"One token can only be for one API, but the request mixed permissions of more than one (for example Graph and Outlook IMAP).",
		"Keep Graph permissions and Outlook (IMAP/POP/SMTP) permissions in separate profiles.",
		StepPermissions, linkNone, ClassOther},
	70000: {"Sign-in no longer valid",
		"The refresh token or code is not valid any more (used already, revoked, or from another app).",
		"Sign in again (m365creds setup --profile PROFILE) to get a new refresh token.",
		StepConsent, linkNone, ClassConsent},
	70008: {"Sign-in expired",
		"The refresh token or code expired, for example after 90 days without use.",
		"Sign in again (m365creds setup --profile PROFILE) to get a new refresh token.",
		StepConsent, linkNone, ClassConsent},
	700082: {"Refresh token expired from inactivity",
		"The refresh token was not used for too long and has expired.",
		"Sign in again (m365creds setup --profile PROFILE) to get a new refresh token.",
		StepConsent, linkNone, ClassConsent},
	70043: {"Sign-in frequency policy",
		"An organisation policy (Conditional Access sign-in frequency) requires signing in again.",
		"Sign in again; this will recur at the interval the organisation set.",
		StepConsent, linkNone, ClassConsent},
	50173: {"Sign-in revoked",
		"The grant was revoked, for example after a password change or an administrator revoking sessions.",
		"Sign in again: m365creds setup --profile PROFILE.",
		StepConsent, linkNone, ClassConsent},
	54005: {"Code already used",
		"The sign-in code in this address was redeemed before; each code works once.",
		"Start the sign-in again and use the new address; do not paste an address twice.",
		StepConsent, linkNone, ClassConsent},
	501481: {"Sign-in belongs to another attempt",
		"The code was issued for a different sign-in attempt (the PKCE verifier does not match).",
		"Start the sign-in again and paste the address from that same attempt.",
		StepConsent, linkNone, ClassConsent},
	50076: {"Multi-factor sign-in required",
		"The organisation requires multi-factor authentication for this access.",
		"Sign in again in the browser and complete the multi-factor prompt.",
		StepConsent, linkNone, ClassConsent},
	53003: {"Blocked by Conditional Access",
		"An organisation policy blocked this sign-in (for example device, location or app rules).",
		"Ask an administrator: the tenant's sign-in logs name the policy. Signing in from a managed device or network may help.",
		StepNone, linkNone, ClassOther},
	9001023: {"Tenant required for app-only access",
		"Client credentials cannot run against common, organizations or consumers.",
		"Enter the Directory (tenant) ID (a GUID) or the organisation's domain.",
		StepAccount, linkOverview, ClassOther},
	90002: {"Tenant not found",
		"No organisation with this tenant ID or domain exists in this cloud.",
		"Check the tenant first: copy the Directory (tenant) ID again from the app's Overview page. " + unknownAppAction,
		StepAccount, linkOverview, ClassApp},
}

// KnownErrors is the catalogue in code order, for a "pick the message you saw" list. Portal
// links are left empty: they depend on the app; use Explain or ExplainText for those.
func KnownErrors() []Guidance {
	codes := make([]int, 0, len(catalogue))
	for c := range catalogue {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	out := make([]Guidance, 0, len(codes))
	for _, c := range codes {
		e := catalogue[c]
		out = append(out, Guidance{Code: c, Title: e.title, Meaning: e.meaning, Action: e.action, Step: e.step})
	}
	return out
}

func linkFor(k linkKind, app App) string {
	l := PortalLinks(app.Cloud, app.ClientID)
	switch k {
	case linkList:
		return l.List
	case linkOverview:
		return l.Overview
	case linkAuth:
		return l.Authentication
	case linkCreds:
		return l.Credentials
	case linkPerms:
		return l.APIPermissions
	default:
		return ""
	}
}

// Explain turns any error of this package (and network or context errors) into guidance for
// the app it happened with.
func Explain(err error, app App) Guidance {
	if err == nil {
		return Guidance{}
	}
	// The device flow's wrappers come first: they carry an EntraError whose code would
	// otherwise pick less fitting advice.
	var de *declinedError
	var xe *expiredError
	switch {
	case errors.As(err, &de):
		return Guidance{Title: "Sign-in declined", Meaning: "The sign-in was declined on Microsoft's page.",
			Action: "Start again and approve the sign-in.", Step: StepConsent, Raw: de.e.Description}
	case errors.As(err, &xe):
		return Guidance{Title: "Device code expired", Meaning: "Nobody entered the code in time (about 15 minutes).",
			Action: "Start again and enter the new code promptly.", Step: StepConsent}
	}
	var ee *EntraError
	if errors.As(err, &ee) {
		return explainEntra(ee, app, "")
	}
	var me *MailError
	if errors.As(err, &me) {
		return explainMail(me, app)
	}
	var ne *NetworkError
	var re *ResponseError
	var ge *GraphError
	var pe *PortInUseError
	switch {
	case errors.As(err, &pe):
		return Guidance{Title: "Port busy",
			Meaning: pe.Error() + ".",
			Action:  fmt.Sprintf("Close the program using port %d, or choose another port with --port (Microsoft ignores the port of http://localhost redirect URIs).", pe.Port),
			Step:    StepConsent}
	case errors.As(err, &ne):
		g := Guidance{Title: "Microsoft unreachable", Meaning: ne.Error() + ".",
			Action: "Check the network connection, VPN and proxy settings (HTTPS_PROXY), then try again."}
		if ne.Timeout() {
			g.Title = "Microsoft did not answer in time"
			g.Action = "Try again in a minute; if it keeps happening, check the network, VPN or proxy."
		}
		return g
	case errors.As(err, &re):
		return Guidance{Title: "Unusable answer from Microsoft", Meaning: re.Error() + ".",
			Action: "Try again in a minute. A proxy or captive portal in between can cause this too."}
	case errors.As(err, &ge):
		return explainGraph(ge)
	case errors.Is(err, ErrStateMismatch):
		return Guidance{Title: "Answer from another sign-in",
			Meaning: "The browser delivered the answer of an older or different sign-in attempt, so it was not used.",
			Action:  "Start the sign-in again and finish it in the tab it opens; close older sign-in tabs.",
			Step:    StepConsent}
	case errors.Is(err, ErrTimeout):
		return Guidance{Title: "Sign-in not finished in time",
			Meaning: "The browser never came back to this program with an answer.",
			Action:  "Start again. If the browser showed \"can't connect\" or \"refused to connect\", use the paste flow: copy the address from the address bar into the wizard.",
			Step:    StepConsent}
	case errors.Is(err, ErrDeclined):
		return Guidance{Title: "Sign-in declined", Meaning: "The sign-in was declined on Microsoft's page.",
			Action: "Start again and approve the sign-in.", Step: StepConsent}
	case errors.Is(err, ErrExpired):
		return Guidance{Title: "Device code expired", Meaning: "Nobody entered the code in time (about 15 minutes).",
			Action: "Start again and enter the new code promptly.", Step: StepConsent}
	case errors.Is(err, ErrCheckSkipped):
		return Guidance{Title: "Secret not checked", Meaning: ErrCheckSkipped.Error() + ".",
			Action: "Nothing to do: the secret is tested by the sign-in itself. Enter the tenant ID to check it earlier.", Step: StepNone}
	case errors.Is(err, ErrTenantRequired):
		g := explainEntra(&EntraError{Codes: []int{9001023}}, app, "")
		g.Raw = ""
		return g
	case errors.Is(err, ErrNativeClient):
		return Guidance{Title: "nativeclient address",
			Meaning: "Microsoft no longer completes sign-ins to the nativeclient page for apps like this one.",
			Action:  "Register " + orDefault(app.RedirectURI, "http://localhost:53365/") + " under Web on Authentication and sign in again.",
			Step:    StepRegister, PortalLink: linkFor(linkAuth, app)}
	case errors.Is(err, ErrNoCode):
		return Guidance{Title: "No code in the address",
			Meaning: "The pasted address has no sign-in code.",
			Action:  "Copy the whole address from the browser's address bar after the sign-in finished; it contains ?code=.",
			Step:    StepConsent}
	case errors.Is(err, context.Canceled):
		return Guidance{Title: "Cancelled", Meaning: "The operation was cancelled."}
	case errors.Is(err, context.DeadlineExceeded):
		return Guidance{Title: "Timed out", Meaning: "The operation did not finish in time.", Action: "Try again."}
	}
	return Guidance{Title: "Unexpected error", Meaning: err.Error(), Raw: err.Error()}
}

func explainGraph(ge *GraphError) Guidance {
	g := Guidance{Title: "Microsoft Graph refused the token", Meaning: ge.Error() + ".", Raw: ge.Message}
	if ge.RequestID != "" {
		g.Raw = strings.TrimSpace(g.Raw + "\nRequest ID: " + ge.RequestID)
	}
	if r, ok := explainRegistration(ge); ok {
		r.Raw = g.Raw
		return r
	}
	switch {
	case ge.Status == 401:
		g.Action = "Sign in again (m365creds setup --profile PROFILE); the access token is invalid or expired."
		g.Step = StepConsent
	case ge.Status == 403:
		g.Title = "Permission missing"
		g.Action = "Add User.Read (and the permissions you need) and sign in again."
		g.Step = StepPermissions
	case ge.Status >= 500 || ge.Status == 429:
		g.Title = "Microsoft Graph unavailable"
		g.Action = "Try again in a minute."
	}
	return g
}

func explainEntra(e *EntraError, app App, pastedURI string) Guidance {
	code := e.Code()
	raw := strings.TrimSpace(e.Description)
	if raw == "" {
		raw = e.Err
	}
	if e.TraceID != "" && !strings.Contains(raw, e.TraceID) {
		raw += "\nTrace ID: " + e.TraceID
	}
	ent, ok := catalogue[code]
	if !ok {
		return explainUnknown(e, app, raw)
	}
	g := Guidance{Code: code, Title: ent.title, Meaning: ent.meaning, Action: ent.action, Step: ent.step,
		PortalLink: linkFor(ent.link, app), Raw: raw}
	switch code {
	case 7000215:
		if isGUID(strings.TrimSpace(app.ClientSecret)) {
			g.Meaning = "What was entered as the secret has the shape of a Secret ID (a GUID), not of a secret Value."
		}
	case 7000218:
		if app.Kind != KindPublic {
			g.Title = "Client secret missing"
			g.Action = "Enter the client secret's Value (Certificates & secrets)."
			g.Step = StepSecret
			g.PortalLink = linkFor(linkCreds, app)
		}
	case 700025:
		uri := orDefault(app.RedirectURI, "http://localhost:53365/")
		g.Action = fmt.Sprintf("Open Authentication: if %s is listed under \"Mobile and desktop applications\", remove it there and add it under Web instead. Save, wait a few minutes, and sign in again.", uri)
	case 50011, 500113:
		uri := pastedURI
		if uri == "" {
			uri = redirectURIIn(e.Description)
		}
		if uri == "" {
			uri = app.RedirectURI
		}
		if uri != "" {
			g.Action = fmt.Sprintf("Open Authentication and add %s under the Web platform exactly like that (including the trailing slash), save, and wait 3 to 5 minutes before signing in again.", uri)
		}
	case 90094, 65001:
		if app.Tenant != "" && !isSharedTenant(app.Tenant) {
			c := &Client{app: app, hosts: HostsFor(app.Cloud)}
			g.Action += " Admin consent link: " + c.AdminConsentURL(orDefault(app.RedirectURI, "http://localhost:53365/"), "")
		}
	case 9001023:
		if app.Tenant != "" {
			g.Meaning = fmt.Sprintf("Client credentials cannot run against %q; they need the organisation's tenant.", app.Tenant)
		}
	}
	return g
}

func explainUnknown(e *EntraError, app App, raw string) Guidance {
	g := Guidance{Code: e.Code(), Raw: raw, Step: StepNone}
	switch {
	case g.Code != 0:
		g.Title = fmt.Sprintf("Microsoft error AADSTS%d", g.Code)
	case e.Err != "":
		g.Title = "Microsoft error " + e.Err
	default:
		g.Title = "Microsoft error"
	}
	g.Meaning = firstLine(e.Description)
	if g.Meaning == "" {
		g.Meaning = "Microsoft returned an error without a description."
	}
	g.Action = "Read Microsoft's text below."
	if g.Code != 0 {
		g.Action += fmt.Sprintf(" Microsoft's reference for the code: https://login.microsoftonline.com/error?code=%d", g.Code)
	}
	switch e.Err {
	case "access_denied", "consent_required", "interaction_required", "invalid_grant":
		g.Step = StepConsent
	case "invalid_scope":
		g.Step = StepPermissions
	case "invalid_client", "unauthorized_client":
		g.Step = StepIDs
		g.PortalLink = linkFor(linkOverview, app)
	}
	return g
}

var quotedURIRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)redirect uri '([^']+)'`) })

// redirectURIIn finds the URI quoted in Microsoft's AADSTS50011 text.
func redirectURIIn(s string) string {
	if m := quotedURIRE().FindStringSubmatch(s); m != nil {
		return strings.TrimSpace(m[1])
	}
	return ""
}

// ExplainText reads text the user copied from Microsoft's own error page, where the errors that
// never reach the loopback appear (50011, 500113, 700016), and returns the same guidance
// as Explain. Text without an AADSTS code yields guidance with only Raw set to the text.
func ExplainText(pasted string, app App) Guidance {
	text := strings.TrimSpace(pasted)
	if len(text) > 8000 {
		text = text[:8000]
	}
	var m []string
	code := 0
	for _, cand := range aadstsRE().FindAllStringSubmatch(text, -1) {
		if n, err := strconv.Atoi(cand[1]); err == nil && n > 0 {
			m, code = cand, n
			break
		}
	}
	if m == nil {
		return Guidance{Title: "No AADSTS code found",
			Meaning: "The text has no AADSTS error code in it.",
			Action:  "Copy the whole message from Microsoft's page, including the line that starts with AADSTS, or pick the message from the list.",
			Raw:     text}
	}
	desc := text
	if i := strings.Index(text, m[0]); i >= 0 {
		desc = text[i:]
	}
	e := &EntraError{Codes: []int{code}, Description: desc,
		TraceID:       lineValue(text, "Trace ID:"),
		CorrelationID: lineValue(text, "Correlation ID:")}
	if e.TraceID == "" {
		e.TraceID = lineValue(text, "Request Id:")
	}
	return explainEntra(e, app, redirectURIIn(text))
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// explainRegistration covers the refusals of the Graph calls that register an app.
func explainRegistration(ge *GraphError) (Guidance, bool) {
	switch {
	case errors.Is(ge, ErrRegistrationDenied):
		return Guidance{Title: "Not allowed to register apps",
			Meaning: "This account may not register applications in this tenant.",
			Action:  "Ask an administrator to register the app or to give you the Application Developer role, or register it in the portal walk with an account that may.",
			Step:    StepRegister}, true
	case errors.Is(ge, ErrAdminRequired):
		return Guidance{Title: "Administrator needed",
			Meaning: "Only an administrator can grant consent for the whole organisation.",
			Action:  "Ask an administrator to open the admin consent link, or to press \"Grant admin consent\" on the app's API permissions page.",
			Step:    StepConsent}, true
	case errors.Is(ge, ErrSecretsForbidden):
		return Guidance{Title: "Client secrets not allowed",
			Meaning: "The tenant's app management policy does not allow client secrets on applications.",
			Action:  "Choose no secret (a public client that signs in with the browser), or ask an administrator for an exemption from the policy.",
			Step:    StepSecret}, true
	case errors.Is(ge, ErrSecretLifetime):
		return Guidance{Title: "Secret lifetime too long",
			Meaning: "The tenant's app management policy allows client secrets only for a shorter time.",
			Action:  "Choose a shorter secret lifetime and try again.",
			Step:    StepSecret}, true
	case ge.Op != "" && errors.Is(ge, ErrGraphNotFound):
		return Guidance{Title: "Not found in the directory",
			Meaning: "Microsoft Graph could not find the application or service principal in this tenant.",
			Action:  "Check that you signed in to the tenant the app is registered in; the address needs the application's object ID, not its client ID.",
			Step:    StepIDs}, true
	case ge.Op != "" && ge.Status == 403:
		return Guidance{Title: "Not allowed to change this app",
			Meaning: "This account is neither an owner of the application nor an administrator.",
			Action:  "Ask an owner of the app or an administrator to make you an owner, or do this step in the portal.",
			Step:    StepRegister}, true
	case ge.Op != "" && ge.Status >= 400 && ge.Status < 500 && ge.Status != 401 && ge.Status != 429:
		return Guidance{Title: "Microsoft Graph refused the change",
			Meaning: "Microsoft Graph refused to " + ge.Op + ".",
			Action:  "Read Microsoft's message below; the portal walk can do the same step by hand.",
			Step:    StepRegister}, true
	}
	return Guidance{}, false
}

// explainMail turns an IMAP or SMTP refusal into the setting to change. The PowerShell is
// Exchange Online's: Set-CASMailbox and Set-TransportConfig for SMTP AUTH
// (learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission),
// New-ServicePrincipal and Add-MailboxPermission for app-only access (microsoft-identity.md
// §11, `exo-oauth`).
func explainMail(e *MailError, app App) Guidance {
	user := sanitize.Line(e.User, maxUserFieldLen)
	if user == "" {
		user = "USER"
	}
	g := Guidance{Raw: e.Reply}
	switch e.Reason {
	case MailSMTPDisabledTenant:
		g.Title = "SMTP AUTH is off for the organisation"
		g.Meaning = "Authenticated SMTP submission is turned off for the whole tenant (the default for tenants created since 2020); the token itself was not the problem."
		g.Action = "An Exchange administrator turns it on for this mailbox only with Set-CASMailbox -Identity " + user +
			" -SmtpClientAuthenticationDisabled $false, or for everyone with Set-TransportConfig -SmtpClientAuthenticationDisabled $false (Exchange Online PowerShell). Changes can take an hour to apply."
	case MailSMTPDisabledMailbox:
		g.Title = "SMTP AUTH is off for this mailbox"
		g.Meaning = "Authenticated SMTP submission is turned off for " + user + "."
		g.Action = "An Exchange administrator runs Set-CASMailbox -Identity " + user +
			" -SmtpClientAuthenticationDisabled $false (or ticks Authenticated SMTP under the user's Mail > Manage email apps in the Microsoft 365 admin center)."
	case MailBasicAuth:
		g.Title = "Basic authentication refused"
		g.Meaning = "The server treated the sign-in as a password (Basic authentication), which Exchange Online no longer accepts for mail clients."
		g.Action = "Sign in with XOAUTH2 and an OAuth token instead of a password: configure the mail program (or the relay in between) for OAuth2/XOAUTH2 and give it a token from m365creds token. Check that --mail-host is Exchange Online's own server."
	case MailNotConnected:
		g.Title = "Signed in, but the mailbox cannot be opened"
		g.Meaning = "Exchange Online accepted the token but will not connect it to " + user + "'s mailbox."
		g.Action = "Check that " + user + " has an Exchange Online licence and IMAP turned on (Set-CASMailbox -Identity " + user +
			" -ImapEnabled $true), and that the token's account may open it (Full Access for a shared mailbox). For an app-only profile, register the app in Exchange and grant it the mailbox: New-ServicePrincipal -AppId " +
			orDefault(app.ClientID, "CLIENT_ID") + " -ObjectId OBJECT_ID (the Enterprise application's Object ID), then Add-MailboxPermission -Identity " + user + " -User SERVICE_PRINCIPAL_ID -AccessRights FullAccess."
	case MailRefused:
		g.Title = "Mail server refused the token"
		g.Meaning = "Exchange Online did not accept the token for " + user + "."
		g.Action = "The user must be the account that signed in (or a mailbox it may use), and the token must carry the Outlook scope (IMAP.AccessAsUser.All or SMTP.Send of https://outlook.office.com in the Global cloud, not a Microsoft Graph scope). Add the permission under API permissions, consent again (m365creds setup --profile PROFILE), and check the account with m365creds verify PROFILE."
		g.Step = StepPermissions
		g.PortalLink = linkFor(linkPerms, app)
	case MailNoXOAUTH2:
		g.Title = "No XOAUTH2 on this server"
		g.Meaning = "The server does not offer OAuth sign-in (XOAUTH2)."
		g.Action = "Point --mail-host at Exchange Online (outlook.office365.com:993 for IMAP, smtp.office365.com:587 for SMTP in the Global cloud)."
	case MailNetwork:
		g.Title = "Mail server unreachable"
		g.Meaning = sanitize.Line(e.Error(), maxDescriptionLen) + "."
		g.Action = "Check that this network lets connections out on the mail port (993 for IMAP, 587 for SMTP; many networks block them) and that the host is right. Mail protocols do not use HTTPS_PROXY."
	default:
		g.Title = "Unexpected answer from the mail server"
		g.Meaning = sanitize.Line(e.Error(), maxDescriptionLen) + "."
		g.Action = "Try again; if it persists, check --mail-host and the mailbox's settings in the Exchange admin center."
	}
	return g
}

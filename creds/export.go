package creds

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// ErrExportNeedsUser means the profile has no signed-in user, so there is nothing for an MSAL
// account cache to hold: app-only programs read the client secret instead.
var ErrExportNeedsUser = errors.New("an MSAL token cache holds a signed-in user's tokens; this profile uses application permissions")

// msalCache is the JSON layout of MSAL's SerializableTokenCache: one object per credential
// type, keyed as MSAL keys them (lower-cased, dash-joined fields; see msal/token_cache.py
// key_makers), each entry holding the fields MSAL looks entries up by.
type msalCache struct {
	AccessToken  map[string]msalCredential `json:"AccessToken"`
	RefreshToken map[string]msalCredential `json:"RefreshToken"`
	IDToken      map[string]msalCredential `json:"IdToken"`
	Account      map[string]msalAccount    `json:"Account"`
	AppMetadata  map[string]msalAppMeta    `json:"AppMetadata"`
}

type msalCredential struct {
	CredentialType    string `json:"credential_type"`
	Secret            string `json:"secret"`
	HomeAccountID     string `json:"home_account_id"`
	Environment       string `json:"environment"`
	ClientID          string `json:"client_id"`
	Target            string `json:"target,omitempty"`
	Realm             string `json:"realm,omitempty"`
	TokenType         string `json:"token_type,omitempty"`
	CachedAt          string `json:"cached_at,omitempty"`
	ExpiresOn         string `json:"expires_on,omitempty"`
	ExtendedExpiresOn string `json:"extended_expires_on,omitempty"`
}

type msalAccount struct {
	HomeAccountID  string `json:"home_account_id"`
	Environment    string `json:"environment"`
	Realm          string `json:"realm"`
	LocalAccountID string `json:"local_account_id"`
	Username       string `json:"username"`
	AuthorityType  string `json:"authority_type"`
}

type msalAppMeta struct {
	ClientID    string `json:"client_id"`
	Environment string `json:"environment"`
}

// MSALCache writes a delegated profile's tokens as an MSAL token cache, so that programs built
// on MSAL (Python's SerializableTokenCache, MSAL Node, MSAL.NET's cache helpers) sign in
// silently with them. The access token is made fresh first. The cache holds a copy of the
// refresh token: from the first refresh on either side, the two copies rotate apart.
func (s *Service) MSALCache(ctx context.Context, p keyring.Profile) ([]byte, error) {
	if p.Kind == oauth.KindApp {
		return nil, failAs(ProblemUsage, OpExport, p.Name, ErrExportNeedsUser)
	}
	tok, err := s.Token(ctx, p, TokenRequest{})
	if err != nil {
		return nil, err
	}
	sec, err := s.secrets(ctx, p, OpExport)
	if err != nil {
		return nil, err
	}
	oid := p.AccountID
	if oid == "" { // profiles saved before the object ID was kept
		user, err := s.Client(AppFor(p, sec.ClientSecret)).Me(ctx, tok.AccessToken)
		if err != nil {
			return nil, fail(OpExport, p.Name, "reading the account's object ID from Microsoft Graph /me", AppFor(p, ""), err)
		}
		oid = user.ID
	}
	realm := p.TenantID
	if realm == "" {
		realm = p.Tenant
	}
	env := s.loginHost(p.Cloud)
	home := oid + "." + realm
	client := strings.ToLower(p.ClientID)
	target := strings.Join(tok.Scopes, " ")
	now := s.now()
	key := func(parts ...string) string { return strings.ToLower(strings.Join(parts, "-")) }
	epoch := func(sec int64) string { return strconv.FormatInt(sec, 10) }
	c := msalCache{
		AccessToken: map[string]msalCredential{
			key(home, env, "accesstoken", client, realm, target): {
				CredentialType: "AccessToken", Secret: tok.AccessToken, HomeAccountID: home, Environment: env,
				ClientID: p.ClientID, Target: target, Realm: realm, TokenType: "Bearer",
				CachedAt: epoch(now.Unix()), ExpiresOn: epoch(tok.Expiry.Unix()), ExtendedExpiresOn: epoch(tok.Expiry.Unix()),
			},
		},
		RefreshToken: map[string]msalCredential{
			key(home, env, "refreshtoken", client, "", ""): {
				CredentialType: "RefreshToken", Secret: sec.RefreshToken, HomeAccountID: home, Environment: env,
				ClientID: p.ClientID,
			},
		},
		IDToken: map[string]msalCredential{},
		Account: map[string]msalAccount{
			key(home, env, realm): {HomeAccountID: home, Environment: env, Realm: realm,
				LocalAccountID: oid, Username: p.Account, AuthorityType: "MSSTS"},
		},
		AppMetadata: map[string]msalAppMeta{
			key("appmetadata", env, client): {ClientID: p.ClientID, Environment: env},
		},
	}
	return json.MarshalIndent(c, "", "  ")
}

// loginHost is the host MSAL calls the cache's "environment": the sign-in host without a port,
// the replacement one when endpoints are replaced.
func (s *Service) loginHost(c oauth.Cloud) string {
	u, err := url.Parse(oauth.HostsFor(c).With(s.Endpoints).Login)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// EnvVar is one line of an exported environment block.
type EnvVar struct{ Name, Value string }

// EnvVars are a profile's credentials as environment variables. App-only profiles use the
// names Azure Identity's EnvironmentCredential reads (AZURE_TENANT_ID, AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST outside the global cloud). A delegated profile
// lives on its refresh token, which is exported only when includeRefresh says so.
func (s *Service) EnvVars(ctx context.Context, p keyring.Profile, includeRefresh bool) ([]EnvVar, error) {
	if delegated(p.Kind) && !includeRefresh {
		return nil, errorf(ProblemUsage, OpExport, p.Name,
			"profile %q signs in a user: its environment block would hold the refresh token, a long-lived credential", p.Name)
	}
	sec, err := s.secrets(ctx, p, OpExport)
	if err != nil {
		return nil, err
	}
	tenant := p.TenantID
	if tenant == "" {
		tenant = p.Tenant
	}
	vars := []EnvVar{{"AZURE_TENANT_ID", tenant}, {"AZURE_CLIENT_ID", p.ClientID}}
	if p.Kind != oauth.KindPublic {
		vars = append(vars, EnvVar{"AZURE_CLIENT_SECRET", sec.ClientSecret})
	}
	if p.Cloud != oauth.Global && p.Cloud != "" {
		vars = append(vars, EnvVar{"AZURE_AUTHORITY_HOST", oauth.HostsFor(p.Cloud).Login})
	}
	if delegated(p.Kind) {
		vars = append(vars, EnvVar{"M365CREDS_REFRESH_TOKEN", sec.RefreshToken},
			EnvVar{"M365CREDS_SCOPES", strings.Join(DefaultScopes(p), " ")})
	}
	return vars, nil
}

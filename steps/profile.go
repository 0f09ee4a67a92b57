package steps

import (
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// ToProfile is the non-secret part of the draft as it is saved.
func (d Draft) ToProfile(now time.Time) keyring.Profile {
	p := keyring.Profile{
		Name:            d.Profile,
		Cloud:           d.Cloud,
		Tenant:          d.Authority(),
		TenantID:        d.TenantID,
		ClientID:        d.ClientID,
		Audience:        d.Audience,
		Kind:            d.Kind(),
		RequestedScopes: d.RequestScopes(),
		Updated:         now, // Created is kept from an earlier profile of this name by the store
	}
	if d.Kind() == oauth.KindWeb || (d.NoSecret && d.Flow != oauth.FlowDevice) {
		p.RedirectURI = d.RedirectURI()
	}
	if d.NeedsSecret() {
		p.SecretExpires = d.SecretExpires
		p.SecretKeyID = d.SecretKeyID
	}
	p.AppObjectID, p.SecretFrom = d.AppObjectID, d.SecretFrom
	if d.Token != nil {
		p.GrantedScopes = d.Token.Scopes
		p.LastRefresh = now
	}
	if d.User != nil {
		p.Account = d.User.UserPrincipalName
		p.AccountName = d.User.DisplayName
		p.AccountID = d.User.ID
	}
	return p
}

// ToSecrets is the secret part of the draft as it is saved.
func (d Draft) ToSecrets() keyring.Secrets {
	var s keyring.Secrets
	if d.NeedsSecret() {
		s.ClientSecret = d.ClientSecret
	}
	if d.Token != nil {
		s.RefreshToken = d.Token.RefreshToken
		s.AccessToken = d.Token.AccessToken
		s.AccessExpiry = d.Token.Expiry
		s.AccessScopes = d.Token.Scopes
	}
	return s
}

// FromProfile rebuilds a draft from a saved profile, for rotation and re-consent.
func FromProfile(p keyring.Profile, s keyring.Secrets) Draft {
	d := NewDraft()
	d.Profile = p.Name
	d.Cloud = p.Cloud
	d.Audience = p.Audience
	d.Tenant = p.Tenant
	d.TenantID = p.TenantID
	d.ClientID = p.ClientID
	d.ClientSecret = s.ClientSecret
	d.SecretExpires = p.SecretExpires
	d.AppObjectID, d.SecretKeyID, d.SecretFrom = p.AppObjectID, p.SecretKeyID, p.SecretFrom
	if p.Account != "" {
		d.User = &oauth.User{UserPrincipalName: p.Account, DisplayName: p.AccountName}
	}
	d.Scopes = append([]string(nil), p.RequestedScopes...)
	switch p.Kind {
	case oauth.KindPublic:
		d.Flow = oauth.FlowDevice
		if p.RedirectURI != "" { // a public client that signs in through the browser
			d.Flow, d.NoSecret = oauth.FlowBrowser, true
		}
	case oauth.KindApp:
		d.Flow = oauth.FlowApp
	case oauth.KindWeb:
		d.Flow = oauth.FlowBrowser
	}
	return d
}

package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/oauth"
)

// Kept is an unfinished new-profile wizard as it is kept between runs: every field the user
// entered except the client secret, and the step they were at. The secret is kept apart, in
// the keychain; HasSecret says one was accepted there.
type Kept struct {
	Version       int       `json:"version"`
	Step          string    `json:"step"`
	HasSecret     bool      `json:"has_secret,omitempty"`
	Profile       string    `json:"profile"`
	Audience      string    `json:"audience,omitempty"`
	Tenant        string    `json:"tenant,omitempty"`
	Cloud         string    `json:"cloud,omitempty"`
	AppName       string    `json:"app_name,omitempty"`
	Port          int       `json:"port,omitempty"`
	ClientID      string    `json:"client_id,omitempty"`
	TenantID      string    `json:"tenant_id,omitempty"`
	SecretExpires time.Time `json:"secret_expires,omitzero"`
	Flow          string    `json:"flow,omitempty"`
	Scopes        []string  `json:"scopes,omitempty"`
	// Register is "graph" for a run that creates the app through Graph.
	Register string `json:"register,omitempty"`
	// AppObjectID and SecretKeyID come from an app created through Graph; NoSecret is a
	// public client that signs in through the browser.
	AppObjectID string `json:"app_object_id,omitempty"`
	SecretKeyID string `json:"secret_key_id,omitempty"`
	NoSecret    bool   `json:"no_secret,omitempty"`
}

const keptVersion = 1

// Keep is what of this wizard survives an interruption. Tokens are not kept: they belong to a
// sign-in, which a resumed wizard repeats.
func (w *Wizard) Keep() Kept {
	d := w.Draft
	return Kept{
		Version:       keptVersion,
		Step:          w.current.String(),
		HasSecret:     d.NeedsSecret() && d.ClientSecret != "",
		Profile:       d.Profile,
		Audience:      string(d.Audience),
		Tenant:        d.Tenant,
		Cloud:         string(d.Cloud),
		AppName:       d.AppName,
		Port:          d.Port,
		ClientID:      d.ClientID,
		TenantID:      d.TenantID,
		SecretExpires: d.SecretExpires,
		Flow:          string(d.Flow),
		Scopes:        slices.Clone(d.Scopes),
		Register:      map[Path]string{PathGraph: PathGraph.String()}[d.Path],
		AppObjectID:   d.AppObjectID,
		SecretKeyID:   d.SecretKeyID,
		NoSecret:      d.NoSecret,
	}
}

// Encode is the kept draft as the draft file holds it.
func (k Kept) Encode() ([]byte, error) { return json.MarshalIndent(k, "", "  ") }

// DecodeKept reads a draft file. The file is outside input: a field that is not clean text or
// not a known value is dropped (the wizard then asks for it again) rather than shown.
func DecodeKept(raw []byte) (Kept, error) {
	var k Kept
	if err := json.Unmarshal(raw, &k); err != nil {
		return Kept{}, fmt.Errorf("the draft is damaged: %w", err)
	}
	switch {
	case k.Version == 0:
		return Kept{}, errors.New("the draft has no version")
	case k.Version > keptVersion:
		return Kept{}, fmt.Errorf("the draft was written by a newer m365creds (version %d)", k.Version)
	}
	for _, f := range []*string{&k.Step, &k.Profile, &k.Audience, &k.Tenant, &k.Cloud, &k.AppName, &k.ClientID, &k.TenantID, &k.Flow, &k.AppObjectID, &k.SecretKeyID} {
		if !sanitize.Clean(*f) || len(*f) > 256 {
			*f = ""
		}
	}
	k.Scopes = slices.DeleteFunc(k.Scopes, func(s string) bool { return !sanitize.Clean(s) || len(s) > 256 })
	if k.Port < 0 || k.Port > 65535 {
		k.Port = 0
	}
	return k, nil
}

// StepID is the step the draft was at; Account when the name is unknown.
func (k Kept) StepID() ID {
	if i := slices.Index(idNames[:], k.Step); i >= 0 {
		return ID(i)
	}
	return Account
}

// Draft rebuilds the draft profile, with secret as its client secret. Unknown choices fall
// back to the defaults a new wizard starts from.
func (k Kept) Draft(secret string) Draft {
	d := NewDraft()
	if k.Profile != "" {
		d.Profile = k.Profile
	}
	if a, err := oauth.ParseAudience(k.Audience); err == nil && k.Audience != "" {
		d.Audience = a
	}
	if c, err := oauth.ParseCloud(k.Cloud); err == nil && k.Cloud != "" {
		d.Cloud = c
	}
	if f, err := oauth.ParseFlow(k.Flow); err == nil && k.Flow != "" {
		d.Flow = f
	}
	if k.Port > 0 {
		d.Port = k.Port
	}
	if k.Scopes != nil {
		d.Scopes = slices.Clone(k.Scopes)
	}
	d.Tenant, d.AppName, d.ClientID, d.TenantID = k.Tenant, k.AppName, k.ClientID, k.TenantID
	d.SecretExpires = k.SecretExpires
	d.ClientSecret = secret
	if k.Register == PathGraph.String() {
		d.Path = PathGraph
	}
	d.AppObjectID, d.SecretKeyID, d.NoSecret = k.AppObjectID, k.SecretKeyID, k.NoSecret
	return d
}

// Resume rebuilds a new-profile wizard from a kept draft and walks it to the step the user
// was at (see ResumeAt).
func Resume(k Kept, secret string) *Wizard {
	w := New(ModeNew, k.Draft(secret))
	w.ResumeAt(k.StepID())
	return w
}

// ResumeAt moves forward to step id the way the user would, checking each step on the way,
// and stops at the first step that is not complete (a secret the keychain no longer has, say),
// so a resumed wizard never stands past a step it would have refused. It goes no further than
// Consent: the sign-in is not kept, so it must be repeated. It returns the step reached.
func (w *Wizard) ResumeAt(id ID) ID {
	id = min(id, Consent)
	for w.current < id && w.current != Consent {
		if w.Next() != nil {
			break
		}
	}
	return w.current
}

package creds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

// A sealed hand-off carries one app's credentials from a customer to support staff: the
// receiver makes a one-time X25519 key pair (age) and passes on the public half as a code;
// the sender encrypts client ID, tenant, secret Value, expiry and scopes to it. Only the
// receiver's keychain can open the block, and no password is involved at any point: OAuth
// needs none.

// handoffLabel starts the line before the armoured block that names the code it is sealed
// to, so the receiver knows which one-time key to use. The line is not trusted: the code is
// also inside the sealed part, and a changed line only fails the decryption.
const handoffLabel = "m365creds hand-off for code "

// maxHandoffBlock bounds what import reads: a block is well under 2 KB.
const maxHandoffBlock = 64 << 10

// handoffPayload is what a block holds. It is a contract between versions.
type handoffPayload struct {
	Version       int       `json:"v"`
	Code          string    `json:"code"`
	From          string    `json:"from,omitempty"` // the sender's profile name
	Cloud         string    `json:"cloud"`
	Tenant        string    `json:"tenant"`
	TenantID      string    `json:"tenant_id,omitempty"`
	ClientID      string    `json:"client_id"`
	Audience      string    `json:"audience,omitempty"`
	Kind          string    `json:"kind"`
	Secret        string    `json:"secret"`
	SecretExpires time.Time `json:"secret_expires,omitzero"`
	Scopes        []string  `json:"scopes"`
	Sent          time.Time `json:"sent"`
}

// Errors of a hand-off that went wrong. None of them carries a secret.
var (
	ErrHandoffTampered = errors.New("the hand-off block was changed or damaged on the way (it does not decrypt): ask the sender to run m365creds send again and copy the whole block")
	ErrHandoffOtherKey = errors.New("this hand-off block was sealed to another code, or it was imported already: this keychain has no key for it; send the sender the code of your latest m365creds receive")
	ErrHandoffNoBlock  = errors.New("no m365creds hand-off block in the input: paste the whole block, from the line \"" + strings.TrimSpace(handoffLabel) + "\" to \"-----END AGE ENCRYPTED FILE-----\"")
)

// NewHandoffCode creates a one-time key pair, keeps the private key in the keychain and
// returns the public code to give the sender.
func (s *Service) NewHandoffCode(ctx context.Context) (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", fail(OpHandoff, "", "creating a key pair", oauth.App{}, err)
	}
	code := id.Recipient().String()
	if err := s.Store.SaveHandoffKey(ctx, code, id.String()); err != nil {
		return "", fail(OpHandoff, "", "keeping the one-time key in the keychain", oauth.App{}, err)
	}
	return code, nil
}

// SealProfile seals a saved profile's credentials to a receiver's code, as an armoured block
// to paste into a mail or chat. Only the client secret travels: no refresh or access token,
// since those belong to the sender's account.
func (s *Service) SealProfile(ctx context.Context, p keyring.Profile, code string) (string, error) {
	code = strings.TrimSpace(code)
	rcpt, err := age.ParseX25519Recipient(code)
	if err != nil {
		return "", errorf(ProblemUsage, OpHandoff, p.Name, "%q is not a hand-off code: it starts with age1 and comes from m365creds receive", sanitize.Line(code, 80))
	}
	if p.Kind == oauth.KindPublic {
		return "", errorf(ProblemUsage, OpHandoff, p.Name, "profile %q is a public client: it has no secret to hand off; send the client ID and tenant instead", p.Name)
	}
	sec, err := s.Store.Secrets(ctx, p.Name)
	if err != nil {
		return "", s.readFailure(err, p, OpHandoff)
	}
	payload := handoffPayload{Version: 1, Code: code, From: p.Name, Cloud: string(p.Cloud), Tenant: p.Tenant,
		TenantID: p.TenantID, ClientID: p.ClientID, Audience: string(p.Audience), Kind: string(p.Kind),
		Secret: sec.ClientSecret, SecretExpires: p.SecretExpires, Scopes: p.RequestedScopes, Sent: s.now().UTC()}
	// The secret is marshalled only to be sealed: the plain text never leaves this function.
	plain, err := json.Marshal(payload) //nolint:gosec // sealed to the receiver right below
	if err != nil {
		return "", fail(OpHandoff, p.Name, "", oauth.App{}, err)
	}
	var out bytes.Buffer
	out.WriteString(handoffLabel + code + "\n")
	aw := armor.NewWriter(&out)
	w, err := age.Encrypt(aw, rcpt)
	if err == nil {
		_, err = w.Write(plain)
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = aw.Close()
	}
	if err != nil {
		return "", fail(OpHandoff, p.Name, "sealing the credentials", oauth.App{}, err)
	}
	out.WriteString("\n")
	return out.String(), nil
}

// ImportRequest opens a sealed block and saves what it holds as a profile.
type ImportRequest struct {
	Block io.Reader
	Name  string // the profile to save; empty: derived from the tenant
	Port  int    // loopback port of a delegated sign-in; zero: the default
	// Events reports the sign-in of a delegated app; nil: none.
	Events func(Event)
}

// Imported is the outcome of an import.
type Imported struct {
	Profile keyring.Profile
	Code    string
	Sent    time.Time
	From    string
}

// openBlock finds the code line and the armoured block in what was pasted (mail clients add
// text around it and may indent it) and decrypts it with the code's one-time key.
func (s *Service) openBlock(ctx context.Context, r io.Reader) (handoffPayload, string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxHandoffBlock))
	if err != nil {
		return handoffPayload{}, "", failAs(ProblemUsage, OpHandoff, "", fmt.Errorf("reading the block: %w", err))
	}
	lines := strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n")
	code := ""
	var block []string
	inBlock := false
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimLeft(l, "> \t"))
		switch {
		case strings.HasPrefix(l, handoffLabel):
			code = strings.TrimSpace(strings.TrimPrefix(l, handoffLabel))
		case l == armor.Header:
			inBlock = true
			block = append(block[:0], l)
		case inBlock:
			block = append(block, l)
			if l == armor.Footer {
				inBlock = false
			}
		}
	}
	if code == "" || len(block) < 2 || block[len(block)-1] != armor.Footer {
		return handoffPayload{}, "", failAs(ProblemUsage, OpHandoff, "", ErrHandoffNoBlock)
	}
	key, err := s.Store.HandoffKey(ctx, code)
	switch {
	case errors.Is(err, keyring.ErrNoHandoffKey):
		return handoffPayload{}, "", failAs(ProblemOther, OpHandoff, "", ErrHandoffOtherKey)
	case err != nil && strings.Contains(err.Error(), "not a hand-off code"):
		return handoffPayload{}, "", failAs(ProblemUsage, OpHandoff, "", ErrHandoffNoBlock)
	case err != nil:
		return handoffPayload{}, "", fail(OpHandoff, "", "reading the one-time key from the keychain", oauth.App{}, err)
	}
	id, err := age.ParseX25519Identity(key)
	if err != nil {
		return handoffPayload{}, "", fail(OpHandoff, "", "reading the one-time key from the keychain", oauth.App{}, errors.New("the one-time key in the keychain is damaged"))
	}
	dec, err := age.Decrypt(armor.NewReader(strings.NewReader(strings.Join(block, "\n")+"\n")), id)
	var plain []byte
	if err == nil {
		plain, err = io.ReadAll(io.LimitReader(dec, maxHandoffBlock))
	}
	var nomatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nomatch):
		// The code line was changed to one of ours: the block is for someone else.
		return handoffPayload{}, "", failAs(ProblemOther, OpHandoff, "", ErrHandoffOtherKey)
	case err != nil:
		return handoffPayload{}, "", failAs(ProblemOther, OpHandoff, "", ErrHandoffTampered)
	}
	var p handoffPayload
	if err := json.Unmarshal(plain, &p); err != nil || p.Version != 1 || p.Code != code {
		return handoffPayload{}, "", failAs(ProblemOther, OpHandoff, "", ErrHandoffTampered)
	}
	return p, code, nil
}

// ImportHandoff opens a sealed block, proves the credentials with Microsoft the way the
// profile will use them (client credentials for app-only; the secret check and a sign-in for
// delegated apps), saves the profile, and only then deletes the one-time key. A secret
// Microsoft rejects saves nothing and keeps the key, so a corrected block can follow.
func (s *Service) ImportHandoff(ctx context.Context, req ImportRequest) (Imported, error) {
	p, code, err := s.openBlock(ctx, req.Block)
	if err != nil {
		return Imported{}, err
	}
	d := steps.NewDraft()
	d.Cloud = oauth.Cloud(sanitize.Line(p.Cloud, 40))
	if _, err := oauth.ParseCloud(string(d.Cloud)); err != nil || d.Cloud == "" {
		d.Cloud = oauth.Global
	}
	d.Tenant, d.TenantID = sanitize.Line(p.Tenant, 100), sanitize.Line(p.TenantID, 100)
	d.ClientID = sanitize.Line(p.ClientID, 100)
	d.Audience = oauth.Audience(sanitize.Line(p.Audience, 40))
	d.ClientSecret, d.SecretExpires = p.Secret, p.SecretExpires
	if req.Port > 0 {
		d.Port = req.Port
	}
	switch oauth.Kind(p.Kind) {
	case oauth.KindApp:
		d.Flow = oauth.FlowApp
	case oauth.KindWeb:
		d.Flow = oauth.FlowBrowser
		d.Scopes = cleanList(p.Scopes)
	default:
		return Imported{}, failAs(ProblemOther, OpHandoff, "", ErrHandoffTampered)
	}
	if _, err := steps.CheckClientID(d.ClientID); err != nil {
		return Imported{}, failAs(ProblemOther, OpHandoff, "", ErrHandoffTampered)
	}
	d.Profile = req.Name
	if d.Profile == "" {
		d.Profile = CustomerProfileName(orTenant(d.TenantID, d.Tenant))
	}
	if err := keyring.ValidateName(d.Profile); err != nil {
		return Imported{}, failAs(ProblemUsage, OpHandoff, d.Profile, err)
	}
	if _, err := s.Store.Profile(d.Profile); err == nil {
		return Imported{}, errorf(ProblemUsage, OpHandoff, d.Profile, "profile %q exists already: choose another name with --profile", d.Profile)
	}
	res, err := s.Consent(ctx, ConsentRequest{Draft: d, Events: req.Events})
	if err != nil {
		if ce := (*Error)(nil); errors.As(err, &ce) {
			ce.Op, ce.Doing = OpHandoff, "checking the received credentials with Microsoft"
		}
		return Imported{}, err
	}
	d.Token, d.User = res.Token, res.User
	saved, err := s.Save(ctx, d)
	if err != nil {
		return Imported{}, err
	}
	out := Imported{Profile: saved, Code: code, Sent: p.Sent, From: sanitize.Line(p.From, 64)}
	if err := s.Store.DeleteHandoffKey(ctx, code); err != nil {
		return out, fail(OpHandoff, saved.Name, "deleting the one-time key (the profile is saved)", oauth.App{}, err)
	}
	return out, nil
}

func orTenant(id, tenant string) string {
	if id != "" {
		return id
	}
	return tenant
}

func cleanList(list []string) []string {
	var out []string
	for _, s := range list {
		if c := sanitize.Line(s, 200); c != "" {
			out = append(out, c)
		}
	}
	return out
}

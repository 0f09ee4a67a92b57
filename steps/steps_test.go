package steps

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

const (
	testClientID = "0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b"
	testTenantID = "5d2b7e10-3c4a-4f8e-b1d6-9a0c2e4f6b8d"
	testSecret   = "abc8Q~abcdefghijklmnopqrstuvwxyz01234567"
)

// completeDraft is a draft that passes every step up to Consent.
func completeDraft() Draft {
	d := NewDraft()
	d.ClientID = testClientID
	d.TenantID = testTenantID
	d.ClientSecret = testSecret
	d.SecretExpires = time.Now().AddDate(0, 6, 0)
	return d
}

func TestStepsPerModeAndFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode Mode
		flow oauth.Flow
		want []ID
	}{
		{"new browser", ModeNew, oauth.FlowBrowser, []ID{Account, Register, IDs, Secret, Permissions, Consent, Save, Done}},
		{"new paste", ModeNew, oauth.FlowPaste, []ID{Account, Register, IDs, Secret, Permissions, Consent, Save, Done}},
		{"new device skips the secret", ModeNew, oauth.FlowDevice, []ID{Account, Register, IDs, Permissions, Consent, Save, Done}},
		{"new app keeps the secret, permissions are granted in the portal", ModeNew, oauth.FlowApp, []ID{Account, Register, IDs, Secret, Consent, Save, Done}},
		{"rotate", ModeRotate, oauth.FlowBrowser, []ID{Secret, Consent, Save, Done}},
		{"reconsent", ModeReconsent, oauth.FlowBrowser, []ID{Permissions, Consent, Save, Done}},
		{"reconsent device", ModeReconsent, oauth.FlowDevice, []ID{Permissions, Consent, Save, Done}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := completeDraft()
			d.Flow = tt.flow
			w := New(tt.mode, d)
			if got := w.Steps(); !slices.Equal(got, tt.want) {
				t.Fatalf("Steps() = %v, want %v", got, tt.want)
			}
			if w.Current() != tt.want[0] || w.Index() != 0 {
				t.Fatalf("starts at %v (index %d), want %v", w.Current(), w.Index(), tt.want[0])
			}
		})
	}
}

// TestForwardWalk drives every forward transition of a new profile, checking that each step
// refuses to advance while incomplete and advances once complete.
func TestForwardWalk(t *testing.T) {
	t.Parallel()
	w := New(ModeNew, NewDraft())
	w.Draft.Profile = "bad name!"
	expectBlocked(t, w, Account, "profile")
	w.Draft.Profile = "contoso"
	mustNext(t, w, Register)
	mustNext(t, w, IDs) // the checklist never blocks
	expectBlocked(t, w, IDs, "client-id")
	w.Draft.ClientID = "  " + testClientID + "\n"
	expectBlocked(t, w, IDs, "tenant-id") // single-tenant needs the directory ID
	w.Draft.TenantID = testTenantID
	mustNext(t, w, Secret)
	if w.Draft.ClientID != testClientID {
		t.Errorf("client ID not trimmed: %q", w.Draft.ClientID)
	}
	expectBlocked(t, w, Secret, "secret")
	w.Draft.ClientSecret = testSecret
	expectBlocked(t, w, Secret, "expiry")
	w.Draft.SecretExpires = time.Now().AddDate(1, 0, 0)
	mustNext(t, w, Permissions)
	w.Draft.Scopes = nil
	expectBlocked(t, w, Permissions, "scopes")
	w.Draft.Scopes = []string{"User.Read", "offline_access"}
	mustNext(t, w, Consent)
	expectBlocked(t, w, Consent, "consent")
	w.Draft.Token = &oauth.Token{AccessToken: "at", RefreshToken: "rt"}
	mustNext(t, w, Save)
	expectBlocked(t, w, Save, "save")
	w.Draft.Saved = true
	mustNext(t, w, Done)
	if err := w.Next(); err == nil {
		t.Error("Next after Done should fail")
	}
	if w.Back() {
		t.Error("Back after Done should do nothing: the profile is saved")
	}
}

func TestBackKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		mode       Mode
		flow       oauth.Flow
		from, want ID
	}{
		{"register to account", ModeNew, oauth.FlowBrowser, Register, Account},
		{"ids to register", ModeNew, oauth.FlowBrowser, IDs, Register},
		{"secret to ids", ModeNew, oauth.FlowBrowser, Secret, IDs},
		{"permissions to secret", ModeNew, oauth.FlowBrowser, Permissions, Secret},
		{"device: permissions to ids", ModeNew, oauth.FlowDevice, Permissions, IDs},
		{"consent to permissions", ModeNew, oauth.FlowBrowser, Consent, Permissions},
		{"save to consent", ModeNew, oauth.FlowBrowser, Save, Consent},
		{"rotate: consent to secret", ModeRotate, oauth.FlowBrowser, Consent, Secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := completeDraft()
			d.Flow = tt.flow
			w := New(tt.mode, d)
			walkTo(t, w, tt.from)
			if !w.Back() {
				t.Fatal("Back refused")
			}
			if w.Current() != tt.want {
				t.Fatalf("Back from %v went to %v, want %v", tt.from, w.Current(), tt.want)
			}
			if w.Draft.ClientID != testClientID || len(w.Draft.Scopes) == 0 {
				t.Error("going back lost typed values")
			}
		})
	}
	w := New(ModeNew, completeDraft())
	if w.Back() || w.Current() != Account {
		t.Error("Back on the first step must do nothing")
	}
}

func TestLeavingConsentDropsTokens(t *testing.T) {
	t.Parallel()
	w := New(ModeNew, completeDraft())
	walkTo(t, w, Save)
	if w.Draft.Token == nil {
		t.Fatal("walkTo should have set a token")
	}
	w.Back()
	if w.Draft.Token != nil || w.Draft.User != nil {
		t.Error("tokens must be dropped when going back to consent: they would be stale")
	}
}

func TestJumpTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    Mode
		flow    oauth.Flow
		from    ID
		to      ID
		wantErr bool
	}{
		{"consent error back to secret", ModeNew, oauth.FlowBrowser, Consent, Secret, false},
		{"consent error back to ids", ModeNew, oauth.FlowBrowser, Consent, IDs, false},
		{"consent error back to account", ModeNew, oauth.FlowBrowser, Consent, Account, false},
		{"consent error back to register", ModeNew, oauth.FlowBrowser, Consent, Register, false},
		{"consent to permissions", ModeNew, oauth.FlowBrowser, Consent, Permissions, false},
		{"save failure back to consent", ModeNew, oauth.FlowBrowser, Save, Consent, false},
		{"same step", ModeNew, oauth.FlowBrowser, IDs, IDs, false},
		{"no skipping ahead", ModeNew, oauth.FlowBrowser, IDs, Consent, true},
		{"device has no secret step", ModeNew, oauth.FlowDevice, Consent, Secret, true},
		{"rotation has no account step", ModeRotate, oauth.FlowBrowser, Consent, Account, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := completeDraft()
			d.Flow = tt.flow
			w := New(tt.mode, d)
			walkTo(t, w, tt.from)
			err := w.JumpTo(tt.to)
			if (err != nil) != tt.wantErr {
				t.Fatalf("JumpTo(%v) error = %v, wantErr %v", tt.to, err, tt.wantErr)
			}
			if err == nil && w.Current() != tt.to {
				t.Fatalf("at %v, want %v", w.Current(), tt.to)
			}
			if err != nil && w.Current() != tt.from {
				t.Fatalf("a refused jump moved the wizard to %v", w.Current())
			}
		})
	}
	w := New(ModeNew, completeDraft())
	walkTo(t, w, Done)
	if err := w.JumpTo(Consent); err == nil {
		t.Error("JumpTo after Done must fail")
	}
}

func TestBackTargetFollowsGuidance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode Mode
		flow oauth.Flow
		step oauth.Step
		want ID
	}{
		{ModeNew, oauth.FlowBrowser, oauth.StepSecret, Secret},
		{ModeNew, oauth.FlowBrowser, oauth.StepRegister, Register},
		{ModeNew, oauth.FlowBrowser, oauth.StepIDs, IDs},
		{ModeNew, oauth.FlowBrowser, oauth.StepAccount, Account},
		{ModeNew, oauth.FlowBrowser, oauth.StepPermissions, Permissions},
		{ModeNew, oauth.FlowBrowser, oauth.StepNone, Consent},
		{ModeNew, oauth.FlowDevice, oauth.StepSecret, Consent},
		{ModeRotate, oauth.FlowBrowser, oauth.StepSecret, Secret},
		{ModeRotate, oauth.FlowBrowser, oauth.StepIDs, Consent},
		{ModeReconsent, oauth.FlowBrowser, oauth.StepPermissions, Permissions},
	}
	for _, tt := range tests {
		d := completeDraft()
		d.Flow = tt.flow
		w := New(tt.mode, d)
		if got := w.BackTarget(tt.step); got != tt.want {
			t.Errorf("mode %d flow %s: BackTarget(%q) = %v, want %v", tt.mode, tt.flow, tt.step, got, tt.want)
		}
	}
}

func TestAccountValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(*Draft)
		wantField string
	}{
		{"defaults pass", func(*Draft) {}, ""},
		{"empty profile", func(d *Draft) { d.Profile = "" }, "profile"},
		{"unknown audience", func(d *Draft) { d.Audience = "everyone" }, "audience"},
		{"unknown cloud", func(d *Draft) { d.Cloud = "mars" }, "cloud"},
		{"email as tenant", func(d *Draft) { d.Tenant = "ada@contoso.com" }, "tenant"},
		{"domain tenant", func(d *Draft) { d.Tenant = "Contoso.onmicrosoft.com" }, ""},
		{"personal with a tenant", func(d *Draft) { d.Audience = oauth.PersonalOnly; d.Tenant = testTenantID }, "tenant"},
		{"app permissions on common", func(d *Draft) { d.Flow = oauth.FlowApp; d.Tenant = "common" }, "tenant"},
		{"app permissions for personal", func(d *Draft) { d.Flow = oauth.FlowApp; d.Audience = oauth.PersonalOnly }, "flow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDraft()
			tt.edit(&d)
			w := New(ModeNew, d)
			err := w.Validate(Account)
			checkField(t, err, tt.wantField)
		})
	}
}

// TestTenantAskedOnce: a tenant ID typed on the Account step fills in the IDs step's
// Directory ID, and a different one there is refused rather than silently ignored.
func TestTenantAskedOnce(t *testing.T) {
	t.Parallel()
	d := NewDraft()
	d.Tenant = " " + testTenantID + " "
	w := New(ModeNew, d)
	if err := w.Next(); err != nil {
		t.Fatal(err)
	}
	if w.Draft.TenantID != testTenantID {
		t.Fatalf("TenantID = %q after the Account step named %s", w.Draft.TenantID, testTenantID)
	}
	if err := w.Next(); err != nil { // Register
		t.Fatal(err)
	}
	w.Draft.ClientID = testClientID
	if err := w.Next(); err != nil || w.Current() != Secret {
		t.Fatalf("the IDs step with the pre-filled tenant: %v at %s", err, w.Current())
	}
	w.Back()
	w.Draft.TenantID = "11111111-2222-4333-8444-555555555555"
	var fe *FieldError
	if err := w.Next(); !errors.As(err, &fe) || fe.Field != "tenant-id" {
		t.Fatalf("a Directory ID other than step 1's tenant: %v", err)
	}

	// A domain names the tenant too, but is no ID: the IDs step asks, and may stay empty.
	d = NewDraft()
	d.Tenant = "contoso.onmicrosoft.com"
	w = New(ModeNew, d)
	if err := w.Next(); err != nil || w.Draft.TenantID != "" {
		t.Fatalf("domain tenant: %v, TenantID %q", err, w.Draft.TenantID)
	}
}

func TestIDsValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(*Draft)
		wantField string
	}{
		{"both ids", func(*Draft) {}, ""},
		{"secret pasted as client id", func(d *Draft) { d.ClientID = testSecret }, "client-id"},
		{"object id typo", func(d *Draft) { d.ClientID = "0f3e9c2a-7b41-4d6e-9a8b" }, "client-id"},
		{"same value twice", func(d *Draft) { d.TenantID = testClientID }, "tenant-id"},
		{"multi-tenant may omit tenant id", func(d *Draft) { d.Audience = oauth.MultiTenant; d.TenantID = "" }, ""},
		{"single-tenant with a domain may omit tenant id", func(d *Draft) { d.Tenant = "contoso.com"; d.TenantID = "" }, ""},
		{"braces and quotes are cleaned", func(d *Draft) { d.ClientID = "{" + testClientID + "}" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := completeDraft()
			tt.edit(&d)
			w := New(ModeNew, d)
			checkField(t, w.Validate(IDs), tt.wantField)
		})
	}
}

func TestAuthority(t *testing.T) {
	t.Parallel()
	tests := []struct {
		aud    oauth.Audience
		tenant string
		tid    string
		flow   oauth.Flow
		want   string
	}{
		{oauth.SingleTenant, "", testTenantID, oauth.FlowBrowser, testTenantID},
		{oauth.SingleTenant, "contoso.com", testTenantID, oauth.FlowBrowser, "contoso.com"},
		{oauth.MultiTenant, "", testTenantID, oauth.FlowBrowser, "organizations"},
		{oauth.MultiTenantAndPersonal, "", "", oauth.FlowBrowser, "common"},
		{oauth.PersonalOnly, "", "", oauth.FlowDevice, "consumers"},
		{oauth.MultiTenant, "", testTenantID, oauth.FlowApp, testTenantID},
	}
	for _, tt := range tests {
		d := Draft{Audience: tt.aud, Tenant: tt.tenant, TenantID: tt.tid, Flow: tt.flow}
		if got := d.Authority(); got != tt.want {
			t.Errorf("%s/%q/%q: Authority() = %q, want %q", tt.aud, tt.tenant, tt.tid, got, tt.want)
		}
	}
}

func TestDeviceDraftSendsNoSecret(t *testing.T) {
	t.Parallel()
	d := completeDraft()
	d.Flow = oauth.FlowDevice
	if app := d.App(); app.ClientSecret != "" || app.Kind != oauth.KindPublic {
		t.Errorf("a public client must not carry the secret: kind %s", app.Kind)
	}
	if s := d.ToSecrets(); s.ClientSecret != "" {
		t.Error("a public-client profile must not store a secret")
	}
}

func walkTo(t *testing.T, w *Wizard, target ID) {
	t.Helper()
	for w.Current() != target {
		if w.Current() == Consent {
			w.Draft.Token = &oauth.Token{AccessToken: "at", RefreshToken: "rt", Scopes: []string{"User.Read"}}
		}
		if w.Current() == Save {
			w.Draft.Saved = true
		}
		if err := w.Next(); err != nil {
			t.Fatalf("walking to %v: stuck at %v: %v", target, w.Current(), err)
		}
	}
}

func mustNext(t *testing.T, w *Wizard, want ID) {
	t.Helper()
	if err := w.Next(); err != nil {
		t.Fatalf("Next from %v: %v", w.Current(), err)
	}
	if w.Current() != want {
		t.Fatalf("Next went to %v, want %v", w.Current(), want)
	}
}

func expectBlocked(t *testing.T, w *Wizard, at ID, field string) {
	t.Helper()
	err := w.Next()
	checkField(t, err, field)
	if w.Current() != at {
		t.Fatalf("a failed Next moved the wizard from %v to %v", at, w.Current())
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want a FieldError on %q, got %v", field, err)
	}
	if fe.Field != field {
		t.Fatalf("error on field %q (%s), want %q", fe.Field, fe.Msg, field)
	}
	if fe.Msg == "" {
		t.Fatal("a field error must say what to do")
	}
}

func TestRotateRefusesTheSecretInUse(t *testing.T) {
	t.Parallel()
	d := completeDraft()
	d.ReplacedSecret = testSecret
	w := New(ModeRotate, d)
	if err := w.Next(); err == nil || w.Current() != Secret {
		t.Fatalf("rotating to the same secret was accepted (at %v): %v", w.Current(), err)
	}
	w.Draft.ClientSecret = "xyz8Q~abcdefghijklmnopqrstuvwxyz01234567"
	if err := w.Next(); err != nil || w.Current() != Consent {
		t.Fatalf("a new secret was refused: %v", err)
	}
}

func TestAppOnlyRequestsDefaultScope(t *testing.T) {
	t.Parallel()
	d := completeDraft()
	d.Flow = oauth.FlowApp
	if got := d.RequestScopes(); len(got) != 1 || got[0] != "https://graph.microsoft.com/.default" {
		t.Errorf("RequestScopes = %v", got)
	}
}

func TestAppOnlyScopeIsTheCloudsGraph(t *testing.T) {
	t.Parallel()
	for cloud, want := range map[oauth.Cloud]string{
		oauth.Global:   "https://graph.microsoft.com/.default",
		oauth.USGov:    "https://graph.microsoft.us/.default",
		oauth.USGovDoD: "https://dod-graph.microsoft.us/.default",
		oauth.China:    "https://microsoftgraph.chinacloudapi.cn/.default",
	} {
		d := NewDraft()
		d.Flow = oauth.FlowApp
		d.Cloud = cloud
		if got := d.RequestScopes(); len(got) != 1 || got[0] != want {
			t.Errorf("%s: app-only scopes %v, want %s", cloud, got, want)
		}
		if got := d.ToProfile(time.Now()).RequestedScopes; len(got) != 1 || got[0] != want {
			t.Errorf("%s: stored scopes %v, want %s", cloud, got, want)
		}
	}
}

// TestNoSecretPublicClient: a browser-flow draft without a secret is a public client: no
// secret step, a Mobile and desktop redirect without a trailing slash, and a saved profile
// that comes back as the same flow.
func TestNoSecretPublicClient(t *testing.T) {
	t.Parallel()
	d := NewDraft()
	d.NoSecret = true
	if d.Kind() != oauth.KindPublic || d.NeedsSecret() {
		t.Fatalf("kind %s, needs secret %v", d.Kind(), d.NeedsSecret())
	}
	if got := d.RedirectURI(); got != "http://localhost:53365" {
		t.Errorf("redirect %q", got)
	}
	w := New(ModeNew, d)
	for _, id := range w.Steps() {
		if id == Secret {
			t.Error("a public client has a secret step")
		}
	}
	d.ClientID = "0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b"
	back := FromProfile(d.ToProfile(time.Now()), keyring.Secrets{})
	if back.Flow != oauth.FlowBrowser || !back.NoSecret {
		t.Errorf("round trip: flow %s, no secret %v", back.Flow, back.NoSecret)
	}
	dev := NewDraft()
	dev.Flow = oauth.FlowDevice
	if back := FromProfile(dev.ToProfile(time.Now()), keyring.Secrets{}); back.Flow != oauth.FlowDevice || back.NoSecret {
		t.Errorf("device round trip: %s %v", back.Flow, back.NoSecret)
	}
}

// TestSharedSecretSurvivesReconsent: a customer profile rebuilt for re-consent keeps naming
// the vendor profile whose secret it shares, so saving it again makes no copy of the secret.
func TestSharedSecretSurvivesReconsent(t *testing.T) {
	t.Parallel()
	p := keyring.Profile{Name: "contoso", Kind: oauth.KindApp, ClientID: testClientID, SecretFrom: "vendor"}
	d := FromProfile(p, keyring.Secrets{})
	if got := d.ToProfile(time.Now()).SecretFrom; got != "vendor" {
		t.Errorf("SecretFrom %q after a round trip", got)
	}
}

// TestEveryStepHasHelp: ? shows a help text on every step, the Create step included.
func TestEveryStepHasHelp(t *testing.T) {
	t.Parallel()
	for _, id := range []ID{Account, Register, IDs, Secret, Permissions, Create, Consent, Save} {
		if assets.Help(id.String()) == "" {
			t.Errorf("no help text for the %s step (assets/help/%s.txt)", id, strings.ToLower(id.String()))
		}
	}
}

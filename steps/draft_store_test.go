package steps

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth"
)

// keptDraft is a draft with every field changed from the defaults.
func keptDraft() Draft {
	d := completeDraft()
	d.Profile = "contoso"
	d.Audience = oauth.MultiTenant
	d.Tenant = "contoso.onmicrosoft.com"
	d.Cloud = oauth.USGov
	d.AppName = "reports"
	d.Port = 53999
	d.SecretExpires = time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)
	d.Flow = oauth.FlowPaste
	d.Scopes = []string{"User.Read", "Mail.Read", "offline_access"}
	return d
}

// TestKeptDraftRoundTripHoldsNoSecret: what is written restores every field, and the secret,
// the replaced secret and the tokens are not in it.
func TestKeptDraftRoundTripHoldsNoSecret(t *testing.T) {
	t.Parallel()
	d := keptDraft()
	d.ReplacedSecret = "old8Q~" + strings.Repeat("o", 34)
	d.Token = &oauth.Token{AccessToken: "at-value", RefreshToken: "rt-value"}
	w := New(ModeNew, d)
	walkTo(t, w, Permissions)
	raw, err := w.Keep().Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testSecret, d.ReplacedSecret, "at-value", "rt-value"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the kept draft holds a secret:\n%s", raw)
		}
	}
	k, err := DecodeKept(raw)
	if err != nil {
		t.Fatal(err)
	}
	if k.StepID() != Permissions || !k.HasSecret {
		t.Fatalf("step %v, has secret %v", k.StepID(), k.HasSecret)
	}
	got := k.Draft(testSecret)
	want := w.Draft
	want.ReplacedSecret, want.Token, want.User = "", nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored draft differs:\n got %+v\nwant %+v", got, want)
	}
}

// TestResumeWalksToTheKeptStep: the resumed wizard stands where the user was.
func TestResumeWalksToTheKeptStep(t *testing.T) {
	t.Parallel()
	for _, at := range []ID{Account, Register, IDs, Secret, Permissions, Consent} {
		w := New(ModeNew, keptDraft())
		walkTo(t, w, at)
		r := Resume(w.Keep(), testSecret)
		if r.Current() != at || r.Mode != ModeNew {
			t.Errorf("kept at %v, resumed at %v (mode %v)", at, r.Current(), r.Mode)
		}
	}
}

// TestResumeStopsAtTheFirstIncompleteStep: without the secret (the keychain lost it) the
// wizard resumes at the secret step, not past it; a kept step after consent resumes at
// consent, because the sign-in is not kept.
func TestResumeStopsAtTheFirstIncompleteStep(t *testing.T) {
	t.Parallel()
	w := New(ModeNew, keptDraft())
	walkTo(t, w, Permissions)
	if r := Resume(w.Keep(), ""); r.Current() != Secret {
		t.Errorf("resumed without the secret at %v, want Secret", r.Current())
	}
	k := w.Keep()
	k.Step = Save.String()
	if r := Resume(k, testSecret); r.Current() != Consent || r.Draft.Token != nil {
		t.Errorf("a draft kept at Save resumed at %v with token %v, want Consent and none", r.Current(), r.Draft.Token)
	}
	k.ClientID = "not-a-guid"
	if r := Resume(k, testSecret); r.Current() != IDs {
		t.Errorf("a damaged client ID resumed at %v, want IDs", r.Current())
	}
	k.Step = "Nowhere"
	if r := Resume(k, testSecret); r.Current() != Account {
		t.Errorf("an unknown step resumed at %v, want Account", r.Current())
	}
}

// TestResumeDeviceCodeHasNoSecretStep: a public client never asks for the secret again.
func TestResumeDeviceCodeHasNoSecretStep(t *testing.T) {
	t.Parallel()
	d := keptDraft()
	d.Flow = oauth.FlowDevice
	d.ClientSecret = ""
	w := New(ModeNew, d)
	walkTo(t, w, Permissions)
	k := w.Keep()
	if k.HasSecret {
		t.Error("a device-code draft claims a secret")
	}
	if r := Resume(k, ""); r.Current() != Permissions {
		t.Errorf("resumed at %v, want Permissions", r.Current())
	}
}

// TestDecodeKeptRefusesAndCleans: a damaged or newer file is no draft; fields with control
// characters (a file edited by hand or by something else) are dropped, not shown.
func TestDecodeKeptRefusesAndCleans(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`{`, `{"step":"IDs"}`, `{"version":99,"step":"IDs"}`} {
		if _, err := DecodeKept([]byte(raw)); err == nil {
			t.Errorf("DecodeKept(%s) accepted it", raw)
		}
	}
	k, err := DecodeKept([]byte(`{"version":1,"step":"IDs","profile":"evil\u001b[2J","client_id":"` + testClientID + `","scopes":["User.Read","x\u0007"],"port":70000}`))
	if err != nil {
		t.Fatal(err)
	}
	if k.Profile != "" || k.ClientID != testClientID || !reflect.DeepEqual(k.Scopes, []string{"User.Read"}) || k.Port != 0 {
		t.Fatalf("not cleaned: %+v", k)
	}
	if d := k.Draft(""); d.Profile != DefaultProfile || d.Port != DefaultPort {
		t.Fatalf("dropped fields must fall back to the defaults: %+v", d)
	}
}

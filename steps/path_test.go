package steps

import (
	"slices"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth"
)

// graphDraft is what the Account step leaves when the user asks for the app to be created.
func graphDraft() Draft {
	d := NewDraft()
	d.Path = PathGraph
	d.Tenant = testTenantID
	return d
}

// TestGraphPathSkipsThePortal: the automatic path has no Register, IDs or Secret step, and
// creates the app after the permissions are chosen, since the registration lists them.
func TestGraphPathSkipsThePortal(t *testing.T) {
	t.Parallel()
	for _, noSecret := range []bool{false, true} {
		d := graphDraft()
		d.NoSecret = noSecret
		w := New(ModeNew, d)
		want := []ID{Account, Permissions, Create, Consent, Save, Done}
		if got := w.Steps(); !slices.Equal(got, want) {
			t.Fatalf("NoSecret=%v: Steps() = %v, want %v", noSecret, got, want)
		}
	}
}

// TestGraphPathWalk drives the automatic path's transitions: Create blocks until the app
// exists, Back from Consent returns to Create, and the tokens are dropped on the way.
func TestGraphPathWalk(t *testing.T) {
	t.Parallel()
	w := New(ModeNew, graphDraft())
	mustNext(t, w, Permissions)
	mustNext(t, w, Create)
	expectBlocked(t, w, Create, "create")
	// What Register leaves in the draft.
	w.Draft.ClientID, w.Draft.TenantID, w.Draft.AppObjectID = testClientID, testTenantID, "obj"
	w.Draft.ClientSecret, w.Draft.SecretExpires, w.Draft.SecretKeyID = testSecret, time.Now().AddDate(0, 6, 0), "key"
	mustNext(t, w, Consent)
	w.Draft.Token = &oauth.Token{AccessToken: "a"}
	if !w.Back() || w.Current() != Create || w.Draft.Token != nil {
		t.Fatalf("Back from Consent: at %v, token %v", w.Current(), w.Draft.Token)
	}
	if !w.Back() || w.Current() != Permissions {
		t.Fatalf("Back from Create: at %v", w.Current())
	}
}

// TestUsePortalKeepsEverything: a refused registration continues at the Register step of the
// portal walk with every choice kept, and the walk then runs as usual.
func TestUsePortalKeepsEverything(t *testing.T) {
	t.Parallel()
	d := graphDraft()
	d.Profile, d.Scopes, d.AppName = "contoso", []string{"User.Read", "Mail.Read", "offline_access"}, "Mail sync"
	w := New(ModeNew, d)
	mustNext(t, w, Permissions)
	mustNext(t, w, Create)
	w.UsePortal()
	if w.Current() != Register || w.Draft.Path != PathPortal {
		t.Fatalf("after UsePortal: at %v, path %v", w.Current(), w.Draft.Path)
	}
	got := w.Draft
	if got.Profile != "contoso" || got.Tenant != testTenantID || got.AppName != "Mail sync" || !slices.Equal(got.Scopes, d.Scopes) {
		t.Fatalf("the draft lost choices: %+v", got)
	}
	if got.SuggestedAppName() != "Mail sync" {
		t.Fatalf("the checklist names the app %q", got.SuggestedAppName())
	}
	mustNext(t, w, IDs)
	if !w.Back() || w.Current() != Register || !w.Back() || w.Current() != Account {
		t.Fatalf("Back from the portal walk went to %v", w.Current())
	}
}

// TestGraphPathRefusedOnTheAccountStep: personal-only apps and application permissions cannot
// be registered automatically; step 1 says so instead of failing later.
func TestGraphPathRefusedOnTheAccountStep(t *testing.T) {
	t.Parallel()
	personal := graphDraft()
	personal.Audience, personal.Tenant = oauth.PersonalOnly, ""
	w := New(ModeNew, personal)
	expectBlocked(t, w, Account, "register")
	w.Draft.Path = PathPortal
	mustNext(t, w, Register)

	app := graphDraft()
	app.Flow = oauth.FlowApp
	w = New(ModeNew, app)
	expectBlocked(t, w, Account, "register")
}

// TestKeptGraphPath: an interrupted automatic run resumes on the automatic path, at Create
// when the app was not created yet.
func TestKeptGraphPath(t *testing.T) {
	t.Parallel()
	w := New(ModeNew, graphDraft())
	mustNext(t, w, Permissions)
	mustNext(t, w, Create)
	raw, err := w.Keep().Encode()
	if err != nil {
		t.Fatal(err)
	}
	k, err := DecodeKept(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := Resume(k, "")
	if r.Draft.Path != PathGraph || r.Current() != Create {
		t.Fatalf("resumed at %v on path %v", r.Current(), r.Draft.Path)
	}
	// Once created, the app's object ID and secret key ID survive too, and the run resumes
	// at Consent.
	w.Draft.ClientID, w.Draft.TenantID, w.Draft.AppObjectID, w.Draft.SecretKeyID = testClientID, testTenantID, "obj-id", "key-id"
	w.Draft.ClientSecret, w.Draft.SecretExpires = testSecret, time.Now().AddDate(0, 6, 0)
	mustNext(t, w, Consent)
	raw, err = w.Keep().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if k, err = DecodeKept(raw); err != nil {
		t.Fatal(err)
	}
	r = Resume(k, testSecret)
	if r.Current() != Consent || r.Draft.AppObjectID != "obj-id" || r.Draft.SecretKeyID != "key-id" {
		t.Fatalf("resumed at %v with %+v", r.Current(), r.Draft)
	}
	pub := NewDraft()
	pub.NoSecret = true
	if k := New(ModeNew, pub).Keep(); !k.Draft("").NoSecret {
		t.Fatal("a public client resumes as a confidential one")
	}
	if portal := New(ModeNew, NewDraft()).Keep(); portal.Register != "" {
		t.Fatalf("a portal run keeps register=%q", portal.Register)
	}
}

package creds

import (
	"os"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

func draftService(t *testing.T) *Service {
	t.Helper()
	store, err := keyring.Open(keyring.Options{Service: "m365creds-creds-draft", ConfigDir: t.TempDir(), Backend: keyring.BackendFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &Service{Store: store}
}

// keptAtPermissions is a wizard that got past the secret step.
func keptAtPermissions(t *testing.T) *steps.Wizard {
	t.Helper()
	d := steps.NewDraft()
	d.Profile = "contoso"
	d.ClientID, d.TenantID = simulator.DemoClientID, simulator.DemoTenantID
	d.ClientSecret, d.SecretExpires = simulator.DemoSecretValue, time.Now().AddDate(0, 6, 0)
	w := steps.New(steps.ModeNew, d)
	for w.Current() != steps.Permissions {
		if err := w.Next(); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func TestDraftKeptAndLoaded(t *testing.T) {
	t.Parallel()
	s := draftService(t)
	ctx := t.Context()
	if d, err := s.LoadDraft(ctx); d != nil || err != nil {
		t.Fatalf("a draft before any was kept: %v, %v", d, err)
	}
	w := keptAtPermissions(t)
	if err := s.KeepDraftSecret(ctx, w.Draft.ClientSecret); err != nil {
		t.Fatal(err)
	}
	if err := s.KeepDraft(w.Keep()); err != nil {
		t.Fatal(err)
	}
	d, err := s.LoadDraft(ctx)
	if err != nil || d == nil || d.Secret != simulator.DemoSecretValue || d.SecretErr != nil {
		t.Fatalf("LoadDraft: %+v, %v", d, err)
	}
	if r := d.Wizard(); r.Current() != steps.Permissions || r.Draft.ClientSecret != simulator.DemoSecretValue {
		t.Fatalf("resumed at %v", r.Current())
	}

	// The keychain lost the secret: the draft still loads, and resumes at the secret step.
	if err := s.Store.DiscardDraft(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.KeepDraft(w.Keep()); err != nil {
		t.Fatal(err)
	}
	if d, _ = s.LoadDraft(ctx); d == nil || d.Secret != "" || d.Wizard().Current() != steps.Secret {
		t.Fatalf("without the secret: %+v", d)
	}
}

// TestDamagedDraftIsNoDraft: a draft file this build cannot read does not stop the wizard.
func TestDamagedDraftIsNoDraft(t *testing.T) {
	t.Parallel()
	s := draftService(t)
	if err := os.WriteFile(s.Store.DraftPath(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := s.LoadDraft(t.Context()); d != nil || err != nil {
		t.Fatalf("a damaged draft loaded: %v, %v", d, err)
	}
}

package creds

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// handoffPair is a customer (sender) and a support person (receiver), each with their own
// store, talking to the same simulator. The customer's app-only profile is for the vendor
// fixture's app in its home tenant, which stands in for an app the customer registered.
func handoffPair(t *testing.T, secret string) (sender, receiver *Service, p keyring.Profile) {
	t.Helper()
	f, _ := vendorFixture(t)
	open := func() *Service {
		st, err := keyring.Open(keyring.Options{Service: "m365creds-creds-test", ConfigDir: t.TempDir(), Backend: keyring.BackendFile, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return &Service{Store: st, Endpoints: f.engine.Endpoints}
	}
	sender, receiver = open(), open()
	p = keyring.Profile{Name: "ours", Cloud: oauth.Global, Tenant: vendorTenant, TenantID: vendorTenant, ClientID: vendorClient,
		Audience: oauth.SingleTenant, Kind: oauth.KindApp, RequestedScopes: []string{GraphDefault(oauth.Global)},
		SecretExpires: time.Now().AddDate(0, 6, 0).UTC().Truncate(time.Second)}
	if err := sender.Store.Save(t.Context(), p, keyring.Secrets{ClientSecret: secret}); err != nil {
		t.Fatal(err)
	}
	return sender, receiver, p
}

// TestHandoffRoundTrip: receive's code, send's block, import's profile; the profile works
// and the one-time key is gone, so the same block cannot be imported twice.
func TestHandoffRoundTrip(t *testing.T) {
	t.Parallel()
	sender, receiver, p := handoffPair(t, vendorSecret)
	ctx := t.Context()
	code, err := receiver.NewHandoffCode(ctx)
	if err != nil || !strings.HasPrefix(code, "age1") {
		t.Fatalf("code %q, %v", code, err)
	}
	block, err := sender.SealProfile(ctx, p, code)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(block, vendorSecret) || !strings.Contains(block, "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatalf("block:\n%s", block)
	}
	// Mail clients quote and wrap text around it.
	pasted := "Hi, here it is:\n\n" + strings.ReplaceAll(block, "\n", "\n> ") + "\nRegards\n"
	got, err := receiver.ImportHandoff(ctx, ImportRequest{Block: strings.NewReader(pasted), Name: "customer"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if got.Profile.ClientID != vendorClient || got.Profile.Tenant != vendorTenant || got.Profile.Kind != oauth.KindApp ||
		!got.Profile.SecretExpires.Equal(p.SecretExpires) || got.From != "ours" {
		t.Errorf("imported %+v", got)
	}
	if sec, err := receiver.Store.Secrets(ctx, "customer"); err != nil || sec.ClientSecret != vendorSecret {
		t.Errorf("imported secret: %v", err)
	}
	if _, err := receiver.Token(ctx, got.Profile, TokenRequest{Force: true}); err != nil {
		t.Errorf("token with the imported profile: %v", err)
	}
	if _, err := receiver.Store.HandoffKey(ctx, code); !errors.Is(err, keyring.ErrNoHandoffKey) {
		t.Errorf("the one-time key is still there: %v", err)
	}
	_, err = receiver.ImportHandoff(ctx, ImportRequest{Block: strings.NewReader(block), Name: "again"})
	if !errors.Is(err, ErrHandoffOtherKey) {
		t.Errorf("second import: %v", err)
	}
}

// TestHandoffRefusals: a changed block, a block for another code (also when its code line
// is rewritten to ours), and a secret Microsoft rejects are all refused without saving.
func TestHandoffRefusals(t *testing.T) {
	t.Parallel()
	sender, receiver, p := handoffPair(t, vendorSecret)
	ctx := t.Context()
	code, err := receiver.NewHandoffCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	block, err := sender.SealProfile(ctx, p, code)
	if err != nil {
		t.Fatal(err)
	}
	importing := func(b string) error {
		_, err := receiver.ImportHandoff(ctx, ImportRequest{Block: strings.NewReader(b), Name: "customer"})
		return err
	}
	// One character of the sealed body changed.
	// The last full line before the END line is sealed payload, not the header.
	lines := strings.Split(block, "\n")
	i := slices.Index(lines, "-----END AGE ENCRYPTED FILE-----") - 2
	body := []byte(lines[i])
	if body[10] == 'A' {
		body[10] = 'B'
	} else {
		body[10] = 'A'
	}
	lines[i] = string(body)
	if err := importing(strings.Join(lines, "\n")); !errors.Is(err, ErrHandoffTampered) {
		t.Errorf("tampered block: %v", err)
	}
	// Sealed to a code this keychain never made.
	other, err := sender.NewHandoffCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := sender.SealProfile(ctx, p, other)
	if err != nil {
		t.Fatal(err)
	}
	if err := importing(foreign); !errors.Is(err, ErrHandoffOtherKey) {
		t.Errorf("block for another code: %v", err)
	}
	if err := importing(strings.Replace(foreign, other, code, 1)); !errors.Is(err, ErrHandoffOtherKey) {
		t.Errorf("block for another code, relabelled: %v", err)
	}
	if err := importing("no block here"); !errors.Is(err, ErrHandoffNoBlock) {
		t.Errorf("no block: %v", err)
	}
	// A secret Microsoft rejects: nothing saved, the key kept for a corrected block.
	wrongSender, _, wp := handoffPair(t, "bad8Q~00000000000000000000000000000000zz")
	wrong, err := wrongSender.SealProfile(ctx, wp, code)
	if err != nil {
		t.Fatal(err)
	}
	err = importing(wrong)
	if ProblemOf(err) != ProblemSecret {
		t.Errorf("rejected secret: %v", err)
	}
	if _, err := receiver.Store.Profile("customer"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("a profile was saved: %v", err)
	}
	if _, err := receiver.Store.HandoffKey(ctx, code); err != nil {
		t.Errorf("the key is gone after a rejected secret: %v", err)
	}
	if err := importing(block); err != nil {
		t.Errorf("the good block after the refusals: %v", err)
	}
	if _, err := sender.SealProfile(ctx, p, "not-a-code"); ProblemOf(err) != ProblemUsage {
		t.Errorf("bad code: %v", err)
	}
}

package creds

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// recordingRunner stands in for az, gh and op inside the process: it records each command
// and fails those of the programs in failing.
type recordingRunner struct {
	mu      sync.Mutex
	failing map[string]bool
	calls   []Command
}

func (r *recordingRunner) Run(_ context.Context, c Command) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if r.failing[c.Name] {
		return nil, &RunError{Name: c.Name, Stderr: "refused: " + string(c.Stdin) + string(c.File), Err: errors.New("exit status 1")}
	}
	if c.Name == "op" && slices.Contains(c.Args, "get") {
		return nil, &RunError{Name: "op", Stderr: `"x" isn't an item`, Err: errors.New("exit status 1")}
	}
	return nil, nil
}

// value is what a call received as the secret.
func value(c Command) string { return string(c.Stdin) + string(c.File) }

// appProfile saves an app-only profile for the demo app, published to targets.
func (f *fixture) appProfile(name string, targets ...string) keyring.Profile {
	f.t.Helper()
	d := f.draft(name, simulator.DemoClientID)
	d.Flow = oauth.FlowApp
	d.Scopes = []string{"https://graph.microsoft.com/.default"}
	p, err := f.engine.Save(f.t.Context(), d)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.engine.Store.Touch(name, func(p *keyring.Profile) { p.PublishedTo = targets }); err != nil {
		f.t.Fatal(err)
	}
	p.PublishedTo = targets
	return p
}

// TestRotateWithoutOldSecret: when the keychain has lost the old secret there is nothing to
// put back, so every target is still tried, the profile does not switch, and the error says
// which targets hold the new secret.
func TestRotateWithoutOldSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := &recordingRunner{failing: map[string]bool{"az": true}}
	f.engine.Runner = run
	p := f.appProfile("robot", "gh://contoso/a/S", "azure-keyvault://contoso-kv/s", "op://V/robot")
	f.dropItem("robot", "client-secret")

	_, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: testSecret2, Expires: time.Now().AddDate(1, 0, 0)})
	var te *TargetError
	if !errors.As(err, &te) {
		t.Fatalf("error %v, want a TargetError", err)
	}
	if te.Failed != "azure-keyvault://contoso-kv/s" || !slices.Equal(te.Unrestored, []string{"gh://contoso/a/S", "op://V/robot"}) || len(te.Restored) != 0 {
		t.Errorf("target error %+v", te)
	}
	if ce := (*Error)(nil); !errors.As(err, &ce) || ce.Kept {
		t.Errorf("a rotation that left targets changed says nothing changed: %+v", ce)
	}
	if strings.Contains(err.Error(), testSecret2) {
		t.Error("the error carries the secret the program echoed")
	}
	for _, c := range run.calls {
		switch {
		case c.Name == "op" && slices.Contains(c.Args, "get"):
		case c.Name == "op":
			if !strings.Contains(value(c), `"value":"`+testSecret2+`"`) {
				t.Error("op did not get the new secret in its template")
			}
		case value(c) != testSecret2:
			t.Errorf("%s did not get the new secret", c.Name)
		}
		if strings.Contains(strings.Join(c.Args, " "), testSecret2) {
			t.Errorf("%s got the secret in argv", c.Name)
		}
	}
	if _, err := f.engine.Store.Secrets(t.Context(), "robot"); !errors.Is(err, keyring.ErrLostSecret) {
		t.Errorf("the profile changed: %v", err)
	}
}

// TestRotateRestoresOldSecret: the first target took the new secret, the second failed: the
// first gets the old one back and the profile keeps it.
func TestRotateRestoresOldSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := &recordingRunner{failing: map[string]bool{"az": true}}
	f.engine.Runner = run
	p := f.appProfile("robot", "gh://contoso/a/S", "azure-keyvault://contoso-kv/s", "op://V/robot")

	_, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: testSecret2, Expires: time.Now().AddDate(1, 0, 0)})
	var te *TargetError
	if !errors.As(err, &te) || !slices.Equal(te.Restored, []string{"gh://contoso/a/S"}) {
		t.Fatalf("error %v", err)
	}
	var got []string
	for _, c := range run.calls {
		got = append(got, c.Name+"="+value(c))
	}
	want := []string{"gh=" + testSecret2, "az=" + testSecret2, "gh=" + simulator.DemoSecretValue}
	if !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q (op is never reached)", got, want)
	}
	if sec, _ := f.engine.Store.Secrets(t.Context(), "robot"); sec.ClientSecret != simulator.DemoSecretValue {
		t.Error("the profile switched")
	}

	// Without failures every target gets the new secret, then the profile switches.
	run.failing, run.calls = nil, nil
	if _, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: testSecret2, Expires: time.Now().AddDate(1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	if sec, _ := f.engine.Store.Secrets(t.Context(), "robot"); sec.ClientSecret != testSecret2 {
		t.Error("the profile did not switch")
	}
	if n := len(run.calls); n != 4 { // gh, az, op get, op create
		t.Errorf("%d calls", n)
	}
}

func TestPublishRefusesDelegated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := &recordingRunner{}
	f.engine.Runner = run
	p := f.consent(f.draft("work", simulator.DemoClientID))
	tg, _ := ParseTarget("gh://contoso/a/S")
	_, err := f.engine.Publish(t.Context(), PublishRequest{Profile: p, Target: tg})
	problem(t, err, ProblemUsage)
	if len(run.calls) != 0 {
		t.Error("a delegated profile reached a program")
	}
}

// TestRotateCarriesKeyIDs: Key Vault gets the new secret's key ID, and the old one's again
// when the old secret is put back.
func TestRotateCarriesKeyIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := &recordingRunner{failing: map[string]bool{"gh": true}}
	f.engine.Runner = run
	p := f.appProfile("robot", "azure-keyvault://contoso-kv/s", "gh://contoso/a/S")
	const oldKey, newKey = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	if err := f.engine.Store.Touch("robot", func(pp *keyring.Profile) { pp.SecretKeyID = oldKey }); err != nil {
		t.Fatal(err)
	}
	p.SecretKeyID = oldKey
	_, err := f.engine.Rotate(t.Context(), RotateRequest{Profile: p, NewSecret: testSecret2, Expires: time.Now().AddDate(1, 0, 0), KeyID: newKey})
	if err == nil {
		t.Fatal("the failing target went unnoticed")
	}
	var tags []string
	for _, c := range run.calls {
		if c.Name == "az" {
			tags = append(tags, c.Args[len(c.Args)-1])
		}
	}
	if !slices.Equal(tags, []string{"keyId=" + newKey, "keyId=" + oldKey}) {
		t.Errorf("key IDs sent to Key Vault: %q", tags)
	}
}

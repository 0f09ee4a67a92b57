package keyring

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestHandEditedConfigIsCleanedForPrinting loads a config whose display fields were edited by
// hand (or by something hostile) to carry escape sequences.
func TestHandEditedConfigIsCleanedForPrinting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw := `{"version":1,"profiles":{"a":{"name":"a","cloud":"global","tenant":"contoso.onmicrosoft.com\u001b[2J",` +
		`"tenantId":"","clientId":"0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b","audience":"single","kind":"web",` +
		`"requestedScopes":["User.Read\u001b]0;t\u0007"],"account":"ada@contoso.example\u001b]52;c;Y3VybCBldmls\u0007",` +
		`"accountName":"Ada\u202e\u001b[31m Lovelace` + strings.Repeat("x", 2000) + `","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}}}`
	if err := os.WriteFile(dir+"/"+configName(DefaultService), []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Profile("a")
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	for _, q := range []Profile{p, list[0]} {
		texts := append([]string{q.Tenant, q.Account, q.AccountName}, q.RequestedScopes...)
		for _, v := range texts {
			if strings.ContainsAny(v, "\x1b\x07\u202e") {
				t.Errorf("control characters survive: %q", v)
			}
		}
		if q.Account != "ada@contoso.example" || !strings.HasPrefix(q.AccountName, "Ada Lovelace") || len(q.AccountName) > 400 {
			t.Errorf("account %q, name %d bytes", q.Account, len(q.AccountName))
		}
	}
}

// secretShaped is what a client secret looks like; it must never appear in an error.
const secretShaped = "Xy78Q~abcdefghijklmnopqrstuvwxyz0123456"

func TestInvalidNamesAreNotEchoed(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		secretShaped,
		secretShaped[:37],        // an older, shorter secret
		"abc~defghijklmnop",      // any value with '~' may be a secret
		"ok\x1b]52;c;QQ==\x07ok", // escape sequences
		strings.Repeat("a", 10000),
	} {
		err := ValidateName(name)
		if err == nil {
			t.Fatalf("%q accepted", name)
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\x1b\x07") || len(msg) > 300 {
			t.Errorf("error for %q: %q", name, msg)
		}
		if len(name) >= 8 && strings.Contains(msg, name[:8]) {
			t.Errorf("error echoes the value: %q", msg)
		}
	}
	if err := ValidateName("my profile"); err == nil || !strings.Contains(err.Error(), `" "`) {
		t.Errorf("the offending character should still be named: %v", err)
	}
	s := openWith(t, t.TempDir(), newMem())
	if err := s.Save(context.Background(), sampleProfile("work"), sampleSecrets("w")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Profile(secretShaped)
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), secretShaped[:8]) || !strings.Contains(err.Error(), "work") {
		t.Errorf("not found: %v", err)
	}
	if _, err := s.Profile("home"); err == nil || !strings.Contains(err.Error(), `"home"`) {
		t.Errorf("a valid unknown name should be echoed: %v", err)
	}
}

package keyring

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
)

// These tests use the real Secret Service (gnome-keyring in a private D-Bus session).

func realStore(t testing.TB) *Store {
	t.Helper()
	testkeychain.Require(t)
	s, err := Open(Options{Service: "m365creds-test-keychain", ConfigDir: t.TempDir(), Backend: BackendKeychain, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRealKeychainRoundTripAndDelete(t *testing.T) {
	s := realStore(t)
	ctx := context.Background()
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("probe: %v", err)
	}
	big := sampleSecrets("real")
	big.RefreshToken = strings.Repeat("R", 10*1024) // larger than any platform's item limit
	if err := s.Save(ctx, sampleProfile("real"), big); err != nil {
		t.Fatal(err)
	}
	got, err := s.Secrets(ctx, "real")
	if err != nil {
		t.Fatal(err)
	}
	mustEqualSecrets(t, got, big)
	if n := secretToolCount(t, "m365creds-test-keychain"); n < 7 {
		t.Errorf("expected the 10 KB value split into chunks, found %d items", n)
	}
	replaced := sampleSecrets("again")
	if err := s.Save(ctx, sampleProfile("real"), replaced); err != nil {
		t.Fatal(err)
	}
	if n := secretToolCount(t, "m365creds-test-keychain"); n != 3 {
		t.Errorf("after replacing: %d items, want 3 (secret, refresh and access token, one item each): the old generation must be gone", n)
	}
	if err := s.Delete(ctx, "real"); err != nil {
		t.Fatal(err)
	}
	if n := secretToolCount(t, "m365creds-test-keychain"); n != 0 {
		t.Errorf("delete left %d items in the keychain", n)
	}
}

// secretToolCount counts the items stored under service, the way a person would check.
func secretToolCount(t *testing.T, service string) int {
	t.Helper()
	out, _ := exec.Command("secret-tool", "search", "--all", "service", service).CombinedOutput()
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "[/") {
			n++
		}
	}
	return n
}

// TestRealKeychainUnavailable points a child process at a session bus that does not exist:
// the error must say what is wrong and what to do, quickly.
func TestRealKeychainUnavailable(t *testing.T) {
	testkeychain.Require(t)
	if os.Getenv("KEYRING_NO_BUS") != "" {
		s, err := Open(Options{Service: "m365creds-test-nobus", ConfigDir: t.TempDir(), Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Probe(context.Background())
		var ue *UnavailableError
		if !errors.As(err, &ue) || ue.Hint == "" {
			t.Fatalf("probe error = %v", err)
		}
		t.Log(err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRealKeychainUnavailable$", "-test.v")
	cmd.Env = append(os.Environ(), "KEYRING_NO_BUS=1", "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "keychain unavailable") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func BenchmarkSecretsCached(b *testing.B) {
	s := realStore(b)
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("bench"), sampleSecrets("b")); err != nil {
		b.Fatal(err)
	}
	b.Run("AccessToken", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.AccessToken(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Secrets", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Secrets(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

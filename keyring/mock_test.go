package keyring

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// TestGoKeyringMock drives the real osKeychain code through go-keyring's own mock provider.
// MockInit replaces go-keyring's provider for the whole process, so the test runs in a child
// process and never disturbs the tests that use the real Secret Service.
func TestGoKeyringMock(t *testing.T) {
	t.Parallel()
	if os.Getenv("KEYRING_MOCK_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGoKeyringMock$", "-test.v")
		cmd.Env = append(os.Environ(), "KEYRING_MOCK_CHILD=1", "GORACE=atexit_sleep_ms=0")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS: TestGoKeyringMock") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	directRead = false // the mock replaces go-keyring only; a direct read would bypass it
	gokeyring.MockInit()
	ctx := context.Background()
	s, err := Open(Options{Service: "m365creds-test-mock", ConfigDir: t.TempDir(), Backend: BackendKeychain, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	sec := bigSecrets("mock")
	if err := s.Save(ctx, sampleProfile("m"), sec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Secrets(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	mustEqualSecrets(t, got, sec)
	e, _ := s.entry("m")
	if v, err := gokeyring.Get("m365creds-test-mock", account("m", itemRefreshToken, e.Generation)+"#6"); err != nil || v == "" {
		t.Errorf("the 10 KB refresh token should be stored as chunks #1..#6: %v", err)
	}
	if err := s.Delete(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if _, err := gokeyring.Get("m365creds-test-mock", account("m", itemRefreshToken, e.Generation)); !errors.Is(err, gokeyring.ErrNotFound) {
		t.Errorf("item still there after Delete: %v", err)
	}

	for cause, want := range map[error]error{
		gokeyring.ErrSetDataTooBig: ErrTooLarge,
		errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"): ErrUnavailable,
	} {
		gokeyring.MockInitWithError(cause)
		err := s.Save(ctx, sampleProfile("m"), sampleSecrets("x"))
		if !errors.Is(err, want) || !errors.Is(err, ErrUnavailable) {
			t.Errorf("go-keyring error %q became %v, want %v", cause, err, want)
		}
		if strings.Contains(err.Error(), "abc8Q~") {
			t.Errorf("secret in error: %v", err)
		}
	}
}

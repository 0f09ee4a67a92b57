package keyring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
)

// These tests use the real Secret Service (gnome-keyring in a private D-Bus session).

func realStore(t testing.TB) *Store {
	t.Helper()
	testkeychain.Require(t)
	s, err := Open(Options{Service: "m365creds-test-keychain", ConfigDir: t.TempDir(), Backend: BackendKeychain, Timeout: 10 * time.Second, SessionBus: os.Getenv("DBUS_SESSION_BUS_ADDRESS")})
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
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Fatal("secret-tool is needed to look into the keychain: apt-get install libsecret-tools")
	}
	out, _ := exec.Command("secret-tool", "search", "--all", "service", service).CombinedOutput()
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "[/") {
			n++
		}
	}
	return n
}

// noProviderBusConfig is a session bus that activates no services, so nothing provides
// org.freedesktop.secrets.
const noProviderBusConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// TestRealKeychainFaults puts a child process in each broken situation a user meets and
// checks that Probe and Save fail fast with the right reason and a next step, and that no
// secret reaches the message: no session bus at all, a bus address that leads nowhere, a bus
// without a Secret Service, and a Secret Service whose collection is locked.
func TestRealKeychainFaults(t *testing.T) {
	testkeychain.Require(t)
	if os.Getenv("KEYRING_FAULT_CHILD") != "" {
		faultChild(t)
		return
	}
	busConf := filepath.Join(t.TempDir(), "bus.conf")
	if err := os.WriteFile(busConf, []byte(noProviderBusConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	self := []string{os.Args[0], "-test.run=^TestRealKeychainFaults$", "-test.v"}
	for _, tc := range []struct {
		name, want string
		unsetBus   bool
		env        []string
		wrap       []string
	}{
		{name: "no session bus", want: "there is no D-Bus session", unsetBus: true},
		{name: "bus address leads nowhere", want: "cannot reach the D-Bus session bus", env: []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus"}},
		{name: "no Secret Service provider", want: "no Secret Service provider", unsetBus: true, wrap: []string{"dbus-run-session", "--config-file=" + busConf, "--"}},
		// A new bus activates gnome-keyring from its service file, with a fresh HOME and
		// nobody to type the password: the login collection stays locked.
		{name: "locked collection", want: "the login keyring is locked", unsetBus: true, wrap: []string{"dbus-run-session", "--"},
			env: []string{"HOME=" + t.TempDir(), "XDG_RUNTIME_DIR=" + t.TempDir(), "XDG_DATA_HOME=" + t.TempDir()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := append(append([]string{}, tc.wrap...), self...)
			cmd := exec.Command(argv[0], argv[1:]...)
			for _, kv := range os.Environ() {
				if tc.unsetBus && (strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") || strings.HasPrefix(kv, "GNOME_KEYRING_CONTROL=")) {
					continue
				}
				cmd.Env = append(cmd.Env, kv)
			}
			cmd.Env = append(cmd.Env, "KEYRING_FAULT_CHILD=1", "KEYRING_FAULT_DIR="+t.TempDir(), "GORACE=atexit_sleep_ms=0")
			cmd.Env = append(cmd.Env, tc.env...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "reason: "+tc.want) {
				t.Errorf("want reason %q, child said:\n%s", tc.want, out)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %v to report a broken keychain", d)
			}
		})
	}
}

// faultChild runs inside the broken environment the parent set up.
func faultChild(t *testing.T) {
	// A generous time-out for a slow machine: a keychain that never answers would give the
	// reason "did not answer", which the parent does not accept.
	s, err := Open(Options{Service: "m365creds-test-fault", ConfigDir: os.Getenv("KEYRING_FAULT_DIR"), Timeout: 20 * time.Second, SessionBus: os.Getenv("DBUS_SESSION_BUS_ADDRESS")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, op := range []struct {
		name string
		run  func() error
	}{
		{"probe", func() error { return s.Probe(ctx) }},
		{"save", func() error { return s.Save(ctx, sampleProfile("f"), sampleSecrets("leak")) }},
	} {
		err := op.run()
		var ue *UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnavailable) || ue.Hint == "" {
			t.Fatalf("%s: error = %v, want an UnavailableError with a hint", op.name, err)
		}
		if strings.Contains(err.Error(), "leak") {
			t.Errorf("%s: the error text contains the secret: %v", op.name, err)
		}
		fmt.Printf("%s: reason: %s\n%s: message: %v\n", op.name, ue.Reason, op.name, err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Errorf("a failed save left a profile: %v %v", list, err)
	}
}

// TestRealKeychainProcesses runs the multi-process cases on the real Secret Service: separate
// processes replacing one profile with 10 KB values, updating another with UpdateSecrets, and
// a process killed in the middle of a chunked save. Every profile must read back whole and
// the keychain must hold exactly the current generation's items.
func TestRealKeychainProcesses(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-procs"
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(Options{Service: service, ConfigDir: dir, Backend: BackendKeychain, Timeout: 10 * time.Second, SessionBus: os.Getenv("DBUS_SESSION_BUS_ADDRESS")})
	if err != nil {
		t.Fatal(err)
	}
	child := func(args ...string) *exec.Cmd {
		cmd := childCmd(dir, args...)
		cmd.Env = append(cmd.Env, "KEYRING_TEST_SERVICE="+service)
		return cmd
	}
	if err := s.Save(ctx, sampleProfile("shared"), Secrets{RefreshToken: "0"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if out, err := child("save-big", "big", strconv.Itoa(i), "2").CombinedOutput(); err != nil {
				t.Errorf("save-big: %v %s", err, out)
			}
		}()
		go func() {
			defer wg.Done()
			if out, err := child("increment-nolock", "3").CombinedOutput(); err != nil {
				t.Errorf("increment: %v %s", err, out)
			}
		}()
	}
	wg.Wait()
	sec, err := s.Secrets(ctx, "shared")
	if err != nil || sec.RefreshToken != "9" {
		t.Fatalf("counter = %q, %v; want 9", sec.RefreshToken, err)
	}
	big, err := s.Secrets(ctx, "big")
	if err != nil || len(big.RefreshToken) < 10*1024 {
		t.Fatalf("big profile: %d bytes, %v", len(big.RefreshToken), err)
	}
	// shared: 1 item; big: client secret, access token, refresh token header + 6 chunks.
	if n := secretToolCount(t, service); n != 10 {
		t.Errorf("%d items in the keychain, want 10", n)
	}

	// kill -9 in the middle of the refresh token's chunks, then before the switch.
	for _, at := range []string{"3", "before-commit"} {
		err := child("crash", "big", at).Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 137 {
			t.Fatalf("child did not crash at %s: %v", at, err)
		}
		got, err := s.Secrets(ctx, "big")
		if err != nil {
			t.Fatalf("after a crash at %s: %v", at, err)
		}
		mustEqualSecrets(t, got, big)
	}
	if err := s.Delete(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	if n := secretToolCount(t, service); n != 0 {
		t.Errorf("%d items left in the keychain after deleting every profile (crash leftovers included)", n)
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
	if err := s.Save(ctx, sampleProfile("bench-big"), bigSecrets("b")); err != nil {
		b.Fatal(err)
	}
	b.Run("Secrets10KB", func(b *testing.B) { // refresh token in 6 chunks
		for b.Loop() {
			if _, err := s.Secrets(ctx, "bench-big"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
)

// TestDemoReset removes every demo profile with its secrets and the demo's config file, says
// what it removed, leaves real profiles alone, and is a quiet success when there is nothing.
func TestDemoReset(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		r := h.run("", "demo", "--reset")
		if r.code != 0 || !strings.Contains(r.stderr, "Nothing to remove") {
			t.Fatalf("reset with nothing saved: exit %d\n%s", r.code, r.stderr)
		}

		ctx := context.Background()
		open := func(service string) *keyring.Store {
			s, err := keyring.Open(keyring.Options{Service: service, ConfigDir: h.dir, Backend: backend, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		demo, real := open(demoService), open(testService)
		const demoSecret = "dMo8Q~resetResetResetResetResetReset0000"
		for _, name := range []string{"demo", "demo-2"} {
			if err := demo.Save(ctx, keyring.Profile{Name: name, ClientID: webClientID}, keyring.Secrets{ClientSecret: demoSecret, RefreshToken: "rt-" + name}); err != nil {
				t.Fatal(err)
			}
		}
		if err := real.Save(ctx, keyring.Profile{Name: "demo", ClientID: webClientID}, keyring.Secrets{ClientSecret: testSecret}); err != nil {
			t.Fatal(err)
		}

		r = h.run("", "demo", "--reset")
		if r.code != 0 {
			t.Fatalf("reset: exit %d\n%s", r.code, r.stderr)
		}
		expectContains(t, "stderr", r.stderr, `profile "demo"`, `profile "demo-2"`, demoService, demo.Path())
		if _, err := os.Stat(demo.Path()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the demo's config file is still there: %v", err)
		}
		if list, err := open(demoService).List(); err != nil || len(list) != 0 {
			t.Errorf("demo profiles after reset: %v %v", list, err)
		}
		if sec, err := real.Secrets(ctx, "demo"); err != nil || sec.ClientSecret != testSecret {
			t.Errorf("reset touched the real profile of the same name: %v", err)
		}
		// The demo's secrets are gone from where they were kept, not just unlisted.
		switch backend {
		case keyring.BackendFile:
			raw, err := os.ReadFile(filepath.Join(h.dir, "secrets-"+demoService+".json"))
			if err != nil || strings.Contains(string(raw), demoSecret) {
				t.Errorf("the demo secret is still in the secrets file (%v)", err)
			}
		case keyring.BackendMemory:
			t.Fatal("the command line never opens a memory store for --reset")
		case keyring.BackendKeychain:
			if _, err := exec.LookPath("secret-tool"); err != nil {
				t.Log("secret-tool is not installed: the keychain items are not looked at")
				break
			}
			out, _ := exec.Command("secret-tool", "search", "--all", "service", demoService).CombinedOutput()
			if strings.Contains(string(out), "demo") {
				t.Errorf("keychain items of the demo service are left:\n%s", out)
			}
		}

		r = h.run("", "demo", "--reset")
		if r.code != 0 || !strings.Contains(r.stderr, "Nothing to remove") {
			t.Errorf("a second reset: exit %d\n%s", r.code, r.stderr)
		}
	})
}

// TestDemoResetTakesNoArguments keeps --reset from swallowing a mistyped argument.
func TestDemoResetTakesNoArguments(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	if r := h.run("", "demo", "--reset", "work"); r.code != ExitUsage {
		t.Errorf("demo --reset work: exit %d, want %d\n%s", r.code, ExitUsage, r.stderr)
	}
}

// TestDemoWithoutConfigDirectory: with no HOME (a bare container) the demo still opens a
// store, in memory, and says why; the temporary directory it uses goes with done.
func TestDemoWithoutConfigDirectory(t *testing.T) {
	t.Parallel()
	nothing := func(string) string { return "" } // no HOME, no XDG_CONFIG_HOME, no M365CREDS_CONFIG_DIR
	a := &app{ctx: context.Background(), env: Env{Getenv: nothing}}
	store, noKeychain, done, err := a.openDemoStore()
	if err != nil {
		t.Fatal(err)
	}
	if !store.InMemory() || noKeychain == nil || !strings.Contains(noKeychain.Error(), "no config directory") {
		t.Fatalf("in memory %v, reason %v", store.InMemory(), noKeychain)
	}
	done()
	if _, err := os.Stat(filepath.Dir(store.Path())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary directory is still there: %v", err)
	}
}

// TestDemoOpensOnlyTheSimulator: the demo's "open" keys never send the user to the real
// Azure portal, whose pages have nothing of the demo; the simulator's pages still open.
func TestDemoOpensOnlyTheSimulator(t *testing.T) {
	t.Parallel()
	var opened []string
	a := &app{ctx: context.Background(), env: Env{Getenv: func(string) string { return "" },
		OpenBrowser: func(u string) error { opened = append(opened, u); return nil }}}
	engine := a.demoEngine(nil, "http://127.0.0.1:8400")
	if err := engine.OpenBrowser("https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"); !errors.Is(err, errDemoPortal) {
		t.Errorf("the real portal: %v", err)
	}
	if err := engine.OpenBrowser("http://127.0.0.1:8400/tenant/oauth2/v2.0/authorize?x=1"); err != nil {
		t.Errorf("the simulator: %v", err)
	}
	if len(opened) != 1 || !strings.HasPrefix(opened[0], "http://127.0.0.1:8400/") {
		t.Errorf("opened %v", opened)
	}
}

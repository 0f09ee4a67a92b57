package testkeychain

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// TestSessionIsPrivateAndWorks proves the re-run happened: a throw-away HOME, a session bus,
// and a Secret Service that stores and returns an item.
func TestSessionIsPrivateAndWorks(t *testing.T) {
	t.Parallel()
	Require(t)
	if !strings.Contains(os.Getenv("HOME"), "m365creds-keychain-") {
		t.Fatalf("HOME %q is not the throw-away one", os.Getenv("HOME"))
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no session bus")
	}
	store := exec.Command("secret-tool", "store", "--label=probe", "service", "testkeychain", "username", "probe")
	store.Stdin = strings.NewReader("value-123")
	if out, err := store.CombinedOutput(); err != nil {
		t.Skipf("secret-tool unavailable: %v %s", err, out)
	}
	out, err := exec.Command("secret-tool", "lookup", "service", "testkeychain", "username", "probe").Output()
	if err != nil || strings.TrimSpace(string(out)) != "value-123" {
		t.Fatalf("lookup = %q, %v", out, err)
	}
}

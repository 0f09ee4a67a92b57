package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// TestNoSecretInGoldens reads every golden file: none may hold the demo secret's Value or a
// token or code the simulator issued. The golden tests run full sign-ins, so a screen that
// leaked one would put it here.
func TestNoSecretInGoldens(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil || len(files) < 20 {
		t.Fatalf("expected the golden files, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{simulator.DemoSecretValue, "sim-rt.", "sim-at.", "sim-code."} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s contains %q", f, secret)
			}
		}
	}
}

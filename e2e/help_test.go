package e2e

import (
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// TestHelpOnEveryStep opens the help on every step of a real walk, with ? where it is not
// text and f1 in text fields, checks it shows the step's own text from assets/help, and
// closes it again.
func TestHelpOnEveryStep(t *testing.T) {
	w := newWorld(t, nil)
	tm := w.wizard("--no-browser")
	help := func(key, about string) {
		t.Helper()
		tm.keys(key)
		tm.waitFor(`About this step`, 5*time.Second)
		tm.waitFor(about, 5*time.Second)
		tm.keys("Escape") // any key closes it
		tm.waitForGone(`About this step`, 5*time.Second)
	}
	tm.waitFor(`Who will sign in`, 10*time.Second)
	help("F1", `names the profile and decides who signs in`)
	tm.keys("Down", "C-u") // from the first question to the profile name
	tm.typeText("e2e")
	tm.keys("Enter")
	tm.waitFor(`Register the app`, 5*time.Second)
	help("?", `This step happens in the Azure portal`)
	tm.keys("Enter")
	tm.waitFor(`Copy the IDs`, 5*time.Second)
	help("F1", `Essentials box`)
	enterIDs(tm)
	tm.waitFor(`paste its Value`, 5*time.Second)
	help("F1", `Certificates & secrets`)
	tm.paste(simulator.DemoSecretValue)
	tm.keys("Enter")
	tm.waitFor(`Choose the Microsoft Graph permissions`, 5*time.Second)
	help("F1", `the fewer, the safer`)
	tm.keys("Enter")
	tm.waitFor(`API permissions ›`, 5*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Waiting`, 10*time.Second)
	help("?", `signs in once, so that you`)
	tm.keys("C-c")
	tm.waitFor(`Quit\? Your answers are kept`, 5*time.Second)
	tm.keys("y")
	if code := tm.exitCode(10 * time.Second); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
}

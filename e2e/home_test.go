package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// TestHomeScreenVerifyRotateDelete drives the home screen of the real binary: verify shows
// its result there, rotate runs the wizard in the same program and comes back, delete asks
// first, and q quits with exit 0. Every step is checked against the simulator or the store.
func TestHomeScreenVerifyRotateDelete(t *testing.T) {
	const newSecret = "hOm3Q~r0tat3dFr0mTh3H0m3Scr33nValu3Xy12"
	w := newWorld(t, func(a *simulator.App) {
		a.Secrets = append(a.Secrets, simulator.Secret{ID: "6c8e0a2b-4d6f-4b1a-9c3e-5f7a9b1d3e5f", Value: newSecret})
	})
	setup := w.wizard()
	w.walkToConsent(setup, simulator.DemoSecretValue)
	setup.saveAndQuit(20*time.Second, `Saved profile e2e`)

	tm := startTerm(t, w.env, binary(t))
	screen := tm.waitFor(`Your profiles`, 10*time.Second)
	if !strings.Contains(screen, "✓ ok") {
		t.Errorf("a fresh profile is not ok:\n%s", screen)
	}

	// Verify: a fresh token and Graph /me, shown on screen.
	refreshes := w.sim.Count("token", "refresh_token")
	tm.keys("v")
	screen = tm.waitFor(`Profile e2e works`, 15*time.Second)
	if !strings.Contains(screen, "Signed-in account") {
		t.Errorf("verify does not show the account:\n%s", screen)
	}
	if w.sim.Count("token", "refresh_token") != refreshes+1 {
		t.Error("verify did not ask Microsoft for a fresh token")
	}
	tm.keys("Escape")
	tm.waitFor(`LAST USED`, 5*time.Second)

	// Rotate in place: the wizard's secret step, the proof, the save, and back to the list.
	tm.keys("r")
	tm.waitFor(`Add a new client secret`, 10*time.Second)
	tm.paste(newSecret)
	tm.keys("Enter")
	tm.waitFor(`The new secret works`, 15*time.Second)
	tm.keys("Enter")
	tm.waitFor(`OLD secret`, 10*time.Second)
	tm.keys("Enter")
	tm.waitFor(`Rotated the secret of e2e`, 10*time.Second)
	w.sim.ExpireSecret(simulator.DemoClientID, simulator.DemoSecretValue)
	if _, stderr, code := run(t, w.env, "", "verify", "e2e"); code != 0 {
		t.Fatalf("verify with the rotated secret: exit %d: %s", code, stderr)
	}

	// Delete asks; n keeps, y deletes.
	tm.keys("d")
	tm.waitFor(`Delete profile e2e\?`, 5*time.Second)
	tm.keys("n")
	tm.waitFor(`Kept profile e2e`, 5*time.Second)
	tm.keys("d")
	tm.waitFor(`Delete profile e2e\?`, 5*time.Second)
	tm.keys("y")
	tm.waitFor(`Deleted profile e2e`, 10*time.Second)
	tm.waitFor(`No profiles left`, 10*time.Second)
	tm.keys("q")
	if code := tm.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("home screen exit %d:\n%s", code, tm.screen())
	}
	if out, _ := w.status(); strings.Contains(out, "e2e") {
		t.Fatalf("the profile is still there:\n%s", out)
	}
}

package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

const rotatedSecret = "abc8Q~NEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWN"

// TestRotateSurvivesGoingBack proves a new secret, goes back to the secret step and proves it
// again. The first proof swaps the secret in at once (with the refresh token it received), so
// the second proves the same secret again and saves what changed.
func TestRotateSurvivesGoingBack(t *testing.T) {
	t.Parallel()
	sim(t, func(a *simulator.App) {
		a.Secrets = append(a.Secrets, simulator.Secret{ID: "22222222-2222-2222-2222-222222222222", Value: rotatedSecret, Expires: time.Now().AddDate(1, 0, 0)})
	})
	dir := fixedDir(t, "m365creds-tui-rotate")
	store := fileStore(t, dir)
	first := consentAt(t, readyDraft(), Options{NoBrowser: true, Engine: &creds.Service{Store: store}, Demo: &Demo{SimulateBrowser: browser()}})
	first.waitFor("Waiting")
	first.send("s")
	first.waitFor("Press enter to save")
	first.send("enter")
	first.waitFor("Saved profile")
	first.final()

	p, err := store.Profile("work")
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := store.Secrets(t.Context(), "work")
	d := steps.FromProfile(p, sec)
	d.ClientSecret, d.Port = rotatedSecret, testport.Free()
	h := start(t, Options{Draft: d, Mode: steps.ModeRotate, Engine: &creds.Service{Store: store}})
	h.waitFor("Secret Value")
	h.send("enter")
	h.waitFor("Press enter to continue")
	h.send("esc") // back to the secret step, to fix the expiry say
	h.waitFor("Secret Value")
	h.send("enter")
	screen := h.waitFor("Press enter")
	if !strings.Contains(screen, "Press enter to continue") {
		t.Fatalf("the second proof failed:\n%s", screen)
	}
	h.send("enter")
	h.waitFor("OLD secret")
	h.final()
	saved, _ := store.Secrets(t.Context(), "work")
	if saved.ClientSecret != rotatedSecret || saved.RefreshToken == "" {
		t.Fatal("the new secret and a refresh token must be saved")
	}
}

// TestAdminConsentLinkCanBeCopied: when Microsoft says an administrator must consent, the
// admin consent link (too long to copy off the screen whole) is one key away.
func TestAdminConsentLinkCanBeCopied(t *testing.T) {
	t.Parallel()
	s := sim(t, func(a *simulator.App) { a.AdminOnlyScopes = []string{"Directory.Read.All"} })
	s.SetUserAdmin(simulator.DemoUPN, false)
	d := readyDraft()
	d.Scopes = append(d.Scopes, "Directory.Read.All")
	h := consentAt(t, d, Options{NoBrowser: true, Demo: &Demo{SimulateBrowser: browser()}})
	h.waitFor("Waiting")
	h.send("s")
	h.waitFor("90094")
	h.send("c")
	screen := h.waitFor("Copied the admin consent link")
	if !strings.Contains(screen, "c copy admin consent link") {
		t.Errorf("the key line does not offer the copy:\n%s", screen)
	}
	h.final()
}

package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
	"github.com/m365creds/m365creds/tui/launch"
)

// secretMarkers are what no golden file may hold: the demo secret's Value and the prefixes of
// the tokens and codes the simulator issues.
var secretMarkers = []string{simulator.DemoSecretValue, "sim-rt.", "sim-at.", "sim-code."}

// TestNoSecretInGoldens reads every golden file: none may hold a secret. The golden tests run
// full sign-ins, so a screen that leaked one would put it here.
func TestNoSecretInGoldens(t *testing.T) {
	t.Parallel()
	files := goldenFiles(t)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range secretMarkers {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s contains %q", f, secret)
			}
		}
	}
}

// TestGoldensFit checks every golden file against the terminal it was drawn for: 80x24, or
// 120x40 for the ones named Wide.
func TestGoldensFit(t *testing.T) {
	t.Parallel()
	for _, f := range goldenFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, h := 80, 24
		if strings.Contains(f, "Wide") {
			w, h = 120, 40
		}
		if m := sizeRE.FindStringSubmatch(f); m != nil { // …/100x30-colour.golden, …/100x30/colour.golden
			w, _ = strconv.Atoi(m[1])
			h, _ = strconv.Atoi(m[2])
		}
		checkFits(t, f, string(raw), w, h)
	}
}

// sizeRE reads the terminal size from a golden file's name.
var sizeRE = regexp.MustCompile(`/(\d+)x(\d+)(?:[-_/.]|$)`)

func goldenFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil || len(files) < 30 {
		t.Fatalf("expected the golden files, found %d (%v)", len(files), err)
	}
	// The screens drawn at several sizes and colour settings are a level or two down.
	for _, pattern := range []string{"*/*/*.golden", "*/*.golden"} {
		more, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, more...)
	}
	return files
}

// TestWholeWalkDemo walks the demo from the first screen to the saved profile with the keys a
// user would press, then checks that neither the secret nor any token was drawn after the
// secret step, on screen or in the bytes written to the terminal.
func TestWholeWalkDemo(t *testing.T) {
	t.Parallel()
	sim(t, nil)
	store := fileStore(t, t.TempDir())
	d := steps.NewDraft()
	d.Port = testport.Free()
	demo := &Demo{ClientID: simulator.DemoClientID, TenantID: simulator.DemoTenantID,
		SecretValue: simulator.DemoSecretValue, SecretID: simulator.DemoSecretID, SimulateBrowser: browser()}
	h := start(t, Options{Draft: d, Engine: &creds.Service{Store: store}, Demo: demo, NoBrowser: true})
	h.waitFor("Who will sign in")
	h.send("down") // from the first question to the profile name
	h.send("backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	h.typeText("walk")
	h.send("enter")
	h.waitFor("Register the app")
	for range 7 {
		h.send("space")
	}
	h.send("enter")
	h.waitFor("Copy the IDs")
	h.paste(simulator.DemoClientID)
	h.send("tab")
	h.paste(simulator.DemoTenantID)
	h.send("enter")
	h.waitFor("Create a client secret")
	h.paste(simulator.DemoSecretValue)
	h.waitFor("current Entra ID secret")
	h.send("enter")
	h.waitFor("Choose the Microsoft Graph permissions")
	h.seen = nil // from here on, no screen may show the secret
	h.send("2", "enter")
	h.waitFor("API permissions ›")
	h.send("enter")
	h.waitFor("Waiting…")
	h.send("s")
	h.waitFor("Press enter to save")
	h.send("enter")
	h.waitFor("Saved profile walk")
	h.send("enter")
	m := h.tm.FinalModel(t, teatestTimeout).(Model)
	m.stopAll()

	if m.s.result.Saved == nil || m.s.result.Saved.Name != "walk" {
		t.Fatalf("result %+v", m.s.result)
	}
	sec, err := store.Secrets(t.Context(), "walk")
	if err != nil || sec.RefreshToken == "" || sec.ClientSecret != simulator.DemoSecretValue {
		t.Fatalf("saved secrets: %v", err)
	}
	p, err := store.Profile("walk")
	if err != nil || !p.SecretExpires.Equal(frozen.AddDate(0, 0, 180)) || !contains(p.RequestedScopes, "Mail.Read") {
		t.Fatalf("saved profile %+v, %v", p, err)
	}
	forbidden := []string{simulator.DemoSecretValue, sec.RefreshToken, sec.AccessToken}
	for _, screen := range h.seen {
		for _, f := range forbidden {
			if strings.Contains(screen, f) {
				t.Fatalf("a screen after the secret step shows a secret:\n%s", screen)
			}
		}
	}
	out, err := io.ReadAll(h.tm.FinalOutput(t))
	if err != nil {
		t.Fatal(err)
	}
	// The secret was pasted masked, so its Value reaches the terminal only in the demo box
	// that plays the portal, before it is entered; tokens never do.
	for _, f := range forbidden[1:] {
		if bytes.Contains(out, []byte(f)) {
			t.Fatal("a token was written to the terminal")
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRunInterrupted runs the program the way the command line does: ctrl+c ends it with
// launch.ErrInterrupted and nothing saved.
func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	store := fileStore(t, t.TempDir())
	d := readyDraft()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	in := strings.NewReader("\x03")
	res, err := Run(ctx, Options{Draft: d, Engine: &creds.Service{Store: store}, Mode: steps.ModeReconsent}, in, io.Discard)
	if !errors.Is(err, launch.ErrInterrupted) {
		t.Fatalf("Run returned %v, want launch.ErrInterrupted", err)
	}
	if res.Saved != nil {
		t.Fatal("an interrupted run reports a saved profile")
	}
	if list, _ := store.List(); len(list) != 0 {
		t.Fatalf("an interrupted run saved %v", list)
	}
}

package tui

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

var frozen = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

var teatestTimeout = teatest.WithFinalTimeout(10 * time.Second)

// harness runs the real program (teatest) in a fixed-size terminal and lets a test wait for
// screens.
type harness struct {
	t             *testing.T
	tm            *teatest.TestModel
	frames        chan string
	last          string
	seen          []string // every screen since the last mark
	width, height int
}

func start(t *testing.T, opts Options) *harness {
	t.Helper()
	return startSized(t, opts, 80, 24)
}

// startSized runs the program in a terminal of width x height.
func startSized(t *testing.T, opts Options, width, height int) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return frozen }
	}
	if opts.Engine == nil {
		opts.Engine = &creds.Service{}
	}
	if ep, ok := simFor.Load(t); ok && opts.Engine.Endpoints.IsZero() {
		opts.Engine.Endpoints = ep.(oauth.Endpoints)
	}
	m := New(opts)
	frames := make(chan string, 4096)
	m.s.frames = frames
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	h := &harness{t: t, tm: tm, frames: frames, width: width, height: height}
	t.Cleanup(func() { _ = tm.Quit() })
	return h
}

// send delivers keys: names like "enter", "tab", "shift+tab", "esc", "space", "up", "down",
// "backspace", "ctrl+r", or single characters.
func (h *harness) send(keys ...string) {
	for _, k := range keys {
		h.tm.Send(keyMsg(k))
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
	case "ctrl+y":
		return tea.KeyPressMsg{Code: 'y', Mod: tea.ModCtrl}
	case "f1":
		return tea.KeyPressMsg{Code: tea.KeyF1}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func (h *harness) typeText(s string) { h.tm.Type(s) }

func (h *harness) paste(s string) { h.tm.Send(tea.PasteMsg{Content: s}) }

// waitFor waits until a screen contains want and returns it.
func (h *harness) waitFor(want string) string {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if strings.Contains(h.last, want) {
			return h.last
		}
		select {
		case f := <-h.frames:
			h.last = f
			h.seen = append(h.seen, f)
		case <-deadline:
			h.t.Fatalf("no screen showed %q; last screen:\n%s", want, h.last)
		}
	}
}

// final ends the program and returns the last screen, checked to fit the terminal. Spinner
// frames depend on timing, so every frame is drawn as the first one.
func (h *harness) final() (Model, string) {
	h.t.Helper()
	if err := h.tm.Quit(); err != nil {
		h.t.Fatal(err)
	}
	m := h.tm.FinalModel(h.t, teatestTimeout).(Model)
	screen := stablePaths(h.t, normalise(m.View().Content))
	h.t.Cleanup(m.stopAll)
	checkFits(h.t, "final screen", screen, h.width, h.height)
	return m, screen
}

// normalise removes colour and trailing blanks and freezes the spinner.
func normalise(content string) string {
	return spinnerRE.ReplaceAllString(stripTrailing(ansi.Strip(content)), "⠋")
}

// spinnerRE matches the frames of the braille spinner.
var spinnerRE = regexp.MustCompile(`[\x{2800}-\x{28FF}]`)

// checkFits fails the test when screen is taller or wider than the terminal.
func checkFits(t *testing.T, what, screen string, width, height int) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	if len(lines) > height {
		t.Errorf("%s has %d lines, more than %d", what, len(lines), height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("%s: line %d is %d cells wide, more than %d: %q", what, i+1, w, width, l)
		}
	}
}

// golden compares the final screen with testdata/<test>.golden after replacing what changes
// between runs (random state, ports, temporary paths), given as old, new pairs.
func (h *harness) golden(replace ...string) Model {
	h.t.Helper()
	m, screen := h.final()
	for i := 0; i+1 < len(replace); i += 2 {
		screen = strings.ReplaceAll(screen, replace[i], replace[i+1])
	}
	screen = volatileRE.ReplaceAllString(screen, "${1}<varies>")
	golden.RequireEqual(h.t, []byte(screen+"\n"))
	return m
}

// volatileRE finds what Microsoft (and the simulator) vary on every answer.
var volatileRE = regexp.MustCompile(`(Trace ID: |Correlation ID: |Timestamp: )([0-9a-fTZ:. -]+)`)

func stripTrailing(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// sim starts the Microsoft simulator with the demo app and points oauth at it.
func sim(t *testing.T, edit func(*simulator.App)) *simulator.Sim {
	t.Helper()
	app := simulator.DemoApp()
	if edit != nil {
		edit(&app)
	}
	s := simulator.New([]simulator.App{app}, nil)
	s.SetDeviceInterval(0)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	simFor.Store(t, oauth.Endpoints{Login: base, Graph: base})
	t.Cleanup(func() { simFor.Delete(t) })
	return s
}

// simBase is the base URL of the simulator the test started.
func simBase(t *testing.T) string {
	t.Helper()
	ep, ok := simFor.Load(t)
	if !ok {
		t.Fatal("no simulator was started for this test")
	}
	return ep.(oauth.Endpoints).Login
}

// simFor holds, per test, the endpoints of the simulator sim started, for the wizard the test
// starts: tests run in parallel, so none changes the process environment.
var simFor sync.Map

// fileStore opens a profile store that keeps secrets in a file under dir.
func fileStore(t *testing.T, dir string) *keyring.Store {
	t.Helper()
	st, err := keyring.Open(keyring.Options{Service: "m365creds-test-tui", ConfigDir: dir, Backend: keyring.BackendFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// readyDraft is a draft filled with the demo app's values, as if the user had typed them.
func readyDraft() steps.Draft {
	d := steps.NewDraft()
	d.Profile = "work"
	d.ClientID = simulator.DemoClientID
	d.TenantID = simulator.DemoTenantID
	d.ClientSecret = simulator.DemoSecretValue
	d.SecretExpires = frozen.AddDate(0, 6, 0)
	d.Port = testport.Free()
	return d
}

// browser plays a consenting user's browser: it loads the sign-in address and follows the
// redirect to the loopback listener.
func browser() func(string) error {
	return func(u string) error {
		hc := &http.Client{Timeout: 10 * time.Second}
		resp, err := hc.Get(u)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("browser ended on %s", resp.Status)
		}
		return nil
	}
}

// remoteBrowser plays a browser on another machine: it signs in, but the redirect to
// localhost goes nowhere, so it returns the address the browser's address bar would show.
func remoteBrowser(t *testing.T, u string) string {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		t.Fatalf("authorize answered %s without a redirect", resp.Status)
	}
	return loc
}

func TestMain(m *testing.M) {
	// The goldens are drawn without colour and as on a local machine.
	_ = os.Unsetenv("NO_COLOR")
	_ = os.Unsetenv("SSH_CONNECTION")
	_ = os.Unsetenv("SSH_TTY")
	_ = os.Setenv("BROWSER", "false") // no test ever opens a real browser
	os.Exit(m.Run())
}

package tui

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

var frozen = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// harness runs the real program (teatest) at 80x24 and lets a test wait for screens.
type harness struct {
	t      *testing.T
	tm     *teatest.TestModel
	frames chan string
	last   string
}

func start(t *testing.T, opts Options) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return frozen }
	}
	m := New(opts)
	frames := make(chan string, 1024)
	m.s.frames = frames
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	h := &harness{t: t, tm: tm, frames: frames}
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
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
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
		case <-deadline:
			h.t.Fatalf("no screen showed %q; last screen:\n%s", want, h.last)
		}
	}
}

// final ends the program and returns the last screen, checked to fit 80x24.
func (h *harness) final() (Model, string) {
	h.t.Helper()
	if err := h.tm.Quit(); err != nil {
		h.t.Fatal(err)
	}
	m := h.tm.FinalModel(h.t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	return m, h.checkSize(ansiStrip(m.View().Content))
}

// goldenFrame compares the last screen seen, leaving the program running.
func (h *harness) goldenFrame() {
	h.t.Helper()
	screen := volatileRE.ReplaceAllString(h.checkSize(h.last), "${1}<varies>")
	golden.RequireEqual(h.t, []byte(screen+"\n"))
}

func (h *harness) checkSize(raw string) string {
	h.t.Helper()
	screen := stripTrailing(raw)
	lines := strings.Split(screen, "\n")
	if len(lines) > 24 {
		h.t.Errorf("screen has %d lines, more than 24", len(lines))
	}
	for i, l := range lines {
		if w := len([]rune(l)); w > 80 {
			h.t.Errorf("line %d is %d cells wide, more than 80: %q", i+1, w, l)
		}
	}
	return screen
}

// golden compares the final screen with testdata/<test>.golden after replacing what changes
// between runs (random state, ports, temporary paths).
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

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)`)

func ansiStrip(s string) string { return ansiRE.ReplaceAllString(s, "") }

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
	t.Setenv(oauth.EnvLoginURL, base)
	t.Setenv(oauth.EnvGraphURL, base)
	return s
}

func fileStore(t *testing.T) *keyring.Store {
	t.Helper()
	st, err := keyring.Open(keyring.Options{Service: "m365creds-test-tui", ConfigDir: t.TempDir(), Backend: keyring.BackendFile, Timeout: 5 * time.Second})
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
	d.Port = freePort(nil)
	return d
}

// freePort finds a loopback port nobody listens on, so parallel tests do not collide.
func freePort(t *testing.T) int {
	lb, err := oauth.ListenLoopback(0)
	if err != nil {
		panic(err)
	}
	p := lb.Port()
	lb.Close()
	return p
}

// browser plays a consenting user's browser: it loads the sign-in address and follows the
// redirect to the loopback listener.
func browser(t *testing.T) func(string) error {
	return func(u string) error {
		hc := &http.Client{Timeout: 10 * time.Second}
		resp, err := hc.Get(u) //nolint:noctx // test helper
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("browser ended on %s", resp.Status)
		}
		return nil
	}
}

func TestMain(m *testing.M) {
	os.Setenv("NO_COLOR", "")
	os.Unsetenv("SSH_CONNECTION")
	os.Unsetenv("SSH_TTY")
	os.Exit(m.Run())
}

var _ = context.Background

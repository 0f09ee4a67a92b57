package tui

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

// runCmds runs cmd the way the program would, batches and sequences included, and returns
// the messages in order. Commands that do not answer at once (ticks, blinks) are left out.
func runCmds(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(2 * time.Second):
		return nil
	}
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, runCmds(c)...)
		}
		return out
	}
	// tea.Sequence's message is an unexported []tea.Cmd.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeFor[tea.Cmd]() {
		var out []tea.Msg
		for i := range v.Len() {
			out = append(out, runCmds(v.Index(i).Interface().(tea.Cmd))...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// pressAll is press, also running the commands it returns; it reports whether they end the
// program with an interrupt (exit 130 on the command line).
func pressAll(t *testing.T, m Model, k string) (interrupted bool) {
	t.Helper()
	_, cmd := m.Update(keyMsg(k))
	for _, msg := range runCmds(cmd) {
		switch msg.(type) {
		case tea.InterruptMsg:
			interrupted = true
		case nextMsg, backMsg, jumpMsg, statusMsg, draftKeptMsg:
			feed(m, msg)
		}
	}
	return interrupted
}

// draftEngine is an engine whose store keeps secrets in a file under a fresh directory.
func draftEngine(t *testing.T) *creds.Service {
	t.Helper()
	return &creds.Service{Store: fileStore(t, t.TempDir())}
}

// portalDraft is a new-profile draft with the IDs already filled in, and no secret.
func portalDraft() steps.Draft {
	d := steps.NewDraft()
	d.Profile = "contoso"
	d.ClientID = simulator.DemoClientID
	d.TenantID = simulator.DemoTenantID
	return d
}

func TestQuitAtOnceWhenNothingIsEntered(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"ctrl+c", "esc"} {
		engine := draftEngine(t)
		m := newModel(t, Options{Draft: steps.NewDraft(), Engine: engine})
		if !pressAll(t, m, k) {
			t.Fatalf("%s with nothing entered did not quit at once", k)
		}
		if _, err := os.Stat(engine.Store.DraftPath()); !os.IsNotExist(err) {
			t.Fatalf("%s kept a draft of nothing: %v", k, err)
		}
	}
}

func TestQuitAsksOnceSomethingIsEntered(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft(), Engine: draftEngine(t)})
	press(t, m, "down")
	press(t, m, "x") // into the profile name
	if pressAll(t, m, "ctrl+c") {
		t.Fatal("ctrl+c quit without asking although a field was changed")
	}
	if s := ansi.Strip(m.View().Content); !strings.Contains(s, "Quit? Your answers are kept and you can resume: y quit / n stay") {
		t.Fatalf("no quit question:\n%s", s)
	}
	if pressAll(t, m, "n") || m.s.asking || m.s.c.wiz.Current() != steps.Account {
		t.Fatal("n must keep the wizard where it was")
	}
	if pressAll(t, m, "esc") || !m.s.asking {
		t.Fatal("esc on the first step must ask, too")
	}
	if pressAll(t, m, "esc") || m.s.asking {
		t.Fatal("esc answers the question with stay")
	}
	if m.s.c.wiz.Draft.Profile != "defaultx" {
		t.Fatalf("the question changed the draft: %q", m.s.c.wiz.Draft.Profile)
	}
	pressAll(t, m, "ctrl+c")
	if !pressAll(t, m, "ctrl+c") {
		t.Fatal("a second ctrl+c while asking must quit")
	}
}

// TestMovingOnCountsAsEntered: past the first step, ctrl+c asks even with every default kept.
func TestMovingOnCountsAsEntered(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft(), Engine: draftEngine(t)})
	press(t, m, "enter")
	if pressAll(t, m, "ctrl+c") || !m.s.asking {
		t.Fatal("ctrl+c on the second step quit without asking")
	}
}

// quitAtSecret walks to the secret step, pastes the Value, and quits with ctrl+c, y. It
// returns the engine holding the kept draft.
func quitAtSecret(t *testing.T) *creds.Service {
	t.Helper()
	engine := draftEngine(t)
	m := newModel(t, Options{Draft: portalDraft(), Engine: engine})
	press(t, m, "enter")
	press(t, m, "enter")
	press(t, m, "enter")
	if m.s.c.wiz.Current() != steps.Secret {
		t.Fatalf("at %v, want Secret", m.s.c.wiz.Current())
	}
	feed(m, tea.PasteMsg{Content: simulator.DemoSecretValue})
	pressAll(t, m, "ctrl+c")
	if !pressAll(t, m, "y") {
		t.Fatal("y did not quit")
	}
	return engine
}

// TestQuitKeepsTheDraftAndTheSecretApart: the draft file is 0600 and never holds the secret;
// the secret is in the store's keychain as the draft item.
func TestQuitKeepsTheDraftAndTheSecretApart(t *testing.T) {
	t.Parallel()
	engine := quitAtSecret(t)
	path := engine.Store.DraftPath()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no draft kept: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("draft file mode %v", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), simulator.DemoSecretValue) {
		t.Fatalf("the draft file holds the secret:\n%s", raw)
	}
	if !strings.Contains(string(raw), `"step": "Secret"`) || !strings.Contains(string(raw), simulator.DemoClientID) {
		t.Fatalf("the draft file lacks the step or the IDs:\n%s", raw)
	}
	if got, err := engine.Store.DraftSecret(t.Context()); err != nil || got != simulator.DemoSecretValue {
		t.Fatalf("the keychain's draft item: found %v (%v)", got != "", err)
	}
}

// TestResumeRestoresEveryFieldAndTheSecret: the next run asks, and resuming puts the user
// back at the secret step with the secret in the draft, never on screen.
func TestResumeRestoresEveryFieldAndTheSecret(t *testing.T) {
	t.Parallel()
	engine := quitAtSecret(t)
	kept, err := engine.LoadDraft(t.Context())
	if err != nil || kept == nil {
		t.Fatalf("LoadDraft: %v, %v", kept, err)
	}
	m := newModel(t, Options{Draft: steps.NewDraft(), Engine: engine, Resume: kept})
	screen := ansi.Strip(m.View().Content)
	if !strings.Contains(screen, "You were at step 4 (Secret) for profile contoso — resume?") {
		t.Fatalf("no resume question:\n%s", screen)
	}
	press(t, m, "enter")
	d := m.s.c.wiz.Draft
	if m.s.c.wiz.Current() != steps.Secret || d.Profile != "contoso" || d.ClientID != simulator.DemoClientID ||
		d.TenantID != simulator.DemoTenantID || d.ClientSecret != simulator.DemoSecretValue || d.SecretExpires.IsZero() {
		t.Fatalf("resumed at %v with %+v", m.s.c.wiz.Current(), d)
	}
	if s := m.View().Content; strings.Contains(s, simulator.DemoSecretValue) || !strings.Contains(s, "secret entered") {
		t.Fatalf("the secret screen after resuming:\n%s", ansi.Strip(s))
	}
	press(t, m, "enter")
	if m.s.c.wiz.Current() != steps.Permissions {
		t.Fatalf("the restored secret was not accepted: at %v, %s", m.s.c.wiz.Current(), m.s.c.status)
	}
}

// TestStartOverDiscardsTheDraft: n removes the file and the keychain item.
func TestStartOverDiscardsTheDraft(t *testing.T) {
	t.Parallel()
	engine := quitAtSecret(t)
	kept, _ := engine.LoadDraft(t.Context())
	m := newModel(t, Options{Draft: steps.NewDraft(), Engine: engine, Resume: kept})
	pressAll(t, m, "n")
	if m.s.resume != nil || m.s.c.wiz.Current() != steps.Account || m.s.c.wiz.Draft.ClientID != "" {
		t.Fatalf("start over is at %v with %+v", m.s.c.wiz.Current(), m.s.c.wiz.Draft)
	}
	assertNoDraft(t, engine)
}

// TestSavedProfileRemovesTheDraft: once the profile is saved, ending the program leaves no
// draft behind.
func TestSavedProfileRemovesTheDraft(t *testing.T) {
	t.Parallel()
	engine := quitAtSecret(t)
	kept, _ := engine.LoadDraft(t.Context())
	m := New(Options{Draft: steps.NewDraft(), Engine: engine, Resume: kept, Now: func() time.Time { return frozen }})
	press(t, m, "enter")
	m.s.c.wiz.Draft.Saved = true // what the Save screen sets once the store has the profile
	m.stopAll()
	assertNoDraft(t, engine)
}

func assertNoDraft(t *testing.T, engine *creds.Service) {
	t.Helper()
	if _, err := os.Stat(engine.Store.DraftPath()); !os.IsNotExist(err) {
		t.Errorf("the draft file is still there: %v", err)
	}
	if got, err := engine.Store.DraftSecret(t.Context()); err != nil || got != "" {
		t.Errorf("the draft secret is still in the store (%v)", err)
	}
	if d, _ := engine.LoadDraft(t.Context()); d != nil {
		t.Errorf("a draft is still offered: %+v", d.Kept)
	}
}

// screenVariants are the sizes and colour settings every question is drawn in.
var screenVariants = []struct {
	width, height int
	noColor       bool
}{{80, 24, false}, {80, 24, true}, {100, 30, false}, {100, 30, true}}

func variantName(width, height int, noColor bool) string {
	if noColor {
		return fmt.Sprintf("%dx%d-nocolor", width, height)
	}
	return fmt.Sprintf("%dx%d-colour", width, height)
}

func TestQuitQuestion(t *testing.T) {
	t.Parallel()
	for _, v := range screenVariants {
		t.Run(variantName(v.width, v.height, v.noColor), func(t *testing.T) {
			h := startSized(t, Options{Draft: portalDraft(), Engine: draftEngine(t), NoColor: v.noColor}, v.width, v.height)
			h.waitFor("Who will sign in")
			h.send("enter")
			h.waitFor("Register the app")
			h.send("ctrl+c")
			h.waitFor("Quit?")
			h.golden()
		})
	}
}

func TestResumeQuestion(t *testing.T) {
	t.Parallel()
	engine := quitAtSecret(t)
	kept, _ := engine.LoadDraft(t.Context())
	for _, v := range screenVariants {
		t.Run(variantName(v.width, v.height, v.noColor), func(t *testing.T) {
			h := startSized(t, Options{Draft: steps.NewDraft(), Engine: engine, Resume: kept, NoColor: v.noColor}, v.width, v.height)
			h.waitFor("You were at step 4")
			h.golden()
		})
	}
}

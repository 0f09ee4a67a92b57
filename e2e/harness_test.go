package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// The end-to-end tests drive the real binary in a real terminal (tmux), against the simulator
// over HTTP and the real Secret Service, the way a person at a keyboard would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) { testkeychain.Main(m) }

// binary builds m365creds, and m365creds-token beside it, once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "m365creds-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "m365creds")
		args := []string{"build", "-o", dir + string(filepath.Separator)}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "..", "../cmd/m365creds-token")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// tokenBinary is m365creds-token, built with m365creds.
func tokenBinary(t *testing.T) string {
	t.Helper()
	return filepath.Join(filepath.Dir(binary(t)), "m365creds-token")
}

func requireTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is required under CI")
		}
		t.Skip("SKIP e2e: tmux is not installed")
	}
}

// term is one tmux session running one command, 100x30 like a roomy terminal.
type term struct {
	t      *testing.T
	socket string
	name   string
}

// startTerm runs argv in a new detached tmux session with env added to this process's
// environment. The tmux server inherits the private D-Bus session, so the program reaches the
// test's Secret Service.
func startTerm(t *testing.T, env []string, argv ...string) *term {
	t.Helper()
	requireTmux(t)
	tm := &term{t: t, socket: fmt.Sprintf("m365e2e-%d-%d", os.Getpid(), time.Now().UnixNano()), name: "w"}
	// A shell wrapper keeps the pane open after the program exits so its last screen and its
	// exit status can be read.
	var quoted []string
	for _, a := range argv {
		quoted = append(quoted, shellQuote(a))
	}
	wrapper := strings.Join(quoted, " ") + `; echo "[exit $?]"; sleep 600`
	args := []string{"-L", tm.socket, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30", "-s", tm.name}
	for _, kv := range env {
		args = append(args, "-e", kv)
	}
	args = append(args, "sh", "-c", wrapper)
	cmd := exec.Command("tmux", args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

// keys sends tmux key names (Enter, Tab, Space, C-c, BTab, Escape …).
func (tm *term) keys(keys ...string) {
	tm.t.Helper()
	args := append([]string{"-L", tm.socket, "send-keys", "-t", tm.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		tm.t.Fatalf("send-keys %v: %v %s", keys, err, out)
	}
}

// typeText types literally, without key-name interpretation.
func (tm *term) typeText(s string) {
	tm.t.Helper()
	if out, err := exec.Command("tmux", "-L", tm.socket, "send-keys", "-t", tm.name, "-l", s).CombinedOutput(); err != nil {
		tm.t.Fatalf("send-keys -l: %v %s", err, out)
	}
}

// paste delivers s as a bracketed paste, the way a terminal delivers a clipboard paste.
func (tm *term) paste(s string) {
	tm.t.Helper()
	load := exec.Command("tmux", "-L", tm.socket, "load-buffer", "-b", "e2e", "-")
	load.Stdin = strings.NewReader(s)
	if out, err := load.CombinedOutput(); err != nil {
		tm.t.Fatalf("load-buffer: %v %s", err, out)
	}
	if out, err := exec.Command("tmux", "-L", tm.socket, "paste-buffer", "-p", "-b", "e2e", "-t", tm.name).CombinedOutput(); err != nil {
		tm.t.Fatalf("paste-buffer: %v %s", err, out)
	}
}

func (tm *term) screen() string {
	out, err := exec.Command("tmux", "-L", tm.socket, "capture-pane", "-p", "-t", tm.name).Output()
	if err != nil {
		tm.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

// waitFor waits until the screen matches pattern and returns the screen.
func (tm *term) waitFor(pattern string, timeout time.Duration) string {
	tm.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		last = tm.screen()
		if re.MatchString(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("screen never matched %q within %v; last screen:\n%s", pattern, timeout, last)
	return ""
}

// waitForGone waits until the screen no longer matches pattern.
func (tm *term) waitForGone(pattern string, timeout time.Duration) {
	tm.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if last = tm.screen(); !re.MatchString(last) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("screen still matched %q after %v:\n%s", pattern, timeout, last)
}

// exitCode waits for the program to end and returns its exit status.
func (tm *term) exitCode(timeout time.Duration) int {
	tm.t.Helper()
	s := tm.waitFor(`\[exit \d+\]`, timeout)
	m := regexp.MustCompile(`\[exit (\d+)\]`).FindStringSubmatch(s)
	var code int
	fmt.Sscan(m[1], &code)
	return code
}

// saveAndQuit takes the wizard from its Consent step through Save to its end: it waits up to
// waitSave for the Save step, saves, waits for saved (a pattern), and leaves with exit 0.
func (tm *term) saveAndQuit(waitSave time.Duration, saved string) {
	tm.t.Helper()
	tm.waitFor(`Press enter to save`, waitSave)
	tm.keys("Enter")
	tm.waitFor(saved, 10*time.Second)
	tm.keys("Enter")
	if code := tm.exitCode(10 * time.Second); code != 0 {
		tm.t.Fatalf("exit %d:\n%s", code, tm.screen())
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// run runs the binary outside tmux, for the script-facing commands (token, status).
func run(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runProgram(t, binary(t), env, stdin, args...)
}

// runProgram runs one of the built programs outside tmux.
func runProgram(t *testing.T, program string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// simEnv starts sim for the test and returns the environment that points a program at it,
// with a home and config directory of the test's own.
func simEnv(t *testing.T, sim *simulator.Sim) []string {
	t.Helper()
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	home := t.TempDir()
	return []string{
		"M365CREDS_LOGIN_URL=" + base, "M365CREDS_GRAPH_URL=" + base,
		"M365CREDS_CONFIG_DIR=" + filepath.Join(home, "config"), "HOME=" + home,
	}
}

// runTool runs another program, such as secret-tool.
func runTool(t *testing.T, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	}
	return out.String(), errb.String(), code
}

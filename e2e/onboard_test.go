//go:build linux

package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// The customer tenants of the onboarding tests: two that accept, one whose administrator
// declines.
const (
	e2eCustomerOne = "c1c1c1c1-1111-4222-8333-444455556666"
	e2eCustomerTwo = "c2c2c2c2-7777-4888-9999-aaaabbbbcccc"
	e2eDeclines    = "dededede-1111-4222-8333-444455556666"
)

var consentLinkRE = regexp.MustCompile(`(http://127\.0\.0\.1:\d+/\S+/v2\.0/adminconsent\?\S+)`)

// vendorWorld is a world whose app is multi-tenant, saved as the app-only profile "vendor".
func vendorWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, func(a *simulator.App) {
		a.Audience = "multi"
		a.Secrets = append(a.Secrets, simulator.Secret{ID: "99999999-9999-4999-8999-999999999999", Value: e2eNewSecret, Expires: time.Now().AddDate(1, 0, 0)})
	})
	w.sim.GrantAdminConsent(simulator.DemoClientID)
	w.sim.AddTenant(simulator.Tenant{ID: e2eCustomerOne})
	w.sim.AddTenant(simulator.Tenant{ID: e2eCustomerTwo})
	w.sim.AddTenant(simulator.Tenant{ID: e2eDeclines, AdminDeclines: true})
	_, stderr, code := run(t, w.env, simulator.DemoSecretValue+"\n", "setup", "--no-input", "--profile", "vendor", "--flow", "app",
		"--tenant", simulator.DemoTenantID, "--account-type", "multi", "--client-id", simulator.DemoClientID,
		"--secret-expires", "24m", "--client-secret-stdin")
	if code != 0 {
		t.Fatalf("setup vendor: exit %d\n%s", code, stderr)
	}
	return w
}

const e2eNewSecret = "new8Q~e2eRotatedVendorSecretValue0000000"

// onboardWith runs onboard as its own process and, once the link is on its stdout, has
// another process (curl, the administrator's browser on another machine) open it: the
// redirect it is sent to is not followed, as it would land on that other machine.
func onboardWith(t *testing.T, w *world, tenant string, follow bool, extra ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"onboard", "--from", "vendor", "--tenant", tenant, "--poll", "200ms", "--wait", "30s"}, extra...)
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(os.Environ(), w.env...)
	var errb strings.Builder
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(pipe)
	browser := make(chan error, 1)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if m := consentLinkRE.FindStringSubmatch(line); m != nil {
			go func() {
				time.Sleep(500 * time.Millisecond) // the administrator takes a moment
				curlArgs := []string{"-s", "-o", "/dev/null", "--max-time", "20", m[1]}
				if follow {
					curlArgs = append([]string{"-L"}, curlArgs...)
				}
				browser <- exec.Command("curl", curlArgs...).Run()
			}()
		}
	}
	_, _ = io.Copy(io.Discard, pipe)
	err = cmd.Wait()
	code = 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-browser:
		if err != nil {
			t.Errorf("the administrator's browser: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("the link was never opened")
	}
	return out.String(), errb.String(), code
}

// TestOnboardTwoCustomersRotateOnce: a vendor profile onboards two customer tenants while
// their administrators accept elsewhere; both customer profiles print tokens; one rotation of
// the vendor keeps both working after the old secret has stopped; a declined consent and an
// unknown tenant exit non-zero with their explanation.
func TestOnboardTwoCustomersRotateOnce(t *testing.T) {
	w := vendorWorld(t)
	for _, tenant := range []string{e2eCustomerOne, e2eCustomerTwo} {
		stdout, stderr, code := onboardWith(t, w, tenant, false)
		if code != 0 || !strings.Contains(stderr, "Consent is in place") || !strings.Contains(stdout, "press Accept") {
			t.Fatalf("onboard %s: exit %d\nstdout:\n%s\nstderr:\n%s", tenant, code, stdout, stderr)
		}
	}
	names := []string{"tenant-c1c1c1c1", "tenant-c2c2c2c2"}
	for _, name := range names {
		if out, stderr, code := run(t, w.env, "", "token", name); code != 0 || strings.TrimSpace(out) == "" {
			t.Fatalf("token %s: exit %d %s", name, code, stderr)
		}
	}
	if _, stderr, code := run(t, w.env, e2eNewSecret+"\n", "rotate", "vendor", "--no-input", "--client-secret-stdin", "--secret-expires", "12m"); code != 0 {
		t.Fatalf("rotate vendor: exit %d %s", code, stderr)
	}
	w.sim.ExpireSecret(simulator.DemoClientID, simulator.DemoSecretValue)
	for _, name := range names {
		if out, stderr, code := run(t, w.env, "", "token", name, "--min-valid", "50m"); code != 0 || strings.TrimSpace(out) == "" {
			t.Errorf("token %s after one rotation of the vendor: exit %d %s", name, code, stderr)
		}
	}
	status, _ := w.status()
	for _, name := range names {
		if !regexp.MustCompile(name + `\s+\S+\s+consent in place`).MatchString(status) {
			t.Errorf("status does not show %s's consent:\n%s", name, status)
		}
	}

	_, stderr, code := onboardWith(t, w, e2eDeclines, true)
	if code != 1 || !strings.Contains(stderr, "Consent declined") {
		t.Errorf("declined consent: exit %d\n%s", code, stderr)
	}
	_, stderr, code = run(t, w.env, "", "onboard", "--from", "vendor", "--tenant", "deadbeef-0000-4000-8000-000000000000", "--wait", "10s")
	if code != 1 || !strings.Contains(stderr, "Tenant not found") {
		t.Errorf("wrong tenant: exit %d\n%s", code, stderr)
	}
}

// TestOnboardCountdownAndInterrupt: in a terminal the wait shows a countdown, and ctrl+c
// stops it with exit 130 and nothing saved.
func TestOnboardCountdownAndInterrupt(t *testing.T) {
	w := vendorWorld(t)
	tm := startTerm(t, w.env, binary(t), "onboard", "--from", "vendor", "--tenant", e2eCustomerOne, "--wait", "10m")
	tm.waitFor(`Waiting for consent in `+e2eCustomerOne+`: 9m[0-5]\ds left`, 15*time.Second)
	// ctrl+c in a terminal signals the whole foreground group, the test's wrapper shell
	// included; the signal goes to m365creds alone so that the wrapper can report its exit.
	interrupt(t, tm)
	if code := tm.exitCode(10 * time.Second); code != 130 {
		t.Fatalf("exit %d after ctrl+c:\n%s", code, tm.screen())
	}
	if _, _, code := run(t, w.env, "", "status", "tenant-c1c1c1c1"); code == 0 {
		t.Error("an interrupted onboarding saved a profile")
	}
}

// TestSealedHandoffBetweenProcesses: receive, send and receive --import as separate runs
// of the binary, with the one-time key in the real Secret Service.
func TestSealedHandoffBetweenProcesses(t *testing.T) {
	w := vendorWorld(t)
	code, _, rc := run(t, w.env, "", "receive")
	code = strings.TrimSpace(code)
	if rc != 0 || !strings.HasPrefix(code, "age1") {
		t.Fatalf("receive: exit %d %q", rc, code)
	}
	block, stderr, rc := run(t, w.env, "", "send", code, "vendor")
	if rc != 0 || strings.Contains(block, simulator.DemoSecretValue) || !strings.Contains(stderr, "No password") {
		t.Fatalf("send: exit %d\n%s\n%s", rc, block, stderr)
	}
	_, stderr, rc = run(t, w.env, block, "receive", "--import", "--profile", "handed")
	if rc != 0 || !strings.Contains(stderr, "Microsoft accepted") {
		t.Fatalf("import: exit %d\n%s", rc, stderr)
	}
	if out, _, rc := run(t, w.env, "", "token", "handed"); rc != 0 || strings.TrimSpace(out) == "" {
		t.Errorf("token of the imported profile: exit %d", rc)
	}
	if _, stderr, rc := run(t, w.env, block, "receive", "--import", "--profile", "again"); rc != 1 || !strings.Contains(stderr, "imported already") {
		t.Errorf("the same block twice: exit %d\n%s", rc, stderr)
	}
}

// interrupt sends SIGINT, what ctrl+c sends, to the program the terminal's shell runs.
func interrupt(t *testing.T, tm *term) {
	t.Helper()
	out, err := exec.Command("tmux", "-L", tm.socket, "display-message", "-p", "-t", tm.name, "#{pane_pid}").Output()
	if err != nil {
		t.Fatal(err)
	}
	shell := strings.TrimSpace(string(out))
	kids, err := os.ReadFile("/proc/" + shell + "/task/" + shell + "/children")
	if err != nil {
		t.Skipf("SKIP: cannot find the program's process: %v", err)
	}
	f := strings.Fields(string(kids))
	if len(f) == 0 {
		t.Fatalf("the terminal runs no program:\n%s", tm.screen())
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
}

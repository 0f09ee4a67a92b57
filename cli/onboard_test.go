package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
)

const (
	customerOne   = "c0ffee00-1111-4222-8333-444455556666"
	customerTwo   = "c0ffee00-7777-4888-9999-aaaabbbbcccc"
	decliningTeam = "dec11ed0-1111-4222-8333-444455556666"
)

// setupVendor saves the multi-tenant vendor app as an app-only profile and adds customer
// tenants that have not consented yet.
func (h *harness) setupVendor() {
	h.t.Helper()
	h.sim.GrantAdminConsent(vendorClientID)
	r := h.run(testSecret+"\n", "setup", "--no-input", "--profile", "vendor", "--flow", "app", "--tenant", testTenantID,
		"--account-type", "multi", "--client-id", vendorClientID, "--secret-expires", "24m", "--client-secret-stdin")
	expectCode(h.t, r, 0)
	h.sim.AddTenant(simulator.Tenant{ID: customerOne})
	h.sim.AddTenant(simulator.Tenant{ID: customerTwo})
	h.sim.AddTenant(simulator.Tenant{ID: decliningTeam, AdminDeclines: true})
}

// started is a run of the command line that goes on in the background.
type started struct {
	stdout, stderr *syncBuffer
	done           chan int
}

func (h *harness) start(args ...string) *started {
	s := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1)}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		s.done <- Main(ctx, args, strings.NewReader(""), s.stdout, s.stderr, h.env)
	}()
	return s
}

func (s *started) wait(t *testing.T) result {
	t.Helper()
	select {
	case code := <-s.done:
		return result{s.stdout.String(), s.stderr.String(), code}
	case <-time.After(50 * time.Second):
		t.Fatalf("never finished:\n%s\n%s", s.stdout.String(), s.stderr.String())
	}
	return result{}
}

var linkRE = regexp.MustCompile(`(http://127\.0\.0\.1:\d+/[^\s]+/v2\.0/adminconsent\?[^\s]+)`)

// acceptElsewhere is the customer's administrator on another machine: they open the link and
// accept; their browser's redirect goes to their own localhost.
func acceptElsewhere(t *testing.T, link string) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(link)
	if err != nil {
		t.Error(err)
		return
	}
	_ = resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "admin_consent=True") || strings.Contains(loc, "error=") {
		t.Errorf("the administrator's consent did not go through: %s %s", resp.Status, loc)
	}
}

// TestOnboardTwoCustomers: a vendor profile onboards two customer tenants while their
// administrators accept elsewhere; both customer profiles then print app-only tokens.
func TestOnboardTwoCustomers(t *testing.T) {
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupVendor()
		for _, tc := range []struct{ tenant, name string }{{customerOne, "tenant-c0ffee00"}, {customerTwo, "fabrikam"}} {
			args := []string{"onboard", "--from", "vendor", "--tenant", tc.tenant, "--poll", "20ms", "--wait", "30s"}
			if tc.name == "fabrikam" {
				args = append(args, "--profile", "fabrikam")
			}
			run := h.start(args...)
			link := waitFor(t, run.stdout, linkRE)
			waitFor(t, run.stderr, regexp.MustCompile(`not yet`)) // the administrator accepts while onboard waits
			acceptElsewhere(t, link)
			r := run.wait(t)
			expectCode(t, r, 0)
			expectContains(t, "stdout", r.stdout, "press Accept", "No password is needed")
			expectContains(t, "stderr", r.stderr, "not yet", "Consent is in place", `Saved profile "`+tc.name+`"`)
			noSecrets(t, r)
			if !h.sim.HasServicePrincipal(tc.tenant, vendorClientID) {
				t.Errorf("no service principal in %s", tc.tenant)
			}
			r = h.run("", "token", tc.name)
			expectCode(t, r, 0)
			info, ok := h.sim.AccessToken(strings.TrimSpace(r.stdout))
			if !ok || !info.AppOnly || info.ClientID != vendorClientID {
				t.Errorf("token of %s: %+v", tc.name, info)
			}
			p, _ := h.store().Profile(tc.name)
			if p.Tenant != tc.tenant || p.Kind != oauth.KindApp || p.SecretFrom != "vendor" {
				t.Errorf("profile %s: %+v", tc.name, p)
			}
		}
		r := h.run("", "status")
		expectCode(t, r, 0)
		expectContains(t, "status", r.stdout, "Apps shared by customer profiles", "vendor  app "+vendorClientID)
		for _, name := range []string{"tenant-c0ffee00", "fabrikam"} {
			if !regexp.MustCompile(name + `\s+\S+\s+consent in place`).MatchString(r.stdout) {
				t.Errorf("status does not show the consent of %s:\n%s", name, r.stdout)
			}
		}
		// One rotation of the vendor app keeps both customers working after the old secret
		// stops: they use the vendor's one keychain item.
		r = h.run(newSecret+"\n", "rotate", "vendor", "--no-input", "--client-secret-stdin", "--secret-expires", "24m")
		expectCode(t, r, 0)
		h.sim.ExpireSecret(vendorClientID, testSecret)
		for _, name := range []string{"tenant-c0ffee00", "fabrikam"} {
			h.expireCache(name, time.Now().Add(-time.Minute))
			r = h.run("", "token", name)
			expectCode(t, r, 0)
		}
		r = h.run(testSecret+"\n", "rotate", "fabrikam", "--no-input", "--client-secret-stdin", "--secret-expires", "24m")
		expectCode(t, r, ExitUsage)
		expectContains(t, "stderr", r.stderr, `rotate "vendor"`)
		r = h.run("", "delete", "vendor", "--yes")
		if r.code == 0 {
			t.Error("the vendor profile was deleted while customers use its secret")
		}
		expectContains(t, "stderr", r.stderr, "tenant-c0ffee00")
	})
}

// TestOnboardDeclinedAndWrongTenant: a declined consent and a tenant that does not exist
// end onboard with their explanation and a non-zero exit.
func TestOnboardDeclinedAndWrongTenant(t *testing.T) {
	h := newHarness(t, keyring.BackendFile)
	h.setupVendor()
	run := h.start("onboard", "--from", "vendor", "--tenant", decliningTeam, "--poll", "2s", "--wait", "30s")
	link := waitFor(t, run.stdout, linkRE)
	// The administrator declines on this machine: the redirect reaches onboard's listener.
	if err := simulateBrowser(context.Background(), link); err != nil {
		t.Fatal(err)
	}
	r := run.wait(t)
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "Consent declined", "AADSTS65004", "administrator declined")
	if strings.Contains(r.stderr, "setup --profile") {
		t.Errorf("a declined onboarding points at setup:\n%s", r.stderr)
	}

	r = h.run("", "onboard", "--from", "vendor", "--tenant", "deadbeef-0000-4000-8000-000000000000", "--poll", "20ms", "--wait", "5s")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "Tenant not found")

	r = h.run("", "onboard", "--from", "vendor", "--tenant", customerOne, "--poll", "20ms", "--wait", "1s")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "link stays valid")

	r = h.run("", "onboard", "--from", "vendor", "--tenant", "common")
	expectCode(t, r, ExitUsage)
	r = h.run("", "onboard", "--tenant", customerOne)
	expectCode(t, r, ExitUsage)
}

// TestOnboardBatch: one link per tenant in the file; status lists those still pending.
func TestOnboardBatch(t *testing.T) {
	h := newHarness(t, keyring.BackendFile)
	h.setupVendor()
	file := filepath.Join(t.TempDir(), "customers.txt")
	if err := os.WriteFile(file, []byte("# customers\n"+customerOne+"\n\n"+customerTwo+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := h.start("onboard", "--from", "vendor", "--tenants", file, "--poll", "20ms", "--wait", "3s")
	one := waitFor(t, run.stdout, regexp.MustCompile(customerOne+`\t(\S+)`))
	waitFor(t, run.stdout, regexp.MustCompile(customerTwo+`\t(\S+)`))
	acceptElsewhere(t, one) // the second administrator never answers
	r := run.wait(t)
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, customerOne+": consent in place", "1 of 2 tenants have not consented: "+customerTwo)

	r = h.run("", "status")
	expectContains(t, "stdout", r.stdout, "Pending onboarding", customerTwo, "tenant-"+customerTwo)
	if i := strings.Index(r.stdout, "Pending onboarding"); i >= 0 && strings.Contains(r.stdout[i:], customerOne) {
		t.Errorf("a completed tenant is listed as pending:\n%s", r.stdout)
	}
}

package cli

import (
	"encoding/base64"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/internal/mailtest"
	"github.com/m365creds/m365creds/keyring"
)

// TestSnippets: every fragment gets its tokens through m365creds and holds no secret.
func TestSnippets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work", "--preset", "basic,mail-client")
	sec := h.secrets("work")
	for _, tool := range append(assets.SnippetNames(), "isync", "botcity") {
		r := h.run("", "snippet", tool, "work")
		expectCode(t, r, 0)
		if !strings.Contains(r.stdout, "m365creds token work") && !strings.Contains(r.stdout, "m365creds exec work") &&
			!strings.Contains(r.stdout, `"m365creds", "token", profile`) && !strings.Contains(r.stdout, `"m365creds", "export"`) {
			t.Errorf("%s does not ask m365creds:\n%s", tool, r.stdout)
		}
		noSecrets(t, r, sec.ClientSecret, sec.RefreshToken, sec.AccessToken)
	}
	r := h.run("", "snippet", "msmtp", "work")
	expectContains(t, "msmtp", r.stdout, "user           "+testUPN, "host           smtp.office365.com", "--scope https://outlook.office.com/SMTP.Send")
	expectCode(t, h.run("", "snippet", "outlook-desktop", "work"), ExitUsage)
	expectCode(t, h.run("", "snippet", "msmtp"), ExitUsage)
}

// m365credsOnPath puts a program called m365creds on PATH that runs this harness's
// m365creds, so a fragment can be run as a user would run it.
func (h *harness) m365credsOnPath(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	cmd := h.binaryCmd()
	script := "#!/bin/sh\nexec " + shellQuote(cmd.Path) + ` "$@"` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "m365creds"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := cmd.Env
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + dir + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
	}
	return env
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestSnippetsRunForReal runs the curl and Python fragments with curl and Python, and the
// msmtp one with msmtp sending a message through the test SMTP server.
func TestSnippetsRunForReal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work", "--preset", "basic,mail-client")
	env := h.m365credsOnPath(t)
	run := func(name string, args ...string) string {
		t.Helper()
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed", name)
			}
			t.Skipf("SKIP: %s is not installed", name)
		}
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	curl := h.run("", "snippet", "curl", "work").stdout
	if out := run("sh", "-c", curl); !strings.Contains(out, testUPN) {
		t.Errorf("curl fragment printed %s", out)
	}
	python := h.run("", "snippet", "python", "work").stdout
	if err := exec.Command("/usr/bin/python3", "-c", "import requests").Run(); err == nil {
		if out := run("/usr/bin/python3", "-c", python); strings.TrimSpace(out) != testUPN {
			t.Errorf("python fragment printed %q", out)
		}
	}

	smtp := mailtest.StartSMTP(t, h.sim, mailtest.Options{})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, smtp.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	rc := h.run("", "snippet", "msmtp", "work", "--mail-host", smtp.Addr).stdout + "tls_trust_file " + ca + "\n"
	rcFile := filepath.Join(dir, "msmtprc")
	if err := os.WriteFile(rcFile, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	run("sh", "-c", "printf 'Subject: hello\\n\\nfrom msmtp\\n' | msmtp -C "+shellQuote(rcFile)+" bob@contoso.example")
	if got := smtp.Logins(); len(got) != 1 || got[0] != testUPN {
		t.Errorf("SMTP logins %v", got)
	}
	if sent := smtp.Sent(); len(sent) != 1 || !strings.Contains(sent[0], "from msmtp") {
		t.Errorf("sent %q", sent)
	}
}

// xoauth2Auth is the SASL mechanism net/smtp sends the token contract's XOAUTH2 string with.
type xoauth2Auth struct{ initial []byte }

func (a xoauth2Auth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "XOAUTH2", a.initial, nil
}
func (a xoauth2Auth) Next([]byte, bool) ([]byte, error) { return nil, nil }

// TestXOAUTH2StringSignsIn: the string token --format xoauth2 prints is what an SMTP server
// accepts as the XOAUTH2 initial response.
func TestXOAUTH2StringSignsIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("work", "--preset", "basic,mail-client")
	r := h.run("", "token", "work", "--format", "xoauth2", "--scope", "https://outlook.office.com/SMTP.Send")
	expectCode(t, r, 0)
	initial, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.StartSMTP(t, h.sim, mailtest.Options{})
	c, err := smtp.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := srv.ClientTLS()
	cfg.ServerName = "127.0.0.1"
	if err := c.StartTLS(cfg); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(xoauth2Auth{initial}); err != nil {
		t.Fatalf("the server refused the XOAUTH2 string: %v", err)
	}
	if got := srv.Logins(); len(got) != 1 || got[0] != testUPN {
		t.Errorf("logins %v", got)
	}
}

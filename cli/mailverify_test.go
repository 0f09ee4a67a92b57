package cli

import (
	"strconv"
	"strings"
	"testing"

	"github.com/m365creds/m365creds/internal/mailtest"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/keyring"
)

// noAccessToken fails if a simulator access token reached the output.
func noAccessToken(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stdout, "sim-at.") || strings.Contains(r.stderr, "sim-at.") {
		t.Errorf("an access token was printed:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestVerifyMailSignsIn(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		h.setupWeb("mail", "--preset", "basic,mail-client")
		imap := mailtest.StartIMAP(t, h.sim, mailtest.Options{})
		smtp := mailtest.StartSMTP(t, h.sim, mailtest.Options{})
		before := h.secrets("mail").RefreshToken

		h.env.MailRootCAs = imap.RootCAs
		r := h.run("", "verify", "mail", "--imap", "--mail-host", imap.Addr)
		expectCode(t, r, 0)
		expectContains(t, "stdout", r.stdout, "IMAP:", imap.Addr, "as "+testUPN,
			"https://outlook.office.com/IMAP.AccessAsUser.All", "OK: the IMAP server accepted")
		h.env.MailRootCAs = smtp.RootCAs
		r = h.run("", "verify", "mail", "--smtp", "--mail-host", smtp.Addr)
		expectCode(t, r, 0)
		expectContains(t, "stdout", r.stdout, "SMTP:", "https://outlook.office.com/SMTP.Send", "OK: the SMTP server")
		if got := imap.Logins(); len(got) != 1 || got[0] != testUPN {
			t.Errorf("IMAP logins %v", got)
		}
		if got := smtp.Logins(); len(got) != 1 || got[0] != testUPN {
			t.Errorf("SMTP logins %v", got)
		}
		// The Outlook tokens came from the refresh token, whose rotation was saved.
		if after := h.secrets("mail").RefreshToken; after == "" || after == before {
			t.Error("the rotated refresh token was not saved")
		}
		noSecrets(t, r, before, h.secrets("mail").RefreshToken)
		noAccessToken(t, r)
	})
}

func TestVerifyMailExplainsRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("mail", "--preset", "basic,mail-client")
	h.setupWeb("graph", "--preset", "basic")

	// SMTP AUTH off for the tenant: exit 1 with both settings that turn it on.
	smtp := mailtest.StartSMTP(t, h.sim, mailtest.Options{Fail: mailtest.SMTPDisabledTenant})
	h.env.MailRootCAs = smtp.RootCAs
	r := h.run("", "verify", "mail", "--smtp", "--mail-host", smtp.Addr)
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "535 5.7.139", "SMTP AUTH is off for the organisation",
		"Set-CASMailbox -Identity "+testUPN+" -SmtpClientAuthenticationDisabled $false",
		"Set-TransportConfig -SmtpClientAuthenticationDisabled $false")
	noAccessToken(t, r)

	// Another user's mailbox: the server refuses the token (5.7.3); the scope is there, so 1.
	mbox := mailtest.StartSMTP(t, h.sim, mailtest.Options{})
	h.env.MailRootCAs = mbox.RootCAs
	r = h.run("", "verify", "mail", "--smtp", "--mail-host", mbox.Addr, "--user", "bob@contoso.example")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "535 5.7.3 Authentication unsuccessful", "as bob@contoso.example", "must be the account that signed in")
	noAccessToken(t, r)

	// Signed in but no mailbox to open.
	imap := mailtest.StartIMAP(t, h.sim, mailtest.Options{Fail: mailtest.NotConnected})
	h.env.MailRootCAs = imap.RootCAs
	r = h.run("", "verify", "mail", "--imap", "--mail-host", imap.Addr)
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "User is authenticated but not connected", "-ImapEnabled $true", "Add-MailboxPermission")

	// A profile that never consented to IMAP: Microsoft refuses the Outlook token, exit 4.
	r = h.run("", "verify", "graph", "--imap", "--mail-host", imap.Addr)
	expectCode(t, r, ExitConsent)
	expectContains(t, "stderr", r.stderr, "m365creds setup --profile graph")

	// Nobody listening: a network failure, exit 6.
	closed := "127.0.0.1:" + strconv.Itoa(testport.Free())
	r = h.run("", "verify", "mail", "--imap", "--mail-host", closed)
	expectCode(t, r, ExitNetwork)
	expectContains(t, "stderr", r.stderr, "Mail server unreachable", "993 for IMAP")

	// A server whose certificate is not trusted is a network failure, and gets no token.
	h.env.MailRootCAs = nil
	r = h.run("", "verify", "mail", "--smtp", "--mail-host", mbox.Addr)
	expectCode(t, r, ExitNetwork)
	if n := len(mbox.Logins()); n != 0 {
		t.Errorf("%d sign-ins over an unverified connection", n)
	}
	noSecrets(t, r, h.secrets("mail").RefreshToken)
}

func TestVerifyMailUsage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, keyring.BackendFile)
	h.setupWeb("mail", "--preset", "basic,mail-client")
	for _, args := range [][]string{
		{"--user", "bob@contoso.example"},
		{"--mail-host", "127.0.0.1:1"},
		{"--imap", "--smtp", "--mail-host", "127.0.0.1:1"},
		{"--imap", "--mail-host", "imaps://host/"},
		{"--imap", "--mail-host", "host:70000"},
	} {
		r := h.run("", append([]string{"verify", "mail"}, args...)...)
		expectCode(t, r, ExitUsage)
	}
}

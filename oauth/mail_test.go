package oauth

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/mailtest"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth/simulator"
)

const (
	imapScope = "https://outlook.office.com/IMAP.AccessAsUser.All"
	smtpScope = "https://outlook.office.com/SMTP.Send"
)

// mailToken signs in through the device flow for scopes and returns the access token and the
// account it belongs to.
func mailToken(t *testing.T, sim *simulator.Sim, base string, scopes ...string) (token, user string) {
	t.Helper()
	sim.SetDeviceApproval(0)
	c := testClient(base, App{Tenant: testTenant, ClientID: publicClientID, Kind: KindPublic}, nil)
	dc, err := c.StartDevice(context.Background(), append(scopes, "offline_access"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.PollDevice(ctxTimeout(t, 5*time.Second), dc)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := sim.AccessToken(tok.AccessToken)
	if !ok {
		t.Fatal("simulator does not know its own token")
	}
	return tok.AccessToken, info.UserUPN
}

func dialTo(s *mailtest.Server) MailDial {
	return MailDial{Addr: s.Addr, TLS: s.ClientTLS(), StepTimeout: 5 * time.Second}
}

func TestXOAUTH2Format(t *testing.T) {
	t.Parallel()
	raw, err := base64.StdEncoding.DecodeString(XOAUTH2("ada@contoso.example", "tok"))
	if err != nil || string(raw) != "user=ada@contoso.example\x01auth=Bearer tok\x01\x01" {
		t.Errorf("XOAUTH2 = %q, %v", raw, err)
	}
}

func TestMailHostsPerCloud(t *testing.T) {
	t.Parallel()
	if h := Global.Mail(); h.IMAP != "outlook.office365.com:993" || h.SMTP != "smtp.office365.com:587" || h.Resource != "https://outlook.office.com" {
		t.Errorf("global: %+v", h)
	}
	if got := USGov.MailScope(ProtocolSMTP); got != "https://outlook.office365.us/SMTP.Send" {
		t.Errorf("GCC High SMTP scope = %q", got)
	}
	if got := Global.MailScope(ProtocolIMAP); got != imapScope {
		t.Errorf("IMAP scope = %q", got)
	}
}

func TestParseMailAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"127.0.0.1:1993": "127.0.0.1:1993", "mail.example": "mail.example:993", "[::1]": "[::1]:993"} {
		if got, err := ParseMailAddr(in, 993); err != nil || got != want {
			t.Errorf("ParseMailAddr(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "imaps://x", "host:0", "host:99999", "a b", "user@host"} {
		if _, err := ParseMailAddr(bad, 993); err == nil {
			t.Errorf("ParseMailAddr(%q) accepted", bad)
		}
	}
}

func TestMailSignInSucceeds(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	imap := mailtest.StartIMAP(t, sim, mailtest.Options{})
	smtp := mailtest.StartSMTP(t, sim, mailtest.Options{})
	tokIMAP, user := mailToken(t, sim, base, imapScope)
	if err := CheckIMAP(context.Background(), dialTo(imap), user, tokIMAP); err != nil {
		t.Fatalf("IMAP: %v", err)
	}
	tokSMTP, _ := mailToken(t, sim, base, smtpScope)
	if err := CheckSMTP(context.Background(), dialTo(smtp), user, tokSMTP); err != nil {
		t.Fatalf("SMTP: %v", err)
	}
	if got := imap.Logins(); len(got) != 1 || got[0] != user {
		t.Errorf("IMAP logins %v", got)
	}
	if got := smtp.Logins(); len(got) != 1 || got[0] != user {
		t.Errorf("SMTP logins %v", got)
	}
}

func TestAppOnlyIMAPNeedsMailboxPermission(t *testing.T) {
	t.Parallel()
	app := simulator.DemoApp()
	app.ApplicationPermissions = []string{"IMAP.AccessAsApp"}
	sim := simulator.New([]simulator.App{app}, nil)
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	sim.GrantAdminConsent(app.ClientID)
	c := testClient(base, App{Tenant: testTenant, ClientID: app.ClientID, ClientSecret: testSecret, Kind: KindApp}, nil)
	tok, err := c.ClientCredentialsFor(context.Background(), "https://outlook.office365.com")
	if err != nil {
		t.Fatal(err)
	}
	granted := mailtest.StartIMAP(t, sim, mailtest.Options{Resource: "https://outlook.office365.com", AppMailboxes: []string{"shared@contoso.example"}})
	if err := CheckIMAP(context.Background(), dialTo(granted), "shared@contoso.example", tok.AccessToken); err != nil {
		t.Fatalf("granted mailbox: %v", err)
	}
	err = CheckIMAP(context.Background(), dialTo(granted), "other@contoso.example", tok.AccessToken)
	var me *MailError
	if !errors.As(err, &me) || me.Reason != MailNotConnected || me.Step != "EXAMINE INBOX" {
		t.Fatalf("mailbox without permission: %v", err)
	}
	noSecretIn(t, tok.AccessToken, err.Error())
}

func TestMailRefusalsAreDecoded(t *testing.T) {
	t.Parallel()
	sim, base := testSim(t)
	tokIMAP, user := mailToken(t, sim, base, imapScope)
	tokSMTP, _ := mailToken(t, sim, base, smtpScope)
	tokGraph, _ := mailToken(t, sim, base, "User.Read")
	cases := []struct {
		name      string
		proto     string
		opts      mailtest.Options
		user, tok string
		reason    MailReason
		reply     string
	}{
		{"graph token for IMAP", ProtocolIMAP, mailtest.Options{}, user, tokGraph, MailRefused, "NO AUTHENTICATE failed."},
		{"IMAP token for SMTP", ProtocolSMTP, mailtest.Options{}, user, tokIMAP, MailRefused, "535 5.7.3 Authentication unsuccessful"},
		{"another user's mailbox", ProtocolSMTP, mailtest.Options{}, "someone@contoso.example", tokSMTP, MailRefused, "5.7.3"},
		{"SMTP AUTH off for the tenant", ProtocolSMTP, mailtest.Options{Fail: mailtest.SMTPDisabledTenant}, user, tokSMTP, MailSMTPDisabledTenant, "535 5.7.139"},
		{"SMTP AUTH off for the mailbox", ProtocolSMTP, mailtest.Options{Fail: mailtest.SMTPDisabledMailbox}, user, tokSMTP, MailSMTPDisabledMailbox, "disabled for the Mailbox"},
		{"basic auth only", ProtocolSMTP, mailtest.Options{Fail: mailtest.BasicAuthOnly}, user, tokSMTP, MailBasicAuth, "550 5.7.30"},
		{"mailbox not connected", ProtocolIMAP, mailtest.Options{Fail: mailtest.NotConnected}, user, tokIMAP, MailNotConnected, "User is authenticated but not connected."},
		{"wrong cloud's resource", ProtocolIMAP, mailtest.Options{Resource: "https://outlook.office365.us"}, user, tokIMAP, MailRefused, "AUTHENTICATE failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tc.proto == ProtocolIMAP {
				err = CheckIMAP(context.Background(), dialTo(mailtest.StartIMAP(t, sim, tc.opts)), tc.user, tc.tok)
			} else {
				err = CheckSMTP(context.Background(), dialTo(mailtest.StartSMTP(t, sim, tc.opts)), tc.user, tc.tok)
			}
			var me *MailError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v", err)
			}
			if me.Reason != tc.reason || !strings.Contains(me.Reply, tc.reply) || Classify(err) != ClassOther {
				t.Errorf("reason %d reply %q, want %d %q", me.Reason, me.Reply, tc.reason, tc.reply)
			}
			g := Explain(err, App{})
			if g.Action == "" || g.Title == "" {
				t.Errorf("no guidance for %v", err)
			}
			texts := append(guidanceTexts(g), err.Error())
			noSecretIn(t, tc.tok, texts...)
			noSecretIn(t, XOAUTH2(tc.user, tc.tok), texts...)
		})
	}
}

// silentServer is the address of a server that accepts connections and never speaks.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

func TestMailNetworkFailures(t *testing.T) {
	t.Parallel()
	closed := "127.0.0.1:" + strconv.Itoa(testport.Free()) // nobody listens there
	silent := silentServer(t)
	sim, _ := testSim(t)
	untrusted := mailtest.StartSMTP(t, sim, mailtest.Options{})
	// Cleanups run once the parallel subtests below have ended.
	t.Cleanup(func() {
		if len(untrusted.Logins()) != 0 {
			t.Error("signed in over an unverified connection")
		}
	})
	const token = "sim-at.never-sent-anywhere-0123456789"
	for name, run := range map[string]func() error{
		"refused": func() error {
			return CheckIMAP(context.Background(), MailDial{Addr: closed, StepTimeout: time.Second}, "u@x.example", token)
		},
		"silent IMAP": func() error {
			return CheckIMAP(context.Background(), MailDial{Addr: silent, StepTimeout: 200 * time.Millisecond}, "u@x.example", token)
		},
		"silent SMTP": func() error {
			return CheckSMTP(context.Background(), MailDial{Addr: silent, StepTimeout: 200 * time.Millisecond}, "u@x.example", token)
		},
		"untrusted certificate": func() error {
			return CheckSMTP(context.Background(), MailDial{Addr: untrusted.Addr, TLS: &tls.Config{MinVersion: tls.VersionTLS12}, StepTimeout: time.Second}, "u@x.example", token)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			err := run()
			var me *MailError
			if !errors.As(err, &me) || me.Reason != MailNetwork || Classify(err) != ClassNetwork {
				t.Fatalf("err = %v", err)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %s: a step timeout was not applied", time.Since(start))
			}
			noSecretIn(t, token, err.Error())
		})
	}
}

func TestMailCheckStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	silent := silentServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := CheckIMAP(ctx, MailDial{Addr: silent, StepTimeout: 10 * time.Second}, "u@x.example", "sim-at.cancelled-check-token")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s after cancel", time.Since(start))
	}
}

func TestDecodeMailReply(t *testing.T) {
	t.Parallel()
	for reply, want := range map[string]MailReason{
		"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [MN2PR05CA0004.namprd05.prod.outlook.com]": MailSMTPDisabledTenant,
		"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.":                                                                                                        MailSMTPDisabledMailbox,
		"535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [PN0PR01CA0024.INDPRD01.PROD.OUTLOOK.COM]":                                                                                  MailBasicAuth,
		"550 5.7.30 Basic authentication is not supported for Client Submission.":                                                                                                                               MailBasicAuth,
		"535 5.7.3 Authentication unsuccessful [BN3PR03CA0067.namprd03.prod.outlook.com]":                                                                                                                       MailRefused,
		"NO AUTHENTICATE failed.":                      MailRefused,
		"BAD User is authenticated but not connected.": MailNotConnected,
		"421 4.3.2 Service not available":              MailUnexpected,
	} {
		if got := DecodeMailReply("smtp", reply); got != want {
			t.Errorf("%q: %d, want %d", reply, got, want)
		}
	}
}

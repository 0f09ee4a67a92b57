package oauth

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/m365creds/m365creds/internal/sanitize"
)

// MailHosts are Exchange Online's mail endpoints in one cloud.
type MailHosts struct {
	// Resource is the Outlook resource identifier that IMAP, POP and SMTP scopes are built
	// from ("<Resource>/IMAP.AccessAsUser.All", app-only "<Resource>/.default").
	Resource string
	IMAP     string // host:port, implicit TLS
	SMTP     string // host:port, STARTTLS
}

// Mail is the cloud's Exchange Online mail endpoints.
//
// Global: the delegated scopes use https://outlook.office.com (microsoft-identity.md §11,
// `exo-oauth`), IMAP outlook.office365.com:993 and SMTP AUTH smtp.office365.com:587 (the same
// page, "Authenticate connection requests"). GCC High and DoD: Microsoft's "Office 365 U.S.
// Government GCC High endpoints" list Exchange Online at outlook.office365.us, which is also
// the resource (Exchange Online PowerShell connects to https://outlook.office365.us for GCC
// High); SMTP AUTH is smtp.office365.us. China (21Vianet): partner.outlook.cn, SMTP
// smtp.partner.outlook.cn. The national-cloud hosts are less well documented than the global
// ones, so every host can be overridden (verify --mail-host).
func (c Cloud) Mail() MailHosts {
	switch c {
	case USGov, USGovDoD:
		return MailHosts{Resource: "https://outlook.office365.us", IMAP: "outlook.office365.us:993", SMTP: "smtp.office365.us:587"}
	case China:
		return MailHosts{Resource: "https://partner.outlook.cn", IMAP: "partner.outlook.cn:993", SMTP: "smtp.partner.outlook.cn:587"}
	default:
		return MailHosts{Resource: "https://outlook.office.com", IMAP: "outlook.office365.com:993", SMTP: "smtp.office365.com:587"}
	}
}

// Mail protocols.
const (
	ProtocolIMAP = "imap"
	ProtocolSMTP = "smtp"
)

// MailScope is the delegated scope a protocol needs in a cloud.
func (c Cloud) MailScope(protocol string) string {
	name := "IMAP.AccessAsUser.All"
	if protocol == ProtocolSMTP {
		name = "SMTP.Send"
	}
	return c.Mail().Resource + "/" + name
}

// XOAUTH2 is the SASL XOAUTH2 initial response for user and an access token, base64-encoded
// (microsoft-identity.md §11: "user=" user ^A "auth=Bearer " token ^A ^A).
func XOAUTH2(user, accessToken string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + accessToken + "\x01\x01"))
}

// MailReason is what a mail server's refusal means for the person fixing it.
type MailReason int

// The answers people run into, each with its own fix.
const (
	MailUnexpected MailReason = iota // an answer this package does not know
	MailNetwork                      // the server could not be reached, timed out or TLS failed
	// MailRefused is "535 5.7.3 Authentication unsuccessful" or IMAP "NO AUTHENTICATE
	// failed.": the token is for another user, another resource, or lacks the scope.
	MailRefused
	MailSMTPDisabledTenant  // 535 5.7.139 … SmtpClientAuthentication is disabled for the Tenant
	MailSMTPDisabledMailbox // 535 5.7.139 … SmtpClientAuthentication is disabled for the Mailbox
	// MailBasicAuth is 550 5.7.30 "Basic authentication is not supported for Client
	// Submission" or 535 5.7.139 "basic authentication is disabled": something sent a
	// password, not XOAUTH2.
	MailBasicAuth
	// MailNotConnected is IMAP "BAD User is authenticated but not connected." after a
	// successful AUTHENTICATE: the token is fine but gives no access to that mailbox.
	MailNotConnected
	MailNoXOAUTH2 // the server does not offer XOAUTH2
)

// MailError is a failed IMAP or SMTP check. Reply is the server's answer, cleaned for
// printing and with the token removed; the token itself is never part of the error.
type MailError struct {
	Protocol string // ProtocolIMAP or ProtocolSMTP
	Addr     string
	User     string // the mailbox signed in to
	Step     string // "connecting", "EHLO", "STARTTLS", "AUTHENTICATE", "EXAMINE INBOX" …
	Reply    string
	Reason   MailReason
	Err      error // the network error, for MailNetwork
}

func (e *MailError) Error() string {
	proto := strings.ToUpper(e.Protocol)
	addr := sanitize.Line(e.Addr, 300)
	switch {
	case e.Err != nil:
		return fmt.Sprintf("%s %s: %s: %v", proto, addr, e.Step, e.Err)
	case e.Reply != "":
		return fmt.Sprintf("%s %s refused %s: %s", proto, addr, e.Step, e.Reply)
	}
	return fmt.Sprintf("%s %s: %s failed", proto, addr, e.Step)
}

func (e *MailError) Unwrap() error { return e.Err }

// Class puts network failures with the other network errors (exit 6); a refusal needs a
// person to read the fix.
func (e *MailError) Class() Class {
	if e.Reason == MailNetwork {
		return ClassNetwork
	}
	return ClassOther
}

// MailDial says where and how to connect.
type MailDial struct {
	Addr string // host:port
	// TLS is the client TLS configuration; nil verifies against the system roots. ServerName
	// defaults to Addr's host.
	TLS *tls.Config
	// StepTimeout bounds each step (connect, TLS handshake, every command); zero means 20 s.
	StepTimeout time.Duration
}

const defaultMailStepTimeout = 20 * time.Second

// maxMailLine bounds one line read from a server, so a broken or hostile one cannot make the
// check read forever.
const maxMailLine = 16 << 10

// maxReplyLen is how much of a server's reply is kept for the message.
const maxReplyLen = 300

// ParseMailAddr checks a --mail-host value and adds the default port when it has none.
func ParseMailAddr(s string, defaultPort int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "/ \t@") {
		return "", fmt.Errorf("mail host %q is not HOST or HOST:PORT", s)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.Trim(s, "[]"), strconv.Itoa(defaultPort)
	}
	if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 || host == "" {
		return "", fmt.Errorf("mail host %q is not HOST or HOST:PORT", s)
	}
	if _, err := url.Parse("imaps://" + net.JoinHostPort(host, port)); err != nil {
		return "", fmt.Errorf("mail host %q is not HOST or HOST:PORT", s)
	}
	return net.JoinHostPort(host, port), nil
}

// mailConn is one conversation with deadlines per step and the token kept out of what is
// reported.
type mailConn struct {
	proto, addr string
	user        string
	conn        net.Conn
	r           *bufio.Reader
	step        time.Duration
	ctx         context.Context
	stop        func() bool // ends the close-on-cancel
	secrets     []string
}

func (d MailDial) open(ctx context.Context, proto, user string, implicitTLS bool, secrets []string) (*mailConn, error) {
	step := d.StepTimeout
	if step <= 0 {
		step = defaultMailStepTimeout
	}
	m := &mailConn{proto: proto, addr: d.Addr, user: user, step: step, ctx: ctx, secrets: secrets}
	dctx, cancel := context.WithTimeout(ctx, step)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(dctx, "tcp", d.Addr)
	if err != nil {
		return nil, m.netErr("connecting", err)
	}
	m.conn = conn
	// A cancelled caller (ctrl+c) must not wait out a step's time-out on a silent server.
	m.stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
	if implicitTLS {
		if err := m.startTLS(d.TLS); err != nil {
			m.close()
			return nil, err
		}
	} else {
		m.r = bufio.NewReaderSize(conn, 4096)
	}
	return m, nil
}

func (m *mailConn) tlsConfig(base *tls.Config) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
		if cfg.MinVersion == 0 {
			cfg.MinVersion = tls.VersionTLS12
		}
	}
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(m.addr)
		cfg.ServerName = host
	}
	return cfg
}

func (m *mailConn) startTLS(base *tls.Config) error {
	tc := tls.Client(m.conn, m.tlsConfig(base))
	if err := m.deadline(); err != nil {
		return err
	}
	if err := tc.HandshakeContext(m.ctx); err != nil {
		return m.netErr("TLS handshake", err)
	}
	m.conn = tc
	m.r = bufio.NewReaderSize(tc, 4096)
	return nil
}

func (m *mailConn) close() {
	m.stop()
	_ = m.conn.Close()
}

// deadline gives the next step its own time, never past the caller's deadline.
func (m *mailConn) deadline() error {
	if err := m.ctx.Err(); err != nil {
		return err
	}
	t := time.Now().Add(m.step)
	if d, ok := m.ctx.Deadline(); ok && d.Before(t) {
		t = d
	}
	return m.conn.SetDeadline(t)
}

func (m *mailConn) netErr(step string, err error) error {
	if ctxErr := m.ctx.Err(); ctxErr != nil && errors.Is(ctxErr, context.Canceled) {
		return ctxErr
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("no answer within %s", m.step)
	} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the server closed the connection")
	} else {
		err = errors.New(redact(err.Error(), m.secrets))
	}
	return &MailError{Protocol: m.proto, Addr: m.addr, User: m.user, Step: step, Reason: MailNetwork, Err: err}
}

func (m *mailConn) send(step, line string) error {
	if err := m.deadline(); err != nil {
		return m.netErr(step, err)
	}
	if _, err := io.WriteString(m.conn, line+"\r\n"); err != nil {
		return m.netErr(step, err)
	}
	return nil
}

func (m *mailConn) readLine(step string) (string, error) {
	if err := m.deadline(); err != nil {
		return "", m.netErr(step, err)
	}
	var b strings.Builder
	for {
		chunk, isPrefix, err := m.r.ReadLine()
		if err != nil {
			return "", m.netErr(step, err)
		}
		if b.Len()+len(chunk) > maxMailLine {
			return "", &MailError{Protocol: m.proto, Addr: m.addr, User: m.user, Step: step, Reason: MailUnexpected,
				Reply: "a line longer than " + strconv.Itoa(maxMailLine) + " bytes"}
		}
		b.Write(chunk)
		if !isPrefix {
			return b.String(), nil
		}
	}
}

// refusal builds the error for a server's answer, decoding what it means.
func (m *mailConn) refusal(step, reply string) *MailError {
	clean := sanitize.Line(redact(reply, m.secrets), maxReplyLen)
	return &MailError{Protocol: m.proto, Addr: m.addr, User: m.user, Step: step, Reply: clean, Reason: DecodeMailReply(m.proto, reply)}
}

// DecodeMailReply recognises the answers Exchange Online gives mail clients. The texts are
// Microsoft's as seen by users: "535 5.7.139 Authentication unsuccessful,
// SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled
// for more information." (simonrob/email-oauth2-proxy#193, nodemailer/nodemailer#1484; "for
// the Mailbox" for one mailbox), "535 5.7.139 Authentication unsuccessful, basic
// authentication is disabled." (nodemailer/nodemailer#1714), "550 5.7.30 Basic authentication
// is not supported for Client Submission." (Exchange Team Blog; field-2026.md §1), "535 5.7.3
// Authentication unsuccessful" (microsoft-identity.md §11, `exo-oauth`), IMAP "NO
// AUTHENTICATE failed." (MicrosoftDocs/office-developer-exchange-docs#87) and "BAD User is
// authenticated but not connected." (jstedfast/MailKit#1494, getmail6/getmail6#214).
func DecodeMailReply(protocol, reply string) MailReason {
	low := strings.ToLower(reply)
	switch {
	case strings.Contains(low, "smtpclientauthentication is disabled for the tenant"):
		return MailSMTPDisabledTenant
	case strings.Contains(low, "smtpclientauthentication is disabled for the mailbox"):
		return MailSMTPDisabledMailbox
	case strings.Contains(low, "smtp_auth_disabled"):
		return MailSMTPDisabledTenant
	case strings.Contains(low, "5.7.30"), strings.Contains(low, "basic authentication is disabled"):
		return MailBasicAuth
	case strings.Contains(low, "user is authenticated but not connected"):
		return MailNotConnected
	case strings.Contains(low, "5.7.3 "), strings.HasSuffix(low, "5.7.3"), strings.Contains(low, "authenticate failed"),
		strings.Contains(low, "authentication unsuccessful"):
		return MailRefused
	}
	return MailUnexpected
}

// CheckIMAP signs in to an IMAP server with XOAUTH2 over implicit TLS and opens INBOX read-only,
// which is where Exchange Online says "User is authenticated but not connected" for a mailbox
// the token gives no access to. It logs out afterwards.
func CheckIMAP(ctx context.Context, d MailDial, user, accessToken string) error {
	ir := XOAUTH2(user, accessToken)
	m, err := d.open(ctx, ProtocolIMAP, user, true, []string{accessToken, ir})
	if err != nil {
		return err
	}
	defer m.close()
	greeting, err := m.readLine("greeting")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(greeting, "* OK") {
		return m.refusal("the connection", greeting)
	}
	caps, err := m.imapCommand("a1", "CAPABILITY", "CAPABILITY")
	if err != nil {
		return err
	}
	if !strings.Contains(strings.ToUpper(caps), "AUTH=XOAUTH2") {
		return &MailError{Protocol: ProtocolIMAP, Addr: d.Addr, User: user, Step: "CAPABILITY", Reason: MailNoXOAUTH2,
			Reply: "the server does not offer AUTH=XOAUTH2"}
	}
	// SASL-IR (RFC 4959) sends the initial response with the command; Exchange Online offers it.
	if _, err := m.imapCommand("a2", "AUTHENTICATE XOAUTH2 "+ir, "AUTHENTICATE"); err != nil {
		return err
	}
	if _, err := m.imapCommand("a3", "EXAMINE INBOX", "EXAMINE INBOX"); err != nil {
		return err
	}
	_, _ = m.imapCommand("a4", "LOGOUT", "LOGOUT")
	return nil
}

// imapCommand sends one tagged command and reads up to its tagged answer. A continuation
// request ("+ …", an XOAUTH2 error challenge) is answered with an empty line, as RFC 7628
// asks, after which the server sends the final answer.
func (m *mailConn) imapCommand(tag, cmd, step string) (string, error) {
	if err := m.send(step, tag+" "+cmd); err != nil {
		return "", err
	}
	var untagged strings.Builder
	for {
		line, err := m.readLine(step)
		if err != nil {
			return "", err
		}
		switch {
		case strings.HasPrefix(line, "+"):
			if err := m.send(step, ""); err != nil {
				return "", err
			}
		case strings.HasPrefix(line, tag+" "):
			status := strings.TrimPrefix(line, tag+" ")
			if strings.HasPrefix(strings.ToUpper(status), "OK") {
				return untagged.String(), nil
			}
			return "", m.refusal(step, status)
		case strings.HasPrefix(line, "* BYE"):
			return "", m.refusal(step, line)
		default:
			untagged.WriteString(line)
			untagged.WriteByte('\n')
		}
	}
}

// CheckSMTP signs in to an SMTP submission server with XOAUTH2: EHLO, STARTTLS, EHLO again,
// AUTH XOAUTH2, QUIT. Nothing is sent.
func CheckSMTP(ctx context.Context, d MailDial, user, accessToken string) error {
	ir := XOAUTH2(user, accessToken)
	m, err := d.open(ctx, ProtocolSMTP, user, false, []string{accessToken, ir})
	if err != nil {
		return err
	}
	defer m.close()
	if code, text, err := m.smtpReply("greeting"); err != nil {
		return err
	} else if code != 220 {
		return m.refusal("the connection", text)
	}
	if _, err := m.ehlo(); err != nil {
		return err
	}
	if err := m.send("STARTTLS", "STARTTLS"); err != nil {
		return err
	}
	if code, text, err := m.smtpReply("STARTTLS"); err != nil {
		return err
	} else if code != 220 {
		return m.refusal("STARTTLS", text)
	}
	if err := m.startTLS(d.TLS); err != nil {
		return err
	}
	exts, err := m.ehlo()
	if err != nil {
		return err
	}
	if !offersXOAUTH2(exts) {
		return &MailError{Protocol: ProtocolSMTP, Addr: d.Addr, User: user, Step: "EHLO", Reason: MailNoXOAUTH2,
			Reply: "the server does not offer AUTH XOAUTH2"}
	}
	if err := m.send("AUTH", "AUTH XOAUTH2 "+ir); err != nil {
		return err
	}
	code, text, err := m.smtpReply("AUTH")
	if err != nil {
		return err
	}
	if code == 334 {
		// An XOAUTH2 error challenge: an empty line gets the final answer.
		if err := m.send("AUTH", ""); err != nil {
			return err
		}
		if code, text, err = m.smtpReply("AUTH"); err != nil {
			return err
		}
	}
	if code != 235 {
		return m.refusal("AUTH", text)
	}
	_ = m.send("QUIT", "QUIT")
	_, _, _ = m.smtpReply("QUIT")
	return nil
}

func offersXOAUTH2(exts []string) bool {
	for _, e := range exts {
		f := strings.Fields(strings.ToUpper(e))
		if len(f) > 1 && f[0] == "AUTH" {
			for _, mech := range f[1:] {
				if mech == "XOAUTH2" {
					return true
				}
			}
		}
	}
	return false
}

func (m *mailConn) ehlo() ([]string, error) {
	if err := m.send("EHLO", "EHLO m365creds.localhost"); err != nil {
		return nil, err
	}
	code, text, err := m.smtpReply("EHLO")
	if err != nil {
		return nil, err
	}
	if code != 250 {
		return nil, m.refusal("EHLO", text)
	}
	return strings.Split(text, "\n"), nil
}

// smtpReply reads a possibly multi-line reply; text holds each line without its code, the
// first line with it (so a refusal shows "535 5.7.3 …").
func (m *mailConn) smtpReply(step string) (int, string, error) {
	var lines []string
	code := 0
	for {
		line, err := m.readLine(step)
		if err != nil {
			return 0, "", err
		}
		if len(line) < 3 {
			return 0, "", m.refusal(step, line)
		}
		c, cerr := strconv.Atoi(line[:3])
		if cerr != nil || (code != 0 && c != code) {
			return 0, "", m.refusal(step, line)
		}
		code = c
		more := len(line) > 3 && line[3] == '-'
		if len(lines) == 0 {
			first := line[:3]
			if len(line) > 4 {
				first += " " + line[4:]
			}
			lines = append(lines, first)
		} else if len(line) > 4 {
			lines = append(lines, line[4:])
		}
		if !more {
			return code, strings.Join(lines, "\n"), nil
		}
	}
}

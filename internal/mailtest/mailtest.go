// Package mailtest runs small IMAP and SMTP servers on 127.0.0.1 that behave like Exchange
// Online towards a client signing in with XOAUTH2: they accept only access tokens the
// simulator issued for the Outlook resource with the protocol's scope, for the user the token
// belongs to, and answer refusals with the texts Exchange Online sends. They are for tests;
// their TLS certificate is generated when a server starts.
package mailtest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth/simulator"
)

// Failure is a tenant or mailbox setting that makes Exchange Online refuse a valid token.
type Failure int

// The settings people run into.
const (
	None Failure = iota
	// SMTPDisabledTenant: SMTP AUTH is off for the organisation
	// (Set-TransportConfig -SmtpClientAuthenticationDisabled $true, the default for tenants
	// created since 2020).
	SMTPDisabledTenant
	// SMTPDisabledMailbox: SMTP AUTH is off for the mailbox
	// (Set-CASMailbox -SmtpClientAuthenticationDisabled $true).
	SMTPDisabledMailbox
	// BasicAuthOnly: the submission endpoint treats every AUTH as Basic authentication, which
	// Exchange Online no longer takes for client submission (550 5.7.30).
	BasicAuthOnly
	// NotConnected: the sign-in succeeds but the mailbox cannot be opened (no Exchange Online
	// licence, or no mailbox permission for the app).
	NotConnected
)

// Options configure a server.
type Options struct {
	// Resource is the Outlook resource tokens must be for; empty means the global one.
	Resource string
	Fail     Failure
	// AppMailboxes are the mailboxes app-only tokens may open: those an administrator granted
	// the app's service principal with Add-MailboxPermission (IMAP) or as a sender (SMTP).
	AppMailboxes []string
	// Host is the name in the greeting.
	Host string
}

// Server is a running IMAP or SMTP server.
type Server struct {
	Addr    string         // 127.0.0.1:port
	RootCAs *x509.CertPool // trusts the server's certificate
	CertPEM []byte         // the same certificate in PEM, for mail programs' trust files

	sim   *simulator.Sim
	opts  Options
	proto string
	tls   *tls.Config
	ln    net.Listener

	mu     sync.Mutex
	logins []string // users signed in successfully
	sent   []string // messages submitted after signing in, as received
	wg     sync.WaitGroup
}

// The scopes and app roles that open each protocol (microsoft-identity.md §11; field-2026.md
// §1 for SMTP.SendAsApp).
var (
	delegatedScope = map[string]string{"imap": "IMAP.AccessAsUser.All", "smtp": "SMTP.Send"}
	appRole        = map[string]string{"imap": "IMAP.AccessAsApp", "smtp": "SMTP.SendAsApp"}
)

// StartIMAP starts an IMAP server with implicit TLS, stopped when the test ends.
func StartIMAP(t testing.TB, sim *simulator.Sim, o Options) *Server {
	return start(t, sim, o, "imap")
}

// StartSMTP starts an SMTP submission server with STARTTLS, stopped when the test ends.
func StartSMTP(t testing.TB, sim *simulator.Sim, o Options) *Server {
	return start(t, sim, o, "smtp")
}

func start(t testing.TB, sim *simulator.Sim, o Options, proto string) *Server {
	t.Helper()
	if o.Resource == "" {
		o.Resource = "https://outlook.office.com"
	}
	if o.Host == "" {
		o.Host = "MAIL0TEST01.prod.outlook.test"
	}
	cert, pool := certificate(t)
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), RootCAs: pool, sim: sim, opts: o, proto: proto, ln: ln,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		tls:     &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

// ClientTLS is a client configuration that trusts this server.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
}

// Sent lists the messages submitted over SMTP after signing in, in order.
func (s *Server) Sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

// Logins lists the users who signed in successfully, in order.
func (s *Server) Logins() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logins...)
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { _ = c.Close() }()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			if s.proto == "imap" {
				s.imap(c)
			} else {
				s.smtp(c)
			}
		}()
	}
}

// verdict is what the server decides about one XOAUTH2 sign-in.
type verdict int

const (
	refused verdict = iota
	accepted
	acceptedNoMailbox // signed in, but the mailbox cannot be opened
)

// check decodes an XOAUTH2 initial response and decides about it.
func (s *Server) check(b64 string) (string, verdict) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", refused
	}
	parts := strings.Split(string(raw), "\x01")
	if len(parts) != 4 || parts[2] != "" || parts[3] != "" ||
		!strings.HasPrefix(parts[0], "user=") || !strings.HasPrefix(parts[1], "auth=Bearer ") {
		return "", refused
	}
	user := strings.TrimPrefix(parts[0], "user=")
	token := strings.TrimPrefix(parts[1], "auth=Bearer ")
	info, ok := s.sim.AccessToken(token)
	if !ok || time.Now().After(info.Expiry) || !s.sameResource(info.Resource) {
		return user, refused
	}
	if info.AppOnly {
		if !contains(info.Roles, appRole[s.proto]) {
			return user, refused
		}
		if !contains(s.opts.AppMailboxes, user) {
			return user, acceptedNoMailbox
		}
	} else {
		if !contains(info.Scopes, info.Resource+"/"+delegatedScope[s.proto]) || !strings.EqualFold(user, info.UserUPN) {
			return user, refused
		}
	}
	if s.opts.Fail == NotConnected {
		return user, acceptedNoMailbox
	}
	return user, accepted
}

// exchangeGlobal are the two identifier URIs of Office 365 Exchange Online in the global
// cloud: delegated scopes are documented under outlook.office.com, the app-only scope as
// outlook.office365.com/.default (microsoft-identity.md §11); both name the same API.
var exchangeGlobal = []string{"https://outlook.office.com", "https://outlook.office365.com"}

func (s *Server) sameResource(r string) bool {
	if strings.EqualFold(r, s.opts.Resource) {
		return true
	}
	return contains(exchangeGlobal, r) && contains(exchangeGlobal, s.opts.Resource)
}

func (s *Server) logged(user string) {
	s.mu.Lock()
	s.logins = append(s.logins, user)
	s.mu.Unlock()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// imap speaks the part of IMAP4rev1 a sign-in check uses, with Exchange Online's texts
// (greeting, capabilities and answers as logged in jstedfast/MailKit#1494 and
// MicrosoftDocs/office-developer-exchange-docs#87).
func (s *Server) imap(raw net.Conn) {
	c := tls.Server(raw, s.tls)
	if handshake(c) != nil {
		return
	}
	r := bufio.NewReader(c)
	w := func(lines ...string) {
		for _, l := range lines {
			_, _ = c.Write([]byte(l + "\r\n"))
		}
	}
	w("* OK The Microsoft Exchange IMAP4 service is ready. [" + base64.StdEncoding.EncodeToString([]byte(s.opts.Host)) + "]")
	state := refused
	signedIn := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(strings.TrimRight(line, "\r\n"))
		if len(f) < 2 {
			w("* BAD Command Error. 10")
			continue
		}
		tag, cmd := f[0], strings.ToUpper(f[1])
		switch {
		case cmd == "CAPABILITY":
			w("* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
				tag+" OK CAPABILITY completed.")
		case cmd == "AUTHENTICATE" && len(f) >= 3 && strings.EqualFold(f[2], "XOAUTH2"):
			ir := ""
			if len(f) >= 4 {
				ir = f[3]
			} else {
				w("+ ")
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				ir = strings.TrimSpace(l)
			}
			user, v := s.check(ir)
			if v == refused {
				w(tag + " NO AUTHENTICATE failed.")
				continue
			}
			state, signedIn = v, true
			s.logged(user)
			w(tag + " OK AUTHENTICATE completed.")
		case cmd == "LOGIN" || cmd == "AUTHENTICATE":
			w(tag + " NO LOGIN failed.")
		case cmd == "LOGOUT":
			w("* BYE Microsoft Exchange Server IMAP4 server signing off.", tag+" OK LOGOUT completed.")
			return
		case !signedIn:
			w(tag + " BAD Command received in Invalid state.")
		case state == acceptedNoMailbox:
			w(tag + " BAD User is authenticated but not connected.")
		case cmd == "EXAMINE" || cmd == "SELECT":
			w("* 0 EXISTS", "* 0 RECENT", "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)",
				"* OK [UIDVALIDITY 14] UIDVALIDITY value", tag+" OK [READ-ONLY] "+cmd+" completed.")
		default:
			w(tag + " BAD Command Error. 10")
		}
	}
}

// smtp speaks SMTP submission as smtp.office365.com does: STARTTLS first, then AUTH. The
// texts of the refusals are those in oauth.DecodeMailReply's sources.
func (s *Server) smtp(conn net.Conn) {
	c := conn
	r := bufio.NewReader(c)
	w := func(lines ...string) {
		for _, l := range lines {
			_, _ = c.Write([]byte(l + "\r\n"))
		}
	}
	id := " [" + s.opts.Host + " " + time.Now().UTC().Format("2006-01-02T15:04:05.000Z") + "]"
	w("220 " + s.opts.Host + " Microsoft ESMTP MAIL Service ready at " + time.Now().UTC().Format(time.RFC1123Z))
	secure, authed := false, false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(strings.TrimRight(line, "\r\n"))
		if len(f) == 0 {
			w("500 5.3.3 Unrecognized command")
			continue
		}
		switch cmd := strings.ToUpper(f[0]); {
		// Submission after AUTH, as RFC 5321 §3.3 and §4.1.1.4 describe it, with the replies
		// Exchange Online gives.
		case authed && (cmd == "MAIL" || cmd == "RCPT" || cmd == "RSET" || cmd == "NOOP"):
			w(map[string]string{"MAIL": "250 2.1.0 Sender OK", "RCPT": "250 2.1.5 Recipient OK",
				"RSET": "250 2.0.0 Resetting", "NOOP": "250 2.0.0 OK"}[cmd])
		case authed && cmd == "DATA":
			w("354 Start mail input; end with <CRLF>.<CRLF>")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimRight(l, "\r\n") == "." {
					break
				}
				msg.WriteString(l)
			}
			s.mu.Lock()
			s.sent = append(s.sent, msg.String())
			s.mu.Unlock()
			w("250 2.6.0 Queued mail for delivery")
		case cmd == "EHLO":
			if secure {
				w("250-"+s.opts.Host+" Hello [127.0.0.1]", "250-SIZE 157286400", "250-PIPELINING",
					"250-ENHANCEDSTATUSCODES", "250-AUTH LOGIN XOAUTH2", "250 SMTPUTF8")
			} else {
				w("250-"+s.opts.Host+" Hello [127.0.0.1]", "250-SIZE 157286400", "250-PIPELINING",
					"250-ENHANCEDSTATUSCODES", "250-STARTTLS", "250 SMTPUTF8")
			}
		case cmd == "STARTTLS" && !secure:
			w("220 2.0.0 SMTP server ready")
			tc := tls.Server(conn, s.tls)
			if handshake(tc) != nil {
				return
			}
			c, r, secure = tc, bufio.NewReader(tc), true
		case cmd == "AUTH" && !secure:
			w("504 5.7.4 Unrecognized authentication type" + id)
		case cmd == "AUTH" && s.opts.Fail == BasicAuthOnly:
			w("550 5.7.30 Basic authentication is not supported for Client Submission." + id)
		case cmd == "AUTH" && len(f) >= 2 && strings.EqualFold(f[1], "XOAUTH2"):
			ir := ""
			if len(f) >= 3 {
				ir = f[2]
			} else {
				w("334 ")
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				ir = strings.TrimSpace(l)
			}
			user, v := s.check(ir)
			switch {
			case v != accepted:
				w("535 5.7.3 Authentication unsuccessful" + id)
			case s.opts.Fail == SMTPDisabledTenant:
				w("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information." + id)
			case s.opts.Fail == SMTPDisabledMailbox:
				w("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information." + id)
			default:
				s.logged(user)
				authed = true
				w("235 2.7.0 Authentication successful")
			}
		case cmd == "AUTH":
			w("535 5.7.139 Authentication unsuccessful, basic authentication is disabled." + id)
		case cmd == "QUIT":
			w("221 2.0.0 Service closing transmission channel")
			return
		default:
			w("530 5.7.57 Client not authenticated to send mail." + id)
		}
	}
}

func handshake(c *tls.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.HandshakeContext(ctx)
}

// certificate makes a self-signed certificate for 127.0.0.1 and localhost, valid for an
// hour, and a pool that trusts it.
func certificate(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// mailVerifyOptions are verify's mail checks: a real XOAUTH2 sign-in to Exchange Online.
type mailVerifyOptions struct {
	imap, smtp bool
	user, host string
}

func (m *mailVerifyOptions) flags(fs *pflag.FlagSet) {
	fs.BoolVar(&m.imap, "imap", false, "sign in over IMAP (port 993, TLS, XOAUTH2)")
	fs.BoolVar(&m.smtp, "smtp", false, "sign in over SMTP (port 587, STARTTLS, XOAUTH2)")
	fs.StringVar(&m.user, "user", "", "`MAILBOX` mailbox to sign in to (default: the profile's account)")
	fs.StringVar(&m.host, "mail-host", "", "`HOST[:PORT]` mail server to use instead of Exchange Online's")
}

// wanted reports whether any mail flag was given, so that verify runs the mail checks.
func (m *mailVerifyOptions) wanted() bool {
	return m.imap || m.smtp || m.user != "" || m.host != ""
}

func (a *app) runMailVerify(storeName string, m *mailVerifyOptions, pos []string) error {
	switch {
	case !m.imap && !m.smtp:
		return usagef("verify", "--user and --mail-host need --imap or --smtp")
	case m.imap && m.smtp && m.host != "":
		return usagef("verify", "--mail-host names one server: use it with --imap or with --smtp, not both")
	}
	var protos []string
	if m.imap {
		protos = append(protos, oauth.ProtocolIMAP)
	}
	if m.smtp {
		protos = append(protos, oauth.ProtocolSMTP)
	}
	addr := ""
	if m.host != "" {
		port := 993
		if m.smtp {
			port = 587
		}
		var err error
		if addr, err = oauth.ParseMailAddr(m.host, port); err != nil {
			return usagef("verify", "%s", sanitize.Line(err.Error(), 200))
		}
	}
	store, err := a.openStore(storeName)
	if err != nil {
		return err
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	p, err := pickProfile("verify", store, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Profile:   %s\n", p.Name)
	for _, proto := range protos {
		if err := a.verifyMailbox(store, p, proto, addr, m.user); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) verifyMailbox(store *keyring.Store, p keyring.Profile, proto, addr, user string) error {
	check := creds.MailCheck{Protocol: proto, User: user, Addr: addr}
	if a.env.MailRootCAs != nil {
		check.TLS = &tls.Config{RootCAs: a.env.MailRootCAs, MinVersion: tls.VersionTLS12}
	}
	res, err := a.engine(store).VerifyMail(a.ctx, p, check)
	if err != nil {
		return mailFailure(err)
	}
	if res.RecordErr != nil {
		a.warnf("could not record the refresh of profile %q: %v", p.Name, res.RecordErr)
	}
	label := strings.ToUpper(proto) + ":"
	fmt.Fprintf(a.stdout, "%-10s %s as %s\n", label, sanitize.Line(res.Addr, 300), sanitize.Line(res.User, 300))
	fmt.Fprintf(a.stdout, "Scope:     %s\n", res.Scope)
	fmt.Fprintf(a.stdout, "OK: the %s server accepted the XOAUTH2 sign-in.\n", strings.ToUpper(proto))
	return nil
}

// mailFailure gives a mail server's refusal its exit code and the fix; other failures (the
// refresh itself) are reported like any engine error.
func mailFailure(err error) error {
	var me *oauth.MailError
	var ce *creds.Error
	if !errors.As(err, &me) || !errors.As(err, &ce) {
		return err
	}
	g := ce.Explain()
	lines := []string{g.Title}
	if g.Meaning != "" && !strings.Contains(err.Error(), strings.TrimSuffix(g.Meaning, ".")) {
		lines = append(lines, g.Meaning)
	}
	if g.Action != "" {
		lines = append(lines, "What to do: "+g.Action)
	}
	if ce.Problem == creds.ProblemConsent {
		lines = append(lines, nextStep(ce))
	}
	return withCode(problemExit(ce.Problem), err, strings.Join(lines, "\n  "))
}

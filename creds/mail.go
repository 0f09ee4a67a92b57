package creds

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// MailCheck asks for a real XOAUTH2 sign-in to a profile's mailbox.
type MailCheck struct {
	Protocol string // oauth.ProtocolIMAP or oauth.ProtocolSMTP
	// User is the mailbox; empty means the profile's account. App-only profiles need it.
	User string
	// Addr replaces the cloud's server (host:port).
	Addr string
	// TLS is the client TLS configuration; nil verifies against the system's roots.
	TLS *tls.Config
	// StepTimeout bounds each step of the conversation; zero means the oauth default.
	StepTimeout time.Duration
}

// MailResult is a mailbox sign-in that worked.
type MailResult struct {
	Protocol, Addr, User string
	Scope                string // the scope the token was asked with
	AppOnly              bool
	// RecordErr is set when the refresh worked but could not be recorded in the config file.
	RecordErr error
}

// appRoles are the application permissions that open each protocol without a user.
var appRoles = map[string]string{oauth.ProtocolIMAP: "IMAP.AccessAsApp", oauth.ProtocolSMTP: "SMTP.SendAsApp"}

// VerifyMail gets a token for the cloud's Outlook resource (with the refresh token, or client
// credentials for app-only profiles) and signs in to the mail server with it. The rotated
// refresh token is saved as by Token. A refusal by the server is an *Error wrapping an
// *oauth.MailError; it is ProblemConsent when the token lacks the protocol's scope.
func (s *Service) VerifyMail(ctx context.Context, p keyring.Profile, c MailCheck) (MailResult, error) {
	proto := strings.ToLower(c.Protocol)
	if proto != oauth.ProtocolIMAP && proto != oauth.ProtocolSMTP {
		return MailResult{}, errorf(ProblemUsage, OpVerify, p.Name, "unknown mail protocol %q (use imap or smtp)", c.Protocol)
	}
	mail := p.Cloud.Mail()
	res := MailResult{Protocol: proto, Addr: c.Addr, User: strings.TrimSpace(c.User), AppOnly: p.Kind == oauth.KindApp}
	if res.Addr == "" {
		res.Addr = mail.IMAP
		if proto == oauth.ProtocolSMTP {
			res.Addr = mail.SMTP
		}
	}
	if res.User == "" {
		res.User = p.Account
	}
	if res.User == "" {
		return res, errorf(ProblemUsage, OpVerify, p.Name,
			"profile %q has no known account: name the mailbox with --user", p.Name)
	}
	var (
		token  string
		scopes []string
		app    oauth.App
	)
	if res.AppOnly {
		sec, err := s.secrets(ctx, p, OpVerify)
		if err != nil {
			return res, err
		}
		app = AppFor(p, sec.ClientSecret)
		res.Scope = appDefaultScope(p.Cloud, proto)
		tok, err := s.Client(app).ClientCredentialsFor(ctx, strings.TrimSuffix(res.Scope, "/.default"))
		if err != nil {
			return res, fail(OpVerify, p.Name, fmt.Sprintf("getting an app-only Exchange Online token for profile %q", p.Name), app, err)
		}
		token = tok.AccessToken
	} else {
		app = AppFor(p, "")
		res.Scope = p.Cloud.MailScope(proto)
		tr, err := s.Token(ctx, p, TokenRequest{Scopes: []string{res.Scope}})
		if err != nil {
			return res, err
		}
		token, scopes, res.RecordErr = tr.AccessToken, tr.Scopes, tr.RecordErr
	}
	dial := oauth.MailDial{Addr: res.Addr, TLS: c.TLS, StepTimeout: c.StepTimeout}
	check := oauth.CheckIMAP
	if proto == oauth.ProtocolSMTP {
		check = oauth.CheckSMTP
	}
	err := check(ctx, dial, res.User, token)
	if err == nil {
		return res, nil
	}
	doing := fmt.Sprintf("signing in to %s at %s as %s", strings.ToUpper(proto), sanitize.Line(res.Addr, 300), sanitize.Line(res.User, 300))
	e := fail(OpVerify, p.Name, doing, app, err)
	var me *oauth.MailError
	if errors.As(err, &me) && me.Reason == oauth.MailRefused && !res.AppOnly && len(scopes) > 0 &&
		len(oauth.MissingScopes([]string{res.Scope}, scopes)) > 0 {
		// Microsoft issued a token without the scope (consent withheld it): only a new
		// consent helps.
		e.Problem = ProblemConsent
	}
	return res, e
}

// appDefaultScope is the app-only scope for a protocol, from the catalogue's application
// permissions (Exchange Online's own resource in the cloud).
func appDefaultScope(c oauth.Cloud, proto string) string {
	for _, p := range assets.ExchangeAppPermissions() {
		if p.Scope == appRoles[proto] {
			return p.DefaultScope(string(c))
		}
	}
	return c.Mail().Resource + "/.default"
}

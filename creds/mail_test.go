package creds

import (
	"errors"
	"testing"
	"time"

	"github.com/m365creds/m365creds/internal/mailtest"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
)

func TestVerifyMailDelegated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sim.GrantAdminConsent(simulator.DemoClientID)
	p := f.consent(f.draft("mail", simulator.DemoClientID, "User.Read", "offline_access", "IMAP.AccessAsUser.All", "SMTP.Send"))
	if p.Account == "" {
		t.Fatal("consent recorded no account")
	}
	before, _ := f.engine.Store.Secrets(t.Context(), "mail")
	imap := mailtest.StartIMAP(t, f.sim, mailtest.Options{})
	res, err := f.engine.VerifyMail(t.Context(), p, MailCheck{Protocol: "IMAP", Addr: imap.Addr, TLS: imap.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	if res.User != p.Account || res.Scope != "https://outlook.office.com/IMAP.AccessAsUser.All" || res.AppOnly {
		t.Errorf("result %+v", res)
	}
	after, _ := f.engine.Store.Secrets(t.Context(), "mail")
	if after.RefreshToken == before.RefreshToken || after.AccessToken != before.AccessToken {
		t.Error("the refresh token must rotate and the cached Graph token must stay")
	}

	smtp := mailtest.StartSMTP(t, f.sim, mailtest.Options{Fail: mailtest.SMTPDisabledMailbox})
	_, err = f.engine.VerifyMail(t.Context(), p, MailCheck{Protocol: "smtp", Addr: smtp.Addr, TLS: smtp.ClientTLS(), StepTimeout: 5 * time.Second})
	var ce *Error
	var me *oauth.MailError
	if !errors.As(err, &ce) || ce.Problem != ProblemOther || ce.Op != OpVerify || !errors.As(err, &me) || me.Reason != oauth.MailSMTPDisabledMailbox {
		t.Fatalf("SMTP AUTH off: %v", err)
	}
	if g := ce.Explain(); g.Title != "SMTP AUTH is off for this mailbox" {
		t.Errorf("guidance %+v", g)
	}

	// Nothing to sign in as, or no such protocol: the request cannot work.
	noAccount := p
	noAccount.Account = ""
	for _, c := range []MailCheck{{Protocol: "imap", Addr: imap.Addr}, {Protocol: "pop", User: "u@x.example"}} {
		if _, err := f.engine.VerifyMail(t.Context(), noAccount, c); ProblemOf(err) != ProblemUsage {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestVerifyMailAppOnly(t *testing.T) {
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
	store, err := keyring.Open(keyring.Options{Service: "m365creds-creds-mail-test", ConfigDir: t.TempDir(), Backend: keyring.BackendFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	engine := &Service{Store: store, Endpoints: oauth.Endpoints{Login: base, Graph: base}}
	f := &fixture{t: t, sim: sim, engine: engine}
	d := f.draft("robot", app.ClientID)
	d.Flow = oauth.FlowApp
	p := f.consent(d)
	imap := mailtest.StartIMAP(t, sim, mailtest.Options{Resource: "https://outlook.office365.com", AppMailboxes: []string{"shared@contoso.example"}})
	check := MailCheck{Protocol: "imap", User: "shared@contoso.example", Addr: imap.Addr, TLS: imap.ClientTLS()}
	res, err := engine.VerifyMail(t.Context(), p, check)
	if err != nil {
		t.Fatal(err)
	}
	if !res.AppOnly || res.Scope != "https://outlook.office365.com/.default" {
		t.Errorf("result %+v", res)
	}
	// No mailbox permission: signed in but not connected, a setting to change (not consent).
	check.User = "other@contoso.example"
	_, err = engine.VerifyMail(t.Context(), p, check)
	var me *oauth.MailError
	if !errors.As(err, &me) || me.Reason != oauth.MailNotConnected || ProblemOf(err) != ProblemOther {
		t.Fatalf("no mailbox permission: %v", err)
	}
	// An app has no account of its own.
	check.User = ""
	if _, err := engine.VerifyMail(t.Context(), p, check); ProblemOf(err) != ProblemUsage {
		t.Errorf("no --user: %v", err)
	}
}

package cli

import (
	"net"
	"net/url"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/m365creds/m365creds/assets"
	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/oauth"
)

type snippetOptions struct {
	store    string
	mailHost string // replaces both mail servers (a relay, or the tests' servers)
}

// snippetAliases are other names people look for a fragment under.
var snippetAliases = map[string]string{"isync": "mbsync", "mutt": "neomutt", "botcity": "python-o365", "o365": "python-o365", "requests": "python"}

func (a *app) snippetCommand() *cobra.Command {
	o := &snippetOptions{}
	c := &cobra.Command{
		Use:   "snippet TOOL PROFILE",
		Short: "print a mail or script configuration that asks m365creds",
		Long: `Print a configuration fragment for TOOL that uses PROFILE through m365creds token or
m365creds exec, so that nothing secret is pasted into a configuration file: the tool asks
m365creds for a fresh token each time.

Tools: ` + strings.Join(assets.SnippetNames(), ", ") + ` (also isync, mutt, botcity).

Mail tools need the profile to have consented to Exchange Online's scopes (the mail-client
preset); check with m365creds verify PROFILE --imap or --smtp.`,
		Example: `  m365creds snippet msmtp work >> ~/.msmtprc
  m365creds snippet mbsync work > ~/.mbsyncrc
  m365creds snippet curl work`,
		RunE: a.run("snippet", func(pos []string) error { return a.runSnippet(o, pos) }),
	}
	c.Flags().StringVar(&o.mailHost, "mail-host", "", "`HOST` mail server to name instead of Exchange Online's")
	storeFlag(c.Flags(), &o.store)
	return c
}

// snippetData is what the fragments are filled in with.
type snippetData struct {
	Profile, Account, AccountURL, ClientID, Tenant string
	IMAPHost, IMAPPort, SMTPHost, SMTPPort         string
	IMAPScope, SMTPScope, Graph                    string
	// Store and StoreArgs repeat --store file in a shell command and a Python argument list.
	Store, StoreArgs string
}

func (a *app) runSnippet(o *snippetOptions, pos []string) error {
	if len(pos) != 2 {
		return usagef("snippet", "say which tool and which profile: m365creds snippet TOOL PROFILE (tools: %s)", strings.Join(assets.SnippetNames(), ", "))
	}
	tool := strings.ToLower(pos[0])
	if alias, ok := snippetAliases[tool]; ok {
		tool = alias
	}
	src, ok := assets.Snippet(tool)
	if !ok {
		return usagef("snippet", "no fragment for %q; tools: %s", sanitize.Line(pos[0], 40), strings.Join(assets.SnippetNames(), ", "))
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	p, err := pickProfile("snippet", store, pos[1])
	if err != nil {
		return err
	}
	mail := p.Cloud.Mail()
	d := snippetData{
		Profile: p.Name, Account: p.Account, AccountURL: url.PathEscape(p.Account), ClientID: p.ClientID, Tenant: p.TenantID,
		IMAPScope: p.Cloud.MailScope(oauth.ProtocolIMAP), SMTPScope: p.Cloud.MailScope(oauth.ProtocolSMTP),
		Graph: oauth.HostsFor(p.Cloud).With(a.endpoints).Graph,
	}
	if d.Tenant == "" {
		d.Tenant = p.Tenant
	}
	if d.Account == "" {
		d.Account, d.AccountURL = "ADDRESS", "ADDRESS" // app-only profiles sign in no one: the mailbox goes here
	}
	d.IMAPHost, d.IMAPPort = splitHostPort(mail.IMAP, "993")
	d.SMTPHost, d.SMTPPort = splitHostPort(mail.SMTP, "587")
	if o.mailHost != "" {
		host := sanitize.Line(o.mailHost, 255)
		d.IMAPHost, d.IMAPPort = splitHostPort(host, d.IMAPPort)
		d.SMTPHost, d.SMTPPort = splitHostPort(host, d.SMTPPort)
	}
	if o.store == "file" {
		d.Store, d.StoreArgs = " --store file", `, "--store", "file"`
	}
	t, err := template.New(tool).Option("missingkey=error").Parse(src)
	if err != nil {
		return err // a build mistake: the templates are embedded
	}
	return t.Execute(a.stdout, d)
}

// splitHostPort splits "host:port", keeping def when no port is given.
func splitHostPort(hostport, def string) (string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport, def
	}
	return host, port
}

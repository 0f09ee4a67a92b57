package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
)

// noPassword is said wherever a user might expect to hand over a password.
const noPassword = "No password is asked for or carried: Microsoft 365 apps sign in with OAuth, which needs none. Never send a mailbox password."

type sendOptions struct{ store string }

func (a *app) sendCommand() *cobra.Command {
	o := &sendOptions{}
	c := &cobra.Command{
		Use:   "send CODE PROFILE",
		Short: "seal a profile's app credentials for a support person",
		Long: `Print a sealed block holding the client ID, tenant, client secret Value, its expiry
and the scopes of PROFILE, encrypted to CODE, the code printed by the support side's
m365creds receive. Only the keychain that made CODE can open the block, so it can go
by mail or chat. Refresh and access tokens never leave this machine.

No password is asked for or carried: Microsoft 365 apps sign in with OAuth, which
needs none. Never send a mailbox password, whoever asks for it.`,
		Example: `  m365creds send age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs work
  m365creds send "$CODE" work > for-support.txt`,
		RunE: a.run("send", func(pos []string) error { return a.runSend(o, pos) }),
	}
	storeFlag(c.Flags(), &o.store)
	return c
}

func (a *app) runSend(o *sendOptions, pos []string) error {
	if err := maxArgs("send", pos, 2); err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("send", "missing CODE and PROFILE: m365creds send CODE PROFILE (the code comes from the support side's m365creds receive)")
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	p, err := pickProfile("send", store, pos[1])
	if err != nil {
		return err
	}
	block, err := a.engine(store).SealProfile(a.ctx, p, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprint(a.stdout, block)
	a.infof("Send the whole block above to the support person; only their keychain can open it.\n%s", noPassword)
	return nil
}

type receiveOptions struct {
	importBlock bool
	profile     string
	port        int
	store       string
}

func (a *app) receiveCommand() *cobra.Command {
	o := &receiveOptions{}
	c := &cobra.Command{
		Use:   "receive [--import]",
		Short: "receive a customer's sealed app credentials",
		Long: `Without --import: create a one-time key pair, keep its private key in the keychain and
print its public code. Give the code to the customer; they run
m365creds send CODE PROFILE and send you the block it prints.

With --import: read that block on stdin, open it with the one-time key, check the
credentials with Microsoft (an app-only token, or the secret check and a sign-in for
delegated apps), save them as a profile (named after the tenant unless --profile is
given) and delete the one-time key. A changed block, a block for another code and a
secret Microsoft rejects are refused, and nothing is saved.

No password is asked for or carried: Microsoft 365 apps sign in with OAuth, which
needs none. Never ask a customer for a mailbox password.`,
		Example: `  m365creds receive
  m365creds receive --import --profile contoso < block.txt`,
		RunE: a.run("receive", func(pos []string) error { return a.runReceive(o, pos) }),
	}
	fs := c.Flags()
	fs.BoolVar(&o.importBlock, "import", false, "read a sealed block on stdin and save it as a profile")
	fs.StringVar(&o.profile, "profile", "", "`NAME` of the profile to save (default: from the tenant)")
	fs.IntVar(&o.port, "port", 0, "`PORT` of the loopback redirect for a delegated app's sign-in")
	storeFlag(fs, &o.store)
	return c
}

func (a *app) runReceive(o *receiveOptions, pos []string) error {
	if err := maxArgs("receive", pos, 0); err != nil {
		return err
	}
	if !o.importBlock && (o.profile != "" || o.port != 0) {
		return usagef("receive", "--profile and --port go with --import")
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	eng := a.engine(store)
	if !o.importBlock {
		code, err := eng.NewHandoffCode(a.ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, code)
		a.infof("Give this code to the customer. On their machine, after saving the app as a profile, they run:\n"+
			"  m365creds send %s PROFILE\n"+
			"and send you the block it prints. Then run: m365creds receive --import < block.txt\n%s", code, noPassword)
		return nil
	}
	if a.isTerminal(a.stdin) {
		a.infof("Paste the block (from %q to the END line), then press ctrl+d:", "m365creds hand-off")
	}
	res, err := eng.ImportHandoff(a.ctx, creds.ImportRequest{Block: a.stdin, Name: o.profile, Port: o.port,
		Events: func(e creds.Event) { a.onboardSignIn(e) }})
	if err != nil {
		return err
	}
	from := ""
	if res.From != "" {
		from = fmt.Sprintf(" (their profile %q, sealed %s)", res.From, res.Sent.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(a.stderr, "Microsoft accepted the credentials%s. Saved profile %q; the one-time key is deleted.\n",
		from, res.Profile.Name)
	fmt.Fprintf(a.stderr, "Try it: m365creds token %s\n", sanitize.Line(res.Profile.Name, 64))
	if strings.TrimSpace(res.Profile.Tenant) == "" {
		a.warnf("the block named no tenant")
	}
	return nil
}

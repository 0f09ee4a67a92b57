package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/oauth"
)

type exportOptions struct {
	format         string
	output         string
	includeRefresh bool
	store          string
}

func (a *app) exportCommand() *cobra.Command {
	o := &exportOptions{}
	c := &cobra.Command{
		Use:   "export PROFILE --format FORMAT [-o FILE]",
		Short: "write credentials where other programs read them",
		Long: `Write PROFILE's credentials in a shape other programs read, to stdout or to FILE
(created with mode 0600).

Formats:
  msal-cache  an MSAL token cache (SerializableTokenCache JSON): the account,
              a fresh access token and the refresh token, for MSAL programs
  o365-token  the same cache, as python-o365 2.1 and later keep it
              (o365_token.txt)
  env         KEY=value lines: AZURE_TENANT_ID, AZURE_CLIENT_ID and
              AZURE_CLIENT_SECRET, as Azure Identity reads them; for a profile
              that signs in a user also M365CREDS_REFRESH_TOKEN, and only with
              --include-refresh-token

An exported refresh token is a second copy of a long-lived credential outside the keychain.
Microsoft rotates refresh tokens on every use, so from the first refresh on either side the
two copies go their own ways: let one program own the export. Prefer m365creds token or
m365creds exec where the program can call them.`,
		Example: `  m365creds export work --format msal-cache -o ~/.cache/myapp/msal.json
  m365creds export robot --format env > robot.env
  m365creds export work --format o365-token -o o365_token.txt`,
		RunE: a.run("export", func(pos []string) error { return a.runExport(o, pos) }),
	}
	fs := c.Flags()
	fs.StringVar(&o.format, "format", "", "`msal-cache|o365-token|env` what to write")
	fs.StringVarP(&o.output, "output", "o", "", "`FILE` write here (mode 0600) instead of stdout")
	fs.BoolVar(&o.includeRefresh, "include-refresh-token", false, "let env carry a user's refresh token")
	storeFlag(fs, &o.store)
	a.completeProfiles(c)
	return c
}

func (a *app) runExport(o *exportOptions, pos []string) error {
	switch o.format {
	case "msal-cache", "o365-token", "env":
	case "":
		return usagef("export", "missing --format: msal-cache, o365-token or env")
	default:
		return usagef("export", "--format must be msal-cache, o365-token or env, not %q", sanitize.Line(o.format, 40))
	}
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	a.storeWarning(o.store)
	p, err := requireProfile("export", store, pos)
	if err != nil {
		return err
	}
	engine := a.engine(store)
	var out []byte
	switch o.format {
	case "env":
		vars, err := engine.EnvVars(a.ctx, p, o.includeRefresh)
		if err != nil {
			return withCode(ExitUsage, err, "Add --include-refresh-token if the program must have it, or use m365creds exec, which hands it a fresh access token instead.")
		}
		var b strings.Builder
		for _, v := range vars {
			fmt.Fprintf(&b, "%s=%s\n", v.Name, dotenvValue(v.Value))
		}
		out = []byte(b.String())
	default:
		if out, err = engine.MSALCache(a.ctx, p); err != nil {
			return err
		}
		out = append(out, '\n')
	}
	if p.Kind != oauth.KindApp {
		a.warnf("the export holds a copy of the refresh token of profile %q outside the keychain; from the first refresh on either side the two copies go their own ways. Keep it as private as the keychain.", p.Name)
	}
	if o.output == "" {
		_, err = a.stdout.Write(out)
		return err
	}
	return writePrivate(o.output, out)
}

// dotenvValue quotes a value when a dotenv reader could misread it.
func dotenvValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n'\"#$\\=`") {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// writePrivate writes data to path with mode 0600, also when the file already exists with a
// wider mode: the mode is narrowed before anything secret is written.
func writePrivate(path string, data []byte) error {
	fail := func(err error) error {
		return fmt.Errorf("writing %s: %w", sanitize.Line(path, 300), err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fail(err)
	}
	return f.Close()
}

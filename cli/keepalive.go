package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/sanitize"
)

type keepaliveOptions struct {
	enable bool
	store  string
}

func (a *app) keepaliveCommand() *cobra.Command {
	o := &keepaliveOptions{}
	c := &cobra.Command{
		Use:   "keepalive install|uninstall|run",
		Short: "refresh unused sign-ins daily, warn of expiring secrets",
		Long: `Microsoft drops a refresh token that goes unused for 90 days, and a profile used only
now and then dies without warning. keepalive runs once a day to prevent that.

  run        refresh every profile that signs in a user and was not used
             for 30 days or more, and report client secrets that expire
             within 30 days (on stderr, and as a desktop notification where
             notify-send is installed)
  install    write a per-user job that runs "m365creds keepalive run" daily:
             a systemd timer (~/.config/systemd/user), a launchd agent
             (~/Library/LaunchAgents) or a Task Scheduler task (the XML for
             schtasks /Create /XML)
  uninstall  remove that job

install and uninstall print the command that starts or stops the schedule; with --enable
they run it (systemctl --user, launchctl or schtasks).

run exits 0 when all is well (a secret expiring soon is a warning only), 3 when a client
secret has expired, 4 when a sign-in could not be kept alive, and otherwise as token does.`,
		Example: `  m365creds keepalive install --enable
  m365creds keepalive run
  m365creds keepalive uninstall --enable`,
		ValidArgs: []cobra.Completion{"install", "uninstall", "run"},
		RunE:      a.run("keepalive", func(pos []string) error { return a.runKeepalive(o, pos) }),
	}
	fs := c.Flags()
	fs.BoolVar(&o.enable, "enable", false, "also start (install) or stop (uninstall) the schedule")
	storeFlag(fs, &o.store)
	return c
}

func (a *app) runKeepalive(o *keepaliveOptions, pos []string) error {
	if len(pos) == 0 {
		return usagef("keepalive", "missing the action: install, uninstall or run")
	}
	if err := maxArgs("keepalive", pos, 1); err != nil {
		return err
	}
	switch pos[0] {
	case "run":
		if o.enable {
			return usagef("keepalive", "--enable goes with install or uninstall")
		}
		return a.keepaliveRun(o)
	case "install", "uninstall":
		job, err := a.keepaliveJob(o)
		if err != nil {
			return err
		}
		if pos[0] == "install" {
			return a.keepaliveInstall(job, o.enable)
		}
		return a.keepaliveUninstall(job, o.enable)
	}
	return usagef("keepalive", "unknown action %q: use install, uninstall or run", clip(pos[0]))
}

// keepaliveJob builds this machine's job from its environment.
func (a *app) keepaliveJob(o *keepaliveOptions) (creds.Job, error) {
	exe, err := os.Executable()
	if err != nil {
		return creds.Job{}, fmt.Errorf("finding the path of m365creds: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	s := creds.Schedule{GOOS: runtime.GOOS, Executable: exe}
	if o.store != "" {
		s.Args = []string{"--store", o.store}
	}
	if dir := a.env.Getenv("M365CREDS_CONFIG_DIR"); dir != "" {
		s.Env = map[string]string{"M365CREDS_CONFIG_DIR": dir}
	}
	home := a.env.Getenv("HOME")
	switch runtime.GOOS {
	case "darwin":
		s.Dir, s.LogDir = filepath.Join(home, "Library", "LaunchAgents"), filepath.Join(home, "Library", "Logs")
	case "windows":
		if local := a.env.Getenv("LOCALAPPDATA"); local != "" {
			s.Dir = filepath.Join(local, "m365creds")
		}
	default:
		config := a.env.Getenv("XDG_CONFIG_HOME")
		if !filepath.IsAbs(config) && home != "" {
			config = filepath.Join(home, ".config")
		}
		if config != "" {
			s.Dir = filepath.Join(config, "systemd", "user")
		}
	}
	if s.Dir == "" {
		return creds.Job{}, errors.New("cannot tell where the job's files go: HOME (LOCALAPPDATA on Windows) is not set")
	}
	return creds.KeepaliveJob(s)
}

func (a *app) keepaliveInstall(job creds.Job, enable bool) error {
	for _, f := range job.Files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", sanitize.Line(filepath.Dir(f.Path), 0), err)
		}
		if err := os.WriteFile(f.Path, f.Content, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", sanitize.Line(f.Path, 0), err)
		}
		a.infof("Wrote %s", sanitize.Line(f.Path, 0))
	}
	return a.schedulerCommands(job.Enable, enable, "To start the daily run")
}

func (a *app) keepaliveUninstall(job creds.Job, enable bool) error {
	var present []string
	for _, f := range job.Files {
		if _, err := os.Stat(f.Path); err == nil {
			present = append(present, f.Path)
		}
	}
	if len(present) == 0 {
		a.infof("The keep-alive job is not installed (no %s).", sanitize.Line(job.Files[0].Path, 0))
		return nil
	}
	if err := a.schedulerCommands(job.Disable, enable, "To stop the daily run"); err != nil {
		return err
	}
	for _, p := range present {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("removing %s: %w", sanitize.Line(p, 0), err)
		}
		a.infof("Removed %s", sanitize.Line(p, 0))
	}
	return nil
}

// schedulerCommands runs the commands that start or stop the schedule, or, unless asked to,
// says what they are.
func (a *app) schedulerCommands(cmds [][]string, run bool, what string) error {
	if !run {
		lines := make([]string, len(cmds))
		for i, c := range cmds {
			lines[i] = "  " + describeCommand(c)
		}
		a.infof("%s, run (or use --enable):\n%s", what, strings.Join(lines, "\n"))
		return nil
	}
	r := a.runner()
	for _, c := range cmds {
		if _, err := r.Run(a.ctx, creds.Command{Name: c[0], Args: c[1:]}); err != nil {
			return withCode(ExitError, err, "Run it yourself once the problem is fixed: "+describeCommand(c))
		}
		a.infof("Ran %s", describeCommand(c))
	}
	return nil
}

func (a *app) keepaliveRun(o *keepaliveOptions) error {
	store, err := a.openStore(o.store)
	if err != nil {
		return err
	}
	engine := a.engine(store)
	rep, err := engine.Keepalive(a.ctx)
	if err != nil {
		return err
	}
	for _, name := range rep.Refreshed {
		a.infof("Refreshed profile %q, unused for 30 days or more: its sign-in stays valid.", name)
	}
	var notes []string
	code := ExitOK
	for _, f := range rep.Failed {
		a.infof("Profile %q could not be kept alive: %s", f.Profile, oneLine(f.Err.Error()))
		var ce *creds.Error
		if errors.As(f.Err, &ce) {
			if hint := nextStep(ce); hint != "" {
				a.infof("  %s", hint)
			}
		}
		notes = append(notes, fmt.Sprintf("profile %s could not be kept alive: run m365creds verify %s", f.Profile, f.Profile))
		code = worseExit(code, exitCode(f.Err))
	}
	for _, e := range rep.Expiring {
		if e.Expired {
			a.warnf("the client secret of profile %q expired on %s: create a new one and run m365creds rotate %s", e.Profile, e.Expires.Format(dateFormat), e.Profile)
			notes = append(notes, fmt.Sprintf("the client secret of profile %s has expired", e.Profile))
			code = worseExit(code, ExitSecret)
			continue
		}
		days := int(e.Expires.Sub(a.now()).Hours() / 24)
		a.warnf("the client secret of profile %q expires on %s (in %d days): create a new one and run m365creds rotate %s", e.Profile, e.Expires.Format(dateFormat), days, e.Profile)
		notes = append(notes, fmt.Sprintf("the client secret of profile %s expires on %s", e.Profile, e.Expires.Format(dateFormat)))
	}
	if len(notes) > 0 {
		a.notify("m365creds", strings.Join(notes, "\n"))
	}
	if code != ExitOK {
		return &silentError{code: code}
	}
	return nil
}

// worseExit keeps the exit code that matters more: an expired secret (3) over a lost sign-in
// (4), as status does, and either over the rest.
func worseExit(have, got int) int {
	rank := func(c int) int {
		switch c {
		case ExitOK:
			return 0
		case ExitSecret:
			return 3
		case ExitConsent:
			return 2
		}
		return 1
	}
	if rank(got) > rank(have) {
		return got
	}
	return have
}

// notify shows a desktop notification where notify-send is installed; a machine without one
// has the message on stderr only.
func (a *app) notify(title, body string) {
	r := a.runner()
	if _, ok := r.lookPath("notify-send"); !ok {
		return
	}
	if _, err := r.Run(a.ctx, creds.Command{Name: "notify-send", Args: []string{"--app-name=m365creds", "--", title, body}}); err != nil {
		a.warnf("the desktop notification failed: %s", sanitize.Line(err.Error(), 200))
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
)

// standInScript records one call of a stand-in program in $STANDIN_DIR/calls/NNN-NAME: its
// argv (one argument a line), its environment, its stdin and, for --file PATH, the file's
// content. With $STANDIN_DIR/fail-NAME present it fails after recording.
const standInScript = `#!/bin/sh
calls="$STANDIN_DIR/calls"
mkdir -p "$calls"
n=$(ls "$calls" | wc -l | tr -d ' ')
d="$calls/$(printf %03d "$n")-NAME"
mkdir "$d"
for a in "$@"; do printf '%s\n' "$a"; done > "$d/argv"
env > "$d/env"
cat > "$d/stdin"
prev=""
for a in "$@"; do
	if [ "$prev" = "--file" ]; then cat "$a" > "$d/file"; fi
	prev="$a"
done
if [ -e "$STANDIN_DIR/fail-NAME" ]; then echo "NAME: the service refused the request" >&2; exit 1; fi
`

// opExtra makes the op stand-in keep one item: get prints it (or fails the way op does for
// a missing item), create and edit replace it with the template on stdin.
const opExtra = `case "$1 $2" in
"item get")
	if [ -e "$STANDIN_DIR/op-item.json" ]; then cat "$STANDIN_DIR/op-item.json"; exit 0; fi
	echo "[ERROR] 2026/12/01 09:00:00 \"$3\" isn't an item in the \"$5\" vault. Specify the item with its UUID, name, or domain." >&2
	exit 1 ;;
"item create"|"item edit") cp "$d/stdin" "$STANDIN_DIR/op-item.json" ;;
esac
`

// standIns are stand-in az, gh, op, systemctl and notify-send programs on this run's PATH.
type standIns struct {
	t   *testing.T
	dir string // STANDIN_DIR
	bin string
}

// call is one recorded run of a stand-in.
type call struct {
	name               string
	argv               []string
	env, stdin, file   string
	stdinSet, fileSeen bool
}

func newStandIns(t *testing.T, h *harness) *standIns {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("SKIP: the stand-in programs are shell scripts")
	}
	s := &standIns{t: t, dir: t.TempDir(), bin: t.TempDir()}
	for _, name := range []string{"az", "gh", "op", "systemctl", "notify-send"} {
		script := strings.ReplaceAll(standInScript, "NAME", name)
		if name == "op" {
			script += opExtra
		}
		if err := os.WriteFile(filepath.Join(s.bin, name), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The programs m365creds starts find the stand-ins first, and the shell tools after them.
	path := s.bin + string(os.PathListSeparator) + "/usr/bin:/bin"
	over := map[string]string{"PATH": path, "STANDIN_DIR": s.dir}
	get := h.env.Getenv
	h.env.Getenv = func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		return get(k)
	}
	h.env.Environ = func() []string {
		var env []string
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); over[k] == "" {
				env = append(env, kv)
			}
		}
		for k, v := range over {
			env = append(env, k+"="+v)
		}
		return env
	}
	return s
}

// set overrides one more variable of the run.
func (h *harness) setenv(key, value string) {
	get := h.env.Getenv
	h.env.Getenv = func(k string) string {
		if k == key {
			return value
		}
		return get(k)
	}
}

func (s *standIns) fail(name string, failing bool) {
	s.t.Helper()
	p := filepath.Join(s.dir, "fail-"+name)
	if !failing {
		_ = os.Remove(p)
		return
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// calls are the recorded runs, oldest first.
func (s *standIns) calls() []call {
	s.t.Helper()
	entries, _ := os.ReadDir(filepath.Join(s.dir, "calls"))
	var out []call
	for _, e := range entries {
		d := filepath.Join(s.dir, "calls", e.Name())
		read := func(f string) (string, bool) {
			b, err := os.ReadFile(filepath.Join(d, f))
			return string(b), err == nil
		}
		_, name, _ := strings.Cut(e.Name(), "-")
		c := call{name: name}
		argv, _ := read("argv")
		c.argv = strings.Split(strings.TrimSuffix(argv, "\n"), "\n")
		c.env, _ = read("env")
		c.stdin, c.stdinSet = read("stdin")
		c.file, c.fileSeen = read("file")
		out = append(out, c)
	}
	return out
}

func (s *standIns) callsOf(name string) []call {
	var out []call
	for _, c := range s.calls() {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// neverInArgvOrEnv fails when a secret reached any stand-in's command line or environment.
func (s *standIns) neverInArgvOrEnv(secrets ...string) {
	s.t.Helper()
	for _, c := range s.calls() {
		for _, secret := range secrets {
			if strings.Contains(strings.Join(c.argv, "\n"), secret) {
				s.t.Errorf("%s got a secret in its argv", c.name)
			}
			if strings.Contains(c.env, secret) {
				s.t.Errorf("%s got a secret in its environment", c.name)
			}
		}
	}
}

func argAfter(argv []string, flag string) string {
	if i := slices.Index(argv, flag); i >= 0 && i+1 < len(argv) {
		return argv[i+1]
	}
	return ""
}

func (h *harness) setupDaemon(name string) {
	h.t.Helper()
	r := h.run(testSecret+"\n", "setup", "--no-input", "--profile", name, "--flow", "app", "--tenant", testTenantID,
		"--client-id", appClientID, "--secret-expires", "2027-05-01", "--client-secret-stdin")
	expectCode(h.t, r, 0)
}

// TestPublish publishes an app-only profile to each kind of target through the stand-ins:
// the secret reaches them only on stdin or the descriptor az reads as --file, with the
// metadata; the targets are recorded; delegated profiles are refused.
func TestPublish(t *testing.T) {
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		s := newStandIns(t, h)
		h.setupDaemon("robot")
		h.setupWeb("work")

		before := h.sim.Count("token", "client_credentials")
		r := h.run("", "publish", "robot", "--to", "azure-keyvault://contoso-kv/graph-robot",
			"--to", "gh://contoso/nightly/GRAPH_SECRET", "--to", "op://Automation/graph-robot",
			"--key-id", "33333333-3333-4333-8333-333333333333")
		expectCode(t, r, 0)
		noSecrets(t, r)
		expectContains(t, "stderr", r.stderr, "azure-keyvault://contoso-kv/graph-robot", "gh://contoso/nightly/GRAPH_SECRET", "op://Automation/graph-robot")
		if h.sim.Count("token", "client_credentials") == before {
			t.Error("the secret was not checked with Microsoft before publishing")
		}
		s.neverInArgvOrEnv(testSecret)
		st := h.run("", "status", "robot")
		expectContains(t, "status", st.stdout, "Published to:", "gh://contoso/nightly/GRAPH_SECRET")

		az := s.callsOf("az")
		if len(az) != 1 {
			t.Fatalf("az calls: %+v", az)
		}
		a := az[0].argv
		if !slices.Equal(a[:3], []string{"keyvault", "secret", "set"}) || argAfter(a, "--vault-name") != "contoso-kv" || argAfter(a, "--name") != "graph-robot" {
			t.Errorf("az argv %q", a)
		}
		if !az[0].fileSeen || az[0].file != testSecret {
			t.Errorf("az read %q from --file, want the secret exactly", az[0].file)
		}
		if got := argAfter(a, "--expires"); got != "2027-05-01T00:00:00Z" {
			t.Errorf("--expires %q", got)
		}
		i := slices.Index(a, "--tags")
		if i < 0 || !slices.Equal(a[i+1:], []string{"tenant=" + testTenantID, "clientId=" + appClientID, "keyId=33333333-3333-4333-8333-333333333333"}) {
			t.Errorf("az tags in %q", a)
		}
		if argAfter(a, "--output") != "none" {
			t.Errorf("az would print the secret back: %q", a)
		}

		gh := s.callsOf("gh")
		if len(gh) != 1 || !slices.Equal(gh[0].argv, []string{"secret", "set", "GRAPH_SECRET", "--repo", "contoso/nightly"}) || gh[0].stdin != testSecret {
			t.Errorf("gh calls %+v", gh)
		}

		op := s.callsOf("op")
		if len(op) != 2 || op[0].argv[1] != "get" || op[1].argv[1] != "create" || argAfter(op[1].argv, "--vault") != "Automation" {
			t.Fatalf("op calls %+v", op)
		}
		var item struct {
			Title, Category string
			Fields          []struct{ ID, Type, Value string }
		}
		if err := json.Unmarshal([]byte(op[1].stdin), &item); err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{}
		for _, f := range item.Fields {
			fields[f.ID] = f.Value
		}
		if item.Title != "graph-robot" || fields["credential"] != testSecret || fields["username"] != appClientID || fields["tenant"] != testTenantID {
			t.Errorf("op item %+v", item)
		}

		p, _ := h.store().Profile("robot")
		want := []string{"azure-keyvault://contoso-kv/graph-robot", "gh://contoso/nightly/GRAPH_SECRET", "op://Automation/graph-robot"}
		if !slices.Equal(p.PublishedTo, want) {
			t.Errorf("recorded targets %q", p.PublishedTo)
		}

		// Publishing again edits the 1Password item instead of making another, and records
		// the target once.
		expectCode(t, h.run("", "publish", "robot", "--to", "op://Automation/graph-robot"), 0)
		op = s.callsOf("op")
		if last := op[len(op)-1]; last.argv[1] != "edit" || last.argv[2] != "graph-robot" || !strings.Contains(last.stdin, testSecret) {
			t.Errorf("second op publish: %+v", last)
		}
		if p, _ := h.store().Profile("robot"); len(p.PublishedTo) != 3 {
			t.Errorf("recorded targets %q", p.PublishedTo)
		}

		// A delegated profile is refused, and nothing runs.
		n := len(s.calls())
		r = h.run("", "publish", "work", "--to", "gh://contoso/nightly/GRAPH_SECRET")
		expectCode(t, r, ExitUsage)
		expectContains(t, "stderr", r.stderr, "one writer")
		if len(s.calls()) != n {
			t.Error("a delegated profile was published")
		}
	})
}

func TestPublishFailures(t *testing.T) {
	h := newHarness(t, keyring.BackendFile)
	s := newStandIns(t, h)
	h.setupDaemon("robot")

	// Bad targets are usage errors.
	for _, to := range []string{"s3://bucket/x", "gh://contoso/GRAPH", "gh://contoso/repo/GITHUB_TOKEN", "azure-keyvault://kv/name", "op://Vault/-rf"} {
		r := h.run("", "publish", "robot", "--to", to)
		expectCode(t, r, ExitUsage)
	}
	// The program fails: exit 1, with what it said, and the target is not recorded.
	s.fail("gh", true)
	r := h.run("", "publish", "robot", "--to", "gh://contoso/nightly/GRAPH_SECRET")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "gh failed", "the service refused the request")
	if p, _ := h.store().Profile("robot"); len(p.PublishedTo) != 0 {
		t.Errorf("a failed publish was recorded: %q", p.PublishedTo)
	}
	// A program that is not installed.
	h.setenv("PATH", t.TempDir())
	r = h.run("", "publish", "robot", "--to", "gh://contoso/nightly/GRAPH_SECRET")
	expectCode(t, r, ExitError)
	expectContains(t, "stderr", r.stderr, "gh is not installed")

	// A secret Microsoft no longer accepts is never published.
	s2 := newStandIns(t, h)
	h.sim.ExpireSecret(appClientID, testSecret)
	r = h.run("", "publish", "robot", "--to", "gh://contoso/nightly/GRAPH_SECRET")
	expectCode(t, r, ExitSecret)
	if len(s2.calls()) != 0 {
		t.Error("a rejected secret was published")
	}
}

// TestRotateRepublishes: rotate writes the new secret to every recorded target before it
// switches; when one fails, the ones already updated get the old secret back, the profile
// keeps the old one, and the message names the failed target.
func TestRotateRepublishes(t *testing.T) {
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		s := newStandIns(t, h)
		h.setupDaemon("robot")
		expectCode(t, h.run("", "publish", "robot", "--to", "gh://contoso/nightly/GRAPH_SECRET", "--to", "azure-keyvault://contoso-kv/graph-robot"), 0)
		published := len(s.calls())

		s.fail("az", true)
		r := h.run(newSecret+"\n", "rotate", "robot", "--no-input", "--client-secret-stdin", "--secret-expires", "2027-11-30")
		expectCode(t, r, ExitError)
		noSecrets(t, r)
		expectContains(t, "stderr", r.stderr, "azure-keyvault://contoso-kv/graph-robot", "the old secret was put back in gh://contoso/nightly/GRAPH_SECRET", "Nothing was changed")
		if got := h.secrets("robot").ClientSecret; got != testSecret {
			t.Error("the profile switched to the new secret although a target failed")
		}
		gh := s.callsOf("gh")
		if len(gh) != 3 || gh[1].stdin != newSecret || gh[2].stdin != testSecret {
			t.Errorf("gh received %d calls; want the new secret, then the old one back", len(gh))
		}

		s.fail("az", false)
		r = h.run(newSecret+"\n", "rotate", "robot", "--no-input", "--client-secret-stdin", "--secret-expires", "2027-11-30")
		expectCode(t, r, 0)
		if got := h.secrets("robot").ClientSecret; got != newSecret {
			t.Error("the profile did not switch")
		}
		calls := s.calls()[published:]
		last := map[string]call{}
		for _, c := range calls {
			last[c.name] = c
		}
		if last["gh"].stdin != newSecret || last["az"].file != newSecret || argAfter(last["az"].argv, "--expires") != "2027-11-30T00:00:00Z" {
			t.Errorf("targets after the rotation: gh has the new secret %v, az %v, az argv %q", last["gh"].stdin == newSecret, last["az"].file == newSecret, last["az"].argv)
		}
		s.neverInArgvOrEnv(testSecret, newSecret)
	})
}

// TestKeepaliveRun with a clock 45 days ahead: exactly the delegated profiles unused for 30
// days or more are refreshed (counted at the simulator), app-only ones are not, and secrets
// expiring within 30 days are reported, with a desktop notification.
func TestKeepaliveRun(t *testing.T) {
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		s := newStandIns(t, h)
		h.setupWeb("dormant1")
		h.setupWeb("dormant2")
		h.setupWeb("recent")
		h.setupDaemon("robot")
		now := time.Now()
		later := now.Add(45 * 24 * time.Hour)
		touch := func(name string, fn func(*keyring.Profile)) {
			if err := h.store().Touch(name, fn); err != nil {
				t.Fatal(err)
			}
		}
		touch("recent", func(p *keyring.Profile) { p.LastRefresh = now.Add(40 * 24 * time.Hour) })
		touch("dormant2", func(p *keyring.Profile) { p.SecretExpires = later.Add(10 * 24 * time.Hour) })
		h.env.Now = func() time.Time { return later }

		refreshes := h.sim.Count("token", "refresh_token")
		clientCreds := h.sim.Count("token", "client_credentials")
		r := h.run("", "keepalive", "run")
		expectCode(t, r, 0)
		if got := h.sim.Count("token", "refresh_token") - refreshes; got != 2 {
			t.Errorf("%d refreshes, want 2 (the dormant profiles)", got)
		}
		if h.sim.Count("token", "client_credentials") != clientCreds {
			t.Error("an app-only profile was refreshed")
		}
		expectContains(t, "stderr", r.stderr, `Refreshed profile "dormant1"`, `Refreshed profile "dormant2"`,
			`client secret of profile "dormant2" expires on`, "(in 10 days)")
		if strings.Contains(r.stderr, `"recent"`) || strings.Contains(r.stderr, `"robot"`) {
			t.Errorf("stderr mentions a profile that needed nothing:\n%s", r.stderr)
		}
		for _, name := range []string{"dormant1", "dormant2"} {
			if p, _ := h.store().Profile(name); !p.LastRefresh.Equal(later) {
				t.Errorf("%s: last refresh %v, want the fake now", name, p.LastRefresh)
			}
		}
		notes := s.callsOf("notify-send")
		if len(notes) != 1 || !strings.Contains(strings.Join(notes[0].argv, " "), "dormant2") {
			t.Errorf("notifications %+v", notes)
		}

		// The next day nothing is dormant: no refresh at all.
		refreshes = h.sim.Count("token", "refresh_token")
		h.env.Now = func() time.Time { return later.Add(24 * time.Hour) }
		expectCode(t, h.run("", "keepalive", "run"), 0)
		if got := h.sim.Count("token", "refresh_token") - refreshes; got != 0 {
			t.Errorf("%d refreshes the day after, want 0", got)
		}

		// A revoked sign-in cannot be kept alive: exit 4, and the others still run.
		h.sim.RevokeRefreshTokens(webClientID)
		touch("dormant2", func(p *keyring.Profile) { p.SecretExpires = now.AddDate(1, 0, 0) })
		h.env.Now = func() time.Time { return later.Add(80 * 24 * time.Hour) }
		r = h.run("", "keepalive", "run")
		expectCode(t, r, ExitConsent)
		expectContains(t, "stderr", r.stderr, `"dormant1" could not be kept alive`, "setup --profile dormant1")
	})
}

func TestKeepaliveInstall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIP: install is checked on Linux; every platform's files are checked in creds")
	}
	h := newHarness(t, keyring.BackendFile)
	s := newStandIns(t, h)
	home := t.TempDir()
	h.setenv("HOME", home)
	h.setenv("XDG_CONFIG_HOME", "")
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	unitDir := filepath.Join(home, ".config", "systemd", "user")

	r := h.run("", "keepalive", "install")
	expectCode(t, r, 0)
	expectContains(t, "stderr", r.stderr, "systemctl --user daemon-reload", "systemctl --user enable --now m365creds-keepalive.timer")
	if len(s.calls()) != 0 {
		t.Error("install ran systemctl without --enable")
	}
	svc, err := os.ReadFile(filepath.Join(unitDir, "m365creds-keepalive.service"))
	if err != nil {
		t.Fatal(err)
	}
	expectContains(t, "service", string(svc), `ExecStart="`+exe+`" "keepalive" "run"`, "Environment=\"M365CREDS_CONFIG_DIR="+h.dir+"\"")
	timer, err := os.ReadFile(filepath.Join(unitDir, "m365creds-keepalive.timer"))
	if err != nil {
		t.Fatal(err)
	}
	expectContains(t, "timer", string(timer), "OnCalendar=daily", "Persistent=true", "WantedBy=timers.target")

	expectCode(t, h.run("", "keepalive", "install", "--enable"), 0)
	sc := s.callsOf("systemctl")
	if len(sc) != 2 || strings.Join(sc[0].argv, " ") != "--user daemon-reload" || strings.Join(sc[1].argv, " ") != "--user enable --now m365creds-keepalive.timer" {
		t.Errorf("systemctl calls %+v", sc)
	}

	expectCode(t, h.run("", "keepalive", "uninstall", "--enable"), 0)
	sc = s.callsOf("systemctl")
	if len(sc) != 3 || strings.Join(sc[2].argv, " ") != "--user disable --now m365creds-keepalive.timer" {
		t.Errorf("systemctl calls %+v", sc)
	}
	if _, err := os.Stat(filepath.Join(unitDir, "m365creds-keepalive.timer")); !os.IsNotExist(err) {
		t.Error("uninstall left the timer")
	}
	r = h.run("", "keepalive", "uninstall")
	expectCode(t, r, 0)
	expectContains(t, "stderr", r.stderr, "not installed")
	expectCode(t, h.run("", "keepalive", "bogus"), ExitUsage)
	expectCode(t, h.run("", "keepalive"), ExitUsage)
}

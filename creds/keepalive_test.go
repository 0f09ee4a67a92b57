package creds

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth/simulator"
)

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func TestKeepaliveJobSystemd(t *testing.T) {
	t.Parallel()
	job, err := KeepaliveJob(Schedule{GOOS: "linux", Executable: "/opt/my tools/m365creds", Args: []string{"--store", "file"},
		Dir: "/home/u/.config/systemd/user", Env: map[string]string{"M365CREDS_CONFIG_DIR": "/home/u/100%/cfg"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Files) != 2 || job.Files[0].Path != "/home/u/.config/systemd/user/m365creds-keepalive.service" ||
		job.Files[1].Path != "/home/u/.config/systemd/user/m365creds-keepalive.timer" {
		t.Fatalf("files %+v", job.Files)
	}
	svc, timer := string(job.Files[0].Content), string(job.Files[1].Content)
	contains(t, "service", svc, "[Service]\nType=oneshot\n",
		`ExecStart="/opt/my tools/m365creds" "keepalive" "run" "--store" "file"`+"\n",
		// % starts a specifier in unit files.
		`Environment="M365CREDS_CONFIG_DIR=/home/u/100%%/cfg"`)
	contains(t, "timer", timer, "[Timer]\nOnCalendar=daily\n", "Persistent=true\n", "[Install]\nWantedBy=timers.target\n")
	want := [][]string{{"systemctl", "--user", "daemon-reload"}, {"systemctl", "--user", "enable", "--now", "m365creds-keepalive.timer"}}
	if !slices.EqualFunc(job.Enable, want, slices.Equal) {
		t.Errorf("enable %q", job.Enable)
	}
	if !slices.EqualFunc(job.Disable, [][]string{{"systemctl", "--user", "disable", "--now", "m365creds-keepalive.timer"}}, slices.Equal) {
		t.Errorf("disable %q", job.Disable)
	}
}

func TestKeepaliveJobLaunchd(t *testing.T) {
	t.Parallel()
	job, err := KeepaliveJob(Schedule{GOOS: "darwin", Executable: "/Users/a&b/bin/m365creds",
		Dir: "/Users/ab/Library/LaunchAgents", LogDir: "/Users/ab/Library/Logs", Env: map[string]string{"M365CREDS_CONFIG_DIR": "/Users/ab/cfg"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Files) != 1 || job.Files[0].Path != "/Users/ab/Library/LaunchAgents/com.m365creds.keepalive.plist" {
		t.Fatalf("files %+v", job.Files)
	}
	plist := string(job.Files[0].Content)
	// A well-formed property list: it parses as XML.
	d := xml.NewDecoder(strings.NewReader(plist))
	d.Strict = true
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("plist is not XML: %v\n%s", err, plist)
			}
			break
		}
	}
	contains(t, "plist", plist, "<key>Label</key>\n\t<string>com.m365creds.keepalive</string>",
		"<array>\n\t\t<string>/Users/a&amp;b/bin/m365creds</string>\n\t\t<string>keepalive</string>\n\t\t<string>run</string>\n\t</array>",
		"<key>StartCalendarInterval</key>", "<key>Hour</key>\n\t\t<integer>9</integer>",
		"<key>M365CREDS_CONFIG_DIR</key>\n\t\t<string>/Users/ab/cfg</string>",
		"<key>StandardErrorPath</key>\n\t<string>/Users/ab/Library/Logs/m365creds-keepalive.log</string>")
	if strings.Contains(plist, "RunAtLoad") {
		t.Error("the agent would also run at every login")
	}
	path := job.Files[0].Path
	if !slices.EqualFunc(job.Enable, [][]string{{"launchctl", "load", "-w", path}}, slices.Equal) ||
		!slices.EqualFunc(job.Disable, [][]string{{"launchctl", "unload", "-w", path}}, slices.Equal) {
		t.Errorf("commands %q %q", job.Enable, job.Disable)
	}
}

func TestKeepaliveJobWindows(t *testing.T) {
	t.Parallel()
	dir := `C:\Users\Ann\AppData\Local\m365creds`
	job, err := KeepaliveJob(Schedule{GOOS: "windows", Executable: `C:\Program Files\m365creds\m365creds.exe`, Args: []string{"--store", "file"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Files) != 1 || job.Files[0].Path != filepath.Join(dir, "m365creds-keepalive.xml") {
		t.Fatalf("files %+v", job.Files)
	}
	text, err := DecodeUTF16(job.Files[0].Content)
	if err != nil {
		t.Fatal(err)
	}
	var task struct {
		XMLName  xml.Name `xml:"http://schemas.microsoft.com/windows/2004/02/mit/task Task"`
		Triggers struct {
			Calendar struct {
				Start string `xml:"StartBoundary"`
				Days  int    `xml:"ScheduleByDay>DaysInterval"`
			} `xml:"CalendarTrigger"`
		}
		LogonType string `xml:"Principals>Principal>LogonType"`
		Settings  struct {
			StartWhenAvailable bool
		}
		Exec struct {
			Command, Arguments string
		} `xml:"Actions>Exec"`
	}
	// encoding/xml reads only UTF-8: the declaration's UTF-16 is what the file really is.
	utf8 := strings.Replace(text, `encoding="UTF-16"`, `encoding="UTF-8"`, 1)
	if err := xml.Unmarshal([]byte(utf8), &task); err != nil {
		t.Fatalf("task XML: %v\n%s", err, text)
	}
	if task.Triggers.Calendar.Days != 1 || task.Triggers.Calendar.Start == "" || task.LogonType != "InteractiveToken" || !task.Settings.StartWhenAvailable {
		t.Errorf("task %+v", task)
	}
	if task.Exec.Command != `C:\Program Files\m365creds\m365creds.exe` || task.Exec.Arguments != "keepalive run --store file" {
		t.Errorf("exec %+v", task.Exec)
	}
	if !strings.Contains(text, "\r\n") {
		t.Error("the task file should have Windows line endings")
	}
	want := [][]string{{"schtasks", "/Create", "/TN", "m365creds-keepalive", "/XML", job.Files[0].Path, "/F"}}
	if !slices.EqualFunc(job.Enable, want, slices.Equal) {
		t.Errorf("enable %q", job.Enable)
	}
}

func TestKeepaliveJobUnsupported(t *testing.T) {
	t.Parallel()
	if _, err := KeepaliveJob(Schedule{GOOS: "plan9", Executable: "/bin/m365creds", Dir: "/x"}); err == nil {
		t.Error("plan9 got a job")
	}
	if _, err := KeepaliveJob(Schedule{GOOS: "linux", Dir: "/x"}); err == nil {
		t.Error("a job without the program's path")
	}
}

func TestWindowsArg(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"run":          "run",
		`C:\a b\c.exe`: `"C:\a b\c.exe"`,
		`say "hi"`:     `"say \"hi\""`,
		`trailing\ x\`: `"trailing\ x\\"`,
		"":             `""`,
	} {
		if got := windowsArg(in); got != want {
			t.Errorf("windowsArg(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	good := map[string]Target{
		"azure-keyvault://contoso-kv/graph-secret": {Scheme: SchemeKeyVault, Vault: "contoso-kv", Name: "graph-secret"},
		"gh://contoso/sync.tool/GRAPH_SECRET":      {Scheme: SchemeGitHub, Owner: "contoso", Repo: "sync.tool", Name: "GRAPH_SECRET"},
		"op://Automation/graph robot":              {Scheme: Scheme1Pass, Vault: "Automation", Name: "graph robot"},
	}
	for in, want := range good {
		got, err := ParseTarget(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseTarget(%q) = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{
		"", "contoso-kv/x", "s3://b/k", "azure-keyvault://kv/x", "azure-keyvault://contoso-kv/a_b",
		"azure-keyvault://contoso-kv/x/y", "gh://o/r", "gh://o/r/1X", "gh://o/r/GITHUB_TOKEN", "gh://o/../X",
		"gh://-o/r/X", "op://v", "op://v/", "op://v/--help", "op://v/a\nb",
	} {
		if _, err := ParseTarget(in); err == nil {
			t.Errorf("ParseTarget(%q) accepted", in)
		}
	}
}

func TestMergeOpItemKeepsOtherFields(t *testing.T) {
	t.Parallel()
	raw := `{"id":"abc","title":"robot","category":"API_CREDENTIAL","tags":["x"],
		"fields":[{"id":"credential","type":"CONCEALED","label":"credential","value":"old"},
		{"id":"notesPlain","type":"STRING","label":"notesPlain","value":"keep me"}]}`
	out, err := mergeOpItem([]byte(raw), []opField{{ID: "credential", Label: "credential", Type: "CONCEALED", Value: "new"},
		{ID: "tenant", Label: "tenant", Type: "STRING", Value: "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	var item struct {
		ID     string
		Tags   []string
		Fields []opField
	}
	if err := json.Unmarshal(out, &item); err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, f := range item.Fields {
		values[f.ID] = f.Value
	}
	if item.ID != "abc" || len(item.Tags) != 1 || len(item.Fields) != 3 || values["credential"] != "new" || values["notesPlain"] != "keep me" || values["tenant"] != "t1" {
		t.Errorf("merged %s", out)
	}
}

// TestKeepaliveFakeClock: with the clock 31 days ahead only the profile not used since is
// refreshed, counted at the simulator; one refreshed 10 days "ago" is left alone.
func TestKeepaliveFakeClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.consent(f.draft("old", simulator.DemoClientID))
	f.consent(f.draft("fresh", simulator.DemoClientID))
	now := time.Now()
	if err := f.engine.Store.Touch("fresh", func(p *keyring.Profile) { p.LastRefresh = now.Add(21 * 24 * time.Hour) }); err != nil {
		t.Fatal(err)
	}
	f.engine.Now = func() time.Time { return now.Add(31 * 24 * time.Hour) }
	before := f.sim.Count("token", "refresh_token")
	rep, err := f.engine.Keepalive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.sim.Count("token", "refresh_token") - before; got != 1 || !slices.Equal(rep.Refreshed, []string{"old"}) || len(rep.Failed) != 0 {
		t.Errorf("%d refreshes, report %+v", got, rep)
	}
	if len(rep.Expiring) != 0 {
		t.Errorf("expiring %+v (the secrets last six months)", rep.Expiring)
	}
}

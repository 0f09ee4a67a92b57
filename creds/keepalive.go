package creds

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// OpKeepalive is the daily keep-alive run.
const OpKeepalive Op = "keepalive"

const (
	// DormantAfter is how long a delegated profile may go unused before keep-alive refreshes
	// it: well before Entra drops a refresh token unused for 90 days (AADSTS700082), with
	// room for a machine that was off for weeks.
	DormantAfter = 30 * 24 * time.Hour
	// ExpiryWarning is how close to its expiry a client secret gets reported.
	ExpiryWarning = 30 * 24 * time.Hour
)

// KeepaliveReport is what one keep-alive run did and found.
type KeepaliveReport struct {
	Refreshed []string          // delegated profiles that were dormant and are fresh again
	Failed    []KeepaliveFailed // dormant profiles whose refresh failed
	Expiring  []ExpiringSecret  // client secrets that expire within ExpiryWarning (or have)
}

// KeepaliveFailed is a dormant profile that could not be refreshed.
type KeepaliveFailed struct {
	Profile string
	Err     error
}

// ExpiringSecret is a client secret close to (or past) its expiry.
type ExpiringSecret struct {
	Profile string
	Expires time.Time
	Expired bool
}

// lastUse is when a profile's refresh token was last redeemed, as far as the config file
// knows: its last refresh, else when it was saved.
func lastUse(p keyring.Profile) time.Time {
	t := p.Updated
	if p.LastRefresh.After(t) {
		t = p.LastRefresh
	}
	if t.IsZero() {
		t = p.Created
	}
	return t
}

// Keepalive refreshes every delegated profile unused for DormantAfter or longer, so that its
// refresh token never reaches the inactivity limit, and lists the client secrets that
// expire within ExpiryWarning. A failure of one profile does not stop the others.
func (s *Service) Keepalive(ctx context.Context) (KeepaliveReport, error) {
	profiles, err := s.Store.List()
	if err != nil {
		return KeepaliveReport{}, fail(OpKeepalive, "", "reading the profiles", oauth.App{}, err)
	}
	now := s.now()
	var r KeepaliveReport
	for _, p := range profiles {
		if p.Kind != oauth.KindPublic && !p.SecretExpires.IsZero() && p.SecretExpires.Sub(now) < ExpiryWarning {
			r.Expiring = append(r.Expiring, ExpiringSecret{Profile: p.Name, Expires: p.SecretExpires, Expired: !p.SecretExpires.After(now)})
		}
		if !delegated(p.Kind) || now.Sub(lastUse(p)) < DormantAfter {
			continue
		}
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if _, err := s.Token(ctx, p, TokenRequest{Force: true}); err != nil {
			if ce := (*Error)(nil); errors.As(err, &ce) {
				ce.Op = OpKeepalive
			}
			r.Failed = append(r.Failed, KeepaliveFailed{Profile: p.Name, Err: err})
			continue
		}
		r.Refreshed = append(r.Refreshed, p.Name)
	}
	return r, nil
}

// Schedule says where and how to install the daily keep-alive job. The generator reads
// nothing itself, so every platform's files can be produced (and checked) anywhere.
type Schedule struct {
	GOOS string // "linux" (and other systemd systems), "darwin" or "windows"
	// Executable is the absolute path of the m365creds binary the job runs.
	Executable string
	// Args follow "keepalive run" (--store file, say).
	Args []string
	// Dir is where the job's files go: ~/.config/systemd/user on Linux,
	// ~/Library/LaunchAgents on macOS, the task XML's folder on Windows.
	Dir string
	// LogDir receives the macOS agent's output (~/Library/Logs).
	LogDir string
	// Env is set for the job (M365CREDS_CONFIG_DIR when the user has one).
	Env map[string]string
}

// JobFile is one file of the keep-alive job.
type JobFile struct {
	Path    string
	Content []byte
}

// Job is the keep-alive job of one platform: its files and the commands that start and stop
// the schedule.
type Job struct {
	Files   []JobFile
	Enable  [][]string // run after writing the files
	Disable [][]string // run before removing them
}

// The names of the job.
const (
	systemdUnit = "m365creds-keepalive"
	launchdName = "com.m365creds.keepalive"
	taskName    = "m365creds-keepalive"
)

// KeepaliveJob builds the per-user job that runs `m365creds keepalive run` once a day.
func KeepaliveJob(s Schedule) (Job, error) {
	if s.Executable == "" || s.Dir == "" {
		return Job{}, errors.New("the keep-alive job needs the program's path and a folder for its files")
	}
	args := append([]string{"keepalive", "run"}, s.Args...)
	switch s.GOOS {
	case "darwin":
		return launchdJob(s, args), nil
	case "windows":
		return windowsTask(s, args), nil
	case "linux", "freebsd", "openbsd", "netbsd":
		return systemdJob(s, args), nil
	}
	return Job{}, fmt.Errorf("keep-alive jobs are not supported on %s: run m365creds keepalive run daily with the system's scheduler", s.GOOS)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// systemdJob is a user service run by a daily timer. Persistent=true runs a missed day's job
// at the next boot; the randomized delay spreads many machines' refreshes.
func systemdJob(s Schedule, args []string) Job {
	var svc strings.Builder
	svc.WriteString("[Unit]\nDescription=m365creds keep-alive: refresh dormant sign-ins, report expiring secrets\n\n[Service]\nType=oneshot\n")
	for _, k := range sortedKeys(s.Env) {
		fmt.Fprintf(&svc, "Environment=%s\n", systemdQuote(k+"="+s.Env[k]))
	}
	words := []string{systemdQuote(s.Executable)}
	for _, a := range args {
		words = append(words, systemdQuote(a))
	}
	fmt.Fprintf(&svc, "ExecStart=%s\n", strings.Join(words, " "))
	timer := "[Unit]\nDescription=Run m365creds keep-alive daily\n\n[Timer]\nOnCalendar=daily\nRandomizedDelaySec=1h\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n"
	return Job{
		Files: []JobFile{
			{Path: filepath.Join(s.Dir, systemdUnit+".service"), Content: []byte(svc.String())},
			{Path: filepath.Join(s.Dir, systemdUnit+".timer"), Content: []byte(timer)},
		},
		Enable: [][]string{
			{"systemctl", "--user", "daemon-reload"},
			{"systemctl", "--user", "enable", "--now", systemdUnit + ".timer"},
		},
		Disable: [][]string{
			{"systemctl", "--user", "disable", "--now", systemdUnit + ".timer"},
		},
	}
}

// systemdQuote makes one word of a unit file line: double-quoted, with backslashes, quotes
// and the specifier character % escaped (systemd.syntax(7), systemd.unit(7) "Specifiers").
func systemdQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// launchdJob is a LaunchAgent with a daily calendar interval; launchd runs an interval missed
// while the Mac slept when it wakes (launchd.plist(5), StartCalendarInterval).
func launchdJob(s Schedule, args []string) Job {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchdName + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range append([]string{s.Executable}, args...) {
		fmt.Fprintf(&b, "\t\t<string>%s</string>\n", xmlEscape(a))
	}
	b.WriteString("\t</array>\n")
	if len(s.Env) > 0 {
		b.WriteString("\t<key>EnvironmentVariables</key>\n\t<dict>\n")
		for _, k := range sortedKeys(s.Env) {
			fmt.Fprintf(&b, "\t\t<key>%s</key>\n\t\t<string>%s</string>\n", xmlEscape(k), xmlEscape(s.Env[k]))
		}
		b.WriteString("\t</dict>\n")
	}
	b.WriteString("\t<key>StartCalendarInterval</key>\n\t<dict>\n\t\t<key>Hour</key>\n\t\t<integer>9</integer>\n\t\t<key>Minute</key>\n\t\t<integer>17</integer>\n\t</dict>\n")
	if s.LogDir != "" {
		log := xmlEscape(filepath.Join(s.LogDir, "m365creds-keepalive.log"))
		fmt.Fprintf(&b, "\t<key>StandardOutPath</key>\n\t<string>%s</string>\n\t<key>StandardErrorPath</key>\n\t<string>%s</string>\n", log, log)
	}
	b.WriteString("</dict>\n</plist>\n")
	path := filepath.Join(s.Dir, launchdName+".plist")
	return Job{
		Files:   []JobFile{{Path: path, Content: []byte(b.String())}},
		Enable:  [][]string{{"launchctl", "load", "-w", path}},
		Disable: [][]string{{"launchctl", "unload", "-w", path}},
	}
}

// windowsTask is a Task Scheduler task for `schtasks /Create /XML`. It runs as the user, only
// while they are logged on (Credential Manager is theirs), daily, and as soon as possible
// after a missed start. The file is UTF-16 with a byte order mark, the encoding Task
// Scheduler itself exports (Task Scheduler schema:
// https://learn.microsoft.com/windows/win32/taskschd/task-scheduler-schema).
func windowsTask(s Schedule, args []string) Job {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = windowsArg(a)
	}
	// Env is not repeated here: a task gets the user's own environment variables, where a
	// lasting M365CREDS_CONFIG_DIR lives on Windows.
	command, arguments := s.Executable, strings.Join(quoted, " ")
	xml := `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>m365creds keep-alive: refresh dormant sign-ins, report expiring secrets</Description>
    <URI>\` + taskName + `</URI>
  </RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>2026-01-01T09:17:00</StartBoundary>
      <ScheduleByDay>
        <DaysInterval>1</DaysInterval>
      </ScheduleByDay>
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>true</RunOnlyIfNetworkAvailable>
    <ExecutionTimeLimit>PT10M</ExecutionTimeLimit>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>` + xmlEscape(command) + `</Command>
      <Arguments>` + xmlEscape(arguments) + `</Arguments>
    </Exec>
  </Actions>
</Task>
`
	path := filepath.Join(s.Dir, taskName+".xml")
	return Job{
		Files:   []JobFile{{Path: path, Content: utf16File(strings.ReplaceAll(xml, "\n", "\r\n"))}},
		Enable:  [][]string{{"schtasks", "/Create", "/TN", taskName, "/XML", path, "/F"}},
		Disable: [][]string{{"schtasks", "/Delete", "/TN", taskName, "/F"}},
	}
}

// windowsArg quotes an argument the way CommandLineToArgvW reads it back.
func windowsArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for _, r := range a {
		switch r {
		case '\\':
			slashes++
			continue
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
		default:
			b.WriteString(strings.Repeat(`\`, slashes))
		}
		slashes = 0
		b.WriteRune(r)
	}
	b.WriteString(strings.Repeat(`\`, 2*slashes))
	b.WriteByte('"')
	return b.String()
}

// utf16File is s as UTF-16LE with a byte order mark.
func utf16File(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 2, 2+2*len(units))
	out[0], out[1] = 0xff, 0xfe
	for _, u := range units {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

// DecodeUTF16 reads a file utf16File wrote (for tests and for showing the task).
func DecodeUTF16(b []byte) (string, error) {
	if len(b) < 2 || b[0] != 0xff || b[1] != 0xfe || len(b)%2 != 0 {
		return "", errors.New("not UTF-16LE with a byte order mark")
	}
	units := make([]uint16, 0, len(b)/2-1)
	for i := 2; i < len(b); i += 2 {
		units = append(units, binary.LittleEndian.Uint16(b[i:]))
	}
	return string(utf16.Decode(units)), nil
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

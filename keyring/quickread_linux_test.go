package keyring

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/m365creds/m365creds/internal/testkeychain"
)

func quickPlanFor(service string, accounts ...string) quickPlan {
	return quickPlan{address: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), uid: os.Geteuid(), service: service,
		accounts: accounts, deadline: time.Now().Add(10 * time.Second)}
}

// TestQuickReadMatchesGoKeyring: the quick read returns byte for byte what go-keyring's Get
// returns, for items of every shape, large ones included, and their paths.
func TestQuickReadMatchesGoKeyring(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-quick"
	values := map[string]string{
		"plain":   "=abc8Q~secret",
		"unicode": "=Grüße, 東京 🚀",
		"big":     strings.Repeat("x", 70000), // more than one read of the socket
		"spaces":  "  leading and trailing  ",
	}
	accounts := make([]string, 0, len(values))
	for acct, v := range values {
		if err := gokeyring.Set(service, acct, v); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, acct)
	}
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	res, err := quickRead(quickPlanFor(service, accounts...))
	if err != nil {
		t.Fatal(err)
	}
	for acct, want := range values {
		if got := res.values[acct]; got != want {
			t.Errorf("%s: quick read %d bytes, go-keyring wrote %d", acct, len(got), len(want))
		}
		if !strings.HasPrefix(string(res.paths[acct]), ssLoginPath+"/") {
			t.Errorf("%s: path %q", acct, res.paths[acct])
		}
	}
	if !strings.HasPrefix(res.name, ":") {
		t.Errorf("bus name %q, want a unique name", res.name)
	}
}

// TestQuickReadGivesUp: whatever the quick read cannot answer in full it leaves to godbus's
// path, which then answers as before.
func TestQuickReadGivesUp(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-quick-gives-up"
	if err := gokeyring.Set(service, "here", "value"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	missing := quickPlanFor(service, "here", "gone")
	wrongUser := quickPlanFor(service, "here")
	wrongUser.uid++ // EXTERNAL must name the socket's own user: the bus refuses
	noBus := quickPlanFor(service, "here")
	noBus.address = "unix:path=" + t.TempDir() + "/no-bus"
	for name, plan := range map[string]quickPlan{
		"an item is missing": missing,
		"the wrong user":     wrongUser,
		"nothing listens":    noBus,
		"a tcp address":      {address: "tcp:host=127.0.0.1,port=1", service: service, accounts: []string{"here"}, deadline: time.Now().Add(time.Second)},
		"no accounts":        quickPlanFor(service),
	} {
		if _, err := quickRead(plan); !errors.Is(err, errNotQuick) {
			t.Errorf("%s: %v, want errNotQuick", name, err)
		}
	}
	// Through the backend, the missing item is reported missing, and the other one found.
	asNewProcess(t)
	k := osKeychain{sessionBus: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), timeout: 10 * time.Second}
	got, err := k.getMany(service, []string{"here", "gone"})
	if err != nil || got["here"] != "value" || len(got) != 1 {
		t.Fatalf("getMany after the quick read gave up: %v %v", got, err)
	}
}

// TestQuickReadOnlyFirst: only a process's first read is a quick one; the next ones use
// godbus's connection and the paths the quick read found, with no search.
func TestQuickReadOnlyFirst(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-quick-first"
	if err := gokeyring.Set(service, "one", "1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	asNewProcess(t)
	k := osKeychain{sessionBus: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), timeout: 10 * time.Second}
	first := secretServiceCalls(t, func() {
		if v, err := k.get(service, "one"); err != nil || v != "1" {
			t.Fatalf("first read: %q %v", v, err)
		}
	})
	ssReader.mu.Lock()
	quick := ssReader.quickName
	ssReader.mu.Unlock()
	if quick == "" || first != 4 {
		t.Fatalf("first read: %d calls, quick connection %q; want 4 on a quick connection", first, quick)
	}
	second := secretServiceCalls(t, func() {
		if v, err := k.get(service, "one"); err != nil || v != "1" {
			t.Fatalf("second read: %q %v", v, err)
		}
	})
	if second != 3 { // the Get, OpenSession and GetSecrets on godbus's connection, no search
		t.Errorf("second read: %d calls, want 3", second)
	}
}

func TestUnixAddress(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"unix:path=/run/user/1000/bus":                     "/run/user/1000/bus",
		"unix:path=/tmp/dbus-x,guid=0123456789abcdef":      "/tmp/dbus-x",
		"unix:guid=01,abstract=/tmp/dbus-abc":              "@/tmp/dbus-abc",
		"unix:path=/tmp/with%20space;unix:path=/tmp/other": "/tmp/with space",
		"tcp:host=localhost,port=4000":                     "",
		"unix:runtime=yes":                                 "",
		"unix:tmpdir=/tmp":                                 "",
		"unix:path=/tmp/bad%2":                             "",
		"unix:path=":                                       "",
		"":                                                 "",
	} {
		_, got, ok := unixAddress(in)
		if got != want || ok != (want != "") {
			t.Errorf("unixAddress(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

// TestQuickReadsKeepTheDaemonAlive: thousands of quick reads, each on a new connection, leave
// the same Secret Service process answering. With OpenSession as a new connection's first
// call, gnome-keyring aborted within 68 to 767 such reads in each of four tries; the test is
// still a matter of chance, and may miss a regression now and then.
func TestQuickReadsKeepTheDaemonAlive(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-quick-alive"
	if err := gokeyring.Set(service, "one", "1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	owner := func() uint32 {
		t.Helper()
		var pid uint32
		if err := mustSessionBus(t).BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, ssName).Store(&pid); err != nil {
			t.Fatalf("who owns %s: %v", ssName, err)
		}
		return pid
	}
	before := owner()
	// One at a time with a pause between, as separate token calls come: the abort needed
	// the daemon idle when a new caller's first message arrived.
	const reads = 2000
	for i := range reads {
		res, err := quickRead(quickPlanFor(service, "one"))
		if err != nil || res.values["one"] != "1" {
			t.Fatalf("read %d of %d: %v (the Secret Service process %d may have died)", i+1, reads, err, before)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if after := owner(); after != before {
		t.Fatalf("the Secret Service process changed from %d to %d: it died and was started again", before, after)
	}
}

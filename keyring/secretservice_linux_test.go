package keyring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"

	"github.com/m365creds/m365creds/internal/testkeychain"
	"github.com/m365creds/m365creds/oauth"
)

// TestDirectReadMatchesGoKeyring writes items with go-keyring and checks that the direct
// reader returns byte for byte what go-keyring's Get returns, and the same absence.
func TestDirectReadMatchesGoKeyring(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-direct"
	values := map[string]string{
		"plain":   "=abc8Q~secret",
		"unicode": "=Grüße, 東京 🚀",
		"header":  "#3:" + strings.Repeat("a", 64),
		"big":     strings.Repeat("x", 9000),
		"spaces":  "  leading and trailing  ",
	}
	for acct, v := range values {
		if err := gokeyring.Set(service, acct, v); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	accounts := []string{"plain", "unicode", "missing", "header", "big", "spaces"}
	got, err := ssReader.getMany(service, accounts)
	if err != nil {
		t.Fatal(err)
	}
	for _, acct := range accounts {
		want, err := gokeyring.Get(service, acct)
		v, ok := got[acct]
		switch {
		case errors.Is(err, gokeyring.ErrNotFound):
			if ok {
				t.Errorf("%s: direct read found %q, go-keyring finds nothing", acct, v)
			}
		case err != nil:
			t.Fatalf("go-keyring Get %s: %v", acct, err)
		case !ok || v != want:
			t.Errorf("%s: direct read %q (found %v), go-keyring %q", acct, v, ok, want)
		}
	}
	if _, ok := got["missing"]; ok || len(got) != len(values) {
		t.Errorf("direct read returned %d values, want %d", len(got), len(values))
	}
	// Another service's item of the same account stays invisible.
	other, err := ssReader.getMany(service+"-other", []string{"plain"})
	if err != nil || len(other) != 0 {
		t.Errorf("other service: %v %v", other, err)
	}
}

// TestDirectReadConcurrent reads from many goroutines at once, sharing one connection and
// session, as a wizard and its token refreshes may.
func TestDirectReadConcurrent(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-direct-conc"
	for i := range 5 {
		if err := gokeyring.Set(service, fmt.Sprint("a", i), fmt.Sprint("value-", i)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	ssReader.forget(mustSessionBus(t)) // every goroutine may race to open the session
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			i := g % 5
			got, err := ssReader.getMany(service, []string{fmt.Sprint("a", i), "none"})
			if err != nil || len(got) != 1 || got[fmt.Sprint("a", i)] != fmt.Sprint("value-", i) {
				t.Errorf("goroutine %d: %v %v", g, got, err)
			}
		})
	}
	wg.Wait()
}

func mustSessionBus(t *testing.T) *dbus.Conn {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// firstCall is the method of the first call secretServiceCalls saw.
var firstCall string

// asNewProcess makes the next read behave as a new process's first: no session, no known
// item paths, and the quick read not tried yet.
func asNewProcess(t *testing.T) {
	t.Helper()
	ssReader.forget(mustSessionBus(t))
	ssReader.mu.Lock()
	defer ssReader.mu.Unlock()
	ssReader.quickTried, ssReader.pending, ssReader.quickName, ssReader.introduced = false, nil, "", nil
}

// secretServiceCalls counts the Secret Service method calls this process makes while fn runs,
// on godbus's connection and on a quick read's own, watched from a second connection turned
// into a bus monitor.
func secretServiceCalls(t *testing.T, fn func()) int {
	t.Helper()
	firstCall = ""
	shared := mustSessionBus(t).Names()[0]
	mon, err := dbus.SessionBusPrivate()
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	if err := mon.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := mon.Hello(); err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *dbus.Message, 1000)
	mon.Eavesdrop(msgs)
	rule := fmt.Sprintf("type='method_call',destination='%s'", ssName)
	// With eavesdropping on, the reply comes through msgs too: wait for it, so the monitor
	// is in place before fn runs.
	mon.BusObject().Go("org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, nil, []string{rule}, uint32(0))
	for m := range msgs {
		if m.Type == dbus.TypeError {
			t.Fatalf("BecomeMonitor: %v", m.Body)
		}
		if m.Type == dbus.TypeMethodReply {
			break
		}
	}
	fn()
	ssReader.mu.Lock()
	quick := ssReader.quickName
	ssReader.mu.Unlock()
	// A final call marks the end: everything before it has reached the monitor.
	if err := mustSessionBus(t).Object(ssName, ssPath).Call("org.freedesktop.DBus.Peer.Ping", 0).Err; err != nil {
		t.Fatal(err)
	}
	n := 0
	members := map[string]int{}
	defer func() { t.Logf("calls by method: %v", members) }()
	for {
		select {
		case m := <-msgs:
			if m.Type != dbus.TypeMethodCall {
				continue
			}
			member, _ := m.Headers[dbus.FieldMember].Value().(string)
			sender, _ := m.Headers[dbus.FieldSender].Value().(string)
			if member == "Ping" && sender == shared {
				return n
			}
			if sender != shared && (quick == "" || sender != quick) {
				continue // another connection's
			}
			members[member]++
			if n == 0 {
				firstCall = member
			}
			n++
		case <-time.After(5 * time.Second):
			t.Fatalf("the monitor saw no end marker after %d calls", n)
		}
	}
}

// TestSecretServiceCallCount holds the hot reads to their minimum. Every new connection's
// first call is Properties.Get of Collections (see introduce). The cached access token of a
// fresh process: four calls on the quick read's own connection. A later read of the same
// item: three on godbus's connection (the Get, a session, GetSecrets; the quick read found
// the item's path). Everything a refresh reads: the Get, a session, three searches and one
// GetSecrets. A save of three items in a process that has read them: the Get and a session
// (the read was a quick one), three creates, one read-back of all three, and one delete per
// item of the previous generation.
func TestSecretServiceCallCount(t *testing.T) {
	s := realStore(t)
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("calls"), sampleSecrets("c")); err != nil {
		t.Fatal(err)
	}
	// Each read is by a Store that has read nothing yet, as in a new process.
	newStore := func() *Store {
		fresh, err := Open(s.opts)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	saver := newStore()
	// The reads and the save of one operation (a token refresh) share what they read.
	opCtx := WithReadCache(ctx)
	for _, tc := range []struct {
		name  string
		fresh bool
		read  func() error
		max   int
	}{
		{"access token, new session", true, func() error { _, err := newStore().AccessToken(ctx, "calls"); return err }, 4},
		{"access token, open session", false, func() error { _, err := newStore().AccessToken(ctx, "calls"); return err }, 3},
		{"all secrets, new session", true, func() error { _, err := saver.Secrets(opCtx, "calls"); return err }, 6},
		{"all secrets again, same operation", false, func() error { _, err := saver.Secrets(opCtx, "calls"); return err }, 0},
		{"save of three items, same operation", false, func() error { return saver.Save(opCtx, sampleProfile("calls"), sampleSecrets("d")) }, 9},
	} {
		if tc.fresh {
			asNewProcess(t)
		}
		var err error
		n := secretServiceCalls(t, func() { err = tc.read() })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n > tc.max {
			t.Errorf("%s: %d Secret Service calls, want at most %d", tc.name, n, tc.max)
		}
		if tc.fresh && firstCall != "Get" {
			t.Errorf("%s: the first call was %s, not the Get of Collections", tc.name, firstCall)
		}
		t.Logf("%s: %d calls", tc.name, n)
	}
}

// refreshCalls runs, in a process that has not used the Secret Service yet, the store calls
// a refreshing `token` makes (creds.Service.Token): the cached access token, read again
// under the profile lock, everything the refresh needs, then UpdateSecrets with the new
// tokens, and returns how many Secret Service calls they took.
func refreshCalls(t *testing.T, s *Store, name string) int {
	t.Helper()
	ctx := WithReadCache(context.Background()) // as creds.Service.Token does
	asNewProcess(t)
	var err error
	n := secretServiceCalls(t, func() {
		if _, err = s.AccessToken(ctx, name); err != nil {
			return
		}
		if _, err = s.AccessToken(ctx, name); err != nil {
			return
		}
		var sec Secrets
		if sec, err = s.Secrets(ctx, name); err != nil {
			return
		}
		err = s.UpdateSecrets(ctx, name, func(up *Secrets) error {
			if up.ClientSecret != sec.ClientSecret {
				return errors.New("UpdateSecrets read another secret than Secrets")
			}
			if up.RefreshToken != "" {
				up.RefreshToken = "rt-new" + up.RefreshToken[6:]
			}
			up.AccessToken = "at-new" + up.AccessToken[6:]
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRefreshCallCount bounds the Secret Service calls of a refreshing `token`. An app-only
// profile (client secret and cached token): 4 to read the cache (the quick read), then on
// godbus's connection the first Get and a session, 2 for the client secret, 2 creates and 1
// read-back, 2 deletes. A delegated profile has a refresh token as well: one search, one create and one
// delete more. The refresh must leave a working profile with
// nothing of the old generation behind.
func TestRefreshCallCount(t *testing.T) {
	testkeychain.Require(t)
	// Its own service, so the item count is this test's alone.
	s, err := Open(Options{Service: "m365creds-test-refresh-calls", ConfigDir: t.TempDir(), Backend: BackendKeychain, Timeout: 10 * time.Second, SessionBus: os.Getenv("DBUS_SESSION_BUS_ADDRESS")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gokeyring.DeleteAll(s.opts.Service) })
	ctx := context.Background()
	app := sampleProfile("refresh-app")
	app.Kind = oauth.KindApp
	appSecrets := sampleSecrets("app")
	appSecrets.RefreshToken = ""
	delegated := sampleProfile("refresh-user")
	for _, tc := range []struct {
		p   Profile
		sec Secrets
		max int
	}{
		{app, appSecrets, 13},
		{delegated, sampleSecrets("user"), 16},
	} {
		if err := s.Save(ctx, tc.p, tc.sec); err != nil {
			t.Fatal(err)
		}
		// A new Store, as in a new process: nothing read yet.
		fresh, err := Open(s.opts)
		if err != nil {
			t.Fatal(err)
		}
		n := refreshCalls(t, fresh, tc.p.Name)
		t.Logf("%s: %d calls", tc.p.Name, n)
		if n > tc.max {
			t.Errorf("%s: a refresh made %d Secret Service calls, want at most %d", tc.p.Name, n, tc.max)
		}
		again, err := Open(s.opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := again.Secrets(ctx, tc.p.Name)
		if err != nil || !strings.HasPrefix(got.AccessToken, "at-new") || got.ClientSecret != tc.sec.ClientSecret {
			t.Fatalf("%s after the refresh: %v", tc.p.Name, err)
		}
		e, _ := again.entry(tc.p.Name)
		if want := len(e.Items); secretToolCount(t, s.opts.Service) != want+len(secretsOfOthers(t, again, tc.p.Name)) {
			t.Errorf("%s: %d items in the keychain, want %d", tc.p.Name, secretToolCount(t, s.opts.Service), want)
		}
	}
}

// secretsOfOthers lists the items of the profiles other than name.
func secretsOfOthers(t *testing.T, s *Store, name string) []string {
	t.Helper()
	cfg, err := s.load()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n, e := range cfg.Profiles {
		if n != name {
			out = append(out, e.Items...)
		}
	}
	return out
}

// TestDirectReadLockedCollection locks the login collection and checks that a read reports
// the locked keyring as go-keyring's path does (nobody can answer the unlock prompt here),
// then unlocks it with the test password and reads again.
func TestDirectReadLockedCollection(t *testing.T) {
	s := realStore(t)
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("locked"), sampleSecrets("l")); err != nil {
		t.Fatal(err)
	}
	conn := mustSessionBus(t)
	svc := conn.Object(ssName, ssPath)
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := svc.Call(ssService+".Lock", 0, []dbus.ObjectPath{ssLoginPath}).Store(&locked, &prompt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unlockLogin(t, conn) })
	opts := s.opts
	opts.Timeout = 3 * time.Second
	short, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	asNewProcess(t) // the quick first read meets the locked collection, and hands over
	_, err = short.AccessToken(ctx, "locked")
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Reason != "the login keyring is locked" {
		t.Fatalf("read of a locked collection: %v, want the locked-keyring UnavailableError", err)
	}
	t.Logf("locked: %v (after %v)", err, time.Since(start))
	unlockLogin(t, conn)
	if _, err := s.AccessToken(ctx, "locked"); err != nil {
		t.Fatalf("after unlocking: %v", err)
	}
}

// unlockLogin unlocks the login collection with the password testkeychain created it with,
// through gnome-keyring's own interface for that (the Secret Service API can only prompt).
func unlockLogin(t *testing.T, conn *dbus.Conn) {
	t.Helper()
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := conn.Object(ssName, ssPath).Call(ssService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&ignored, &session); err != nil {
		t.Fatal(err)
	}
	master := ssSecret{Session: session, Parameters: []byte{}, Value: []byte("m365creds-test"), ContentType: "text/plain"}
	if err := conn.Object(ssName, ssPath).Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0,
		dbus.ObjectPath(ssLoginPath), master).Err; err != nil {
		t.Fatal(err)
	}
}

// TestDirectWriteMatchesGoKeyring writes, replaces and deletes items directly and checks them
// with go-keyring: the same value, label and attributes, one item after a replace, and gone
// after a delete.
func TestDirectWriteMatchesGoKeyring(t *testing.T) {
	s := realStore(t)
	const service = "m365creds-test-direct-write"
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	if err := ssReader.set(service, "direct", "first"); err != nil {
		t.Fatal(err)
	}
	if err := ssReader.set(service, "direct", "Grüße ~ second"); err != nil {
		t.Fatal(err)
	}
	if err := gokeyring.Set(service, "via-go-keyring", "x"); err != nil {
		t.Fatal(err)
	}
	if v, err := gokeyring.Get(service, "direct"); err != nil || v != "Grüße ~ second" {
		t.Fatalf("go-keyring reads %q, %v", v, err)
	}
	if n := secretToolCount(t, service); n != 2 {
		t.Errorf("%d items, want 2: a replace must not add an item", n)
	}
	conn := mustSessionBus(t)
	var found []dbus.ObjectPath
	if err := conn.Object(ssName, ssLoginPath).Call(ssCollection+".SearchItems", 0, map[string]string{"service": service}).Store(&found); err != nil {
		t.Fatal(err)
	}
	for _, path := range found {
		item := conn.Object(ssName, path)
		label, err := item.GetProperty(ssItem + ".Label")
		if err != nil {
			t.Fatal(err)
		}
		attrs, err := item.GetProperty(ssItem + ".Attributes")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := attrs.Value().(map[string]string)
		// gnome-keyring adds the generic schema itself when it reloads the keyring file
		// (after an unlock, or when it sees the file change); searches ignore it.
		if m["xdg:schema"] == "org.freedesktop.Secret.Generic" {
			delete(m, "xdg:schema")
		}
		if want := fmt.Sprintf("Password for '%s' on '%s'", m["username"], service); label.Value() != want || len(m) != 2 || m["service"] != service {
			t.Errorf("item %s: label %v, attributes %v; want go-keyring's", path, label.Value(), m)
		}
	}
	for _, acct := range []string{"direct", "via-go-keyring"} {
		if err := ssReader.del(service, acct); err != nil {
			t.Fatalf("delete %s: %v", acct, err)
		}
		if _, err := gokeyring.Get(service, acct); !errors.Is(err, gokeyring.ErrNotFound) {
			t.Errorf("%s still there after delete: %v", acct, err)
		}
	}
	if err := ssReader.del(service, "direct"); !errors.Is(err, errItemMissing) {
		t.Errorf("deleting a missing item: %v, want errItemMissing", err)
	}
	if err := s.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRememberedPathGone replaces, behind the direct reader's back, an item whose path it
// remembers: the read and the delete must find the new item instead of failing or touching
// anything else.
func TestRememberedPathGone(t *testing.T) {
	testkeychain.Require(t)
	const service = "m365creds-test-stale-path"
	t.Cleanup(func() { _ = gokeyring.DeleteAll(service) })
	if err := ssReader.set(service, "item", "first"); err != nil {
		t.Fatal(err)
	}
	if err := ssReader.set(service, "other", "kept"); err != nil {
		t.Fatal(err)
	}
	conn := mustSessionBus(t)
	old := ssReader.pathOf(conn, itemKey{service, "item"})
	if old == "" {
		t.Fatal("the path of a created item is not remembered")
	}
	if err := gokeyring.Delete(service, "item"); err != nil {
		t.Fatal(err)
	}
	if err := gokeyring.Set(service, "item", "second"); err != nil {
		t.Fatal(err)
	}
	got, err := ssReader.getMany(service, []string{"item", "other"})
	if err != nil || got["item"] != "second" || got["other"] != "kept" {
		t.Fatalf("after the item was replaced: %v %v", got, err)
	}
	if now := ssReader.pathOf(conn, itemKey{service, "item"}); now == old || now == "" {
		t.Errorf("remembered path %q, old %q: want the new item's", now, old)
	}
	// Again behind its back, then a delete by the remembered path.
	if err := gokeyring.Delete(service, "item"); err != nil {
		t.Fatal(err)
	}
	if err := gokeyring.Set(service, "item", "third"); err != nil {
		t.Fatal(err)
	}
	if err := ssReader.del(service, "item"); err != nil {
		t.Fatal(err)
	}
	if _, err := gokeyring.Get(service, "item"); !errors.Is(err, gokeyring.ErrNotFound) {
		t.Errorf("the item is still there after a delete: %v", err)
	}
	if v, err := gokeyring.Get(service, "other"); err != nil || v != "kept" {
		t.Errorf("the other item: %q %v", v, err)
	}
}

package keyring

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"

	"github.com/m365creds/m365creds/internal/testkeychain"
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

// secretServiceCalls counts the Secret Service method calls this process makes while fn runs,
// watched from a second connection turned into a bus monitor.
func secretServiceCalls(t *testing.T, fn func()) int {
	t.Helper()
	sender := mustSessionBus(t).Names()[0]
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
	rule := fmt.Sprintf("type='method_call',sender='%s',destination='%s'", sender, ssName)
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
			if member == "Ping" {
				return n
			}
			members[member]++
			n++
		case <-time.After(5 * time.Second):
			t.Fatalf("the monitor saw no end marker after %d calls", n)
		}
	}
}

// TestSecretServiceCallCount holds the hot reads to their minimum: three calls for the cached
// access token of a fresh process, five for everything a refresh reads, one call fewer once
// the session is open, and for a save of three items: create, read back, and remove the
// previous generation (search, read, delete each).
func TestSecretServiceCallCount(t *testing.T) {
	s := realStore(t)
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("calls"), sampleSecrets("c")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		fresh bool
		read  func() error
		max   int
	}{
		{"access token, new session", true, func() error { _, err := s.AccessToken(ctx, "calls"); return err }, 3},
		{"access token, open session", false, func() error { _, err := s.AccessToken(ctx, "calls"); return err }, 2},
		{"all secrets, new session", true, func() error { _, err := s.Secrets(ctx, "calls"); return err }, 5},
		{"save of three items, open session", false, func() error { return s.Save(ctx, sampleProfile("calls"), sampleSecrets("d")) }, 21},
	} {
		if tc.fresh {
			ssReader.forget(mustSessionBus(t))
		}
		var err error
		n := secretServiceCalls(t, func() { err = tc.read() })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n > tc.max {
			t.Errorf("%s: %d Secret Service calls, want at most %d", tc.name, n, tc.max)
		}
		t.Logf("%s: %d calls", tc.name, n)
	}
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

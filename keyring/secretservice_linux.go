package keyring

import (
	"errors"
	"fmt"
	"sync"

	dbus "github.com/godbus/dbus/v5"
)

// The Secret Service names go-keyring uses, so this reader finds exactly the items go-keyring
// writes: the "login" collection, attributes "service" and "username".
const (
	ssName           = "org.freedesktop.secrets"
	ssPath           = "/org/freedesktop/secrets"
	ssService        = "org.freedesktop.Secret.Service"
	ssCollection     = "org.freedesktop.Secret.Collection"
	ssItem           = "org.freedesktop.Secret.Item"
	ssLoginPath      = "/org/freedesktop/secrets/collection/login"
	ssLockedProperty = ssCollection + ".Locked"
)

// errNotDirect means the direct reader met something only go-keyring's full sequence handles
// (no login collection, a locked item, a stale session): the read is done by go-keyring, so
// its errors, unlock prompts and messages stay exactly what they were.
var errNotDirect = errors.New("direct Secret Service read not possible")

// ssSecret is the Secret struct of the Secret Service API: (oayays).
type ssSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// directReader reads items with the fewest Secret Service calls: after the Get of
// Collections every new connection starts with (introduce), OpenSession (once per
// connection) and one SearchItems per account, sent together, then a single GetSecrets for
// all of them. go-keyring's Get makes seven calls per item (collection list, unlock of the
// collection, search, open session, unlock of the item, get, close).
type directReader struct {
	mu      sync.Mutex
	conn    *dbus.Conn // the connection session and paths belong to
	session dbus.ObjectPath
	// paths remembers the object path of each item this process has found or created, so a
	// read-back or a delete needs no search. Accounts carry their generation and a generation's
	// items are written once, so a path stays right until the item is deleted; a deleted one
	// makes the call fail, and the caller searches again.
	paths map[itemKey]dbus.ObjectPath
	// quickTried is set once the process's first read has been tried the quick way
	// (quickread_linux.go); pending holds the item paths it found until godbus's connection
	// takes them over, and quickName is its connection's bus name.
	quickTried bool
	pending    map[itemKey]dbus.ObjectPath
	quickName  string
	// introduced is the connection whose first Secret Service call has been answered.
	introduced *dbus.Conn
}

type itemKey struct{ service, account string }

var ssReader directReader

// sessionFor returns the cached plain-text session of conn, or "" when a new one is needed.
// Sessions end with the connection, so one per connection is enough and none is closed.
func (r *directReader) sessionFor(conn *dbus.Conn) dbus.ObjectPath {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != conn {
		return ""
	}
	return r.session
}

func (r *directReader) keep(conn *dbus.Conn, session dbus.ObjectPath) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != conn {
		r.paths = nil
	}
	r.conn, r.session = conn, session
}

// connect returns godbus's shared connection, introduced to the Secret Service. The first
// time, it takes over the item paths a quick read found: an item's path belongs to the
// Secret Service, not to a connection.
func (r *directReader) connect() (*dbus.Conn, error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return nil, err
	}
	if err := r.introduce(conn); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == nil && r.pending != nil {
		r.conn, r.session, r.paths, r.pending = conn, "", r.pending, nil
	}
	return conn, nil
}

// introduce makes a connection's first Secret Service call Properties.Get of Collections and
// waits for its answer. gnome-keyring registers each new caller from a callback it queues
// when the caller's first message arrives; an OpenSession handled before that callback ran
// finds no caller, and the daemon aborts ("gkd_secret_service_get_pkcs11_session: assertion
// 'client' failed", then g_variant_new on NULL; seen here with gnome-keyring 42.1 and
// reported against later ones). With OpenSession as a fresh connection's first call, that
// happened about once in 250 to 750 token calls in a row; with a first call that needs no
// caller, answered before OpenSession goes out, not once in 9,000 (and 6,000 in-process
// reads, TestQuickReadsKeepTheDaemonAlive). go-keyring's Get starts the same way. An error
// leaves the work to go-keyring; its first message, whatever it was, has been seen by then.
func (r *directReader) introduce(conn *dbus.Conn) error {
	r.mu.Lock()
	done := r.introduced == conn
	r.mu.Unlock()
	if done {
		return nil
	}
	var collections dbus.Variant
	if err := conn.Object(ssName, ssPath).Call("org.freedesktop.DBus.Properties.Get", 0, ssService, "Collections").Store(&collections); err != nil {
		return errNotDirect
	}
	r.mu.Lock()
	r.introduced = conn
	r.mu.Unlock()
	return nil
}

func (r *directReader) forget(conn *dbus.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == conn {
		r.conn, r.session, r.paths = nil, "", nil
	}
}

// pathOf returns the remembered path of an item of conn, or "".
func (r *directReader) pathOf(conn *dbus.Conn, key itemKey) dbus.ObjectPath {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != conn {
		return ""
	}
	return r.paths[key]
}

// remember notes where an item of conn is; "" forgets it.
func (r *directReader) remember(conn *dbus.Conn, key itemKey, path dbus.ObjectPath) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != conn {
		return // the session (and with it the paths) belongs to another connection
	}
	if path == "" {
		delete(r.paths, key)
		return
	}
	if r.paths == nil {
		r.paths = map[itemKey]dbus.ObjectPath{}
	}
	r.paths[key] = path
}

// forgetPaths drops every remembered path of conn, after a call that used them failed.
func (r *directReader) forgetPaths(conn *dbus.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == conn {
		r.paths = nil
	}
}

// getMany returns the values of the accounts that exist; missing ones are absent from the map.
// errNotDirect asks the caller to use go-keyring instead; other errors are the bus's own.
func (r *directReader) getMany(service string, accounts []string) (map[string]string, error) {
	conn, err := r.connect()
	if err != nil {
		return nil, err
	}
	values, err := r.getManyOn(conn, service, accounts, true)
	if errors.Is(err, errStalePath) {
		// An item this process knew has gone (deleted elsewhere): search for everything.
		r.forgetPaths(conn)
		values, err = r.getManyOn(conn, service, accounts, false)
	}
	if errors.Is(err, errStalePath) {
		err = errNotDirect
	}
	return values, err
}

// errStalePath means a remembered item path did not answer.
var errStalePath = errors.New("remembered Secret Service item path is stale")

func (r *directReader) getManyOn(conn *dbus.Conn, service string, accounts []string, usePaths bool) (map[string]string, error) {
	svc := conn.Object(ssName, ssPath)
	login := conn.Object(ssName, ssLoginPath)
	session := r.sessionFor(conn)
	var open *dbus.Call
	if session == "" {
		open = svc.Go(ssService+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))
	}
	known := make([]dbus.ObjectPath, len(accounts))
	searches := make([]*dbus.Call, len(accounts))
	usedPaths := false
	for i, acct := range accounts {
		if usePaths {
			known[i] = r.pathOf(conn, itemKey{service, acct})
		}
		if known[i] != "" {
			usedPaths = true
			continue
		}
		searches[i] = login.Go(ssCollection+".SearchItems", 0, nil,
			map[string]string{"service": service, "username": acct})
	}
	if open != nil {
		<-open.Done
		var ignored dbus.Variant
		if err := open.Store(&ignored, &session); err != nil {
			drain(searches)
			return nil, err
		}
		r.keep(conn, session)
	}
	paths := make([]dbus.ObjectPath, 0, len(accounts))
	pathOf := make(map[dbus.ObjectPath]string, len(accounts))
	missing := false
	for i, acct := range accounts {
		if known[i] != "" {
			paths = append(paths, known[i])
			pathOf[known[i]] = acct
			continue
		}
		call := searches[i]
		<-call.Done
		var found []dbus.ObjectPath
		if err := call.Store(&found); err != nil {
			drain(searches[i+1:])
			return nil, errNotDirect // no login collection, or a provider that refuses
		}
		if len(found) == 0 {
			missing = true
			continue
		}
		paths = append(paths, found[0]) // go-keyring takes the first match too
		pathOf[found[0]] = acct
		r.remember(conn, itemKey{service, acct}, found[0])
	}
	if missing {
		// A locked collection may hide its items from a search; go-keyring unlocks first.
		locked, err := login.GetProperty(ssLockedProperty)
		if err != nil || locked.Value() != false {
			return nil, errNotDirect
		}
	}
	values := make(map[string]string, len(paths))
	if len(paths) == 0 {
		return values, nil
	}
	var secrets map[dbus.ObjectPath]ssSecret
	if err := svc.Call(ssService+".GetSecrets", 0, paths, session).Store(&secrets); err != nil {
		if usedPaths {
			return nil, errStalePath // perhaps an item deleted meanwhile
		}
		r.forget(conn) // perhaps a session the provider no longer knows
		return nil, errNotDirect
	}
	for path, acct := range pathOf {
		s, ok := secrets[path]
		if !ok {
			if usedPaths {
				return nil, errStalePath
			}
			return nil, errNotDirect // locked: left out of the answer until unlocked
		}
		values[acct] = string(s.Value)
	}
	return values, nil
}

func drain(calls []*dbus.Call) {
	for _, c := range calls {
		<-c.Done
	}
}

// getMany reads several items at once: directly over D-Bus when it can, else through
// go-keyring one by one.
func (k osKeychain) getMany(service string, accounts []string) (map[string]string, error) {
	if directRead {
		if values, ok := ssReader.quickFirst(k.sessionBus, k.timeout, service, accounts); ok {
			return values, nil
		}
		values, err := ssReader.getMany(service, accounts)
		if !errors.Is(err, errNotDirect) {
			return values, err
		}
	}
	return getEach(k.getGoKeyring, service, accounts)
}

// open returns the connection and its session, opening one when needed.
func (r *directReader) open() (*dbus.Conn, dbus.ObjectPath, error) {
	conn, err := r.connect()
	if err != nil {
		return nil, "", err
	}
	if session := r.sessionFor(conn); session != "" {
		return conn, session, nil
	}
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := conn.Object(ssName, ssPath).Call(ssService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&ignored, &session); err != nil {
		return nil, "", err
	}
	r.keep(conn, session)
	return conn, session, nil
}

// set creates or replaces an item in one call, with the label, attributes and content type
// go-keyring gives it, so either can read, replace or delete what the other wrote.
func (r *directReader) set(service, account, value string) error {
	conn, session, err := r.open()
	if err != nil {
		return errNotDirect
	}
	props := map[string]dbus.Variant{
		ssItem + ".Label":      dbus.MakeVariant(fmt.Sprintf("Password for '%s' on '%s'", account, service)),
		ssItem + ".Attributes": dbus.MakeVariant(map[string]string{"username": account, "service": service}),
	}
	secret := ssSecret{Session: session, Parameters: []byte{}, Value: []byte(value), ContentType: "text/plain; charset=utf8"}
	var item, prompt dbus.ObjectPath
	if err := conn.Object(ssName, ssLoginPath).Call(ssCollection+".CreateItem", 0, props, secret, true).Store(&item, &prompt); err != nil {
		r.forget(conn)
		return errNotDirect // locked, no login collection, a stale session: go-keyring's way
	}
	if prompt != noPrompt {
		return errNotDirect // nothing is created until the prompt is answered
	}
	r.remember(conn, itemKey{service, account}, item)
	return nil
}

// del removes the first item of the account, as go-keyring's Delete does.
func (r *directReader) del(service, account string) error {
	conn, err := r.connect()
	if err != nil {
		return errNotDirect
	}
	key := itemKey{service, account}
	if path := r.pathOf(conn, key); path != "" {
		r.remember(conn, key, "")
		var prompt dbus.ObjectPath
		if err := conn.Object(ssName, path).Call(ssItem+".Delete", 0).Store(&prompt); err == nil && prompt == noPrompt {
			return nil
		}
		// Gone already, or something unusual: search as if the path were unknown.
	}
	login := conn.Object(ssName, ssLoginPath)
	var found []dbus.ObjectPath
	if err := login.Call(ssCollection+".SearchItems", 0, map[string]string{"service": service, "username": account}).Store(&found); err != nil {
		return errNotDirect
	}
	if len(found) == 0 {
		locked, err := login.GetProperty(ssLockedProperty)
		if err != nil || locked.Value() != false {
			return errNotDirect
		}
		return errItemMissing
	}
	var prompt dbus.ObjectPath
	if err := conn.Object(ssName, found[0]).Call(ssItem+".Delete", 0).Store(&prompt); err != nil || prompt != noPrompt {
		return errNotDirect
	}
	return nil
}

// noPrompt is the path the Secret Service returns when no prompt is needed.
const noPrompt = dbus.ObjectPath("/")

func (k osKeychain) setDirect(service, account, value string) error {
	if directRead {
		if err := ssReader.set(service, account, value); !errors.Is(err, errNotDirect) {
			return err
		}
	}
	return k.setGoKeyring(service, account, value)
}

func (k osKeychain) delDirect(service, account string) error {
	if directRead {
		if err := ssReader.del(service, account); !errors.Is(err, errNotDirect) {
			return err
		}
	}
	return k.delGoKeyring(service, account)
}

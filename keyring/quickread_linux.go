package keyring

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

// A process's first Secret Service read (for `token`, usually its only one) goes over a
// connection of its own, set up for that read alone. godbus opens a connection in five round
// trips to the bus (AUTH, AUTH EXTERNAL, DATA, NEGOTIATE_UNIX_FD, then BEGIN with Hello)
// before the first call. Here the handshake, BEGIN, Hello and the first call go out in one
// write, as sd-bus opens its connections (BEGIN and the first messages sent behind AUTH
// EXTERNAL without waiting for OK; dbus-daemon and dbus-broker read them in order), then
// OpenSession with the searches, then GetSecrets: three round trips in all. godbus still does
// the encoding and decoding of every message.
//
// The first call is always Properties.Get of the service's Collections, answered before
// OpenSession is sent (see introduce in secretservice_linux.go for why).
//
// Anything unusual (an address this does not dial, a refused handshake, an error reply, no
// login collection, an item missing or locked) makes it give up, and the read goes through
// godbus's connection as it always has, with that path's handling of locked keyrings,
// prompts and errors.

// quickPlan is what a quick read asks for.
type quickPlan struct {
	address  string // the session bus address, as in DBUS_SESSION_BUS_ADDRESS
	uid      int
	service  string
	accounts []string
	deadline time.Time
}

// quickResult is what a quick read found: a value and an item path for every account.
type quickResult struct {
	values map[string]string
	paths  map[string]dbus.ObjectPath
	name   string // the connection's unique bus name, for telling its calls apart in tests
}

var errNotQuick = errors.New("quick Secret Service read not possible")

func quickRead(p quickPlan) (quickResult, error) {
	network, addr, ok := unixAddress(p.address)
	if !ok || len(p.accounts) == 0 {
		return quickResult{}, errNotQuick
	}
	ctx, cancel := context.WithDeadline(context.Background(), p.deadline)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return quickResult{}, errNotQuick
	}
	defer conn.Close()
	if err := conn.SetDeadline(p.deadline); err != nil {
		return quickResult{}, errNotQuick
	}
	var out bytes.Buffer
	// The credentials byte, then EXTERNAL with the uid as its initial response: the bus
	// checks it against the socket's peer credentials.
	out.WriteString("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(p.uid))) + "\r\nBEGIN\r\n")
	var serial uint32
	next := func() uint32 { serial++; return serial }
	hello := next()
	if err := writeCall(&out, hello, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello"); err != nil {
		return quickResult{}, err
	}
	collections := next()
	if err := writeCall(&out, collections, ssName, ssPath, "org.freedesktop.DBus.Properties", "Get", ssService, "Collections"); err != nil {
		return quickResult{}, err
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		return quickResult{}, errNotQuick
	}
	in := bufio.NewReader(conn)
	if line, err := in.ReadString('\n'); err != nil || !strings.HasPrefix(line, "OK ") {
		return quickResult{}, errNotQuick
	}
	replies := replyReader{in: in, got: map[uint32]*dbus.Message{}}
	var res quickResult
	if err := replies.store(hello, &res.name); err != nil {
		return quickResult{}, err
	}
	var list dbus.Variant
	if err := replies.store(collections, &list); err != nil {
		return quickResult{}, err
	}
	if paths, ok := list.Value().([]dbus.ObjectPath); !ok || !slices.Contains(paths, ssLoginPath) {
		return quickResult{}, errNotQuick // no login collection: go-keyring's path explains it
	}
	out.Reset()
	open := next()
	if err := writeCall(&out, open, ssName, ssPath, ssService, "OpenSession", "plain", dbus.MakeVariant("")); err != nil {
		return quickResult{}, err
	}
	searches := make([]uint32, len(p.accounts))
	for i, acct := range p.accounts {
		searches[i] = next()
		if err := writeCall(&out, searches[i], ssName, ssLoginPath, ssCollection, "SearchItems",
			map[string]string{"service": p.service, "username": acct}); err != nil {
			return quickResult{}, err
		}
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		return quickResult{}, errNotQuick
	}
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := replies.store(open, &ignored, &session); err != nil {
		return quickResult{}, err
	}
	res.paths = make(map[string]dbus.ObjectPath, len(p.accounts))
	paths := make([]dbus.ObjectPath, len(p.accounts))
	for i, acct := range p.accounts {
		var found []dbus.ObjectPath
		if err := replies.store(searches[i], &found); err != nil {
			return quickResult{}, err
		}
		if len(found) == 0 {
			return quickResult{}, errNotQuick // missing, or hidden by a locked collection
		}
		paths[i] = found[0] // go-keyring takes the first match too
		res.paths[acct] = found[0]
	}
	out.Reset()
	get := next()
	if err := writeCall(&out, get, ssName, ssPath, ssService, "GetSecrets", paths, session); err != nil {
		return quickResult{}, err
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		return quickResult{}, errNotQuick
	}
	var secrets map[dbus.ObjectPath]ssSecret
	if err := replies.store(get, &secrets); err != nil {
		return quickResult{}, err
	}
	res.values = make(map[string]string, len(p.accounts))
	for i, acct := range p.accounts {
		s, ok := secrets[paths[i]]
		if !ok {
			return quickResult{}, errNotQuick // locked: left out until unlocked
		}
		res.values[acct] = string(s.Value)
	}
	return res, nil
}

// writeCall appends a method call to out. godbus keeps a message's serial to itself, so it
// is written into the fixed header afterwards (bytes 8 to 11, in the message's byte order).
func writeCall(out *bytes.Buffer, serial uint32, dest, path, iface, member string, body ...any) error {
	msg := &dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldDestination: dbus.MakeVariant(dest),
		dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath(path)),
		dbus.FieldInterface:   dbus.MakeVariant(iface),
		dbus.FieldMember:      dbus.MakeVariant(member),
	}, Body: body}
	if len(body) > 0 {
		msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	start := out.Len()
	if err := msg.EncodeTo(out, binary.LittleEndian); err != nil {
		return errNotQuick
	}
	binary.LittleEndian.PutUint32(out.Bytes()[start+8:start+12], serial)
	return nil
}

// replyReader reads the bus's messages and keeps the replies by the serial they answer;
// signals (the bus's NameAcquired) are skipped.
type replyReader struct {
	in  *bufio.Reader
	got map[uint32]*dbus.Message
}

// store waits for the reply to serial and stores its body in dest; an error reply is errNotQuick.
func (r *replyReader) store(serial uint32, dest ...any) error {
	for r.got[serial] == nil {
		msg, err := dbus.DecodeMessage(r.in)
		if err != nil {
			return errNotQuick
		}
		if v, ok := msg.Headers[dbus.FieldReplySerial]; ok {
			if s, ok := v.Value().(uint32); ok {
				r.got[s] = msg
			}
		}
	}
	msg := r.got[serial]
	if msg.Type != dbus.TypeMethodReply || dbus.Store(msg.Body, dest...) != nil {
		return errNotQuick
	}
	return nil
}

// unixAddress picks the first address of a D-Bus address list when it is a Unix socket given
// by path or abstract name, and returns it as net.Dial wants it. Values are %-escaped.
func unixAddress(list string) (network, addr string, ok bool) {
	first, _, _ := strings.Cut(list, ";")
	keys, found := strings.CutPrefix(first, "unix:")
	if !found {
		return "", "", false
	}
	for kv := range strings.SplitSeq(keys, ",") {
		key, value, _ := strings.Cut(kv, "=")
		value, err := unescapeAddress(value)
		if err != nil || value == "" {
			return "", "", false
		}
		switch key {
		case "path":
			return "unix", value, true
		case "abstract":
			return "unix", "@" + value, true
		}
	}
	return "", "", false
}

// unescapeAddress undoes the %XX escaping of D-Bus address values.
func unescapeAddress(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("short escape")
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", err
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// quickFirst makes the process's first read a quick one, when nothing has used godbus's
// connection yet. ok is false when it did not answer; the read then goes through godbus.
// The item paths it found are handed on to godbus's connection, so a later delete or
// read-back of the same items needs no search.
func (r *directReader) quickFirst(address string, timeout time.Duration, service string, accounts []string) (map[string]string, bool) {
	r.mu.Lock()
	first := !r.quickTried && r.conn == nil
	r.quickTried = true
	r.mu.Unlock()
	if !first {
		return nil, false
	}
	res, err := quickRead(quickPlan{address: address, uid: os.Geteuid(), service: service, accounts: accounts, deadline: time.Now().Add(timeout)})
	if err != nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.quickName = res.name
	if r.conn == nil {
		if r.pending == nil {
			r.pending = map[itemKey]dbus.ObjectPath{}
		}
		for acct, path := range res.paths {
			r.pending[itemKey{service, acct}] = path
		}
	}
	return res.values, true
}

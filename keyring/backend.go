package keyring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// backend stores single items. The keychain and the plain-text file both implement it, and
// tests put failing or blocking ones in its place.
type backend interface {
	set(service, account, value string) error
	get(service, account string) (string, error) // errItemMissing when absent
	del(service, account string) error           // errItemMissing when absent
	name() string
}

var errItemMissing = errors.New("item not found")

// batchGetter is a backend that reads several items in one go (the Secret Service, where
// each round trip costs more than the read itself). The values of missing items are absent.
type batchGetter interface {
	getMany(service string, accounts []string) (map[string]string, error)
}

// getEach is getMany for backends that read one item at a time.
func getEach(get func(service, account string) (string, error), service string, accounts []string) (map[string]string, error) {
	values := make(map[string]string, len(accounts))
	for _, acct := range accounts {
		v, err := get(service, acct)
		if errors.Is(err, errItemMissing) {
			continue
		}
		if err != nil {
			return nil, err
		}
		values[acct] = v
	}
	return values, nil
}

// directRead lets osKeychain read the Secret Service over D-Bus itself. Only go-keyring's own
// mock (a test) turns it off: the mock replaces go-keyring's provider, which a direct read
// would bypass.
var directRead = true

// osKeychain is the platform keychain through go-keyring; on Linux, reads, writes and deletes
// go straight to the Secret Service over D-Bus when nothing unusual is in the way.
type osKeychain struct {
	sessionBus string        // the D-Bus session bus address, for the quick first read
	timeout    time.Duration // bounds that read
}

func (k osKeychain) set(service, account, value string) error {
	return k.setDirect(service, account, value)
}

func (k osKeychain) del(service, account string) error { return k.delDirect(service, account) }

func (osKeychain) setGoKeyring(service, account, value string) error {
	return gokeyring.Set(service, account, value)
}

func (k osKeychain) get(service, account string) (string, error) {
	values, err := k.getMany(service, []string{account})
	if err != nil {
		return "", err
	}
	v, ok := values[account]
	if !ok {
		return "", errItemMissing
	}
	return v, nil
}

func (osKeychain) getGoKeyring(service, account string) (string, error) {
	v, err := gokeyring.Get(service, account)
	if errors.Is(err, gokeyring.ErrNotFound) {
		return "", errItemMissing
	}
	return v, err
}

func (osKeychain) delGoKeyring(service, account string) error {
	err := gokeyring.Delete(service, account)
	if errors.Is(err, gokeyring.ErrNotFound) {
		return errItemMissing
	}
	return err
}

func (osKeychain) name() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS Keychain"
	case "windows":
		return "Windows Credential Manager"
	default:
		return "Secret Service (login collection)"
	}
}

// fileBackend keeps items in a JSON file with mode 0600. It exists only for machines without a
// keychain, as an explicit choice (--store file), never as a fallback.
type fileBackend struct {
	path string
	mu   sync.Mutex
}

func (f *fileBackend) name() string { return "file (plain text, mode 0600): " + f.path }

func (f *fileBackend) load() (map[string]string, error) {
	raw, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, &ConfigFileError{Path: f.path, Op: "read", Err: err}
	}
	items := map[string]string{}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("the secrets file %s is damaged: %v", f.path, err)
	}
	return items, nil
}

// update runs fn on the items under both an in-process mutex and a file lock, so other
// processes writing the same file do not lose each other's items. fn reports whether it
// changed anything; when not, the file is left alone.
func (f *fileBackend) update(fn func(map[string]string) bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	unlock, err := lockFile(context.Background(), f.path+".lock")
	if err != nil {
		return &ConfigFileError{Path: f.path + ".lock", Op: "lock", Err: err}
	}
	defer unlock()
	items, err := f.load()
	if err != nil {
		return err
	}
	if !fn(items) {
		return nil
	}
	raw, err := json.MarshalIndent(items, "", " ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(f.path, raw); err != nil {
		return &ConfigFileError{Path: f.path, Op: "write", Err: err}
	}
	return nil
}

func (f *fileBackend) set(service, account, value string) error {
	return f.update(func(m map[string]string) bool { m[service+"\x00"+account] = value; return true })
}

func (f *fileBackend) get(service, account string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	items, err := f.load()
	if err != nil {
		return "", err
	}
	v, ok := items[service+"\x00"+account]
	if !ok {
		return "", errItemMissing
	}
	return v, nil
}

func (f *fileBackend) del(service, account string) error {
	missing := false
	err := f.update(func(m map[string]string) bool {
		_, found := m[service+"\x00"+account]
		missing = !found
		delete(m, service+"\x00"+account)
		return found
	})
	if err == nil && missing {
		return errItemMissing
	}
	return err
}

// withTimeout runs one backend call with a deadline. The buffered channel lets an abandoned
// call finish later without leaking a blocked goroutine.
func withTimeout[T any](ctx context.Context, timeout time.Duration, op func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := op()
		done <- result{v, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var zero T
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		return zero, &UnavailableError{
			Reason: fmt.Sprintf("the keychain did not answer within %s", timeout),
			Hint:   "It may be waiting for an unlock prompt: unlock the keychain (or answer the prompt) and try again, or allow more time with M365CREDS_KEYRING_TIMEOUT=60s",
			Err:    ErrTimeout,
		}
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// explain turns what go-keyring and D-Bus report into a cause and a next step. It only looks at
// the error text, which never contains the value being stored. sessionBus is the D-Bus
// session address the process has ("" for none).
func explain(err error, sessionBus string) error {
	if err == nil || errors.Is(err, errItemMissing) {
		return err
	}
	var ue *UnavailableError
	var ce *ConfigFileError
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, gokeyring.ErrSetDataTooBig) {
		return &UnavailableError{Reason: "the value is larger than this keychain accepts", Hint: "This is a bug in how m365creds splits values; please report it", Err: ErrTooLarge}
	}
	msg := err.Error()
	low := strings.ToLower(msg)
	switch {
	case runtime.GOOS == "linux" && sessionBus == "" &&
		(strings.Contains(low, "dbus") || strings.Contains(low, "x11") || strings.Contains(low, "autolaunch")):
		return &UnavailableError{Reason: "there is no D-Bus session (common over SSH and in containers)",
			Hint: "Run inside a desktop session, or start one: dbus-run-session -- sh, then unlock gnome-keyring; or use --store file", Err: err}
	case strings.Contains(low, "unlock"):
		return &UnavailableError{Reason: "the login keyring is locked",
			Hint: "Unlock it (log in to the desktop, or: printf %s PASSWORD | gnome-keyring-daemon --unlock), then try again", Err: err}
	case strings.Contains(low, "org.freedesktop.secrets") || strings.Contains(low, "serviceunknown") || strings.Contains(low, "not provided by any"):
		return &UnavailableError{Reason: "no Secret Service provider is running",
			Hint: "Install and start one (gnome-keyring, KeePassXC with Secret Service, or KWallet), or use --store file", Err: err}
	case strings.Contains(low, "connection refused") || strings.Contains(low, "no such file") || strings.Contains(low, "dbus"):
		return &UnavailableError{Reason: "cannot reach the D-Bus session bus",
			Hint: "Check DBUS_SESSION_BUS_ADDRESS, or run inside a desktop session; or use --store file", Err: err}
	case strings.Contains(low, "unsupported platform"):
		return &UnavailableError{Reason: "go-keyring has no keychain for " + runtime.GOOS,
			Hint: "Use --store file (plain text, mode 0600) on this system", Err: err}
	case strings.Contains(low, "denied") || strings.Contains(low, "not permitted"):
		return &UnavailableError{Reason: "the keychain refused access",
			Hint: "Allow m365creds in the keychain's access prompt or settings, then try again", Err: err}
	}
	return &UnavailableError{Reason: msg, Err: err}
}

// writeFileAtomic replaces path with data through a temporary file, fsync and rename, so a
// crash leaves either the old or the new file, never a torn one. google/renameio exports
// nothing on Windows, where this one has to work too.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

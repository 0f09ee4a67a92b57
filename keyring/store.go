package keyring

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/oauth"
)

// Backend chooses where secrets go.
type Backend string

const (
	// BackendKeychain is the OS keychain: Secret Service, macOS Keychain or Credential Manager.
	BackendKeychain Backend = "keychain"
	// BackendFile is a plain-text file with mode 0600, only when the user asks for it.
	BackendFile Backend = "file"
)

// Options configure a Store. The package never reads the environment: whatever depends on it
// is an option (see OptionsFrom).
type Options struct {
	Service   string // keychain service name: "m365creds", or "m365creds-demo" for the demo
	ConfigDir string
	Backend   Backend
	Timeout   time.Duration // per keychain call
	// HasDesktop says someone may be there to answer an unlock prompt.
	HasDesktop bool
	// SessionBus is the D-Bus session bus address ("" when there is none), for telling a
	// missing session from a broken one when the Secret Service fails.
	SessionBus string
}

// DefaultService is the keychain service real profiles live under.
const DefaultService = "m365creds"

// OptionsFrom builds the default options from an environment lookup (os.Getenv in the
// program, a map in tests): M365CREDS_CONFIG_DIR, M365CREDS_KEYRING_TIMEOUT, DISPLAY and
// WAYLAND_DISPLAY, DBUS_SESSION_BUS_ADDRESS, and the variables the OS's config directory
// comes from. The default timeout is long enough for a desktop unlock prompt, and short on a
// headless machine where nobody could answer one.
func OptionsFrom(getenv func(string) string) Options {
	o := Options{Service: DefaultService, Backend: BackendKeychain, Timeout: 5 * time.Second,
		SessionBus: getenv("DBUS_SESSION_BUS_ADDRESS")}
	o.HasDesktop = runtime.GOOS == "darwin" || runtime.GOOS == "windows" ||
		getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
	if o.HasDesktop {
		o.Timeout = 30 * time.Second
	}
	if d, err := time.ParseDuration(getenv("M365CREDS_KEYRING_TIMEOUT")); err == nil && d > 0 {
		o.Timeout = d
	}
	o.ConfigDir = getenv("M365CREDS_CONFIG_DIR")
	if o.ConfigDir == "" {
		if dir := userConfigDir(runtime.GOOS, getenv); dir != "" {
			o.ConfigDir = filepath.Join(dir, "m365creds")
		}
	}
	return o
}

// userConfigDir is os.UserConfigDir with the environment passed in.
func userConfigDir(goos string, getenv func(string) string) string {
	switch goos {
	case "windows":
		return getenv("AppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support")
		}
		return ""
	case "plan9":
		if h := getenv("home"); h != "" {
			return filepath.Join(h, "lib")
		}
		return ""
	}
	if x := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return x
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

// The items a profile can have in the keychain.
const (
	itemClientSecret = "client-secret"
	itemRefreshToken = "refresh-token"
	itemAccessToken  = "access-token"
)

// maxItemBytes keeps every stored value under the smallest platform limit (Windows accepts
// 2,560 bytes; macOS about 3 KB including the command go-keyring builds). Longer values are
// split into chunks.
const maxItemBytes = 2000

// entry is a profile as the config file holds it: the profile plus which generation of
// keychain items is current and which items that generation has.
type entry struct {
	Profile
	Generation string   `json:"generation,omitempty"`
	Items      []string `json:"items,omitempty"`
	// Store is where the items are ("file" for --store file; empty means the keychain), so a
	// profile read from the other store is reported as such rather than as lost items.
	Store Backend `json:"store,omitempty"`
}

// config is the whole config file. Pending lists, per profile name, generations whose items
// may exist in the keychain without being current: a save in progress, one interrupted by a
// crash, or a clean-up that failed. The next save or delete of that name removes them, so
// nothing stays behind in the keychain.
type config struct {
	Version  int                 `json:"version"`
	Profiles map[string]*entry   `json:"profiles"`
	Pending  map[string][]string `json:"pending,omitempty"`
}

const configVersion = 1

// Store reads and writes profiles.
type Store struct {
	opts    Options
	path    string
	backend backend
	cache   configCache
	// stage, when set by a test, is called at the points a crash matters most:
	// "before-commit" (all items written and verified, config not yet switched) and
	// "after-commit" (config switched, old items not yet removed).
	stage func(name string)
}

// Open loads the config file. A damaged file is an error (with a copy kept aside); it is never
// silently replaced.
func Open(opts Options) (*Store, error) {
	if opts.Service == "" {
		opts.Service = DefaultService
	}
	if opts.ConfigDir == "" {
		return nil, errors.New("no config directory: set M365CREDS_CONFIG_DIR")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	s := &Store{opts: opts, path: filepath.Join(opts.ConfigDir, configName(opts.Service))}
	switch opts.Backend {
	case BackendFile:
		s.backend = &fileBackend{path: filepath.Join(opts.ConfigDir, "secrets-"+opts.Service+".json")}
	case BackendKeychain, "":
		s.backend = osKeychain{sessionBus: opts.SessionBus, timeout: opts.Timeout}
	case BackendMemory:
		s.backend = newMemoryBackend()
	default:
		return nil, fmt.Errorf("unknown store %q: use keychain or file", opts.Backend)
	}
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// clone copies the profile's lists, so a caller changing them cannot change the cached config.
func (p Profile) clone() Profile {
	p.RequestedScopes = slices.Clone(p.RequestedScopes)
	p.GrantedScopes = slices.Clone(p.GrantedScopes)
	return p
}

func configName(service string) string {
	if service == DefaultService {
		return "profiles.json"
	}
	return "profiles-" + service + ".json"
}

// BackendName says where secrets are kept, for summaries and status.
func (s *Store) BackendName() string { return s.backend.name() }

// Path is the config file's location.
func (s *Store) Path() string { return s.path }

// configCache keeps the parsed config file of one Store, so that a command parses it once.
// It is valid while the file is the same one (writes replace it through a rename, so a new
// file) with the same modification time and size (for edits in place).
type configCache struct {
	mu   sync.Mutex
	cfg  *config
	info os.FileInfo
}

func (c *configCache) lookup(info os.FileInfo) *config {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil || !os.SameFile(c.info, info) || !c.info.ModTime().Equal(info.ModTime()) || c.info.Size() != info.Size() {
		return nil
	}
	return c.cfg
}

// valueCache keeps what one operation has read from the keychain, by account. An account
// names its generation, and a generation's items are written once and never changed, so a
// value read stays the value of that account until the item is deleted (del forgets it). A
// token refresh reads the same items several times; only the first read asks the keychain.
// It lives in a context (WithReadCache), not in the Store, so that a long-running process
// never answers from what it read minutes ago. A save's read-back never uses it.
type valueCache struct {
	mu sync.Mutex
	m  map[string]string
}

type valueCacheKey struct{}

// WithReadCache returns a context whose keychain reads share what they read, for one short
// operation that reads the same items more than once (a token refresh: the cached token,
// again under the lock, then everything the refresh and the save of its result need).
func WithReadCache(ctx context.Context) context.Context {
	if readCache(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, valueCacheKey{}, &valueCache{})
}

// readCache is the context's cache, or nil; a nil cache keeps and finds nothing.
func readCache(ctx context.Context) *valueCache {
	c, _ := ctx.Value(valueCacheKey{}).(*valueCache)
	return c
}

func (c *valueCache) lookup(acct string) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[acct]
	return v, ok
}

func (c *valueCache) keep(values map[string]string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]string, len(values))
	}
	for acct, v := range values {
		c.m[acct] = v
	}
}

func (c *valueCache) forget(acct string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, acct)
}

func (c *configCache) keep(cfg *config, info os.FileInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg, c.info = cfg, info
}

// load returns the config file's contents, parsed again only when the file has changed. The
// result is shared: readers must not change it (update works on its own fresh copy).
func (s *Store) load() (*config, error) {
	info, err := os.Stat(s.path)
	if err == nil {
		if cfg := s.cache.lookup(info); cfg != nil {
			return cfg, nil
		}
	}
	cfg, err := s.loadFile()
	if err == nil && info != nil {
		// Stat came first: a change between it and the read only makes the next call
		// parse again.
		s.cache.keep(cfg, info)
	}
	return cfg, err
}

// loadFile reads and parses the config file, without the cache.
func (s *Store) loadFile() (*config, error) {
	raw, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return &config{Version: configVersion, Profiles: map[string]*entry{}}, nil
	}
	if err != nil {
		return nil, &ConfigFileError{Path: s.path, Op: "read", Err: err}
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		kept, copyErr := keepAside(s.path, raw)
		if copyErr != nil {
			kept = "(could not copy: " + copyErr.Error() + ")"
		}
		return nil, &CorruptConfigError{Path: s.path, KeptAs: kept, Err: err}
	}
	return cfg, nil
}

// keepAside copies a damaged config file next to it as <path>.corrupt-<time>. It never
// replaces an earlier copy, so every damaged version the user may need stays available.
func keepAside(path string, raw []byte) (string, error) {
	base := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	for i := 1; ; i++ {
		kept := base
		if i > 1 {
			kept = fmt.Sprintf("%s-%d", base, i)
		}
		if prev, err := os.ReadFile(kept); err == nil && string(prev) == string(raw) {
			return kept, nil // the same damage, already kept
		}
		f, err := os.OpenFile(kept, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, werr := f.Write(raw)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		return kept, werr
	}
}

// parseConfig accepts only a well-formed config of a version this build understands.
func parseConfig(raw []byte) (*config, error) {
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	switch {
	case cfg.Version == 0:
		return nil, errors.New("no version field")
	case cfg.Version > configVersion:
		return nil, fmt.Errorf("written by a newer m365creds (version %d)", cfg.Version)
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]*entry{}
	}
	for name, e := range cfg.Profiles {
		if e == nil || e.Name != name || ValidateName(name) != nil {
			return nil, fmt.Errorf("profile entry %q is not valid", sanitize.Line(name, 64))
		}
		e.Profile = e.cleaned()
		if (e.Generation == "") != (len(e.Items) == 0) || (e.Generation != "" && !validGeneration(e.Generation)) {
			return nil, fmt.Errorf("profile %q has a damaged generation", name)
		}
		for _, item := range e.Items {
			if !slices.Contains(allItems, item) {
				return nil, fmt.Errorf("profile %q lists an unknown item %q", name, sanitize.Line(item, 64))
			}
		}
	}
	for name, gens := range cfg.Pending {
		if ValidateName(name) != nil {
			return nil, fmt.Errorf("pending entry %q is not valid", sanitize.Line(name, 64))
		}
		for _, g := range gens {
			if !validGeneration(g) {
				return nil, fmt.Errorf("pending entry %q is not valid", sanitize.Line(name, 64))
			}
		}
	}
	return &cfg, nil
}

// update changes the config under the config lock, re-reading it first so that two processes
// saving different profiles keep each other's entries.
func (s *Store) update(ctx context.Context, fn func(*config) error) error {
	// '@' cannot occur in a profile name, so this never collides with a profile's lock file.
	unlock, err := s.lock(ctx, filepath.Join(s.opts.ConfigDir, "locks", "@config.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := s.loadFile()
	if err != nil {
		return err
	}
	if err := fn(cfg); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path, raw); err != nil {
		return &ConfigFileError{Path: s.path, Op: "write", Err: err}
	}
	// Cache what was written as a reader would see it (parsing also cleans the fields).
	if info, err := os.Stat(s.path); err == nil {
		if written, err := parseConfig(raw); err == nil {
			s.cache.keep(written, info)
		}
	}
	return nil
}

// List returns every profile, sorted by name.
func (s *Store) List() ([]Profile, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(cfg.Profiles))
	for _, e := range cfg.Profiles {
		out = append(out, e.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Store) entry(name string) (*entry, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	e, ok := cfg.Profiles[name]
	if !ok {
		return nil, notFound(cfg, name)
	}
	return e, nil
}

// Profile returns one profile's non-secret fields.
func (s *Store) Profile(name string) (Profile, error) {
	e, err := s.entry(name)
	if err != nil {
		return Profile{}, err
	}
	return e.clone(), nil
}

// Secrets reads a profile's secrets from the keychain.
func (s *Store) Secrets(ctx context.Context, name string) (Secrets, error) {
	sec, err := s.read(ctx, name, allItems)
	return s.withSharedSecret(ctx, name, sec, err)
}

// AccessToken reads only the cached access token: the one keychain read `token` needs when the
// cache is still good.
func (s *Store) AccessToken(ctx context.Context, name string) (Secrets, error) {
	return s.read(ctx, name, []string{itemAccessToken})
}

// read reads the wanted items of the current generation. A save in another process may switch
// generations and remove the old items while this one reads them; then the read starts again
// on the new generation instead of reporting a loss.
func (s *Store) read(ctx context.Context, name string, wanted []string) (Secrets, error) {
	for attempt := 0; ; attempt++ {
		e, err := s.entry(name)
		if err != nil {
			return Secrets{}, err
		}
		if saved := e.Store; saved != s.storeKind() {
			return Secrets{}, &OtherStoreError{Profile: name, Store: saved}
		}
		sec, err := s.readEntry(ctx, e, wanted)
		var lost *LostItemError
		if !errors.As(err, &lost) || attempt == 3 {
			return sec, err
		}
		now, err := s.entry(name)
		if err != nil {
			return Secrets{}, err // deleted meanwhile: say so rather than "lost"
		}
		if now.Generation != e.Generation {
			continue
		}
		if lost.Item != itemAccessToken {
			return Secrets{}, lost
		}
		// Only the cached access token is gone: that is no cached token, not a broken
		// profile; the refresh token gets a new one.
		rest := slices.DeleteFunc(slices.Clone(wanted), func(item string) bool { return item == itemAccessToken })
		return s.readEntry(ctx, e, rest)
	}
}

func (s *Store) readEntry(ctx context.Context, e *entry, wanted []string) (Secrets, error) {
	var sec Secrets
	items := make([]string, 0, len(wanted))
	for _, item := range e.Items {
		if slices.Contains(wanted, item) {
			items = append(items, item)
		}
	}
	if len(items) == 0 {
		return sec, nil
	}
	values, err := s.readItems(ctx, e.Name, e.Generation, items, false)
	if err != nil {
		return Secrets{}, err
	}
	for _, item := range items {
		if err := decodeItem(&sec, item, values[item]); err != nil {
			return Secrets{}, err
		}
	}
	return sec, nil
}

// Errors for an item the config file names but the keychain no longer has. errors.Is on a
// *LostItemError matches the one for its item. A lost cached access token is no error: it
// reads as no cached token.
var (
	// ErrLostRefreshToken means the refresh token is gone: the user must sign in again.
	ErrLostRefreshToken = errors.New("the keychain has lost the refresh token")
	// ErrLostSecret means the client secret is gone: it must be entered again (rotate).
	ErrLostSecret = errors.New("the keychain has lost the client secret")
)

// LostItemError means an item the config file names is not in the keychain.
type LostItemError struct {
	Profile string
	Item    string // "client-secret", "refresh-token" or "access-token"
	Detail  string // which part of a chunked value, or ""
}

func (e *LostItemError) Error() string {
	next := fmt.Sprintf("run m365creds setup --profile %s again", e.Profile)
	if e.Item == itemClientSecret {
		next = fmt.Sprintf("enter it again with m365creds rotate %s", e.Profile)
	}
	return fmt.Sprintf("the keychain has lost the %s of profile %q%s: %s", e.Item, e.Profile, e.Detail, next)
}

// Is matches ErrLostRefreshToken or ErrLostSecret by item.
func (e *LostItemError) Is(target error) bool {
	switch target {
	case ErrLostRefreshToken:
		return e.Item == itemRefreshToken
	case ErrLostSecret:
		return e.Item == itemClientSecret
	}
	return false
}

// Class tells oauth.Classify what the user must do: sign in again for a lost refresh token,
// enter the secret again for a lost secret.
func (e *LostItemError) Class() oauth.Class {
	switch e.Item {
	case itemRefreshToken:
		return oauth.ClassConsent
	case itemClientSecret:
		return oauth.ClassSecret
	}
	return oauth.ClassOther
}

type accessItem struct {
	Token  string    `json:"token"`
	Expiry time.Time `json:"expiry"`
	Scopes []string  `json:"scopes,omitempty"`
}

func encodeItems(sec Secrets) (map[string]string, error) {
	items := map[string]string{}
	if sec.ClientSecret != "" {
		items[itemClientSecret] = sec.ClientSecret
	}
	if sec.RefreshToken != "" {
		items[itemRefreshToken] = sec.RefreshToken
	}
	if sec.AccessToken != "" {
		raw, err := json.Marshal(accessItem{Token: sec.AccessToken, Expiry: sec.AccessExpiry, Scopes: sec.AccessScopes})
		if err != nil {
			return nil, err
		}
		items[itemAccessToken] = string(raw)
	}
	return items, nil
}

func decodeItem(sec *Secrets, item, value string) error {
	switch item {
	case itemClientSecret:
		sec.ClientSecret = value
	case itemRefreshToken:
		sec.RefreshToken = value
	case itemAccessToken:
		var a accessItem
		if err := json.Unmarshal([]byte(value), &a); err != nil {
			return errors.New("the cached access token in the keychain is damaged")
		}
		sec.AccessToken, sec.AccessExpiry, sec.AccessScopes = a.Token, a.Expiry, a.Scopes
	}
	return nil
}

func account(profile, item, gen string) string { return profile + "/" + item + "@" + gen }

// writeItem stores one value. A value that fits goes in one item prefixed "="; a longer one
// is split into chunks "#1".."#n" behind a header "#n:sha256", so a missing or stale chunk is
// detected instead of returned as a wrong secret. The header is written last: until it
// exists the value does not exist, and clean-up sweeps chunks without a header (deleteItem).
func (s *Store) writeItem(ctx context.Context, profile, item, gen, value string) error {
	acct := account(profile, item, gen)
	if len(value)+1 <= maxItemBytes {
		return s.set(ctx, acct, "="+value)
	}
	chunks := split(value, maxItemBytes)
	for i, c := range chunks {
		if err := s.set(ctx, acct+"#"+strconv.Itoa(i+1), c); err != nil {
			return err
		}
	}
	sum := sha256.Sum256([]byte(value))
	return s.set(ctx, acct, fmt.Sprintf("#%d:%s", len(chunks), hex.EncodeToString(sum[:])))
}

// split cuts value into pieces of at most size bytes, never inside a UTF-8 sequence, so each
// piece is valid text for keychains that treat the secret as a string.
func split(value string, size int) []string {
	var out []string
	for value != "" {
		n := min(len(value), size)
		for n < len(value) && n > 0 && !utf8.RuneStart(value[n]) {
			n--
		}
		if n == 0 { // not UTF-8 at all: cut anywhere rather than loop
			n = min(len(value), size)
		}
		out = append(out, value[:n])
		value = value[n:]
	}
	return out
}

func (s *Store) readItem(ctx context.Context, profile, item, gen string) (string, error) {
	values, err := s.readItems(ctx, profile, gen, []string{item}, true)
	return values[item], err
}

// readItems reads items of one generation in two batches at most: every item's first (or
// only) part together, then every chunk of the chunked ones together. Problems are reported
// for the first item in the order given. fresh asks the keychain even for values this
// process has read before (a save's read-back).
func (s *Store) readItems(ctx context.Context, profile, gen string, items []string, fresh bool) (map[string]string, error) {
	accts := make([]string, len(items))
	for i, item := range items {
		accts[i] = account(profile, item, gen)
	}
	heads, err := s.getValues(ctx, accts, fresh)
	if err != nil {
		return nil, err
	}
	type chunked struct {
		item, acct, sum string
		count           int
	}
	values := make(map[string]string, len(items))
	var parted []chunked
	var chunkAccts []string
	for i, item := range items {
		head, ok := heads[accts[i]]
		if !ok {
			return nil, &LostItemError{Profile: profile, Item: item}
		}
		if v, ok := strings.CutPrefix(head, "="); ok {
			values[item] = v
			continue
		}
		count, sum, ok := parseHeader(head)
		if !ok {
			return nil, fmt.Errorf("the %s of profile %q in the keychain is damaged", item, profile)
		}
		parted = append(parted, chunked{item: item, acct: accts[i], sum: sum, count: count})
		for n := 1; n <= count; n++ {
			chunkAccts = append(chunkAccts, accts[i]+"#"+strconv.Itoa(n))
		}
	}
	if len(parted) == 0 {
		return values, nil
	}
	chunks, err := s.getValues(ctx, chunkAccts, fresh)
	if err != nil {
		return nil, err
	}
	for _, c := range parted {
		var b strings.Builder
		for n := 1; n <= c.count; n++ {
			part, ok := chunks[c.acct+"#"+strconv.Itoa(n)]
			if !ok {
				return nil, &LostItemError{Profile: profile, Item: c.item, Detail: fmt.Sprintf(" (part %d of %d)", n, c.count)}
			}
			b.WriteString(part)
		}
		got := sha256.Sum256([]byte(b.String()))
		if hex.EncodeToString(got[:]) != c.sum {
			return nil, fmt.Errorf("the parts of the %s of profile %q in the keychain do not match", c.item, profile)
		}
		values[c.item] = b.String()
	}
	return values, nil
}

func parseHeader(head string) (int, string, bool) {
	rest, ok := strings.CutPrefix(head, "#")
	if !ok {
		return 0, "", false
	}
	n, sum, ok := strings.Cut(rest, ":")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 || count > maxChunks || len(sum) != 64 {
		return 0, "", false
	}
	return count, sum, true
}

// maxChunks bounds a value at about 2 MB, far above any token, so a damaged header cannot
// make a read or a clean-up run for ever.
const maxChunks = 1000

// deleteItem removes one item of one generation with its chunks. Without a readable header
// (a save interrupted while writing chunks) it sweeps chunks #1, #2, ... until one is
// missing: chunks are written in order, so that finds them all. A missing item is no error.
func (s *Store) deleteItem(ctx context.Context, profile, item, gen string) error {
	acct := account(profile, item, gen)
	head, known := readCache(ctx).lookup(acct)
	var err error
	if !known {
		head, err = s.get(ctx, acct)
	}
	switch {
	case err == nil:
		if count, _, ok := parseHeader(head); ok {
			for i := 1; i <= count; i++ {
				if err := s.del(ctx, acct+"#"+strconv.Itoa(i)); err != nil && !errors.Is(err, errItemMissing) {
					return err
				}
			}
		} else if !strings.HasPrefix(head, "=") {
			if err := s.sweepChunks(ctx, acct); err != nil {
				return err
			}
		}
		if err := s.del(ctx, acct); err != nil && !errors.Is(err, errItemMissing) {
			return err
		}
		return nil
	case errors.Is(err, errItemMissing):
		return s.sweepChunks(ctx, acct)
	default:
		return err
	}
}

func (s *Store) sweepChunks(ctx context.Context, acct string) error {
	for i := 1; i <= maxChunks; i++ {
		err := s.del(ctx, acct+"#"+strconv.Itoa(i))
		if errors.Is(err, errItemMissing) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteGeneration removes every item a generation may have: the items listed, or all that
// any generation can have when items is nil (one a save may have left half-written). It goes
// on after a failure so that as much as possible is removed, and reports the first failure.
func (s *Store) deleteGeneration(ctx context.Context, profile, gen string, items []string) error {
	if items == nil {
		items = allItems
	}
	var firstErr error
	for _, item := range items {
		if err := s.deleteItem(ctx, profile, item, gen); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

var allItems = []string{itemClientSecret, itemRefreshToken, itemAccessToken}

// lockSaves serialises everything that writes or removes keychain items of one profile,
// across goroutines and processes. Without it a save could remove, as a leftover, the
// generation another save has written but not yet switched to. It is a different file from
// Lock's, so a caller holding Lock can still save. '@' cannot occur in a profile name, so
// the file never collides with a profile's own lock.
func (s *Store) lockSaves(ctx context.Context, name string) (func(), error) {
	return s.lock(ctx, filepath.Join(s.opts.ConfigDir, "locks", name+"@save.lock"))
}

// lock is lockFile with file-system failures (a read-only or full disk) reported as
// ConfigFileError; waiting in vain for another process stays the context's error.
func (s *Store) lock(ctx context.Context, path string) (func(), error) {
	unlock, err := lockFile(ctx, path)
	if err != nil && ctx.Err() == nil {
		return nil, &ConfigFileError{Path: path, Op: "lock", Err: err}
	}
	return unlock, err
}

// explain is the package's explain with this store's session bus.
func (s *Store) explain(err error) error { return explain(err, s.opts.SessionBus) }

// Save stores a profile and its secrets. The new items are written and read back under a new
// generation first; the config file then switches to them in one rename; only after that are
// the previous items removed. If anything fails before the switch, what was written is
// removed again and the previous profile stays exactly as it was.
func (s *Store) Save(ctx context.Context, p Profile, sec Secrets) error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	unlock, err := s.lockSaves(ctx, p.Name)
	if err != nil {
		return err
	}
	defer unlock()
	return s.save(ctx, p, sec)
}

// save is Save with the save lock held.
func (s *Store) save(ctx context.Context, p Profile, sec Secrets) error {
	items, err := encodeItems(unshared(p, sec))
	if err != nil {
		return err
	}
	names := make([]string, 0, len(items))
	for _, item := range allItems {
		if _, ok := items[item]; ok {
			names = append(names, item)
		}
	}
	// Note the new generation as pending before writing anything, so that items left by a
	// crash are known and removed by the next save or delete.
	var gen string
	if err := s.update(ctx, func(cfg *config) error {
		gen = newGeneration()
		for known(cfg, p.Name, gen) {
			gen = newGeneration()
		}
		if cfg.Pending == nil {
			cfg.Pending = map[string][]string{}
		}
		cfg.Pending[p.Name] = append(cfg.Pending[p.Name], gen)
		return nil
	}); err != nil {
		return err
	}
	failed := func(item string, err error) error {
		// A keychain that did not answer will not answer the clean-up either: leave the
		// generation pending for the next save rather than make the user wait again.
		if !errors.Is(err, ErrTimeout) {
			s.abandon(ctx, p.Name, gen)
		}
		return fmt.Errorf("saving the %s of profile %q (the previous values are unchanged): %w", item, p.Name, err)
	}
	for _, item := range names {
		if err := s.writeItem(ctx, p.Name, item, gen, items[item]); err != nil {
			return failed(item, err)
		}
	}
	// Every item is read back from the keychain, all in one batch.
	if len(names) > 0 {
		back, err := s.readItems(ctx, p.Name, gen, names, true)
		if err != nil {
			var lost *LostItemError
			item := names[0]
			if errors.As(err, &lost) {
				item = lost.Item
			}
			return failed(item, err)
		}
		for _, item := range names {
			if back[item] != items[item] {
				return failed(item, fmt.Errorf("the keychain returned a different %s than was stored", item))
			}
		}
	}
	s.at("before-commit")
	var stale []string
	// The previous current generation has exactly the items its entry lists (a save writes
	// nothing else), so only those are removed; pending ones may be half-written and are swept.
	listed := map[string][]string{}
	err = s.update(ctx, func(cfg *config) error {
		e := &entry{Profile: p, Generation: gen, Items: names}
		if s.opts.Backend == BackendFile {
			e.Store = BackendFile
		}
		if len(names) == 0 {
			e.Generation = "" // nothing stored: no generation to point at
		}
		stale = without(cfg.Pending[p.Name], gen)
		if e.Created.IsZero() {
			e.Created = e.Updated // a new profile: created now
		}
		if prev := cfg.Profiles[p.Name]; prev != nil {
			if !prev.Created.IsZero() {
				e.Created = prev.Created // a replaced profile keeps its birthday
			}
			if prev.Generation != "" && prev.Generation != gen {
				if !slices.Contains(stale, prev.Generation) {
					listed[prev.Generation] = slices.Clone(prev.Items)
				}
				stale = append(stale, prev.Generation)
			}
		}
		cfg.Profiles[p.Name] = e
		// The stale generations stay pending until they are really gone (cleanup).
		if len(stale) == 0 {
			delete(cfg.Pending, p.Name)
		} else {
			if cfg.Pending == nil {
				cfg.Pending = map[string][]string{}
			}
			cfg.Pending[p.Name] = stale
		}
		return nil
	})
	if err != nil {
		s.abandon(ctx, p.Name, gen)
		return fmt.Errorf("saving profile %q (the previous values are unchanged): %w", p.Name, err)
	}
	s.at("after-commit")
	s.cleanup(ctx, p.Name, stale, listed)
	return nil
}

func (s *Store) at(stage string) {
	if s.stage != nil {
		s.stage(stage)
	}
}

// known reports whether gen is already in use for name (current or pending).
func known(cfg *config, name, gen string) bool {
	if e := cfg.Profiles[name]; e != nil && e.Generation == gen {
		return true
	}
	return slices.Contains(cfg.Pending[name], gen)
}

// abandon removes a generation that never became current. It runs on a fresh context: the
// caller's may be what failed.
func (s *Store) abandon(ctx context.Context, profile, gen string) {
	s.cleanup(ctx, profile, []string{gen}, nil)
}

// withCacheOf is a fresh context that keeps only the read cache of ctx: clean-up runs even
// when ctx is what failed.
func withCacheOf(ctx context.Context) context.Context {
	if c := readCache(ctx); c != nil {
		return context.WithValue(context.Background(), valueCacheKey{}, c)
	}
	return context.Background()
}

// cleanup removes generations that are not current and drops from the pending list the ones
// that are really gone. A failure keeps them listed for the next save or delete to retry.
// listed gives the items of the generations whose items are known; the others are swept.
func (s *Store) cleanup(ctx context.Context, profile string, gens []string, listed map[string][]string) {
	if len(gens) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(withCacheOf(ctx), 2*s.opts.Timeout)
	defer cancel()
	var gone []string
	for _, gen := range gens {
		if s.deleteGeneration(ctx, profile, gen, listed[gen]) == nil {
			gone = append(gone, gen)
		}
	}
	if len(gone) == 0 {
		return
	}
	_ = s.update(ctx, func(cfg *config) error {
		left := slices.DeleteFunc(slices.Clone(cfg.Pending[profile]), func(g string) bool { return slices.Contains(gone, g) })
		if len(left) == 0 {
			delete(cfg.Pending, profile)
		} else {
			cfg.Pending[profile] = left
		}
		return nil
	})
}

func without(list []string, s string) []string {
	out := list[:0:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// newGeneration returns a random generation tag for account names.
func newGeneration() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validGeneration accepts what newGeneration makes (and the shorter tags of earlier builds).
func validGeneration(g string) bool {
	if len(g) < 8 || len(g) > 32 {
		return false
	}
	_, err := hex.DecodeString(g)
	return err == nil
}

// UpdateSecrets changes a profile's secrets with the same all-or-nothing guarantee as Save,
// for example to keep a refresh token Microsoft has just rotated. Read, change and write
// happen under the profile's save lock, so concurrent updates are not lost.
func (s *Store) UpdateSecrets(ctx context.Context, name string, fn func(*Secrets) error) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := s.lockSaves(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := s.Profile(name)
	if err != nil {
		return err
	}
	sec, err := s.Secrets(ctx, name)
	if err != nil {
		return err
	}
	if err := fn(&sec); err != nil {
		return err
	}
	return s.save(ctx, p, sec)
}

// Touch changes non-secret fields of a profile (last refresh, granted scopes).
func (s *Store) Touch(name string, fn func(*Profile)) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	return s.update(ctx, func(cfg *config) error {
		e, ok := cfg.Profiles[name]
		if !ok {
			return notFound(cfg, name)
		}
		fn(&e.Profile)
		e.Name = name
		return nil
	})
}

func notFound(cfg *config, name string) *NotFoundError {
	known := make([]string, 0, len(cfg.Profiles))
	for n := range cfg.Profiles {
		known = append(known, n)
	}
	sort.Strings(known)
	return &NotFoundError{Name: name, Known: known}
}

// Delete removes a profile: its config entry, then every keychain item of every generation.
// The entry goes first so that a half-finished delete never leaves a listed profile whose
// items are partly gone; the generations stay listed as pending until their items are, so
// running Delete again (or saving a profile of that name) finishes the job.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := s.lockSaves(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	var gens []string
	err = s.update(ctx, func(cfg *config) error {
		e, ok := cfg.Profiles[name]
		if !ok && len(cfg.Pending[name]) == 0 {
			return notFound(cfg, name)
		}
		if err := refuseSharedDelete(cfg, name); err != nil {
			return err
		}
		gens = slices.Clone(cfg.Pending[name])
		if ok && e.Generation != "" && !slices.Contains(gens, e.Generation) {
			gens = append(gens, e.Generation)
		}
		delete(cfg.Profiles, name)
		if len(gens) > 0 {
			if cfg.Pending == nil {
				cfg.Pending = map[string][]string{}
			}
			cfg.Pending[name] = gens
		}
		return nil
	})
	if err != nil {
		return err
	}
	var firstErr error
	var gone []string
	for _, gen := range gens {
		if err := s.deleteGeneration(ctx, name, gen, nil); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		gone = append(gone, gen)
	}
	if len(gone) > 0 {
		if err := s.update(ctx, func(cfg *config) error {
			left := slices.DeleteFunc(slices.Clone(cfg.Pending[name]), func(g string) bool { return slices.Contains(gone, g) })
			if len(left) == 0 {
				delete(cfg.Pending, name)
			} else {
				cfg.Pending[name] = left
			}
			return nil
		}); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return fmt.Errorf("profile %q is removed from the list, but some of its keychain items could not be removed (run the delete again to retry): %w", name, firstErr)
	}
	return nil
}

// Probe writes, reads back and deletes a test item, so a broken keychain is found before
// anyone spends minutes signing in.
func (s *Store) Probe(ctx context.Context) error {
	acct := "probe/" + newGeneration()
	const value = "m365creds keychain probe"
	if err := s.set(ctx, acct, value); err != nil {
		return err
	}
	defer func() { _ = s.del(context.Background(), acct) }()
	got, err := s.get(ctx, acct)
	if err != nil {
		return err
	}
	if got != value {
		return &UnavailableError{Reason: "the keychain returned something other than what was stored", Err: errors.New("probe mismatch")}
	}
	return nil
}

// Lock serialises work on one profile across processes, for example so that twenty scripts
// calling `token` at once refresh only once.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return s.lock(ctx, filepath.Join(s.opts.ConfigDir, "locks", name+".lock"))
}

func (s *Store) set(ctx context.Context, acct, value string) error {
	readCache(ctx).forget(acct)
	_, err := withTimeout(ctx, s.opts.Timeout, func() (struct{}, error) {
		return struct{}{}, s.backend.set(s.opts.Service, acct, value)
	})
	return s.explain(err)
}

func (s *Store) get(ctx context.Context, acct string) (string, error) {
	v, err := withTimeout(ctx, s.opts.Timeout, func() (string, error) { return s.backend.get(s.opts.Service, acct) })
	return v, s.explain(err)
}

// getValues is getMany answered from the values read before where it can (never when
// fresh); what the keychain returns is kept for the next read.
func (s *Store) getValues(ctx context.Context, accts []string, fresh bool) (map[string]string, error) {
	values := make(map[string]string, len(accts))
	ask := accts
	if !fresh {
		ask = make([]string, 0, len(accts))
		for _, acct := range accts {
			if v, ok := readCache(ctx).lookup(acct); ok {
				values[acct] = v
			} else {
				ask = append(ask, acct)
			}
		}
	}
	if len(ask) == 0 {
		return values, nil
	}
	got, err := s.getMany(ctx, ask)
	if err != nil {
		return nil, err
	}
	readCache(ctx).keep(got)
	for acct, v := range got {
		values[acct] = v
	}
	return values, nil
}

// getMany is get for several accounts under one time-out; missing ones are absent.
func (s *Store) getMany(ctx context.Context, accts []string) (map[string]string, error) {
	v, err := withTimeout(ctx, s.opts.Timeout, func() (map[string]string, error) {
		if b, ok := s.backend.(batchGetter); ok {
			return b.getMany(s.opts.Service, accts)
		}
		return getEach(s.backend.get, s.opts.Service, accts)
	})
	return v, s.explain(err)
}

func (s *Store) del(ctx context.Context, acct string) error {
	readCache(ctx).forget(acct)
	_, err := withTimeout(ctx, s.opts.Timeout, func() (struct{}, error) {
		return struct{}{}, s.backend.del(s.opts.Service, acct)
	})
	return s.explain(err)
}

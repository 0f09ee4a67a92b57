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
	"sort"
	"strconv"
	"strings"
	"time"
)

// Backend chooses where secrets go.
type Backend string

const (
	// BackendKeychain is the OS keychain: Secret Service, macOS Keychain or Credential Manager.
	BackendKeychain Backend = "keychain"
	// BackendFile is a plain-text file with mode 0600, only when the user asks for it.
	BackendFile Backend = "file"
)

// Options configure a Store.
type Options struct {
	Service   string // keychain service name: "m365creds", or "m365creds-demo" for the demo
	ConfigDir string
	Backend   Backend
	Timeout   time.Duration // per keychain call
}

// DefaultService is the keychain service real profiles live under.
const DefaultService = "m365creds"

// DefaultOptions reads M365CREDS_CONFIG_DIR and M365CREDS_KEYRING_TIMEOUT. The default timeout
// is long enough for a desktop unlock prompt, and short on a headless machine where nobody
// could answer one.
func DefaultOptions() Options {
	o := Options{Service: DefaultService, Backend: BackendKeychain, Timeout: 5 * time.Second}
	if hasDesktop() {
		o.Timeout = 30 * time.Second
	}
	if d, err := time.ParseDuration(os.Getenv("M365CREDS_KEYRING_TIMEOUT")); err == nil && d > 0 {
		o.Timeout = d
	}
	o.ConfigDir = os.Getenv("M365CREDS_CONFIG_DIR")
	if o.ConfigDir == "" {
		if dir, err := os.UserConfigDir(); err == nil {
			o.ConfigDir = filepath.Join(dir, "m365creds")
		}
	}
	return o
}

func hasDesktop() bool {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
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
// keychain items is current, and generations written but never committed (a crash mid-save).
type entry struct {
	Profile
	Generation string   `json:"generation,omitempty"`
	Items      []string `json:"items,omitempty"`
	Pending    []string `json:"pending,omitempty"`
}

type config struct {
	Version  int               `json:"version"`
	Profiles map[string]*entry `json:"profiles"`
}

const configVersion = 1

// Store reads and writes profiles.
type Store struct {
	opts    Options
	path    string
	backend backend
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
		s.backend = osKeychain{}
	default:
		return nil, fmt.Errorf("unknown store %q: use keychain or file", opts.Backend)
	}
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
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

func (s *Store) load() (*config, error) {
	raw, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return &config{Version: configVersion, Profiles: map[string]*entry{}}, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		kept := fmt.Sprintf("%s.corrupt-%s", s.path, time.Now().UTC().Format("20060102T150405Z"))
		if copyErr := os.WriteFile(kept, raw, 0o600); copyErr != nil {
			kept = "(could not copy: " + copyErr.Error() + ")"
		}
		return nil, &CorruptConfigError{Path: s.path, KeptAs: kept, Err: err}
	}
	return cfg, nil
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
			return nil, fmt.Errorf("profile entry %q is not valid", name)
		}
	}
	return &cfg, nil
}

// update changes the config under the config lock, re-reading it first so that two processes
// saving different profiles keep each other's entries.
func (s *Store) update(ctx context.Context, fn func(*config) error) error {
	unlock, err := lockFile(ctx, filepath.Join(s.opts.ConfigDir, "locks", ".config.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := s.load()
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
	return writeFileAtomic(s.path, raw)
}

// List returns every profile, sorted by name.
func (s *Store) List() ([]Profile, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(cfg.Profiles))
	for _, e := range cfg.Profiles {
		out = append(out, e.Profile)
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
		known := make([]string, 0, len(cfg.Profiles))
		for n := range cfg.Profiles {
			known = append(known, n)
		}
		sort.Strings(known)
		return nil, &NotFoundError{Name: name, Known: known}
	}
	return e, nil
}

// Profile returns one profile's non-secret fields.
func (s *Store) Profile(name string) (Profile, error) {
	e, err := s.entry(name)
	if err != nil {
		return Profile{}, err
	}
	return e.Profile, nil
}

// Secrets reads a profile's secrets from the keychain.
func (s *Store) Secrets(ctx context.Context, name string) (Secrets, error) {
	e, err := s.entry(name)
	if err != nil {
		return Secrets{}, err
	}
	var sec Secrets
	for _, item := range e.Items {
		value, err := s.readItem(ctx, e.Name, item, e.Generation)
		if err != nil {
			return Secrets{}, err
		}
		if err := decodeItem(&sec, item, value); err != nil {
			return Secrets{}, err
		}
	}
	return sec, nil
}

// AccessToken reads only the cached access token: the one keychain read `token` needs when the
// cache is still good.
func (s *Store) AccessToken(ctx context.Context, name string) (Secrets, error) {
	e, err := s.entry(name)
	if err != nil {
		return Secrets{}, err
	}
	var sec Secrets
	for _, item := range e.Items {
		if item != itemAccessToken {
			continue
		}
		value, err := s.readItem(ctx, e.Name, item, e.Generation)
		if err != nil {
			return Secrets{}, err
		}
		return sec, decodeItem(&sec, item, value)
	}
	return sec, nil
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
// detected instead of returned as a wrong secret.
func (s *Store) writeItem(ctx context.Context, profile, item, gen, value string) error {
	acct := account(profile, item, gen)
	if len(value)+1 <= maxItemBytes {
		return s.set(ctx, acct, "="+value)
	}
	var chunks []string
	for rest := value; rest != ""; {
		n := min(len(rest), maxItemBytes)
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	for i, c := range chunks {
		if err := s.set(ctx, acct+"#"+strconv.Itoa(i+1), c); err != nil {
			return err
		}
	}
	sum := sha256.Sum256([]byte(value))
	return s.set(ctx, acct, fmt.Sprintf("#%d:%s", len(chunks), hex.EncodeToString(sum[:])))
}

func (s *Store) readItem(ctx context.Context, profile, item, gen string) (string, error) {
	acct := account(profile, item, gen)
	head, err := s.get(ctx, acct)
	if errors.Is(err, errItemMissing) {
		return "", fmt.Errorf("the keychain has lost the %s of profile %q: run m365creds setup --profile %s again", item, profile, profile)
	}
	if err != nil {
		return "", err
	}
	if v, ok := strings.CutPrefix(head, "="); ok {
		return v, nil
	}
	count, sum, ok := parseHeader(head)
	if !ok {
		return "", fmt.Errorf("the %s of profile %q in the keychain is damaged", item, profile)
	}
	var b strings.Builder
	for i := 1; i <= count; i++ {
		c, err := s.get(ctx, acct+"#"+strconv.Itoa(i))
		if err != nil {
			if errors.Is(err, errItemMissing) {
				return "", fmt.Errorf("the %s of profile %q is missing part %d of %d in the keychain", item, profile, i, count)
			}
			return "", err
		}
		b.WriteString(c)
	}
	got := sha256.Sum256([]byte(b.String()))
	if hex.EncodeToString(got[:]) != sum {
		return "", fmt.Errorf("the parts of the %s of profile %q in the keychain do not match", item, profile)
	}
	return b.String(), nil
}

func parseHeader(head string) (int, string, bool) {
	rest, ok := strings.CutPrefix(head, "#")
	if !ok {
		return 0, "", false
	}
	n, sum, ok := strings.Cut(rest, ":")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 || count > 1000 || len(sum) != 64 {
		return 0, "", false
	}
	return count, sum, true
}

// deleteItems removes every item of one generation, chunks included (best effort: a missing
// item is not an error).
func (s *Store) deleteItems(ctx context.Context, profile, gen string, items []string) error {
	var firstErr error
	for _, item := range items {
		acct := account(profile, item, gen)
		head, err := s.get(ctx, acct)
		if err == nil {
			if count, _, ok := parseHeader(head); ok {
				for i := 1; i <= count; i++ {
					if err := s.del(ctx, acct+"#"+strconv.Itoa(i)); err != nil && firstErr == nil {
						firstErr = err
					}
				}
			}
		}
		if err := s.del(ctx, acct); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

var allItems = []string{itemClientSecret, itemRefreshToken, itemAccessToken}

// Save stores a profile and its secrets. The new items are written and read back under a new
// generation first; the config file then switches to them in one rename; only after that are
// the previous items removed. If anything fails before the switch, what was written is
// removed again and the previous profile stays exactly as it was.
func (s *Store) Save(ctx context.Context, p Profile, sec Secrets) error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	items, err := encodeItems(sec)
	if err != nil {
		return err
	}
	gen := newGeneration()
	names := make([]string, 0, len(items))
	for _, item := range allItems {
		if _, ok := items[item]; ok {
			names = append(names, item)
		}
	}
	// Record the generation as pending first, so that a crash before the switch leaves a note
	// of which items to clean up later.
	if err := s.update(ctx, func(cfg *config) error {
		if e, ok := cfg.Profiles[p.Name]; ok {
			e.Pending = append(e.Pending, gen)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, item := range names {
		err := s.writeItem(ctx, p.Name, item, gen, items[item])
		if err == nil {
			var back string
			back, err = s.readItem(ctx, p.Name, item, gen)
			if err == nil && back != items[item] {
				err = fmt.Errorf("the keychain returned a different %s than was stored", item)
			}
		}
		if err != nil {
			s.abandon(p.Name, gen)
			return fmt.Errorf("saving the %s: %w", item, err)
		}
	}
	var old *entry
	err = s.update(ctx, func(cfg *config) error {
		prev := cfg.Profiles[p.Name]
		e := &entry{Profile: p, Generation: gen, Items: names}
		if prev != nil {
			copied := *prev
			old = &copied
			if e.Created.IsZero() {
				e.Created = prev.Created
			}
			e.Pending = without(prev.Pending, gen)
		}
		cfg.Profiles[p.Name] = e
		return nil
	})
	if err != nil {
		s.abandon(p.Name, gen)
		return err
	}
	if old != nil {
		s.cleanup(p.Name, gen, old)
	}
	return nil
}

// abandon removes a generation that never became current.
func (s *Store) abandon(profile, gen string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	if s.deleteItems(ctx, profile, gen, allItems) != nil {
		return // keep the pending note so a later save retries the clean-up
	}
	_ = s.update(ctx, func(cfg *config) error {
		if e, ok := cfg.Profiles[profile]; ok {
			e.Pending = without(e.Pending, gen)
		}
		return nil
	})
}

// cleanup removes the replaced generation and any left over from interrupted saves.
func (s *Store) cleanup(profile, current string, old *entry) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	var left []string
	for _, gen := range append([]string{old.Generation}, old.Pending...) {
		if gen == "" || gen == current {
			continue
		}
		if s.deleteItems(ctx, profile, gen, allItems) != nil {
			left = append(left, gen)
		}
	}
	_ = s.update(ctx, func(cfg *config) error {
		if e, ok := cfg.Profiles[profile]; ok && e.Generation == current {
			e.Pending = left
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

func newGeneration() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// UpdateSecrets changes a profile's secrets with the same all-or-nothing guarantee as Save,
// for example to keep a refresh token Microsoft has just rotated.
func (s *Store) UpdateSecrets(ctx context.Context, name string, fn func(*Secrets) error) error {
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
	return s.Save(ctx, p, sec)
}

// Touch changes non-secret fields of a profile (last refresh, granted scopes).
func (s *Store) Touch(name string, fn func(*Profile)) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	return s.update(ctx, func(cfg *config) error {
		e, ok := cfg.Profiles[name]
		if !ok {
			return &NotFoundError{Name: name}
		}
		fn(&e.Profile)
		e.Name = name
		return nil
	})
}

// Delete removes a profile: every keychain item of every generation, then its config entry.
func (s *Store) Delete(ctx context.Context, name string) error {
	e, err := s.entry(name)
	if err != nil {
		return err
	}
	for _, gen := range append([]string{e.Generation}, e.Pending...) {
		if gen == "" {
			continue
		}
		if err := s.deleteItems(ctx, name, gen, allItems); err != nil {
			return fmt.Errorf("removing the keychain items of %q: %w", name, err)
		}
	}
	return s.update(ctx, func(cfg *config) error {
		delete(cfg.Profiles, name)
		return nil
	})
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
	return lockFile(ctx, filepath.Join(s.opts.ConfigDir, "locks", name+".lock"))
}

func (s *Store) set(ctx context.Context, acct, value string) error {
	_, err := withTimeout(ctx, s.opts.Timeout, func() (struct{}, error) {
		return struct{}{}, s.backend.set(s.opts.Service, acct, value)
	})
	return explain(err)
}

func (s *Store) get(ctx context.Context, acct string) (string, error) {
	v, err := withTimeout(ctx, s.opts.Timeout, func() (string, error) { return s.backend.get(s.opts.Service, acct) })
	return v, explain(err)
}

func (s *Store) del(ctx context.Context, acct string) error {
	_, err := withTimeout(ctx, s.opts.Timeout, func() (struct{}, error) {
		return struct{}{}, s.backend.del(s.opts.Service, acct)
	})
	return explain(err)
}

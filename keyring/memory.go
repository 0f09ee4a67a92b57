package keyring

import "sync"

// BackendMemory keeps secrets in this process only; they are gone when it exits. The demo
// uses it where no keychain works, so it can still be walked to the end.
const BackendMemory Backend = "memory"

// memoryKey keeps service and account apart without a separator that either could contain.
type memoryKey struct{ service, account string }

// memoryBackend is a keychain that lives in this process's memory, with the keychain's
// semantics: set replaces, get and del report errItemMissing for an absent item. It is safe
// for concurrent use, as the store calls it from goroutines (withTimeout).
type memoryBackend struct {
	mu    sync.Mutex
	items map[memoryKey]string
}

func newMemoryBackend() *memoryBackend {
	return &memoryBackend{items: map[memoryKey]string{}}
}

func (m *memoryBackend) name() string { return "memory only (gone when this program ends)" }

func (m *memoryBackend) set(service, account, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[memoryKey{service, account}] = value
	return nil
}

func (m *memoryBackend) get(service, account string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[memoryKey{service, account}]
	if !ok {
		return "", errItemMissing
	}
	return v, nil
}

func (m *memoryBackend) del(service, account string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memoryKey{service, account}
	if _, ok := m.items[k]; !ok {
		return errItemMissing
	}
	delete(m.items, k)
	return nil
}

// InMemory reports whether this store keeps secrets only in memory (BackendMemory).
func (s *Store) InMemory() bool {
	_, ok := s.backend.(*memoryBackend)
	return ok
}

package keyring

import "sort"

// Names returns, sorted, every profile name that has or may have items in the keychain: the
// listed profiles and the names with pending generations (a save a crash interrupted, or a
// clean-up that failed). Delete of each removes everything the store has written.
func (s *Store) Names() ([]string, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for name := range cfg.Profiles {
		seen[name] = true
	}
	for name, gens := range cfg.Pending {
		if len(gens) > 0 {
			seen[name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

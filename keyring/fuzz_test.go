package keyring

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig feeds arbitrary bytes to the config loader: it must return a valid config or
// a CorruptConfigError, never panic, and never change the file.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(`{"version":1,"profiles":{}}`))
	f.Add([]byte(`{"version":1,"profiles":{"a":{"name":"a","generation":"0a0b0c0d","items":["client-secret"]}}}`))
	f.Add([]byte(`{"version":9}`))
	f.Add([]byte(`{"version":1,"profiles":{"a":null}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "profiles-fuzz.json")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(Options{Service: "fuzz", ConfigDir: dir, Backend: BackendFile})
		if err != nil {
			var ce *CorruptConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
		} else {
			list, err := s.List()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range list {
				if ValidateName(p.Name) != nil {
					t.Fatalf("invalid profile name accepted: %q", p.Name)
				}
			}
			if !json.Valid(raw) {
				t.Fatal("invalid JSON accepted")
			}
		}
		if now, _ := os.ReadFile(path); string(now) != string(raw) {
			t.Fatal("loading changed the file")
		}
	})
}

// Package testkeychain gives tests a real Secret Service: it re-runs the test binary inside a
// private D-Bus session with its own unlocked gnome-keyring and a throw-away HOME, so the tests
// exercise the same code path as a desktop without ever touching the user's own keyring.
package testkeychain

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// marker is set in the environment of the re-run test binary.
const marker = "M365CREDS_TEST_KEYCHAIN"

// script unlocks a fresh login collection (gnome-keyring creates it from the password on stdin)
// and then replaces itself with the test binary.
const script = `eval "$(printf %s m365creds-test | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null && exec "$0" "$@"`

// Main is for TestMain. Outside a private session, when dbus-run-session and
// gnome-keyring-daemon exist, it re-runs the test binary inside one and exits with its status.
// Otherwise it runs the tests directly; Require then decides whether keychain tests skip or fail.
func Main(m *testing.M) {
	if os.Getenv(marker) != "" || missingTools() != "" {
		os.Exit(m.Run())
	}
	os.Exit(rerun())
}

func rerun() int {
	home, err := os.MkdirTemp("", "m365creds-keychain-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testkeychain:", err)
		return 1
	}
	defer os.RemoveAll(home)
	runtimeDir := filepath.Join(home, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "testkeychain:", err)
		return 1
	}
	args := append([]string{"--", "sh", "-c", script}, os.Args...)
	cmd := exec.CommandContext(context.Background(), "dbus-run-session", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), goDirs()...)
	cmd.Env = append(cmd.Env,
		marker+"=1",
		"HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR="+runtimeDir,
	)
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "testkeychain: could not start a D-Bus session:", err)
		return 1
	}
	return 0
}

// goDirs keeps the Go build cache and module cache where they were: they default to paths
// under HOME, and a test that builds a binary under the throw-away HOME would start cold.
func goDirs() []string {
	var env []string
	if os.Getenv("GOCACHE") == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			env = append(env, "GOCACHE="+filepath.Join(dir, "go-build"))
		}
	}
	if os.Getenv("GOPATH") == "" {
		if home, err := os.UserHomeDir(); err == nil {
			env = append(env, "GOPATH="+filepath.Join(home, "go"))
		}
	}
	return env
}

func missingTools() string {
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool
		}
	}
	return ""
}

// Active reports whether this process runs inside the private keychain session.
func Active() bool { return os.Getenv(marker) != "" }

// Require marks a test that needs the real Secret Service. Without one it skips with a visible
// reason on a developer machine, and fails under CI, where the tools must be installed.
func Require(tb testing.TB) {
	tb.Helper()
	if Active() {
		return
	}
	reason := "no private Secret Service session (TestMain must call testkeychain.Main)"
	if tool := missingTools(); tool != "" {
		reason = tool + " is not installed (apt-get install gnome-keyring dbus)"
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("keychain test cannot run under CI: %s", reason)
	}
	tb.Skipf("SKIP keychain test: %s", reason)
}

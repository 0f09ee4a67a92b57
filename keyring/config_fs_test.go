package keyring

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m365creds/m365creds/oauth"
)

// checkConfigFileError wants a ConfigFileError naming path and reason, never a network class.
func checkConfigFileError(t *testing.T, what string, err error, path, reason string) {
	t.Helper()
	var ce *ConfigFileError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: %v (%T), want a ConfigFileError", what, err, err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), reason) {
		t.Errorf("%s: %q should name %s and %q", what, err, path, reason)
	}
	if c := oauth.Classify(err); c == oauth.ClassNetwork {
		t.Errorf("%s: classed as network", what)
	}
}

func TestConfigFileIsADirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, configName(DefaultService))
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
	checkConfigFileError(t, "Open", err, path, "is a directory")
}

// mountTmpfs mounts a small tmpfs at a new directory, or skips when this machine does not
// allow it (mounting needs root).
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func TestConfigDirReadOnly(t *testing.T) {
	t.Parallel()
	var dir string
	if os.Geteuid() == 0 {
		dir = mountTmpfs(t, "size=64k")
	} else {
		dir = t.TempDir()
	}
	s, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot remount read-only: %v %s", err, out)
		}
	} else if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	err = s.Save(context.Background(), sampleProfile("a"), Secrets{})
	reason := "read-only"
	if os.Geteuid() != 0 {
		reason = "permission denied"
	}
	checkConfigFileError(t, "Save", err, dir, reason)
}

func TestConfigDiskFull(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "size=64k")
	s, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	// Take the locks first (they need a little room), then fill the disk.
	ctx := context.Background()
	if err := s.Save(ctx, sampleProfile("a"), Secrets{}); err != nil {
		t.Fatal(err)
	}
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := filler.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	filler.Close()
	p := sampleProfile("b")
	p.RequestedScopes = []string{strings.Repeat("Mail.Read ", 2000)}
	err = s.Save(ctx, p, Secrets{})
	checkConfigFileError(t, "Save", err, s.Path(), "no space left")
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("the cause is lost: %v", err)
	}
}

func TestConfigFileUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	s, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), sampleProfile("a"), Secrets{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Path(), 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.List()
	checkConfigFileError(t, "List", err, s.Path(), "permission denied")
}

func TestOptionsFrom(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	o := OptionsFrom(env("M365CREDS_CONFIG_DIR", "/srv/creds", "DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/bus"))
	if o.ConfigDir != "/srv/creds" || o.Service != DefaultService || o.Backend != BackendKeychain || o.SessionBus != "unix:path=/run/bus" {
		t.Errorf("OptionsFrom = %+v", o)
	}
	if o.Timeout != 5*time.Second && !o.HasDesktop {
		t.Errorf("headless timeout %v, want 5s", o.Timeout)
	}
	if o := OptionsFrom(env("DISPLAY", ":0")); o.Timeout != 30*time.Second || !o.HasDesktop {
		t.Errorf("desktop: %+v, want 30s (long enough for an unlock prompt)", o)
	}
	if o := OptionsFrom(env("WAYLAND_DISPLAY", "wayland-0", "M365CREDS_KEYRING_TIMEOUT", "90s")); o.Timeout != 90*time.Second {
		t.Errorf("timeout %v, want 90s from M365CREDS_KEYRING_TIMEOUT", o.Timeout)
	}
	if o := OptionsFrom(env("HOME", "/home/ada")); o.ConfigDir == "" || !strings.HasPrefix(o.ConfigDir, "/home/ada") {
		t.Errorf("config dir from HOME: %q", o.ConfigDir)
	}
	if o := OptionsFrom(env("HOME", "/home/ada", "XDG_CONFIG_HOME", "/cfg")); o.ConfigDir != filepath.Join("/cfg", "m365creds") && os.PathSeparator == '/' && !strings.Contains(o.ConfigDir, "Library") {
		t.Errorf("config dir from XDG_CONFIG_HOME: %q", o.ConfigDir)
	}
}

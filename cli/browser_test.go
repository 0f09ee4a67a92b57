package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
)

func TestSplitCommandLine(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("POSIX quoting")
	}
	cases := map[string][]string{
		"firefox":                         {"firefox"},
		"  open -a 'Google Chrome'  ":     {"open", "-a", "Google Chrome"},
		`"/opt/my browser/bin" --new-tab`: {"/opt/my browser/bin", "--new-tab"},
		`a\ b c`:                          {"a b", "c"},
		`x ''`:                            {"x", ""},
	}
	for in, want := range cases {
		if got := splitCommandLine(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if got := browserArgs([]string{"b", "--url=%s"}, "U"); !reflect.DeepEqual(got, []string{"b", "--url=U"}) {
		t.Errorf("placeholder: %q", got)
	}
	if got := browserArgs([]string{"b"}, "U"); !reflect.DeepEqual(got, []string{"b", "U"}) {
		t.Errorf("append: %q", got)
	}
}

func TestOpenBrowserUsesBROWSER(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "opened")
	script := filepath.Join(dir, "fake browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s|%s' \"$1\" \"$2\" > \""+out+".tmp\" && mv \""+out+".tmp\" \""+out+"\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	u := "https://login.microsoftonline.com/x/oauth2/v2.0/authorize?a=1&b=2"
	if err := openBrowser("/nonexistent/browser:'"+script+"' --flag", u); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(out)
		if err == nil {
			if string(b) != "--flag|"+u {
				t.Errorf("browser got %q", b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the $BROWSER command never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpenBrowserFailure(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if runtime.GOOS != "linux" {
		t.Skip("platform opener may exist")
	}
	if err := openBrowser("/nonexistent/browser", "http://x"); err == nil {
		t.Error("no error without any browser")
	}
}

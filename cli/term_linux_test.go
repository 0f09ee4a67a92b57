//go:build linux

package cli

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the controlling side (what a terminal emulator holds)
// and the terminal the program reads from.
func openPTY(t *testing.T) (control, term *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Skipf("SKIP: no pseudo-terminals here: %v", err)
	}
	control = os.NewFile(uintptr(fd), "/dev/ptmx")
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	term, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close(); control.Close() })
	return control, term
}

// TestMaskedSecretPrompt types a secret on a real pseudo-terminal: it must be read, must not
// be echoed, and the terminal must get its echo back afterwards.
func TestMaskedSecretPrompt(t *testing.T) {
	t.Parallel()
	control, term := openPTY(t)
	if !isTerminalFd(term.Fd()) {
		t.Fatal("a pty is not recognised as a terminal")
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	if isTerminalFd(w.Fd()) {
		t.Fatal("a pipe is taken for a terminal")
	}
	w.Close()

	var errb syncBuffer
	a := &app{ctx: context.Background(), stdin: term, stdout: term, stderr: &errb, env: Env{Getenv: os.Getenv}}
	got := make(chan string, 1)
	go func() {
		s, err := a.readSecret("Secret: ")
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	waitFor(t, &errb, regexp.MustCompile("Secret: "))
	// Echo is off once the prompt is up; give the ioctl a moment, then type.
	deadline := time.Now().Add(5 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo was never turned off")
		}
		time.Sleep(5 * time.Millisecond)
	}
	control.Write([]byte(testSecret + "\r"))
	select {
	case s := <-got:
		if s != testSecret {
			t.Fatalf("read %d characters, not the secret", len(s))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("readSecret did not return")
	}
	// Whatever the terminal showed: never the secret.
	// The control side is non-blocking, so a read deadline ends the drain.
	if err := control.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var shown bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := control.Read(buf)
		shown.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if strings.Contains(shown.String(), testSecret) {
		t.Error("the secret was echoed to the terminal")
	}
	tio, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("echo was not restored")
	}
}

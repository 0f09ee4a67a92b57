//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cli

import (
	"golang.org/x/sys/unix"
)

// isTerminalFd reports whether fd is a terminal: only terminals answer the termios request.
func isTerminalFd(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), ioctlGetTermios)
	return err == nil
}

// readNoEcho reads one line from the terminal fd with echo turned off, so a pasted secret
// never appears on screen or in the scrollback. The previous mode is restored even when the
// read fails.
func readNoEcho(fd uintptr) (string, error) {
	old, err := unix.IoctlGetTermios(int(fd), ioctlGetTermios)
	if err != nil {
		return "", err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	// Keep canonical mode (line editing, backspace) and ICRNL so enter ends the line.
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(int(fd), ioctlSetTermios, &quiet); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(int(fd), ioctlSetTermios, old) //nolint:errcheck // best effort: nothing better to do if restoring fails
	return readLineFd(fd)
}

// readLineFd reads bytes up to a newline straight from the descriptor: a buffered reader
// would swallow input meant for whoever reads the terminal next.
func readLineFd(fd uintptr) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := unix.Read(int(fd), b[:])
		if n == 1 {
			if b[0] == '\n' {
				return string(line), nil
			}
			line = append(line, b[0])
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return string(line), err
		}
		// n == 0: end of input.
		return string(line), nil
	}
}

//go:build windows

package cli

import (
	"golang.org/x/sys/windows"
)

// isTerminalFd reports whether fd is a console handle.
func isTerminalFd(fd uintptr) bool {
	var mode uint32
	return windows.GetConsoleMode(windows.Handle(fd), &mode) == nil
}

// readNoEcho reads one line from the console with echo turned off, so a pasted secret never
// appears on screen. The previous mode is restored even when the read fails.
func readNoEcho(fd uintptr) (string, error) {
	h := windows.Handle(fd)
	var old uint32
	if err := windows.GetConsoleMode(h, &old); err != nil {
		return "", err
	}
	quiet := old&^windows.ENABLE_ECHO_INPUT | windows.ENABLE_PROCESSED_INPUT | windows.ENABLE_LINE_INPUT
	if err := windows.SetConsoleMode(h, quiet); err != nil {
		return "", err
	}
	defer windows.SetConsoleMode(h, old) //nolint:errcheck // best effort: nothing better to do if restoring fails
	var line []byte
	var b [1]byte
	for {
		var n uint32
		err := windows.ReadFile(h, b[:], &n, nil)
		if n == 1 {
			switch b[0] {
			case '\n':
				return string(line), nil
			case '\r':
				continue
			}
			line = append(line, b[0])
			continue
		}
		if err != nil {
			return string(line), err
		}
		return string(line), nil
	}
}

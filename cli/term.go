package cli

import xterm "github.com/charmbracelet/x/term"

// isTerminalFd reports whether fd is a terminal (a console on Windows).
func isTerminalFd(fd uintptr) bool { return xterm.IsTerminal(fd) }

// readNoEcho reads one line from the terminal fd with echo turned off, so a pasted secret
// never appears on screen or in the scrollback. The terminal's mode is restored afterwards,
// also when the read fails.
func readNoEcho(fd uintptr) (string, error) {
	b, err := xterm.ReadPassword(fd)
	return string(b), err
}

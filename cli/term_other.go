//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package cli

import "errors"

// isTerminalFd reports false: on these platforms m365creds only runs non-interactively.
func isTerminalFd(uintptr) bool { return false }

func readNoEcho(uintptr) (string, error) {
	return "", errors.New("masked input is not supported on this platform; pipe the secret on stdin")
}

//go:build !linux

package tui

// nudgeTick does nothing here: the wake-up it gives on Linux makes up for epoll_wait's
// millisecond timeouts.
func nudgeTick(int) {}

//go:build linux

package tui

import (
	"time"

	"golang.org/x/sys/unix"
)

// nudgeTick wakes the process when the first tick of a renderer running at fps, started just
// now, is due. An idle Go program sleeps in epoll_wait, whose timeout is in whole
// milliseconds, so a tick with nothing else going on fires up to a millisecond late; a thread
// asleep in clock_nanosleep wakes on time, and the scheduler runs the timer that has come due
// when that thread returns. The deadline is taken here, as the goroutine may start late while
// the wizard is built. This leans on how the runtime schedules timers, not on a documented
// promise: if that changes, the first frame only comes as late as it did without.
func nudgeTick(fps int) {
	d := time.Second / time.Duration(fps)
	var now unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &now) != nil {
		return
	}
	due := unix.NsecToTimespec(now.Nano() + d.Nanoseconds())
	go func() {
		_ = unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &due, nil)
	}()
}

#!/usr/bin/env python3
"""Time from exec to the first frame of a terminal program, in a pseudo-terminal of 100x30.

usage: firstframe.py RUNS MARKER CMD [ARG...]

Starts CMD RUNS times on a fresh pty and prints the median milliseconds until MARKER (text of
the first screen) has been written. Nobody answers the terminal's queries, as in a terminal
that does not support them.
"""
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time


def once(argv, marker):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen, took = b"", None
    while time.perf_counter() - start < 5:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            continue
        try:
            seen += os.read(master, 65536)
        except OSError:
            break
        if marker in seen:
            took = time.perf_counter() - start
            break
    proc.kill()
    proc.wait()
    os.close(master)
    return took


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    runs, marker, argv = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3:]
    times = sorted(t for t in (once(argv, marker) for _ in range(runs)) if t is not None)
    if len(times) < runs:
        sys.exit("firstframe: the marker never appeared in %d of %d runs" % (runs - len(times), runs))
    print("%.1f" % (times[len(times) // 2] * 1000))


main()

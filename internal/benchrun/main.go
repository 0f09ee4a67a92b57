//go:build unix

// Command benchrun times whole processes for scripts/bench.sh: commands run interleaved (A, B,
// A, B, ...) so that machine noise hits both alike, and the medians are printed in
// milliseconds. Commands are split on spaces; they need no quoting.
//
//	benchrun pair RUNS CMD_A CMD_B         median wall time of one run of each
//	benchrun burst N ROUNDS CMD_A CMD_B    median wall time of N concurrent runs of each
//	benchrun rss RUNS CMD                  median peak resident memory, KiB
package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 4 {
		usage()
	}
	n := atoi(os.Args[2])
	switch os.Args[1] {
	case "pair":
		if len(os.Args) != 5 {
			usage()
		}
		a, b := interleave(n, func(cmd string) float64 { return timed(1, cmd) }, os.Args[3], os.Args[4])
		fmt.Printf("%.2f %.2f\n", a, b)
	case "burst":
		if len(os.Args) != 6 {
			usage()
		}
		rounds := atoi(os.Args[3])
		a, b := interleave(rounds, func(cmd string) float64 { return timed(n, cmd) }, os.Args[4], os.Args[5])
		fmt.Printf("%.2f %.2f\n", a, b)
	case "rss":
		var kib []float64
		for range n {
			kib = append(kib, float64(peakRSS(os.Args[3])))
		}
		fmt.Printf("%.0f\n", median(kib))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchrun pair RUNS CMD_A CMD_B | burst N ROUNDS CMD_A CMD_B | rss RUNS CMD")
	os.Exit(2)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		usage()
	}
	return n
}

// interleave measures a and b alternately, after one warm-up run of each.
func interleave(runs int, measure func(string) float64, a, b string) (float64, float64) {
	measure(a)
	measure(b)
	var ta, tb []float64
	for range runs {
		ta = append(ta, measure(a))
		tb = append(tb, measure(b))
	}
	return median(ta), median(tb)
}

// timed starts n copies of cmd at once and returns the milliseconds until the last one ends.
func timed(n int, cmd string) float64 {
	procs := make([]*exec.Cmd, n)
	for i := range procs {
		procs[i] = command(cmd)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() {
			if err := p.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "benchrun: %s: %v\n", cmd, err)
				os.Exit(1)
			}
		})
	}
	wg.Wait()
	return float64(time.Since(start).Microseconds()) / 1000
}

func peakRSS(cmd string) int64 {
	p := command(cmd)
	if err := p.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: %s: %v\n", cmd, err)
		os.Exit(1)
	}
	return p.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
}

func command(cmd string) *exec.Cmd {
	argv := strings.Fields(cmd)
	return exec.Command(argv[0], argv[1:]...) //nolint:noctx // the benchmark's own commands, run to completion
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

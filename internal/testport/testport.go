// Package testport hands tests a loopback TCP port to pass to the code under test (a --port
// flag, a draft's redirect port), which binds it later itself.
//
// A port from bind(0) comes from the kernel's ephemeral range, where every outgoing
// connection and every other test's listener takes ports all the time: between the test
// closing its probe and the code binding the port, someone else may have it. The kernel hands
// out ports below that range only to explicit binds, so a port probed there stays free unless
// another test picks the same number.
package testport

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// span is how many ports below the ephemeral range are tried.
const span = 10000

var (
	mu     sync.Mutex
	issued = map[int]bool{} // never the same port twice in one process
)

// Free returns a port on 127.0.0.1 that nobody listens on now. It panics, failing the test,
// when all of them are taken.
func Free() int {
	top := ephemeralLow()
	bottom := max(top-span, 1025)
	p, ok := pick(bottom, top)
	if !ok {
		panic(fmt.Sprintf("testport: no free port in %d-%d", bottom, top-1))
	}
	return p
}

// pick returns a port in [bottom, top) that was not issued before and could be bound now.
func pick(bottom, top int) (int, bool) {
	mu.Lock()
	defer mu.Unlock()
	// Test processes running side by side start their searches far apart.
	start := os.Getpid() * 7919 % (top - bottom)
	for i := range top - bottom {
		p := bottom + (start+i)%(top-bottom)
		if issued[p] {
			continue
		}
		var lc net.ListenConfig
		l, err := lc.Listen(context.Background(), "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		_ = l.Close()
		issued[p] = true
		return p, true
	}
	return 0, false
}

// ephemeralLow is the first port of the range the kernel picks from for bind(0) and outgoing
// connections: Linux says so in /proc; elsewhere it is IANA's 49152 (macOS, Windows).
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil && lo > 2048 {
				return lo
			}
		}
	}
	return 49152
}

package testport

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeIsBelowTheEphemeralRangeAndBindable: each port is new, below the range bind(0)
// draws from, and can be bound at once.
func TestFreeIsBelowTheEphemeralRangeAndBindable(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for range 50 {
		p := Free()
		if p < 1025 || p >= ephemeralLow() || seen[p] {
			t.Fatalf("port %d: want a new port in 1025-%d", p, ephemeralLow()-1)
		}
		seen[p] = true
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d cannot be bound: %v", p, err)
		}
		_ = l.Close()
	}
}

// TestPickSkipsPortsInUse: in a window where some ports have listeners, only the others are
// handed out, each once, and then no more.
func TestPickSkipsPortsInUse(t *testing.T) {
	t.Parallel()
	const bottom, top = 20000, 20030
	mu.Lock()
	for p := bottom; p < top; p++ {
		delete(issued, p) // a window of its own, whoever ran before
	}
	mu.Unlock()
	held := map[int]bool{}
	for p := bottom; p < top; p += 3 {
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue // someone else's: taken all the same
		}
		t.Cleanup(func() { _ = l.Close() })
		held[p] = true
	}
	got := map[int]bool{}
	for {
		p, ok := pick(bottom, top)
		if !ok {
			break
		}
		if held[p] || got[p] || p < bottom || p >= top {
			t.Fatalf("port %d handed out (held %v, before %v)", p, held[p], got[p])
		}
		got[p] = true
	}
	if len(got)+len(held) > top-bottom || len(got) == 0 {
		t.Errorf("%d ports handed out, %d held, in a window of %d", len(got), len(held), top-bottom)
	}
}

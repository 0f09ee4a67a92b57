//go:build race

package e2e

// raceEnabled: this test binary runs under the race detector, so the program it drives is
// built with it too.
const raceEnabled = true

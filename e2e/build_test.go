package e2e

import (
	"debug/buildinfo"
	"testing"
)

// TestBinaryUnderTheRaceDetector: when the tests run with -race, the program they drive must
// be built with it as well, or its data races go unseen.
func TestBinaryUnderTheRaceDetector(t *testing.T) {
	t.Parallel()
	info, err := buildinfo.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	race := false
	for _, s := range info.Settings {
		if s.Key == "-race" && s.Value == "true" {
			race = true
		}
	}
	if race != raceEnabled {
		t.Errorf("program built with -race=%v, tests run with -race=%v", race, raceEnabled)
	}
}

package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/m365creds/m365creds/steps"
)

// TestPermissionsConsentMarks: the ADMIN column tells "always" (yes) from "on Microsoft's
// default consent policy" (yes*) from "users can consent" (-), and the legend says so in
// words, at 80x24 and 100x30, in colour and without.
func TestPermissionsConsentMarks(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			d := readyDraft()
			d.Port = 53365 // the port appears nowhere on this screen, but keep the draft fixed
			m := newModel(t, Options{Draft: d, Mode: steps.ModeReconsent})
			feed(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			for _, r := range "mail.re" {
				press(t, m, string(r))
			}
			coloured := m.View().Content
			plain := stripTrailing(ansi.Strip(coloured))
			checkFits(t, "permissions", plain, size[0], size[1])
			for _, want := range []string{"ADMIN", "yes*", "yes: always", "yes*: in tenants on Microsoft's default policy", "-: never"} {
				if !strings.Contains(plain, want) {
					t.Errorf("the screen lacks %q:\n%s", want, plain)
				}
			}
			if !strings.Contains(coloured, "\x1b[") {
				t.Error("the coloured screen has no colour")
			}
			t.Run("plain", func(t *testing.T) { golden.RequireEqual(t, []byte(plain+"\n")) })
			t.Run("colour", func(t *testing.T) { golden.RequireEqual(t, []byte(coloured+"\n")) })
		})
	}
}

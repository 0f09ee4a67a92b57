package tui

import (
	"charm.land/lipgloss/v2"
)

// Styles is every style the wizard uses, built for a light or dark background.
type Styles struct {
	App, Banner, Title, Step           lipgloss.Style
	Crumb, CrumbActive, CrumbDone      lipgloss.Style
	Muted, Hint, Value, Link, Selected lipgloss.Style
	OK, Warn, Error                    lipgloss.Style
	Box, Key                           lipgloss.Style
}

// NewStyles builds the styles. Without colour (NO_COLOR), only bold and reverse remain, so
// the screen still shows what is selected.
func NewStyles(isDark, noColor bool) Styles {
	plain := lipgloss.NewStyle()
	if noColor {
		return Styles{
			App: plain.Padding(0, 1), Banner: plain.Bold(true), Title: plain.Bold(true), Step: plain,
			Crumb: plain, CrumbActive: plain.Bold(true).Underline(true), CrumbDone: plain,
			Muted: plain, Hint: plain, Value: plain.Bold(true), Link: plain.Underline(true), Selected: plain.Reverse(true),
			OK: plain, Warn: plain.Bold(true), Error: plain.Bold(true),
			Box: plain.Border(lipgloss.NormalBorder()).Padding(0, 1), Key: plain.Bold(true),
		}
	}
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("#5A32C8"), lipgloss.Color("#A78BFA"))
	muted := ld(lipgloss.Color("#6B6B6B"), lipgloss.Color("#9A9A9A"))
	return Styles{
		App:         plain.Padding(0, 1),
		Banner:      plain.Bold(true).Foreground(ld(lipgloss.Color("#FFFFFF"), lipgloss.Color("#1A1A1A"))).Background(ld(lipgloss.Color("#B45309"), lipgloss.Color("#F59E0B"))),
		Title:       plain.Bold(true).Foreground(accent),
		Step:        plain.Foreground(muted),
		Crumb:       plain.Foreground(muted),
		CrumbActive: plain.Bold(true).Foreground(accent).Underline(true),
		CrumbDone:   plain.Foreground(ld(lipgloss.Color("#15803D"), lipgloss.Color("#4ADE80"))),
		Muted:       plain.Foreground(muted),
		Hint:        plain.Foreground(muted).Italic(true),
		Value:       plain.Bold(true).Foreground(ld(lipgloss.Color("#0E7490"), lipgloss.Color("#67E8F9"))),
		Link:        plain.Underline(true).Foreground(ld(lipgloss.Color("#1D4ED8"), lipgloss.Color("#93C5FD"))),
		Selected:    plain.Bold(true).Background(ld(lipgloss.Color("#EDE9FE"), lipgloss.Color("#3B2A6B"))),
		OK:          plain.Foreground(ld(lipgloss.Color("#15803D"), lipgloss.Color("#4ADE80"))),
		Warn:        plain.Foreground(ld(lipgloss.Color("#B45309"), lipgloss.Color("#FBBF24"))),
		Error:       plain.Bold(true).Foreground(ld(lipgloss.Color("#B91C1C"), lipgloss.Color("#F87171"))),
		Box:         plain.Border(lipgloss.RoundedBorder()).BorderForeground(muted).Padding(0, 1),
		Key:         plain.Bold(true).Foreground(accent),
	}
}

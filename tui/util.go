package tui

import (
	"math"
	"strconv"
	"time"

	"github.com/m365creds/m365creds/oauth"
)

var zeroTime time.Time

// daysUntil counts whole days from now to t, rounding up so "tomorrow" is 1.
func daysUntil(c *shared, t time.Time) int {
	return int(math.Ceil(t.Sub(c.now()).Hours() / 24))
}

// relDays says when t is, for expiry columns.
func relDays(c *shared, t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := daysUntil(c, t)
	switch {
	case d < 0:
		return "expired"
	case d == 0:
		return "today"
	case d == 1:
		return "in 1 day"
	}
	return "in " + strconv.Itoa(d) + " days"
}

func portalLinks(c *shared) oauth.Links {
	return oauth.PortalLinks(c.wiz.Draft.Cloud, c.wiz.Draft.ClientID)
}

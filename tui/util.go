package tui

import (
	"strconv"
	"time"

	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/steps"
)

var zeroTime time.Time

// daysUntil counts calendar days from now to t, as `status` does.
func daysUntil(c *shared, t time.Time) int { return steps.DaysUntil(c.now(), t) }

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

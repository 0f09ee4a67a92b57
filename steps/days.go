package steps

import "time"

// DaysUntil counts calendar days from now to t in t's time zone: 0 on the day itself, 1 for
// tomorrow, negative once past. Every countdown the product shows (secret expiry, refresh
// token inactivity) uses it, so the wizard and `status` never disagree by a day.
func DaysUntil(now, t time.Time) int {
	y1, m1, d1 := now.In(t.Location()).Date()
	y2, m2, d2 := t.Date()
	from := time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC)
	to := time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC)
	return int(to.Sub(from).Hours() / 24)
}

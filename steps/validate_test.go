package steps

import (
	"strings"
	"testing"
	"time"
)

func TestCheckSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		wantErr     string
		wantCurrent bool
		wantWarn    string
	}{
		{"current format", testSecret, "", true, ""},
		{"current format with spaces and quotes", "  \"" + testSecret + "\"\n", "", true, "Removed"},
		{"37-char generation", "abc7Q~abcdefghijklmnopqrstuvwxyz01234", "", true, ""},
		{"secret id", "5d2b7e10-3c4a-4f8e-b1d6-9a0c2e4f6b8d", "Secret ID", false, ""},
		{"empty", "   ", "Paste", false, ""},
		{"too short", "abc123", "Too short", false, ""},
		{"broken across lines", "abc8Q~abcdefghij\nklmnopqrstuvwxyz01234567", "line breaks", false, ""},
		{"older format", "[6gyXA5S20@MN+WRXAJ]I-TO7g1:h2P8", "", false, "older"},
		{"too long", strings.Repeat("a", 80), "", false, "Longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckSecret(tt.in)
			if tt.wantErr == "" && c.Err != nil {
				t.Fatalf("unexpected error %v", c.Err)
			}
			if tt.wantErr != "" && (c.Err == nil || !strings.Contains(c.Err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one mentioning %q", c.Err, tt.wantErr)
			}
			if c.LooksCurrent != tt.wantCurrent {
				t.Errorf("LooksCurrent = %v", c.LooksCurrent)
			}
			if tt.wantWarn != "" && !strings.Contains(strings.Join(c.Warnings, " "), tt.wantWarn) {
				t.Errorf("warnings %q lack %q", c.Warnings, tt.wantWarn)
			}
			if c.Err != nil && len(tt.in) > 8 && strings.Contains(c.Err.Error(), strings.TrimSpace(tt.in)) {
				t.Error("the error repeats the secret")
			}
		})
	}
}

func TestCheckTenant(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"": "", "common": "common", "Organizations": "organizations", "consumers": "consumers",
		"5D2B7E10-3C4A-4F8E-B1D6-9A0C2E4F6B8D": "5d2b7e10-3c4a-4f8e-b1d6-9a0c2e4f6b8d",
		"contoso.onmicrosoft.com":              "contoso.onmicrosoft.com", " Contoso.COM ": "contoso.com",
	}
	for in, want := range good {
		got, err := CheckTenant(in)
		if err != nil || got != want {
			t.Errorf("CheckTenant(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ada@contoso.com", "contoso", "http://contoso.com", "-bad-.com"} {
		if _, err := CheckTenant(in); err == nil {
			t.Errorf("CheckTenant(%q) accepted", in)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	good := map[string]time.Time{
		"6m":         now.AddDate(0, 0, 180),
		"24M":        time.Date(2028, 11, 22, 10, 0, 0, 0, time.UTC), // 730 days, across 29 Feb 2028
		"90d":        now.AddDate(0, 0, 90),
		"2027-05-01": time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC),
	}
	for in, want := range good {
		got, err := ParseExpiry(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "soon", "25m", "2026-01-01", "2030-01-01", "0m", "-6m", "6w"} {
		if _, err := ParseExpiry(in, now); err == nil {
			t.Errorf("ParseExpiry(%q) accepted", in)
		}
	}
}

// TestParseExpiryCountsDaysAsThePortal checks every lifetime the portal lists, by its month
// name and by its days: the portal counts days, so "6m" is 180 days, not six calendar months.
func TestParseExpiryCountsDaysAsThePortal(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		days int
	}{
		{"3m", 90}, {"90d", 90},
		{"6m", 180}, {"180d", 180},
		{"12m", 365}, {"365d", 365}, {"1y", 365},
		{"18m", 545}, {"545d", 545},
		{"24m", 730}, {"730d", 730}, {"2y", 730},
		{"1m", 30}, {"9m", 273},
	} {
		got, err := ParseExpiry(tt.in, now)
		if err != nil {
			t.Errorf("ParseExpiry(%q): %v", tt.in, err)
			continue
		}
		if d := int(got.Sub(now).Hours() / 24); d != tt.days {
			t.Errorf("ParseExpiry(%q) is %d days away, want %d", tt.in, d, tt.days)
		}
	}
	for _, choice := range ExpiryChoices {
		if _, err := ParseExpiry(choice, now); err != nil {
			t.Errorf("the offered choice %q is refused: %v", choice, err)
		}
	}
	if _, err := ParseExpiry("731d", now); err == nil {
		t.Error("731d accepted, more than the portal's 730")
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := ParseScopes("user.read, Mail.Read  mail.read https://graph.microsoft.com/Files.Read.All https://outlook.office.com/IMAP.AccessAsUser.All")
	if err != nil {
		t.Fatal(err)
	}
	want := "User.Read Mail.Read Files.Read.All https://outlook.office.com/IMAP.AccessAsUser.All"
	if strings.Join(got, " ") != want {
		t.Errorf("ParseScopes = %q, want %q", strings.Join(got, " "), want)
	}
	for _, bad := range []string{"", " , ", "Mail.Read;rm -rf", "ftp://x/y"} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%q) accepted", bad)
		}
	}
	scopes, err := ExpandPresets("basic, mail-readwrite")
	if err != nil || strings.Join(scopes, " ") != "User.Read offline_access Mail.ReadWrite Mail.Send" {
		t.Errorf("ExpandPresets = %v, %v", scopes, err)
	}
	if _, err := ExpandPresets("basic,everything"); err == nil || !strings.Contains(err.Error(), "mail-read") {
		t.Errorf("unknown preset error should list known presets: %v", err)
	}
}

func TestPermissionRowsAndWarnings(t *testing.T) {
	t.Parallel()
	d := NewDraft()
	if rows := d.PermissionRows(""); len(rows) < 60 {
		t.Fatalf("%d rows", len(rows))
	}
	rows := d.PermissionRows("sharepoint")
	if len(rows) == 0 {
		t.Fatal("filter by group found nothing")
	}
	for _, r := range rows {
		if r.Group != "SharePoint" && !strings.Contains(strings.ToLower(r.Summary+r.NeededFor), "sharepoint") {
			t.Errorf("row %s does not match the filter", r.Scope)
		}
	}
	d.ToggleScope("offline_access")
	if d.HasScope("offline_access") {
		t.Fatal("toggle did not remove")
	}
	if w := strings.Join(d.ScopeWarnings(), " "); !strings.Contains(w, "offline_access") {
		t.Errorf("missing offline_access warning: %q", w)
	}
	d.ToggleScope("offline_access")
	d.ToggleScope("Directory.Read.All")
	d.ToggleScope("SMTP.Send")
	w := strings.Join(d.ScopeWarnings(), " ")
	if !strings.Contains(w, "administrator") || !strings.Contains(w, "Outlook") {
		t.Errorf("warnings = %q", w)
	}
	if got := d.RequestScopes(); got[len(got)-1] != "https://outlook.office.com/SMTP.Send" {
		t.Errorf("Outlook scopes need their resource prefix: %v", got)
	}
	d.Audience = "personal"
	for _, r := range d.PermissionRows("Sites.ReadWrite.All") {
		if r.Problem == "" {
			t.Error("SharePoint row should be marked for personal accounts")
		}
	}
}

func TestDaysUntil(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		t    time.Time
		want int
	}{
		{now, 0},
		{time.Date(2026, 11, 24, 0, 10, 0, 0, time.UTC), 1}, // forty minutes away, but tomorrow
		{time.Date(2027, 5, 23, 9, 0, 0, 0, time.UTC), 181},
		{time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), -3},
	} {
		if got := DaysUntil(now, tt.t); got != tt.want {
			t.Errorf("DaysUntil(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

func TestCheckTenantEchoIsCleanAndShort(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"ada@contoso.com\x1b[2J\x1b]0;owned\x07",
		"ada@" + strings.Repeat("x", 10*1024),
		"ada@\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07contoso.com",
		strings.Repeat("y", 10*1024),
		"not a tenant\x1b[2J",
	} {
		_, err := CheckTenant(in)
		if err == nil {
			t.Fatalf("%q accepted", in)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\x1b\x07") || len(msg) > 200 {
			t.Errorf("CheckTenant(%.20q…): %d bytes: %.200q", in, len(msg), msg)
		}
	}
	if _, err := CheckTenant("ada@contoso.com"); err == nil || !strings.Contains(err.Error(), "(contoso.com)") {
		t.Errorf("the domain should still be suggested: %v", err)
	}
}

package steps

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzCheckSecret: any pasted text yields a verdict, never a panic; a blocking verdict's
// message never repeats the text; an accepted value is the input minus surrounding noise.
func FuzzCheckSecret(f *testing.F) {
	for _, s := range []string{testSecret, testTenantID, "", "  \"abc8Q~x\"\n", "{" + testSecret + "}", strings.Repeat("~", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c := CheckSecret(raw)
		if c.Err != nil && len(c.Value) >= 8 && strings.Contains(c.Err.Error(), c.Value) {
			t.Fatalf("the error repeats the secret: %v", c.Err)
		}
		if c.Err == nil {
			if c.Value == "" || !strings.Contains(raw, c.Value) {
				t.Fatalf("accepted value %q is not part of the input", c.Value)
			}
			if IsGUID(c.Value) {
				t.Fatal("a GUID was accepted as a secret")
			}
		}
		if c.LooksCurrent && (len(c.Value) != 40 && len(c.Value) != 37) {
			t.Fatalf("LooksCurrent for a %d-character value", len(c.Value))
		}
	})
}

// FuzzCheckIDs: the client ID and tenant validators accept exactly what they can return
// cleaned, and what they accept is valid by their own definition.
func FuzzCheckIDs(f *testing.F) {
	for _, s := range []string{testClientID, "{" + testTenantID + "}", "contoso.onmicrosoft.com", "common", "ada@contoso.com", "", "0f3e9c2a-7b41-zzzz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if id, err := CheckClientID(raw); err == nil {
			if !IsGUID(id) || id != strings.ToLower(id) {
				t.Fatalf("accepted client ID %q is not a lower-case GUID", id)
			}
			if again, err := CheckClientID(id); err != nil || again != id {
				t.Fatalf("not stable: %q -> %q, %v", id, again, err)
			}
		}
		if tenant, err := CheckTenant(raw); err == nil && tenant != "" {
			if again, err := CheckTenant(tenant); err != nil || again != tenant {
				t.Fatalf("tenant not stable: %q -> %q, %v", tenant, again, err)
			}
			if strings.ContainsAny(tenant, " /@?#") {
				t.Fatalf("accepted tenant %q could change the sign-in URL", tenant)
			}
		}
	})
}

// FuzzParseScopes: accepted scopes are non-empty, unique, and safe to put in a request.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"User.Read Mail.Read", "user.read,mail.read", "https://outlook.office.com/IMAP.AccessAsUser.All", "", "a;b", "Mail.Read Mail.Read"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		scopes, err := ParseScopes(raw)
		if err != nil {
			return
		}
		if len(scopes) == 0 {
			t.Fatal("no error and no scopes")
		}
		seen := map[string]bool{}
		for _, s := range scopes {
			if s == "" || strings.ContainsAny(s, " \t\n&=#?%") || !utf8.ValidString(s) {
				t.Fatalf("unsafe scope %q", s)
			}
			if seen[strings.ToLower(s)] {
				t.Fatalf("duplicate scope %q", s)
			}
			seen[strings.ToLower(s)] = true
		}
	})
}

// FuzzParseExpiry: an accepted expiry is in the future and at most 24 months away.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"6m", "24m", "90d", "2027-05-01", "1y", "25m", "", "2026-13-40"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		at, err := ParseExpiry(raw, now)
		if err != nil {
			return
		}
		if !at.After(now) || at.After(now.AddDate(2, 0, 1)) {
			t.Fatalf("%q accepted as %v", raw, at)
		}
	})
}

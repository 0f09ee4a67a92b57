package simulator

import "time"

// Fixed identities of the demo app, as the simulated portal shows them. The secret is made up
// and only ever accepted by this simulator.
//
//nolint:gosec // demo values, not credentials
const (
	DemoClientID    = "0f3e9c2a-7b41-4d6e-9a8b-3c5d1e2f4a6b"
	DemoTenantID    = "5a1c7e3b-2d94-4f08-b6e1-9c3a7d5f2e18"
	DemoSecretID    = "8d2f4b6a-1c3e-4a5b-9d7f-2e4c6a8b0d1f"
	DemoSecretValue = "dMo8Q~x4Rk2Vn7Lq9Tz3Wb6Yc1Hf5Jg8Ps0Ue4Ad"
	DemoRedirectURI = "http://localhost:53365/"
	DemoUPN         = "ada@demo.example"
)

// DemoApp is the app `m365creds demo` registers in the simulator: single tenant, one secret
// in today's 40-character format valid for six more months, the default redirect URI under
// Web, public client flows off, a few admin-only Graph permissions, and Mail.Read / Mail.Send
// as application permissions.
func DemoApp() App {
	return App{
		ClientID:     DemoClientID,
		TenantID:     DemoTenantID,
		Name:         "m365creds demo",
		Audience:     "single",
		Secrets:      []Secret{{ID: DemoSecretID, Value: DemoSecretValue, Expires: time.Now().AddDate(0, 6, 0)}},
		RedirectURIs: []string{DemoRedirectURI},
		AdminOnlyScopes: []string{
			"Directory.Read.All", "Group.Read.All", "Application.Read.All", "Application.ReadWrite.All",
		},
		ApplicationPermissions: []string{"Mail.Read", "Mail.Send"},
	}
}

// DemoUsers is the demo's one account: the administrator of the demo tenant, as whoever tries
// m365creds in a developer tenant of their own is, so the default consent policy does not stop
// the demo's sign-in. SetUserAdmin(DemoUPN, false) makes her an ordinary user.
func DemoUsers() []User {
	return []User{{ID: "3c9f2e71-5a4b-4d8e-a1f6-7b2c9d0e4f83", DisplayName: "Ada Demo", UPN: DemoUPN, Admin: true}}
}

package creds

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// DefaultMinValidity is how long a token must still be valid to be handed out: a script that
// starts a long request with it should not see it expire half-way.
const DefaultMinValidity = 5 * time.Minute

// persistBudget bounds a save that must finish even after ctrl+c or SIGTERM.
const persistBudget = 90 * time.Second

// Service runs the credential operations for one profile store. The zero values of the
// optional fields are safe: Microsoft's hosts, a 30 s HTTP client, the real clock, no browser.
type Service struct {
	Store *keyring.Store
	// HTTP makes the calls to Microsoft; nil means oauth's default client.
	HTTP *http.Client
	// Endpoints replace Microsoft's hosts (the simulator); zero keeps them.
	Endpoints oauth.Endpoints
	// OpenBrowser opens a sign-in address; nil means no browser can be opened here.
	OpenBrowser func(url string) error
	// Remote is set when the program runs in a remote shell, where a browser on this machine
	// would open on the wrong one.
	Remote *RemoteShell
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MinValidity overrides DefaultMinValidity.
	MinValidity time.Duration
	// Runner starts the programs publish and rotate write shared stores with; nil means
	// none can be started.
	Runner Runner
	// PollUnit scales the device-code polling interval; zero means one second (tests shrink it).
	PollUnit time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) minValidity() time.Duration {
	if s.MinValidity > 0 {
		return s.MinValidity
	}
	return DefaultMinValidity
}

// Client returns an oauth client for app that talks to this service's hosts.
func (s *Service) Client(app oauth.App) *oauth.Client {
	c := oauth.NewClientAt(app, s.HTTP, s.Endpoints)
	if s.PollUnit > 0 {
		c.SetPollUnit(s.PollUnit)
	}
	return c
}

// persist runs a save that follows an answer from Microsoft. It is not cancelled with the
// caller: a rotated refresh token that never reaches the keychain leaves a profile whose stored
// token may already be used up. It tries twice, because a keychain that timed out once (an
// unlock prompt, a busy daemon) often answers the second time.
func persist(ctx context.Context, save func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistBudget)
	defer cancel()
	err := save(ctx)
	if err != nil && ctx.Err() == nil {
		err = save(ctx)
	}
	return err
}

// AppFor is the oauth view of a saved profile.
func AppFor(p keyring.Profile, clientSecret string) oauth.App {
	app := oauth.App{
		Cloud:       p.Cloud,
		Tenant:      p.Tenant,
		ClientID:    p.ClientID,
		Kind:        p.Kind,
		RedirectURI: p.RedirectURI,
	}
	if p.Kind != oauth.KindPublic {
		app.ClientSecret = clientSecret
	}
	return app
}

// RemoteShell describes the SSH session the program runs in, for the port-forwarding hint.
// User and Host are empty when not known.
type RemoteShell struct {
	User, Host string
}

// Tunnel is the command to run on the user's own machine so that their browser's redirect to
// localhost:port reaches the listener here. Unknown parts are left as placeholders in capitals
// for the user to replace.
func (r RemoteShell) Tunnel(port int) string {
	if port <= 0 {
		port = oauth.DefaultPort
	}
	user, host := r.User, r.Host
	if user == "" {
		user = "USER"
	}
	if host == "" {
		host = "THIS-HOST"
	}
	return fmt.Sprintf("ssh -L %d:localhost:%d %s@%s", port, port, user, host)
}

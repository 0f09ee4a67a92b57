package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// Results of the consent step's background work. Each carries the attempt it belongs to, so
// answers to a cancelled attempt are ignored.
type (
	probeMsg struct {
		attempt int
		err     error
	}
	checkMsg struct {
		attempt int
		err     error
	}
	browserReadyMsg struct {
		attempt  int
		lb       *oauth.Loopback
		req      *oauth.AuthRequest
		portNote string
		openErr  error
		err      error
	}
	callbackMsg struct {
		attempt int
		cb      oauth.Callback
		err     error
	}
	deviceMsg struct {
		attempt int
		dc      *oauth.DeviceCode
		err     error
	}
	tokenMsg struct {
		attempt int
		tok     *oauth.Token
		err     error
	}
	meMsg struct {
		attempt int
		user    *oauth.User
		err     error
	}
	simulatedMsg struct {
		attempt int
		err     error
	}
	tickMsg struct {
		attempt int
		at      time.Time
	}
)

// The commands take copies of what they need; they never touch the model.

func probeCmd(ctx context.Context, attempt int, store *keyring.Store) tea.Cmd {
	return func() tea.Msg { return probeMsg{attempt, store.Probe(ctx)} }
}

func checkSecretCmd(ctx context.Context, attempt int, client *oauth.Client) tea.Cmd {
	return func() tea.Msg { return checkMsg{attempt, client.CheckSecret(ctx)} }
}

// startBrowserCmd binds the loopback listener first (so the browser cannot arrive before it
// listens), builds the sign-in address for the address it got, then opens the browser.
func startBrowserCmd(attempt int, client *oauth.Client, scopes []string, port int, open bool) tea.Cmd {
	return func() tea.Msg {
		msg := browserReadyMsg{attempt: attempt}
		lb, err := oauth.ListenLoopback(port)
		var inUse *oauth.PortInUseError
		if errors.As(err, &inUse) {
			lb, err = oauth.ListenLoopback(0)
			if err == nil {
				msg.portNote = fmt.Sprintf("Port %d is taken, so m365creds listens on %d instead. Microsoft ignores the port of localhost redirect URIs, so the registered address still matches.", port, lb.Port())
			}
		}
		if err != nil {
			msg.err = err
			return msg
		}
		req, err := client.NewAuthRequest(scopes, lb.RedirectURI())
		if err != nil {
			lb.Close()
			msg.err = err
			return msg
		}
		lb.Expect(req.State)
		msg.lb, msg.req = lb, req
		if open {
			msg.openErr = oauth.OpenBrowser(req.URL)
		}
		return msg
	}
}

func waitCallbackCmd(ctx context.Context, attempt int, lb *oauth.Loopback) tea.Cmd {
	return func() tea.Msg {
		cb, err := lb.Wait(ctx)
		return callbackMsg{attempt, cb, err}
	}
}

func closeCmd(lb *oauth.Loopback) tea.Cmd {
	return func() tea.Msg {
		_ = lb.Close()
		return nil
	}
}

func exchangeCmd(ctx context.Context, attempt int, client *oauth.Client, req *oauth.AuthRequest, code string) tea.Cmd {
	return func() tea.Msg {
		tok, err := client.Exchange(ctx, req, code)
		return tokenMsg{attempt, tok, err}
	}
}

func startDeviceCmd(ctx context.Context, attempt int, client *oauth.Client, scopes []string) tea.Cmd {
	return func() tea.Msg {
		dc, err := client.StartDevice(ctx, scopes)
		return deviceMsg{attempt, dc, err}
	}
}

func pollDeviceCmd(ctx context.Context, attempt int, client *oauth.Client, dc *oauth.DeviceCode) tea.Cmd {
	return func() tea.Msg {
		tok, err := client.PollDevice(ctx, dc)
		return tokenMsg{attempt, tok, err}
	}
}

func clientCredentialsCmd(ctx context.Context, attempt int, client *oauth.Client) tea.Cmd {
	return func() tea.Msg {
		tok, err := client.ClientCredentials(ctx)
		return tokenMsg{attempt, tok, err}
	}
}

// rotateVerifyCmd proves a new secret the way scripts will use it: a refresh-token grant with
// the new secret and the refresh token already saved. No browser is needed.
func rotateVerifyCmd(ctx context.Context, attempt int, store *keyring.Store, profile string, client *oauth.Client, scopes []string) tea.Cmd {
	return func() tea.Msg {
		if client.App().Kind == oauth.KindApp {
			tok, err := client.ClientCredentials(ctx)
			return tokenMsg{attempt, tok, err}
		}
		// The profile lock keeps scripts calling `token` from using the refresh token while it is
		// being exchanged here.
		unlock, err := store.Lock(ctx, profile)
		if err != nil {
			return tokenMsg{attempt, nil, err}
		}
		defer unlock()
		sec, err := store.Secrets(ctx, profile)
		if err != nil {
			return tokenMsg{attempt, nil, err}
		}
		if sec.RefreshToken == "" {
			return tokenMsg{attempt, nil, errors.New("the profile has no refresh token to test the new secret with: sign in again with m365creds setup --profile " + profile)}
		}
		tok, err := client.Refresh(ctx, sec.RefreshToken, oauth.SingleResource(scopes))
		if err != nil || tok.RefreshToken == "" {
			return tokenMsg{attempt, tok, err}
		}
		// Keep the rotated refresh token at once, next to the old secret (both secrets work
		// until the user deletes the old one): leaving the wizard now must not strand the
		// profile with a refresh token that was already exchanged.
		saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
		defer cancel()
		err = store.UpdateSecrets(saveCtx, profile, func(s *keyring.Secrets) error {
			s.RefreshToken = tok.RefreshToken
			s.AccessToken, s.AccessExpiry, s.AccessScopes = tok.AccessToken, tok.Expiry, tok.Scopes
			return nil
		})
		if err != nil {
			return tokenMsg{attempt, nil, fmt.Errorf("the new secret works, but the refresh token Microsoft issued could not be saved: %w", err)}
		}
		return tokenMsg{attempt, tok, nil}
	}
}

func meCmd(ctx context.Context, attempt int, client *oauth.Client, accessToken string) tea.Cmd {
	return func() tea.Msg {
		u, err := client.Me(ctx, accessToken)
		return meMsg{attempt, u, err}
	}
}

func simulateCmd(attempt int, simulate func(string) error, url string) tea.Cmd {
	return func() tea.Msg { return simulatedMsg{attempt, simulate(url)} }
}

func tickCmd(attempt int) tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg{attempt, t} })
}

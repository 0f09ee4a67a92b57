package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

// DeviceCode is a started device code sign-in: show UserCode and VerificationURI, then call
// PollDevice.
type DeviceCode struct {
	UserCode, VerificationURI, Message string
	Expiry                             time.Time
	Interval                           time.Duration
	deviceCode                         string
	scopes                             []string
}

// slowDownStep is what RFC 8628 §3.5 adds to the interval on slow_down.
const slowDownStep = 5

// defaultInterval is RFC 8628's interval when the server names none.
const defaultInterval = 5

// StartDevice asks for a device code. The app needs "Allow public client flows" = Yes;
// otherwise polling fails with AADSTS7000218.
func (c *Client) StartDevice(ctx context.Context, scopes []string) (*DeviceCode, error) {
	if len(scopes) == 0 {
		return nil, errors.New("no permissions to request")
	}
	form := url.Values{"client_id": {c.app.ClientID}, "scope": {strings.Join(scopes, " ")}}
	body, err := c.post(ctx, "devicecode", c.DeviceCodeURL(), form)
	if err != nil {
		return nil, err
	}
	var r struct {
		DeviceCode      string          `json:"device_code"`
		UserCode        string          `json:"user_code"`
		VerificationURI string          `json:"verification_uri"`
		VerificationURL string          `json:"verification_url"`
		ExpiresIn       json.RawMessage `json:"expires_in"`
		Interval        json.RawMessage `json:"interval"`
		Message         string          `json:"message"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.DeviceCode == "" || r.UserCode == "" {
		return nil, &ResponseError{Endpoint: "devicecode", Status: 200, Reason: "the answer has no device code"}
	}
	if r.VerificationURI == "" {
		r.VerificationURI = r.VerificationURL
	}
	expires := jsonInt(r.ExpiresIn, 900)
	interval := jsonInt(r.Interval, defaultInterval)
	if interval < 0 {
		interval = defaultInterval
	}
	if interval < 1 {
		// Never poll in a tight loop, whatever the server says.
		interval = 1
	}
	return &DeviceCode{
		UserCode:        r.UserCode,
		VerificationURI: r.VerificationURI,
		Message:         r.Message,
		Expiry:          time.Now().Add(time.Duration(expires) * c.pollUnit),
		Interval:        time.Duration(interval) * c.pollUnit,
		deviceCode:      r.DeviceCode,
		scopes:          append([]string(nil), scopes...),
	}, nil
}

func jsonInt(raw json.RawMessage, def int64) int64 {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" {
		return def
	}
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return def
	}
	return n
}

// PollDevice waits for the user to finish the device sign-in, polling at the server's interval
// (plus five seconds per slow_down). It never sends the client secret: device code tokens are
// public-client tokens. It returns ErrDeclined-matching errors when the user declines,
// ErrExpired when the code runs out, and the context's error when cancelled.
func (c *Client) PollDevice(ctx context.Context, dc *DeviceCode) (*Token, error) {
	if dc == nil || dc.deviceCode == "" {
		return nil, errors.New("no device code to poll; start the device sign-in first")
	}
	interval := dc.Interval
	form := url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id":   {c.app.ClientID},
		"device_code": {dc.deviceCode},
	}
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
		}
		if !dc.Expiry.IsZero() && time.Now().After(dc.Expiry) {
			return nil, ErrExpired
		}
		tok, err := c.postToken(ctx, form, dc.deviceCode)
		if err == nil {
			return tok, nil
		}
		if ctx.Err() != nil {
			// The caller's wait for the sign-in ended during a poll: that is the wait's
			// end, not Microsoft failing to answer.
			return nil, ctx.Err()
		}
		var ee *EntraError
		if !errors.As(err, &ee) {
			return nil, err
		}
		switch ee.Err {
		case "authorization_pending":
		case "slow_down":
			interval += slowDownStep * c.pollUnit
		case "authorization_declined", "access_denied":
			return nil, &declinedError{ee}
		case "expired_token", "code_expired":
			return nil, &expiredError{ee}
		default:
			return nil, err
		}
		timer.Reset(interval)
	}
}

// declinedError is ErrDeclined carrying Microsoft's answer.
type declinedError struct{ e *EntraError }

func (d *declinedError) Error() string   { return ErrDeclined.Error() + ": " + d.e.Error() }
func (d *declinedError) Unwrap() []error { return []error{ErrDeclined, d.e} }

// expiredError is ErrExpired carrying Microsoft's answer.
type expiredError struct{ e *EntraError }

func (d *expiredError) Error() string   { return ErrExpired.Error() }
func (d *expiredError) Unwrap() []error { return []error{ErrExpired, d.e} }

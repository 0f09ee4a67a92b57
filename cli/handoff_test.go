package cli

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/m365creds/m365creds/keyring"
)

// TestHandoffSendReceive: receive prints a code, send seals a profile to it, and
// receive --import proves the secret with Microsoft, saves a working profile and deletes the
// one-time key; a changed block, a block for another code and a rejected secret are refused.
func TestHandoffSendReceive(t *testing.T) {
	backends(t, func(t *testing.T, backend keyring.Backend) {
		h := newHarness(t, backend)
		r := h.run(testSecret+"\n", "setup", "--no-input", "--profile", "daemon", "--flow", "app", "--tenant", testTenantID,
			"--client-id", appClientID, "--secret-expires", "24m", "--client-secret-stdin")
		expectCode(t, r, 0)

		r = h.run("", "receive")
		expectCode(t, r, 0)
		code := strings.TrimSpace(r.stdout)
		if !strings.HasPrefix(code, "age1") {
			t.Fatalf("code: %q", r.stdout)
		}
		expectContains(t, "stderr", r.stderr, "m365creds send "+code+" PROFILE", "No password")

		r = h.run("", "send", code, "daemon")
		expectCode(t, r, 0)
		noSecrets(t, r)
		expectContains(t, "stderr", r.stderr, "No password")
		block := r.stdout

		lines := strings.Split(block, "\n")
		last := slices.Index(lines, "-----END AGE ENCRYPTED FILE-----") - 2 // sealed payload, not the header
		lines[last] = strings.Repeat("A", len(lines[last]))
		r = h.run(strings.Join(lines, "\n"), "receive", "--import", "--profile", "imported")
		expectCode(t, r, ExitError)
		expectContains(t, "stderr", r.stderr, "changed or damaged")

		r = h.run("", "receive")
		otherCode := strings.TrimSpace(r.stdout)
		r = h.run("", "send", otherCode, "daemon")
		foreign := strings.Replace(r.stdout, otherCode, code, 1)
		r = h.run(foreign, "receive", "--import", "--profile", "imported")
		expectCode(t, r, ExitError)
		expectContains(t, "stderr", r.stderr, "sealed to another code")

		// A secret Microsoft rejects: the sender's saved secret is wrong.
		err := h.store().UpdateSecrets(context.Background(), "daemon", func(s *keyring.Secrets) error {
			s.ClientSecret = wrongSecret
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r = h.run("", "send", code, "daemon")
		expectCode(t, r, 0)
		r = h.run(r.stdout, "receive", "--import", "--profile", "imported")
		expectCode(t, r, ExitSecret)
		noSecrets(t, r)
		if _, err := h.store().Profile("imported"); err == nil {
			t.Error("a rejected secret was saved")
		}

		r = h.run(block, "receive", "--import", "--profile", "imported")
		expectCode(t, r, 0)
		expectContains(t, "stderr", r.stderr, "Microsoft accepted", `Saved profile "imported"`, "one-time key is deleted")
		noSecrets(t, r)
		r = h.run("", "token", "imported")
		expectCode(t, r, 0)
		if info, ok := h.sim.AccessToken(strings.TrimSpace(r.stdout)); !ok || !info.AppOnly {
			t.Errorf("token of the imported profile: %+v", info)
		}
		r = h.run(block, "receive", "--import", "--profile", "again")
		expectCode(t, r, ExitError)
		expectContains(t, "stderr", r.stderr, "imported already")
		_ = h.store().DeleteHandoffKey(context.Background(), otherCode)
	})
}

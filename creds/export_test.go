package creds

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
)

// msalPython is Debian's interpreter, where python3-msal installs MSAL.
const msalPython = "/usr/bin/python3"

// msalRefresh loads the cache with MSAL for Python, signs in silently with force_refresh (so MSAL
// must find the account and the refresh token in the cache and redeem it), and prints the
// answer as JSON.
const msalRefresh = `
import json, sys, msal
cache = msal.SerializableTokenCache()
cache.deserialize(open(sys.argv[1]).read())
app = msal.ConfidentialClientApplication(sys.argv[2], client_credential=sys.argv[4],
    authority=sys.argv[3], token_cache=cache, instance_discovery=False)
accounts = app.get_accounts()
if len(accounts) != 1:
    print(json.dumps({"error": "accounts", "n": len(accounts)})); sys.exit(0)
cached = app.acquire_token_silent(["User.Read"], account=accounts[0])
fresh = app.acquire_token_silent(["User.Read"], account=accounts[0], force_refresh=True)
print(json.dumps({"user": accounts[0]["username"], "cached": (cached or {}).get("access_token", ""),
    "fresh": (fresh or {}).get("access_token", ""), "error": (fresh or {}).get("error_description", "")}))
`

func requireMSAL(t *testing.T) {
	t.Helper()
	if err := exec.Command(msalPython, "-c", "import msal").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("MSAL for Python is missing (apt-get install python3-msal): %v", err)
		}
		t.Skip("SKIP: MSAL for Python is not installed (apt-get install python3-msal)")
	}
}

// TestMSALCacheRefreshesWithMSAL: the exported cache is read by MSAL itself, which serves the
// cached access token and then refreshes with the exported refresh token against the simulator
// (over TLS, as MSAL insists on https).
func TestMSALCacheRefreshesWithMSAL(t *testing.T) {
	t.Parallel()
	requireMSAL(t)
	sim := simulator.New([]simulator.App{simulator.DemoApp()}, simulator.DemoUsers())
	srv := httptest.NewTLSServer(sim.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := keyring.Open(keyring.Options{Service: "m365creds-export-test", ConfigDir: dir, Backend: keyring.BackendFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hc := srv.Client()
	browser := func(u string) error {
		go func() {
			nc := *hc
			nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := nc.Get(u)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); loc != "" {
				if r2, err := http.Get(loc); err == nil {
					r2.Body.Close()
				}
			}
		}()
		return nil
	}
	engine := &Service{Store: store, HTTP: hc, Endpoints: oauth.Endpoints{Login: srv.URL, Graph: srv.URL}, OpenBrowser: browser}
	f := &fixture{t: t, sim: sim, engine: engine, dir: dir}
	p := f.consent(f.draft("work", simulator.DemoClientID))

	raw, err := engine.MSALCache(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := store.Secrets(t.Context(), "work")
	cacheFile := filepath.Join(dir, "msal.json")
	if err := os.WriteFile(cacheFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	before := sim.Count("token", "refresh_token")
	cmd := exec.Command(msalPython, "-c", msalRefresh, cacheFile, p.ClientID, srv.URL+"/"+p.TenantID, simulator.DemoSecretValue)
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+caFile, "SSL_CERT_FILE="+caFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("MSAL: %v\n%s", err, out)
	}
	var got struct{ User, Cached, Fresh, Error string }
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &got); err != nil {
		t.Fatalf("MSAL printed %s", out)
	}
	if got.User != p.Account || got.Cached != sec.AccessToken {
		t.Errorf("MSAL did not serve the exported account and access token: %+v", got)
	}
	if got.Fresh == "" || got.Fresh == sec.AccessToken {
		t.Fatalf("MSAL did not refresh: %+v", got)
	}
	if _, ok := sim.AccessToken(got.Fresh); !ok {
		t.Error("the refreshed token is not one the simulator issued")
	}
	if sim.Count("token", "refresh_token") != before+1 {
		t.Errorf("%d refreshes", sim.Count("token", "refresh_token")-before)
	}
}

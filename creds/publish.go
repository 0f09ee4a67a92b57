package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/m365creds/m365creds/internal/sanitize"
	"github.com/m365creds/m365creds/keyring"
	"github.com/m365creds/m365creds/oauth"
)

// OpPublish is publishing a client secret to a shared store.
const OpPublish Op = "publish"

// Runner starts the outside programs that write to shared stores (az, gh, op). The command
// line provides it: nothing below it starts programs.
type Runner interface {
	Run(ctx context.Context, cmd Command) (stdout []byte, err error)
}

// SecretFilePath stands in an argument for the path of the file that carries Command.File.
const SecretFilePath = "{secret-file}"

// Command is one run of an outside program. Args never hold a secret: a secret travels on
// Stdin, or in File, which the runner hands over on a file descriptor (or, where there is no
// /dev/fd, a 0600 temporary file it removes afterwards) and names where SecretFilePath is.
type Command struct {
	Name  string
	Args  []string
	Stdin []byte
	File  []byte
}

// RunError is a program that could not be started or ended in failure.
type RunError struct {
	Name    string
	Missing bool   // the program is not installed (not on PATH)
	Stderr  string // what it said, as it said it
	Err     error
}

func (e *RunError) Error() string {
	if e.Missing {
		return fmt.Sprintf("%s is not installed (not found on PATH)", e.Name)
	}
	msg := fmt.Sprintf("%s failed: %v", e.Name, e.Err)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// Target is a place a client secret can be published to.
type Target struct {
	Scheme string // "azure-keyvault", "gh" or "op"
	// Vault is the key vault or 1Password vault; Owner and Repo the GitHub repository.
	Vault, Owner, Repo string
	// Name is the Key Vault secret, the GitHub secret or the 1Password item.
	Name string
}

// The schemes of the targets.
const (
	SchemeKeyVault = "azure-keyvault"
	SchemeGitHub   = "gh"
	Scheme1Pass    = "op"
)

func (t Target) String() string {
	if t.Scheme == SchemeGitHub {
		return t.Scheme + "://" + t.Owner + "/" + t.Repo + "/" + t.Name
	}
	return t.Scheme + "://" + t.Vault + "/" + t.Name
}

// The names each store accepts. Key Vault: vault names of 3–24 letters, digits and hyphens,
// secret names of 1–127 letters, digits and hyphens. GitHub: secret names of letters, digits
// and '_', not starting with a digit or GITHUB_. Checking them here keeps a typo from
// becoming a confusing error of the other program, and keeps anything that could read as a
// flag out of its argv.
// They are compiled on first use: the counted repetitions make them the most expensive
// package initialisation of the program, paid by every `token` otherwise.
var (
	vaultNameRE  = lazyRegexp(`^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$`)
	kvSecretRE   = lazyRegexp(`^[A-Za-z0-9-]{1,127}$`)
	ghOwnerRE    = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
	ghRepoRE     = lazyRegexp(`^[A-Za-z0-9._-]{1,100}$`)
	ghSecretRE   = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_]{0,199}$`)
	opSegmentBad = lazyRegexp(`[\x00-\x1f\x7f/]`)
)

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// ParseTarget reads azure-keyvault://VAULT/NAME, gh://OWNER/REPO/NAME or op://VAULT/ITEM.
func ParseTarget(s string) (Target, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return Target{}, fmt.Errorf("%q is not a target: use azure-keyvault://VAULT/NAME, gh://OWNER/REPO/NAME or op://VAULT/ITEM", sanitize.Line(s, 80))
	}
	parts := strings.Split(rest, "/")
	bad := func(format string, args ...any) (Target, error) {
		return Target{}, fmt.Errorf(format, args...)
	}
	switch scheme {
	case SchemeKeyVault:
		if len(parts) != 2 {
			return bad("an Azure Key Vault target is azure-keyvault://VAULT/NAME")
		}
		if !vaultNameRE().MatchString(parts[0]) {
			return bad("key vault names have 3 to 24 letters, digits and hyphens, starting with a letter")
		}
		if !kvSecretRE().MatchString(parts[1]) {
			return bad("Key Vault secret names have 1 to 127 letters, digits and hyphens")
		}
		return Target{Scheme: scheme, Vault: parts[0], Name: parts[1]}, nil
	case SchemeGitHub:
		if len(parts) != 3 {
			return bad("a GitHub target is gh://OWNER/REPO/NAME")
		}
		if !ghOwnerRE().MatchString(parts[0]) || !ghRepoRE().MatchString(parts[1]) || parts[1] == "." || parts[1] == ".." {
			return bad("gh://OWNER/REPO/NAME needs a GitHub owner and repository name")
		}
		if !ghSecretRE().MatchString(parts[2]) || strings.HasPrefix(strings.ToUpper(parts[2]), "GITHUB_") {
			return bad("GitHub secret names have letters, digits and '_', and start with neither a digit nor GITHUB_")
		}
		return Target{Scheme: scheme, Owner: parts[0], Repo: parts[1], Name: parts[2]}, nil
	case Scheme1Pass:
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return bad("a 1Password target is op://VAULT/ITEM")
		}
		for _, p := range parts {
			if opSegmentBad().MatchString(p) || strings.HasPrefix(p, "-") {
				return bad("1Password vault and item names in op://VAULT/ITEM cannot start with '-' or hold control characters")
			}
		}
		return Target{Scheme: scheme, Vault: parts[0], Name: parts[1]}, nil
	}
	return bad("unknown target %q: use azure-keyvault://, gh:// or op://", sanitize.Line(scheme, 40))
}

// secretMeta is what travels with a published secret, so that whoever reads it knows which
// app it belongs to and when it stops working.
type secretMeta struct {
	Tenant, ClientID, KeyID string
	Expires                 time.Time
}

// metaFor is the metadata of p's secret; keyID, when given, overrides the key ID the profile
// recorded.
func metaFor(p keyring.Profile, keyID string) secretMeta {
	if keyID == "" {
		keyID = p.SecretKeyID
	}
	tenant := p.TenantID
	if tenant == "" {
		tenant = p.Tenant
	}
	return secretMeta{Tenant: tenant, ClientID: p.ClientID, KeyID: keyID, Expires: p.SecretExpires}
}

// PublishRequest publishes the client secret of an app-only profile to one target.
type PublishRequest struct {
	Profile keyring.Profile
	Target  Target
	// KeyID is the secret's ID in Entra (the portal's Secret ID), carried as metadata; empty
	// means the one the profile recorded, if any.
	KeyID string
}

// Publish proves the saved client secret with Microsoft (client credentials, never the
// cache), writes it to the target, and records the target in the profile so that rotate
// updates it too. Only app-only profiles can be published: a delegated profile's refresh
// token is replaced on every use, so two machines sharing one would keep invalidating each
// other's copy.
func (s *Service) Publish(ctx context.Context, req PublishRequest) (keyring.Profile, error) {
	p := req.Profile
	if p.Kind != oauth.KindApp {
		return keyring.Profile{}, errorf(ProblemUsage, OpPublish, p.Name,
			"profile %q signs in a user: its refresh token changes on every use and must have one writer, so it cannot be shared; only app-only profiles (--flow app) can be published", p.Name)
	}
	if s.Runner == nil {
		return keyring.Profile{}, errorf(ProblemOther, OpPublish, p.Name, "publishing needs a way to run %s", req.Target.Scheme)
	}
	if _, err := s.Token(ctx, p, TokenRequest{Force: true}); err != nil {
		if ce := (*Error)(nil); errors.As(err, &ce) {
			ce.Op, ce.Doing = OpPublish, "checking the client secret with Microsoft before publishing it"
		}
		return keyring.Profile{}, err
	}
	sec, err := s.secrets(ctx, p, OpPublish)
	if err != nil {
		return keyring.Profile{}, err
	}
	if err := s.publishTo(ctx, req.Target, sec.ClientSecret, metaFor(p, req.KeyID)); err != nil {
		return keyring.Profile{}, &Error{Problem: ProblemOther, Op: OpPublish, Profile: p.Name,
			Doing: "publishing to " + req.Target.String(), Err: err}
	}
	uri := req.Target.String()
	if err := s.Store.Touch(p.Name, func(pp *keyring.Profile) {
		if !slices.Contains(pp.PublishedTo, uri) {
			pp.PublishedTo = append(pp.PublishedTo, uri)
		}
	}); err != nil {
		return keyring.Profile{}, fail(OpPublish, p.Name, "recording the target in the config file", oauth.App{}, err)
	}
	return s.Store.Profile(p.Name)
}

// publishTo writes secret to one target. What the program says on failure is kept, with the
// secret blanked out should it ever be echoed back.
func (s *Service) publishTo(ctx context.Context, t Target, secret string, meta secretMeta) error {
	var err error
	switch t.Scheme {
	case SchemeKeyVault:
		err = s.publishKeyVault(ctx, t, secret, meta)
	case SchemeGitHub:
		err = s.publishGitHub(ctx, t, secret)
	case Scheme1Pass:
		err = s.publish1Password(ctx, t, secret, meta)
	default:
		err = fmt.Errorf("unknown target %q", t.Scheme)
	}
	var re *RunError
	if errors.As(err, &re) && secret != "" {
		re.Stderr = sanitize.Text(strings.ReplaceAll(re.Stderr, secret, "[secret]"), 500)
	}
	return err
}

// keyVaultTime is the format az takes for --expires: a UTC date and time ending in Z.
const keyVaultTime = "2006-01-02T15:04:05Z"

// publishKeyVault runs `az keyvault secret set`, which makes a new version of the secret. The
// value goes in --file (read whole, not stripped, with --encoding utf-8), never --value,
// which would put it on the command line; --description is the content type (--content-type
// only in newer releases); --expires becomes the version's exp attribute, so
// Key Vault's own near-expiry events fire; --tags carry the app's identity. --output none
// keeps az from printing the secret back. (az keyvault secret set:
// https://learn.microsoft.com/cli/azure/keyvault/secret#az-keyvault-secret-set; the file
// is read in azure-cli's keyvault _validators.py process_secret_set_namespace.)
func (s *Service) publishKeyVault(ctx context.Context, t Target, secret string, meta secretMeta) error {
	args := []string{"keyvault", "secret", "set", "--vault-name", t.Vault, "--name", t.Name,
		"--file", SecretFilePath, "--encoding", "utf-8", "--description", "client-secret", "--output", "none"}
	if !meta.Expires.IsZero() {
		args = append(args, "--expires", meta.Expires.UTC().Format(keyVaultTime))
	}
	tags := []string{"tenant=" + meta.Tenant, "clientId=" + meta.ClientID}
	if meta.KeyID != "" {
		tags = append(tags, "keyId="+meta.KeyID)
	}
	args = append(append(args, "--tags"), tags...)
	_, err := s.Runner.Run(ctx, Command{Name: "az", Args: args, File: []byte(secret)})
	return err
}

// publishGitHub runs `gh secret set NAME --repo OWNER/REPO`, which encrypts the value locally
// with the repository's public key. Without --body (which would be argv) and without a
// terminal on stdin, gh reads the value from stdin (cli/cli pkg/cmd/secret/set/set.go,
// getBody; https://cli.github.com/manual/gh_secret_set).
func (s *Service) publishGitHub(ctx context.Context, t Target, secret string) error {
	_, err := s.Runner.Run(ctx, Command{Name: "gh",
		Args:  []string{"secret", "set", t.Name, "--repo", t.Owner + "/" + t.Repo},
		Stdin: []byte(secret)})
	return err
}

// The fields of the 1Password item, an API Credential.
const (
	opFieldSecret   = "credential"
	opFieldClientID = "username"
	opFieldTenant   = "tenant"
	opFieldKeyID    = "keyId"
	opFieldExpires  = "secretExpires"
)

// publish1Password writes the secret to a 1Password item through an item JSON template on
// stdin: `op item create` for a new item, `op item edit ITEM` with the item as it is, fields
// updated, for an existing one. Field assignments (credential=…) would be argv, which
// 1Password's own documentation warns against for secrets
// (https://developer.1password.com/docs/cli/item-create, "use a JSON template";
// https://developer.1password.com/docs/cli/item-template-json; `op item edit --help`: "You
// can also edit an item using piped input").
func (s *Service) publish1Password(ctx context.Context, t Target, secret string, meta secretMeta) error {
	fields := []opField{
		{ID: opFieldSecret, Label: opFieldSecret, Type: "CONCEALED", Value: secret},
		{ID: opFieldClientID, Label: "client id", Type: "STRING", Value: meta.ClientID},
		{ID: opFieldTenant, Label: "tenant", Type: "STRING", Value: meta.Tenant},
	}
	if meta.KeyID != "" {
		fields = append(fields, opField{ID: opFieldKeyID, Label: "key id", Type: "STRING", Value: meta.KeyID})
	}
	if !meta.Expires.IsZero() {
		fields = append(fields, opField{ID: opFieldExpires, Label: "secret expires", Type: "STRING", Value: meta.Expires.UTC().Format(time.RFC3339)})
	}
	existing, err := s.Runner.Run(ctx, Command{Name: "op", Args: []string{"item", "get", t.Name, "--vault", t.Vault, "--format", "json"}})
	var re *RunError
	switch {
	case err == nil:
		item, err := mergeOpItem(existing, fields)
		if err != nil {
			return fmt.Errorf("reading 1Password item %q: %w", t.Name, err)
		}
		_, err = s.Runner.Run(ctx, Command{Name: "op", Args: []string{"item", "edit", t.Name, "--vault", t.Vault, "--format", "json"}, Stdin: item})
		return err
	case errors.As(err, &re) && !re.Missing && strings.Contains(re.Stderr, "isn't an item"):
		item, err := json.Marshal(opItem{Title: t.Name, Category: "API_CREDENTIAL", Fields: fields})
		if err != nil {
			return err
		}
		_, err = s.Runner.Run(ctx, Command{Name: "op", Args: []string{"item", "create", "--vault", t.Vault, "--format", "json"}, Stdin: item})
		return err
	}
	return err
}

type opField struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type opItem struct {
	Title    string    `json:"title"`
	Category string    `json:"category"`
	Fields   []opField `json:"fields"`
}

// mergeOpItem sets fields in the item JSON op printed, keeping everything else it holds.
func mergeOpItem(raw []byte, fields []opField) ([]byte, error) {
	var item map[string]any
	if err := json.Unmarshal(raw, &item); err != nil {
		return nil, err
	}
	list, _ := item["fields"].([]any)
	for _, f := range fields {
		found := false
		for _, x := range list {
			m, ok := x.(map[string]any)
			if ok && (m["id"] == f.ID || m["label"] == f.Label) {
				m["value"], m["type"] = f.Value, f.Type
				found = true
			}
		}
		if !found {
			list = append(list, map[string]any{"id": f.ID, "label": f.Label, "type": f.Type, "value": f.Value})
		}
	}
	item["fields"] = list
	return json.Marshal(item)
}

// TargetError says which of a profile's published targets a rotation could not update.
type TargetError struct {
	Failed string // the target, as recorded
	Err    error
	// Updated are the targets that had taken the new secret before the failure; Restored
	// those of them that hold the old one again, Unrestored those that could not be put back
	// (they hold the new secret, which works as well until it is deleted in the portal).
	Updated, Restored, Unrestored []string
}

func (e *TargetError) Error() string {
	msg := fmt.Sprintf("publishing the new secret to %s failed: %v", e.Failed, e.Err)
	if len(e.Restored) > 0 {
		msg += "; the old secret was put back in " + strings.Join(e.Restored, ", ")
	}
	if len(e.Unrestored) > 0 {
		msg += "; " + strings.Join(e.Unrestored, ", ") + " could not be put back and hold the new secret"
	}
	return msg
}

func (e *TargetError) Unwrap() error { return e.Err }

// republish writes a rotated secret to every target the profile was published to, before
// the profile switches to it.
//
// If a target fails, the rotation stops and the targets already updated get the old secret
// back. Both secrets are valid in Entra at that moment, so leaving the new one there would
// work too, but then the places that hold a secret would disagree with each other and with
// this machine, and deleting either secret in the portal (the new one, say, to start over
// after the failure) would break some of them. Putting the old value back restores exactly
// the state before the rotation: one secret, everywhere. When there is no old value to put
// back (the keychain had lost it), the remaining targets are still tried, and the error says
// which ones hold what.
func (s *Service) republish(ctx context.Context, p keyring.Profile, oldSecret, newSecret string, expires time.Time, newKeyID string) error {
	if len(p.PublishedTo) == 0 {
		return nil
	}
	if s.Runner == nil {
		return errorf(ProblemOther, OpRotate, p.Name, "profile %q is published to %s, and this run cannot start the programs that update them", p.Name, strings.Join(p.PublishedTo, ", "))
	}
	np := p
	np.SecretExpires, np.SecretKeyID = expires, newKeyID
	meta := metaFor(np, "")
	var updated []string
	var firstErr *TargetError
	for _, uri := range p.PublishedTo {
		t, err := ParseTarget(uri)
		if err == nil {
			err = s.publishTo(ctx, t, newSecret, meta)
		}
		if err == nil {
			updated = append(updated, uri)
			continue
		}
		if firstErr == nil {
			firstErr = &TargetError{Failed: uri, Err: err}
		}
		if oldSecret != "" {
			break
		}
	}
	if firstErr == nil {
		return nil
	}
	firstErr.Updated = updated
	if oldSecret == "" {
		firstErr.Unrestored = updated
	} else {
		oldMeta := metaFor(p, "")
		for _, uri := range updated {
			t, _ := ParseTarget(uri)
			// Restoring must finish even if the caller was interrupted: the target would
			// otherwise be left with a secret this machine never switched to.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistBudget)
			err := s.publishTo(rctx, t, oldSecret, oldMeta)
			cancel()
			if err != nil {
				firstErr.Unrestored = append(firstErr.Unrestored, uri)
			} else {
				firstErr.Restored = append(firstErr.Restored, uri)
			}
		}
	}
	return &Error{Problem: ProblemOther, Op: OpRotate, Profile: p.Name, Err: firstErr,
		Kept: len(firstErr.Unrestored) == 0}
}

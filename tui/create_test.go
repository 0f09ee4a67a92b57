package tui

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/m365creds/m365creds/creds"
	"github.com/m365creds/m365creds/internal/testport"
	"github.com/m365creds/m365creds/oauth"
	"github.com/m365creds/m365creds/oauth/simulator"
	"github.com/m365creds/m365creds/steps"
)

// graphSim is a simulator with Microsoft Graph Command Line Tools and the given users, whose
// home tenant is the demo tenant. The wizard's engine is pointed at it through its options
// (see createOpts), so these tests may run in parallel.
func graphSim(t *testing.T, users ...simulator.User) (*simulator.Sim, oauth.Endpoints) {
	t.Helper()
	s := simulator.New([]simulator.App{simulator.DemoApp(), simulator.GraphCLIApp()}, users)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, u := range users {
		s.SetUserTenant(u.UPN, simulator.DemoTenantID)
	}
	return s, oauth.Endpoints{Login: base, Graph: base}
}

// createOpts is the wizard with a store and the simulator at ep, whose browser the test
// plays with s.
func createOpts(t *testing.T, ep oauth.Endpoints) Options {
	t.Helper()
	d := steps.NewDraft()
	d.Port = testport.Free()
	return Options{Draft: d, NoBrowser: true, Engine: &creds.Service{Store: fileStore(t, looseDir(t)), Endpoints: ep},
		Demo: &Demo{SimulateBrowser: browser()}, PropagationBudget: 30 * time.Second}
}

// looseDir is a temporary directory for a store the wizard may still write its kept draft to
// while the test ends (the write runs as a command of the finished program); its removal is
// retried for a moment rather than failing the test.
func looseDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "m365creds-tui-create-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return dir
}

// toCreate chooses the automatic path on the Account step and passes the permission table.
func toCreate(h *harness) {
	h.waitFor("Who will sign in")
	h.send("right", "enter")
	h.waitFor("Choose the Microsoft Graph permissions")
	h.send("enter")
	h.waitFor("It asks for these Microsoft Graph permissions")
}

// TestCreateToSavedProfile: an administrator takes the automatic path to a saved profile
// that knows its app's object ID and secret key ID, without a portal step, seeing each Graph
// step and the wait for the new app on the way.
func TestCreateToSavedProfile(t *testing.T) {
	t.Parallel()
	s, ep := graphSim(t, simulator.DemoUsers()...)
	s.SetPropagationDelay(time.Hour) // until the wizard says it waits
	opts := createOpts(t, ep)
	h := start(t, opts)
	toCreate(h)
	screen := h.waitFor("It asks for these Microsoft Graph permissions")
	for _, want := range []string{"Microsoft Graph Command Line Tools", creds.GraphCLIClientID, "Application.ReadWrite.All"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the screen before the sign-in lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "DelegatedPermissionGrant") {
		t.Fatalf("admin consent permissions are asked for without the toggle:\n%s", screen)
	}
	h.send("space")
	h.waitFor("DelegatedPermissionGrant.ReadWrite.All")
	h.send("enter")
	h.waitFor("Sign in to Microsoft Graph Command Line Tools in the browser")
	h.send("s")
	h.waitFor("Waiting for Microsoft to know the new app")
	s.Propagate()
	screen = h.waitFor("Sign in once to grant consent")
	if !strings.Contains(screen, "Created the app registration") {
		t.Fatalf("the Consent step does not say what was created:\n%s", screen)
	}
	h.waitFor("Waiting…")
	h.send("s")
	h.waitFor("Press enter to save")
	h.send("enter")
	h.waitFor("Press enter to finish")
	var seen string
	for _, f := range h.seen {
		seen += f
	}
	for _, want := range []string{"✓ Creating the application", "✓ Creating a client secret", "Granting admin consent"} {
		if !strings.Contains(seen, want) {
			t.Errorf("no screen showed %q", want)
		}
	}
	if strings.Contains(seen, "Register the app in the Azure portal") || strings.Contains(seen, "Copy the IDs") {
		t.Error("the automatic path showed a portal step")
	}
	p, err := opts.Engine.Store.Profile(steps.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	if p.AppObjectID == "" || p.SecretKeyID == "" || p.ClientID == "" || p.ClientID == simulator.DemoClientID || p.TenantID != simulator.DemoTenantID {
		t.Fatalf("saved profile %+v", p)
	}
}

// TestCreateRefusedContinuesInThePortal: a user who may not register apps is told so in one
// sentence and continues at the portal walk's Register step with everything already chosen.
func TestCreateRefusedContinuesInThePortal(t *testing.T) {
	t.Parallel()
	s, ep := graphSim(t, simulator.DemoMember())
	s.GrantAdminConsentIn(simulator.DemoTenantID, creds.GraphCLIClientID)
	s.SetUsersCanRegisterApps(simulator.DemoTenantID, false)
	h := start(t, createOpts(t, ep))
	h.waitFor("Who will sign in")
	h.send("right", "down", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	h.typeText("sales")
	h.send("enter")
	h.waitFor("Choose the Microsoft Graph permissions")
	h.send("enter")
	h.waitFor("It asks for these")
	h.send("enter")
	h.waitFor("Sign in to Microsoft Graph Command Line Tools")
	h.send("s")
	h.waitFor("may not register applications")
	h.send("enter")
	screen := h.waitFor("Register the app in the Azure portal")
	if !strings.Contains(screen, "m365creds sales") || !strings.Contains(screen, "Account › Register › IDs") {
		t.Fatalf("the portal walk is not pre-filled:\n%s", screen)
	}
	// Back on step 1, the first question shows the portal walk, and changing something else
	// there keeps it.
	h.send("esc")
	h.waitFor("Who will sign in")
	screen = h.waitFor("App registration  Walk me through the portal")
	h.send("x") // the focus is still on the profile name
	h.waitFor("salesx")
	m, _ := h.final()
	d := m.s.c.wiz.Draft
	if d.Profile != "salesx" || d.Path != steps.PathPortal || len(d.Scopes) == 0 || d.ClientID != "" {
		t.Fatalf("draft after the refusal: %+v\n%s", d, screen)
	}
}

// TestCreateSecretsForbiddenSwitchesToNoSecret: a tenant that forbids client secrets is
// offered a public client, which the same tenant lets through.
func TestCreateSecretsForbiddenSwitchesToNoSecret(t *testing.T) {
	t.Parallel()
	s, ep := graphSim(t, simulator.DemoUsers()...)
	s.SetAppManagementPolicy(simulator.DemoTenantID, simulator.AppManagementPolicy{ForbidSecrets: true})
	h := start(t, createOpts(t, ep))
	toCreate(h)
	h.send("enter")
	h.waitFor("Sign in to Microsoft Graph")
	h.send("s")
	h.waitFor("does not allow client secrets")
	h.send("n")
	h.waitFor("Sign in to Microsoft Graph")
	h.send("s")
	h.waitFor("Sign in once to grant consent")
	m, _ := h.final()
	if d := m.s.c.wiz.Draft; d.Kind() != oauth.KindPublic || d.ClientSecret != "" || d.ClientID == "" {
		t.Fatalf("draft %+v", d)
	}
}

// TestCreateBootstrapNeedsAnAdministrator: an ordinary member whose tenant never approved
// the sign-in app gets the administrator's link, whole.
func TestCreateBootstrapNeedsAnAdministrator(t *testing.T) {
	t.Parallel()
	_, ep := graphSim(t, simulator.DemoMember())
	h := start(t, createOpts(t, ep))
	toCreate(h)
	h.send("enter")
	h.waitFor("Sign in to Microsoft Graph")
	h.send("s")
	h.waitFor("needs an administrator")
	m, screen := h.final()
	link := m.s.c.opts.Engine.BootstrapAdminConsentURL(m.s.c.wiz.Draft, "", false)
	if !strings.Contains(screen, urlPieces(link, 80)) {
		t.Fatalf("the whole admin consent link is not on screen:\n%s", screen)
	}
}

// TestAccountRefusesGraphForPersonalAccounts: step 1 says that automatic registration cannot
// work for personal accounts, and what to do, before anything starts.
func TestAccountRefusesGraphForPersonalAccounts(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft()})
	for _, k := range []string{"right", "down", "down", "left"} { // create; profile; audience: personal only
		press(t, m, k)
	}
	if m.s.c.wiz.Draft.Audience != oauth.PersonalOnly {
		t.Fatalf("audience %q", m.s.c.wiz.Draft.Audience)
	}
	if v := ansi.Strip(m.View().Content); !strings.Contains(strings.Join(strings.Fields(v), " "), "free Microsoft Entra tenant") {
		t.Fatalf("step 1 does not say what to do:\n%s", v)
	}
	press(t, m, "enter")
	if m.s.c.wiz.Current() != steps.Account || m.s.c.fieldErr == nil || m.s.c.fieldErr.Field != "register" {
		t.Fatalf("went on to %v (%v)", m.s.c.wiz.Current(), m.s.c.fieldErr)
	}
}

// TestAccountOffersAPublicClientWithTheBrowser: the Credential question offers no secret with
// a browser sign-in.
func TestAccountOffersAPublicClientWithTheBrowser(t *testing.T) {
	t.Parallel()
	m := newModel(t, Options{Draft: steps.NewDraft()})
	for _, k := range []string{"tab", "tab", "tab", "tab", "tab", "left"} {
		press(t, m, k)
	}
	d := m.s.c.wiz.Draft
	if !d.NoSecret || d.Flow != oauth.FlowBrowser || d.Kind() != oauth.KindPublic {
		t.Fatalf("draft %+v", d)
	}
	if got := m.s.c.wiz.Steps(); strings.Contains(strings.Join(idStrings(got), " "), "Secret") {
		t.Fatalf("a public client has a Secret step: %v", got)
	}
}

func idStrings(ids []steps.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// TestCreateScreens draws the automatic path's screens as TestScreens draws the others: at
// 80x24 and 100x30, with and without colour, each against its golden file.
func TestCreateScreens(t *testing.T) {
	t.Parallel()
	for _, vc := range createViewCases() {
		for _, size := range viewSizes {
			for _, noColor := range []bool{false, true} {
				name := vc.name + "/" + strconv.Itoa(size[0]) + "x" + strconv.Itoa(size[1]) + "-" + map[bool]string{false: "colour", true: "nocolour"}[noColor]
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					opts := vc.opts(t)
					opts.NoColor = noColor
					h := startSized(t, opts, size[0], size[1])
					vc.drive(h)
					m, screen := h.final()
					if vc.fix != nil {
						screen = vc.fix(t, m, screen, size[0])
					}
					screen = strings.ReplaceAll(screen, strconv.Itoa(m.s.c.wiz.Draft.Port), "PORT")
					golden.RequireEqual(t, []byte(screen+"\n"))
				})
			}
		}
	}
}

// createViewCases are the screens of TestCreateScreens.
func createViewCases() []viewCase {
	graphOpts := func(edit func(*simulator.Sim), users ...simulator.User) func(t *testing.T) Options {
		return func(t *testing.T) Options {
			s, ep := graphSim(t, users...)
			if edit != nil {
				edit(s)
			}
			return createOpts(t, ep)
		}
	}
	admin := simulator.DemoUsers()
	failed := func(want string) func(h *harness) {
		return func(h *harness) {
			toCreate(h)
			h.send("enter")
			h.waitFor("Sign in to Microsoft Graph")
			h.send("s")
			h.waitFor(want)
		}
	}
	return []viewCase{
		{name: "account-graph", opts: plainOpts(steps.NewDraft), drive: func(h *harness) {
			h.waitFor("Who will sign in")
			h.send("right")
			h.waitFor("Account › Permissions › Create")
		}},
		{name: "account-graph-personal", opts: plainOpts(steps.NewDraft), drive: func(h *harness) {
			h.waitFor("Who will sign in")
			h.send("right", "down", "down", "left", "enter")
			h.waitFor("✗ Personal Microsoft accounts")
		}},
		{name: "create-intro", opts: plainOpts(steps.NewDraft), drive: toCreate},
		{name: "create-intro-grant", opts: plainOpts(func() steps.Draft { d := steps.NewDraft(); d.NoSecret = true; return d }),
			drive: func(h *harness) { toCreate(h); h.send("space"); h.waitFor("AppRoleAssignment") }},
		{name: "create-signing-in", opts: graphOpts(nil, admin...), drive: func(h *harness) {
			toCreate(h)
			h.send("enter")
			h.waitFor("Sign in to Microsoft Graph Command Line Tools in the browser")
		}, fix: func(t *testing.T, m Model, screen string, width int) string {
			shown := urlPieces(m.s.screens[steps.Create].(*createScreen).signIn.URL, width)
			if !strings.Contains(screen, "\n"+shown+"\n") {
				t.Fatalf("the whole sign-in address is not on screen:\n%s", screen)
			}
			return strings.ReplaceAll(screen, shown, "<the sign-in address>")
		}},
		{name: "create-propagating", opts: func(t *testing.T) Options {
			opts := graphOpts(func(s *simulator.Sim) { s.SetPropagationDelay(time.Hour) }, admin...)(t)
			opts.Engine.Now = func() time.Time { return frozen } // the countdown, as the screen's clock
			return opts
		}, drive: func(h *harness) {
			toCreate(h)
			h.send("enter")
			h.waitFor("Sign in to Microsoft Graph")
			h.send("s")
			h.waitFor("gives up in")
		}},
		{name: "create-denied", opts: graphOpts(func(s *simulator.Sim) {
			s.GrantAdminConsentIn(simulator.DemoTenantID, creds.GraphCLIClientID)
			s.SetUsersCanRegisterApps(simulator.DemoTenantID, false)
		}, simulator.DemoMember()), drive: failed("may not register applications")},
		{name: "create-needs-admin", opts: graphOpts(nil, simulator.DemoMember()), drive: failed("needs an administrator"),
			fix: func(t *testing.T, m Model, screen string, width int) string {
				link := urlPieces(m.s.screens[steps.Create].(*createScreen).adminLink(&m.s.c), width)
				if !strings.Contains(screen, link) {
					t.Fatalf("the whole admin consent link is not on screen:\n%s", screen)
				}
				return strings.ReplaceAll(screen, link, "<the admin consent link>")
			}},
		{name: "create-secrets-forbidden", opts: graphOpts(func(s *simulator.Sim) {
			s.SetAppManagementPolicy(simulator.DemoTenantID, simulator.AppManagementPolicy{ForbidSecrets: true})
		}, admin...), drive: failed("does not allow client secrets")},
		{name: "create-secret-lifetime", opts: graphOpts(func(s *simulator.Sim) {
			s.SetAppManagementPolicy(simulator.DemoTenantID, simulator.AppManagementPolicy{MaxSecretLifetime: 90 * 24 * time.Hour})
		}, admin...), drive: failed("allows no client secret")},
		{name: "create-created", opts: graphOpts(nil, admin...), drive: func(h *harness) {
			toCreate(h)
			h.send("enter")
			h.waitFor("Sign in to Microsoft Graph")
			h.send("s")
			h.waitFor("Sign in once to grant consent")
			h.send("esc")
			h.waitFor("Press enter to sign in with it")
		}, fix: func(t *testing.T, m Model, screen string, _ int) string {
			return strings.ReplaceAll(screen, m.s.c.wiz.Draft.ClientID, "<client ID>")
		}},
		{name: "register-after-refusal", opts: graphOpts(func(s *simulator.Sim) {
			s.GrantAdminConsentIn(simulator.DemoTenantID, creds.GraphCLIClientID)
			s.SetUsersCanRegisterApps(simulator.DemoTenantID, false)
		}, simulator.DemoMember()), drive: func(h *harness) {
			failed("may not register applications")(h)
			h.send("enter")
			h.waitFor("Register the app in the Azure portal")
		}},
	}
}

// TestCreateShowsEachGraphStep draws the Create step while Graph steps run, as the engine
// reports them: the finished ones ticked, the one under way with the spinner.
func TestCreateShowsEachGraphStep(t *testing.T) {
	t.Parallel()
	for _, size := range viewSizes {
		for _, noColor := range []bool{false, true} {
			name := strconv.Itoa(size[0]) + "x" + strconv.Itoa(size[1]) + "-" + map[bool]string{false: "colour", true: "nocolour"}[noColor]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				d := steps.NewDraft()
				d.Path = steps.PathGraph
				m := newModel(t, Options{Draft: d, NoColor: noColor})
				feed(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				press(t, m, "enter")
				press(t, m, "enter")
				if m.s.c.wiz.Current() != steps.Create {
					t.Fatalf("at %v", m.s.c.wiz.Current())
				}
				cs := m.s.screens[steps.Create].(*createScreen)
				ended := make(chan creds.Event)
				close(ended)
				for _, step := range []string{"creating the application", "creating its service principal"} {
					feed(m, createEventMsg{cs.attempt, creds.Registering{Step: step}, ended})
				}
				screen := normalise(m.View().Content)
				checkFits(t, "the Create step", screen, size[0], size[1])
				if !strings.Contains(screen, "✓ Creating the application") || !strings.Contains(screen, "⠋ Creating its service principal…") {
					t.Fatalf("the steps are not shown:\n%s", screen)
				}
				golden.RequireEqual(t, []byte(screen+"\n"))
			})
		}
	}
}

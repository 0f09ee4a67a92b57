package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestNothingBelowCLIReadsTheEnvironment: only the command line reads the environment or
// starts programs (a browser). Everything below it takes what it needs as options, so the
// demo and the tests can point it elsewhere without changing the process environment.
func TestNothingBelowCLIReadsTheEnvironment(t *testing.T) {
	t.Parallel()
	// internal/testkeychain starts the tests' private D-Bus session: test support only.
	// internal/benchrun times whole processes for scripts/bench.sh; it is no part of m365creds.
	// cmd/m365creds-token is an entry like main.go: it only wires the process into cli.
	allowed := map[string]bool{"cli": true, ".": true, "cmd/m365creds-token": true, "internal/testkeychain": true, "internal/benchrun": true}
	envCalls := map[string]bool{"Getenv": true, "Setenv": true, "LookupEnv": true, "Unsetenv": true, "Environ": true, "Clearenv": true, "ExpandEnv": true}
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel("..", filepath.Dir(path))
		if allowed[filepath.ToSlash(rel)] {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "os/exec" {
				t.Errorf("%s imports os/exec: only the command line starts programs", path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" && envCalls[sel.Sel.Name] {
				t.Errorf("%s: os.%s: pass the value in as an option instead", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d files checked: the walk is not reaching the packages", checked)
	}
}

// TestTokenProgramLinksNoWizard: m365creds-token exists to start fast, and it does only while
// nothing of the wizard is linked in: every package linked is also initialised on every run.
// A new import in any file of cli can pull the wizard back in, which this catches.
func TestTokenProgramLinksNoWizard(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "../cmd/m365creds-token").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/m365creds/m365creds/creds") {
		t.Fatalf("go list found no engine among %d packages: the test is looking in the wrong place", len(deps))
	}
	for _, dep := range deps {
		for _, banned := range []string{
			"charm.land/", "github.com/charmbracelet/ultraviolet", "github.com/atotto/clipboard",
			"github.com/m365creds/m365creds/tui", "github.com/m365creds/m365creds/oauth/simulator", "html/template",
		} {
			if dep == banned || strings.HasPrefix(dep, banned) && (strings.HasSuffix(banned, "/") || dep[len(banned)] == '/') {
				if dep == "github.com/m365creds/m365creds/tui/launch" {
					continue // the wizard's types, without Bubble Tea
				}
				t.Errorf("m365creds-token links %s", dep)
			}
		}
	}
}

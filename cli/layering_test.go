package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
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
	allowed := map[string]bool{"cli": true, ".": true, "internal/testkeychain": true, "internal/benchrun": true}
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

package workflows

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestChangesTableListsEveryGetVersion: the change ids passed to
// workflow.GetVersion in this package are exactly the rows of Changes, and
// no row may be removed before its orders have all ended.
func TestChangesTableListsEveryGetVersion(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	consts := map[string]string{}
	var args []ast.Expr
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "GetVersion" && len(n.Args) > 1 {
					args = append(args, n.Args[1])
				}
			}
			return true
		})
	}
	var inCode []string
	for _, a := range args {
		switch a := a.(type) {
		case *ast.Ident:
			v, ok := consts[a.Name]
			if !ok {
				t.Fatalf("GetVersion change id %s is not a string constant of this package", a.Name)
			}
			inCode = append(inCode, v)
		case *ast.BasicLit:
			v, _ := strconv.Unquote(a.Value)
			inCode = append(inCode, v)
		default:
			t.Fatalf("GetVersion at %s: the change id must be a constant", fset.Position(a.Pos()))
		}
	}
	var inTable []string
	for _, c := range Changes {
		inTable = append(inTable, c.ID)
		added, err1 := time.Parse(time.DateOnly, c.Added)
		removable, err2 := time.Parse(time.DateOnly, c.RemovableAfter)
		if err1 != nil || err2 != nil || c.Workflow == "" {
			t.Errorf("change %s: needs a workflow and dates YYYY-MM-DD: %+v", c.ID, c)
			continue
		}
		if removable.Sub(added) < 35*24*time.Hour {
			t.Errorf("change %s: removable %s, before its orders can have ended (%s after %s)", c.ID, c.RemovableAfter, MaxOrderLifetime, c.Added)
		}
	}
	sort.Strings(inCode)
	sort.Strings(inTable)
	if strings.Join(dedupe(inCode), ",") != strings.Join(inTable, ",") {
		t.Errorf("GetVersion change ids in the code %v, in Changes %v: add or remove the row", dedupe(inCode), inTable)
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

package identity

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAuditActionsIsComplete: every constant of type AuditAction declared
// in this package is in AuditActions, once.
func TestAuditActionsIsComplete(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var declared []AuditAction
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "AuditAction" {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok {
						a, _ := strconv.Unquote(lit.Value)
						declared = append(declared, AuditAction(a))
					}
				}
			}
		}
	}
	if len(declared) < 40 {
		t.Fatalf("found %d declared actions; the parse missed some", len(declared))
	}
	all := AuditActions()
	for _, a := range declared {
		if !slices.Contains(all, a) {
			t.Errorf("AuditActions misses %q", a)
		}
	}
	seen := map[AuditAction]bool{}
	for _, a := range all {
		if seen[a] {
			t.Errorf("%q listed twice", a)
		}
		seen[a] = true
	}
	if len(all) != len(declared) {
		t.Errorf("AuditActions has %d actions, %d declared", len(all), len(declared))
	}
}

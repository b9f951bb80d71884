package events_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const domainModule = "github.com/craftledger/craftledger/events"

// forbiddenStd are standard packages domain code (not tests) must not use.
var forbiddenStd = []string{"net", "database", "os/exec", "syscall", "unsafe", "math/rand", "log", "os/signal"}

// impureImports lists the imports of a Go file that are neither standard
// library (no dot in the first path element) nor the events module.
func impureImports(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p == domainModule || strings.HasPrefix(p, domainModule+"/") {
			continue
		}
		if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") || p == "C" {
			bad = append(bad, p)
			continue
		}
		// Standard packages that bring I/O, transport or a clock into the
		// domain are forbidden outside tests.
		if !strings.HasSuffix(path, "_test.go") {
			for _, f := range forbiddenStd {
				if p == f || strings.HasPrefix(p, f+"/") {
					bad = append(bad, p)
				}
			}
		}
	}
	return bad, nil
}

// TestImpureImportsDetector: the detector flags what it must.
func TestImpureImportsDetector(t *testing.T) {
	bad, err := impureImports(filepath.Join("testdata", "impure.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"net/http", "github.com/craftledger/craftledger/pkg/errs", "golang.org/x/text/language", "github.com/craftledger/craftledger/eventsx"}
	if strings.Join(bad, " ") != strings.Join(want, " ") {
		t.Errorf("flagged %v, want %v", bad, want)
	}
}

// TestPureDomain fails if any Go file under events/ imports anything but
// the standard library and the events module itself (see STYLE.md: domain
// code is pure; `make lint` runs this test).
func TestPureDomain(t *testing.T) {
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		bad, err := impureImports(path)
		for _, p := range bad {
			t.Errorf("%s imports %q: events/ may import only the standard library (no I/O, transport or clock) and %s", path, p, domainModule)
		}
		if err != nil || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, clock := range []string{"time.Now(", "time.Since(", "time.Until(", "time.Tick(", "time.After(", "time.Sleep("} {
			if strings.Contains(string(src), clock) {
				t.Errorf("%s calls %s: domain code has no clock; time is a parameter", path, clock)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no Go files found under events/")
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "require" || f[0] == "replace") {
			t.Errorf("events/go.mod has %q: the domain module takes no dependencies", strings.TrimSpace(line))
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join("..", "..", "policy", "templates", "template-b.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"name\": \"x\",\n  \"version\": 0\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run([]string{good}, &out, &errs); code != 0 || !strings.Contains(out.String(), "template-b v1") {
		t.Fatalf("good: code %d, out %q, err %q", code, out.String(), errs.String())
	}
	out.Reset()
	if code := run([]string{good, bad}, &out, &errs); code != 1 || !strings.Contains(errs.String(), bad+":") {
		t.Fatalf("bad: code %d, err %q", code, errs.String())
	}
	if code := run(nil, &out, &errs); code != 2 {
		t.Errorf("no args: code %d", code)
	}
	if code := run([]string{"--help"}, &out, &errs); code != 0 || !strings.Contains(errs.String(), "usage: policylint") {
		t.Errorf("--help: code %d, want 0 and the usage", code)
	}
	out.Reset()
	if code := run([]string{"-defaults", "upper-grades"}, &out, &errs); code != 0 || !strings.Contains(out.String(), "chief_technician") {
		t.Errorf("-defaults: code %d", code)
	}
}

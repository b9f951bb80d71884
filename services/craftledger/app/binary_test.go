package app_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2EBinary builds bin/craftledger as `make run` does, starts it with
// --demo --dev on a temporary data directory and free ports, waits for the
// banner, checks the printed URL answers, stops it with SIGTERM (exit 0)
// and starts it again: the demo is reused.
func TestE2EBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "craftledger")
	build := exec.Command("go", "build", "-o", bin, "../cmd/craftledger")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	run := func() (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--data", data, "--dev", "--demo", "--demo-count", "20", "--addr", "127.0.0.1:0", "--store-addr", "127.0.0.1:0")
		var errBuf strings.Builder
		cmd.Stderr = &errBuf
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
				break
			}
		}
		text := strings.Join(lines, "\n")
		m := regexp.MustCompile(`GraphQL explorer\s+(http://\S+)/explorer`).FindStringSubmatch(text)
		if m == nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no banner:\n%s\nstderr:\n%s", text, errBuf.String())
		}
		if code, b := do(t, "GET", m[1]+"/readyz", "", nil); code != 200 {
			t.Errorf("readyz %d %s", code, b)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		go func() { // drain so the process never blocks on a full pipe
			for sc.Scan() {
			}
		}()
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v\nstderr:\n%s", err, errBuf.String())
		}
		return text, errBuf.String()
	}
	out, errOut := run()
	for _, want := range []string{"worker", "hr", "issuer", "auditor", "admin", "curl -s"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "demo population loaded: 20 craftsmen") {
		t.Errorf("first start did not load the demo:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(data, "store")); err != nil {
		t.Errorf("no embedded store in the data directory: %v", err)
	}
	_, errOut = run()
	if !strings.Contains(errOut, "reusing the demo population") {
		t.Errorf("second start did not reuse the demo:\n%s", errOut)
	}
}

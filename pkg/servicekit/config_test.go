package servicekit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func parse(t *testing.T, args []string, env map[string]string) (*servicekit.Service, error) {
	t.Helper()
	f := servicekit.NewFlags("svc")
	f.FlagSet().SetOutput(new(bytes.Buffer))
	s := servicekit.ServiceFlags(f, "svc", ":8085")
	if err := f.Parse(args, envOf(env)); err != nil {
		return s, err
	}
	return s, s.Check()
}

func TestFlagsAndEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(*servicekit.Service) bool
	}{
		{name: "defaults", check: func(s *servicekit.Service) bool {
			return s.Store == servicekit.DefaultStore && s.Addr == ":8085" && s.Rate == 0 && s.BackfillWorkers == 16 && !s.Dev
		}},
		{name: "environment", env: map[string]string{"CRAFTLEDGER_RATE": "2.5", "CRAFTLEDGER_DEV": "1", "CRAFTLEDGER_ADDR": ":9"},
			check: func(s *servicekit.Service) bool { return s.Rate == 2.5 && s.Dev && s.Addr == ":9" }},
		{name: "the command line wins", args: []string{"--rate", "7"}, env: map[string]string{"CRAFTLEDGER_RATE": "2"},
			check: func(s *servicekit.Service) bool { return s.Rate == 7 }},
		{name: "a rate that is not a number", env: map[string]string{"CRAFTLEDGER_RATE": "abc"}, wantErr: "CRAFTLEDGER_RATE"},
		{name: "workers that are not a number", env: map[string]string{"CRAFTLEDGER_BACKFILL_WORKERS": "many"}, wantErr: "CRAFTLEDGER_BACKFILL_WORKERS"},
		{name: "dev that is not a boolean", env: map[string]string{"CRAFTLEDGER_DEV": "yes please"}, wantErr: "CRAFTLEDGER_DEV"},
		{name: "a negative rate", args: []string{"--rate=-1"}, wantErr: "--rate"},
		{name: "no workers", env: map[string]string{"CRAFTLEDGER_BACKFILL_WORKERS": "0"}, wantErr: "--backfill-workers"},
		{name: "an unknown log level", env: map[string]string{"CRAFTLEDGER_LOG_LEVEL": "loud"}, wantErr: "--log-level"},
		{name: "a stray argument", args: []string{"serve"}, wantErr: "unexpected argument"},
		{name: "a TLS certificate without its key", env: map[string]string{"CRAFTLEDGER_TLS_CERT_FILE": "/nonexistent/tls.crt"}, wantErr: "--tls-key"},
		{name: "a TLS key without its certificate", args: []string{"--tls-key", "/nonexistent/tls.key"}, wantErr: "--tls-cert"},
		{name: "unreadable TLS files", args: []string{"--tls-cert", "/nonexistent/tls.crt", "--tls-key", "/nonexistent/tls.key"}, wantErr: "--tls-cert/--tls-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parse(t, tc.args, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("parsed %+v", *s)
			}
		})
	}
}

// --help shows the built-in defaults, never the environment's store (which
// may carry credentials); errors name the store without them.
func TestHelpDoesNotPrintCredentials(t *testing.T) {
	f := servicekit.NewFlags("svc")
	var out bytes.Buffer
	f.FlagSet().SetOutput(&out)
	servicekit.ServiceFlags(f, "svc", ":8085")
	err := f.Parse([]string{"--help"}, envOf(map[string]string{"CRAFTLEDGER_STORE": "esdb://admin:s3cret@db:2113"}))
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if strings.Contains(out.String(), "s3cret") || !strings.Contains(out.String(), "CRAFTLEDGER_STORE") {
		t.Errorf("help:\n%s", out.String())
	}
	if got := servicekit.RedactURL("esdb://admin:s3cret@db:2113?tls=true"); strings.Contains(got, "s3cret") || !strings.Contains(got, "@db:2113") {
		t.Errorf("RedactURL = %q", got)
	}
}

func TestKey(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	good := filepath.Join(dir, "good.key")
	if err := os.WriteFile(short, []byte("tiny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(strings.Repeat("k", 48)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(auth.DevKeyEnv, "")
	os.Unsetenv(auth.DevKeyEnv)
	for _, tc := range []struct {
		name string
		s    servicekit.Service
		ok   bool
	}{
		{"nothing", servicekit.Service{}, false},
		{"dev", servicekit.Service{Dev: true}, true},
		{"a short key file", servicekit.Service{JWTKeyFile: short}, false},
		{"a missing key file", servicekit.Service{JWTKeyFile: filepath.Join(dir, "none")}, false},
		{"a good key file", servicekit.Service{JWTKeyFile: good}, true},
	} {
		k, err := tc.s.Key()
		if (err == nil) != tc.ok {
			t.Errorf("%s: key %d bytes, err %v", tc.name, len(k), err)
		}
	}
	t.Setenv(auth.DevKeyEnv, "short")
	if _, err := (&servicekit.Service{Dev: true}).Key(); err == nil {
		t.Error("a short $" + auth.DevKeyEnv + " was accepted (it wins over --dev)")
	}
}

func TestSplitList(t *testing.T) {
	if got := servicekit.SplitList(" a, ,b,"); strings.Join(got, "|") != "a|b" {
		t.Errorf("SplitList = %q", got)
	}
}

// TestBackfillLogsFailedLines: the bulk endpoints' runner counts every
// line by its outcome (craftledger_backfill_lines_total) and logs a line that
// failed for want of the store while bypassing the service's method (built
// and run through the handler, as batched lines are): an error line naming
// it. Not a line the command refused (the caller has its answer), not a
// line run through the service's method (its logging middleware logs it),
// not a good line.
func TestBackfillLogsFailedLines(t *testing.T) {
	st := commandtest.StartStore(t)
	h := command.New(st, command.Options{})
	var logs bytes.Buffer
	metrics := kit.NewMetrics("test")
	b := (&servicekit.Service{BackfillWorkers: 1}).Backfill(slog.New(slog.NewTextHandler(&logs, nil)), metrics)
	in := `{"n":1}` + "\n" + `{"n":2}` + "\n" + `{"n":3}` + "\n" + `{"n":4}` + "\n"
	prepare := func(rec command.Record) (command.Job, error) {
		var v struct{ N int }
		if err := json.Unmarshal(rec.Raw, &v); err != nil {
			return command.Job{}, err
		}
		if v.N == 4 { // through the service's method
			return command.Job{Shard: "s", Run: func(context.Context, string) (command.Result, error) {
				return command.Result{}, errs.E(errs.Unavailable, "store down (route)")
			}}, nil
		}
		return command.Job{Shard: "s", Handler: h, Command: func(context.Context, string) (command.Command, error) {
			if v.N == 3 { // a read the command needs failed
				return command.Command{}, errs.E(errs.Unavailable, "store down (build)")
			}
			return command.Command{Name: "c", Stream: "logs-1", Decide: func(context.Context, command.History) ([]command.Event, error) {
				if v.N == 2 {
					return nil, errs.E(errs.InvalidArgument, "field n: refused")
				}
				return []command.Event{{Type: "Counted.v1", Data: v}}, nil
			}}, nil
		}}, nil
	}
	sum, err := b.JSONLines(context.Background(), strings.NewReader(in), prepare, nil)
	if err != nil || sum.OK != 1 || sum.Failed != 3 {
		t.Fatalf("%+v %v", sum, err)
	}
	got := logs.String()
	if strings.Count(got, "back-fill line failed") != 1 || !strings.Contains(got, "line=3") || !strings.Contains(got, "store down (build)") {
		t.Fatalf("logs:\n%s", got)
	}
	// Every line is counted by its outcome.
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`craftledger_backfill_lines_total{code="OK",service="test"} 1`,
		`craftledger_backfill_lines_total{code="INVALID_ARGUMENT",service="test"} 1`,
		`craftledger_backfill_lines_total{code="UNAVAILABLE",service="test"} 2`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

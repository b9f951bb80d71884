package servicetest

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ClientProcessEnv, when set, makes RunClients and RunPaced send their
// requests from a process of their own (cmd loadgen, built with the go
// command on first use) instead of from goroutines of the benchmark's
// process, as an HR system's requests come from outside the service.
// The service's process then does only the service's work, and its
// collector pauses the service, not the clients that time it. Both
// processes share the machine's cores; the benchmarks then also report
// the service's process alone ("service-cpu-µs/cmd") besides the two
// together ("cpu-µs/cmd"). cmd loadgen is built with the go command from
// the working tree the benchmark runs in, once per process: an A/B of two
// test binaries runs both with the same, current loadgen.
const ClientProcessEnv = "CRAFTLEDGER_BENCH_CLIENT_PROCESS"

// Request is one HTTP request as cmd loadgen sends it.
type Request struct {
	Method, URL string
	Header      http.Header
	Body        []byte
}

// NewRequest captures r (reading its body).
func NewRequest(r *http.Request) (Request, error) {
	out := Request{Method: r.Method, URL: r.URL.String(), Header: r.Header}
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return Request{}, fmt.Errorf("read request body: %w", err)
		}
		out.Body = b
	}
	if _, err := out.HTTP(); err != nil {
		return Request{}, err
	}
	return out, nil
}

// HTTP is the request to send.
func (r Request) HTTP() (*http.Request, error) {
	req, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("request %s %s: %w", r.Method, r.URL, err)
	}
	req.Header = r.Header.Clone()
	return req, nil
}

// LoadJob is what cmd loadgen reads: the requests and how to send them.
type LoadJob struct {
	Requests []Request
	Clients  int
	Rate     float64
	Want     int
}

// loadgenBinary builds cmd loadgen from the working tree, once per
// process, into one fixed place under the temporary directory (built to a
// temporary name and renamed over the last one, so that processes building
// at once do not collide, and no copy is left per process).
var loadgenBinary = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(os.TempDir(), "craftledger-loadgen")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "loadgen-*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	cmd := exec.Command("go", "build", "-o", tmp.Name(), "github.com/craftledger/craftledger/pkg/servicekit/servicetest/loadgen")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("build loadgen: %w\n%s", err, out)
	}
	bin := filepath.Join(dir, "loadgen")
	if err := os.Rename(tmp.Name(), bin); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return bin, nil
})

// CaptureRequests captures the n requests req builds (reading their
// bodies), for cmd loadgen.
func CaptureRequests(n int, req func(i int) *http.Request) ([]Request, error) {
	reqs := make([]Request, n)
	for i := range reqs {
		var err error
		if reqs[i], err = NewRequest(req(i)); err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
	}
	return reqs, nil
}

// loadJob is a job written for cmd loadgen: the binary, the job's file
// and where its results go.
type loadJob struct{ bin, in, out string }

// writeLoadJob builds cmd loadgen (once per process) and writes the job
// for it: done before the benchmark's timer starts.
func writeLoadJob(tb testing.TB, reqs []Request, clients int, rate float64, want int) (loadJob, error) {
	bin, err := loadgenBinary()
	if err != nil {
		return loadJob{}, err
	}
	dir := tb.TempDir()
	j := loadJob{bin: bin, in: filepath.Join(dir, "job.gob"), out: filepath.Join(dir, "load.gob")}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(LoadJob{Requests: reqs, Clients: clients, Rate: rate, Want: want}); err != nil {
		return loadJob{}, err
	}
	return j, os.WriteFile(j.in, buf.Bytes(), 0o600)
}

// run runs the job in a cmd loadgen process (with the benchmark's
// GOMAXPROCS) and returns what it measured and the CPU time the process
// used while it sent the requests (Load.CPU: its start, its reading of the
// job and its writing of the results left out).
func (j loadJob) run() (Load, time.Duration, error) {
	cmd := exec.Command(j.bin, "-job", j.in, "-out", j.out)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(runtime.GOMAXPROCS(0)))
	if o, err := cmd.CombinedOutput(); err != nil {
		return Load{}, 0, fmt.Errorf("loadgen: %w\n%s", err, o)
	}
	f, err := os.Open(j.out)
	if err != nil {
		return Load{}, 0, err
	}
	defer f.Close()
	var load Load
	if err := gob.NewDecoder(f).Decode(&load); err != nil {
		return Load{}, 0, fmt.Errorf("read loadgen's results: %w", err)
	}
	return load, load.CPU, nil
}

package servicetest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// echoServer answers 201 to every POST whose body is "ok N" and has the
// header X-Test: yes, and 409 otherwise; it counts what it received.
func echoServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("X-Test") != "yes" || !strings.HasPrefix(string(b), "ok ") {
			w.WriteHeader(http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func testRequest(url string, i int) *http.Request {
	body := "ok " + strconv.Itoa(i)
	if i == 7 {
		body = "bad"
	}
	r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	r.Header.Set("X-Test", "yes")
	return r
}

// checkLoad: all n requests were answered and timed, and request 7 (the
// one with a bad body) is the one failure reported.
func checkLoad(t *testing.T, load Load, n int, paced bool) {
	t.Helper()
	if len(load.Lat) != n {
		t.Fatalf("%d latencies, want %d", len(load.Lat), n)
	}
	for i, d := range load.Lat {
		if d <= 0 {
			t.Errorf("request %d: latency %v", i, d)
		}
	}
	if load.Failed != 1 || load.FirstFailure != "request 7: status 409" {
		t.Errorf("failed %d (first %q), want 1 (request 7: status 409)", load.Failed, load.FirstFailure)
	}
	if paced != (load.Late != nil) || load.Elapsed <= 0 {
		t.Errorf("late %v (paced %v), elapsed %v", load.Late != nil, paced, load.Elapsed)
	}
}

func TestDrive(t *testing.T) {
	srv, got := echoServer(t)
	load := Drive(srv.Client(), 4, 0, http.StatusCreated, 50, func(i int) *http.Request { return testRequest(srv.URL, i) })
	checkLoad(t, load, 50, false)
	if got.Load() != 50 {
		t.Errorf("server received %d requests, want 50", got.Load())
	}
	// Paced at 500/s: the same answers, and how late each was sent.
	load = Drive(srv.Client(), 4, 500, http.StatusCreated, 50, func(i int) *http.Request { return testRequest(srv.URL, i) })
	checkLoad(t, load, 50, true)
}

// TestDriveFromItsOwnProcess: the same requests, captured and sent by cmd
// loadgen (built with the go command), come back with the same results.
func TestDriveFromItsOwnProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd loadgen")
	}
	srv, got := echoServer(t)
	reqs, err := CaptureRequests(50, func(i int) *http.Request { return testRequest(srv.URL, i) })
	if err != nil {
		t.Fatal(err)
	}
	job, err := writeLoadJob(t, reqs, 4, 0, http.StatusCreated)
	if err != nil {
		t.Fatal(err)
	}
	load, cpu, err := job.run()
	if err != nil {
		t.Fatal(err)
	}
	checkLoad(t, load, 50, false)
	if got.Load() != 50 || cpu <= 0 {
		t.Errorf("server received %d requests (want 50); loadgen used %v of CPU", got.Load(), cpu)
	}
}

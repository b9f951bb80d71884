// Command loadgen sends a benchmark's HTTP requests from a process of its
// own: servicetest.RunClients and RunPaced run it when
// CRAFTLEDGER_BENCH_CLIENT_PROCESS is set. It reads a servicetest.LoadJob
// (gob) from -job, drives it with servicetest.Drive and writes the
// servicetest.Load it measured (gob) to -out.
package main

import (
	"bytes"
	"encoding/gob"
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/craftledger/craftledger/pkg/internal/cputime"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

func main() {
	in := flag.String("job", "", "the job to run (servicetest.LoadJob, gob)")
	out := flag.String("out", "", "where to write what was measured (servicetest.Load, gob)")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" || out == "" {
		return fmt.Errorf("both -job and -out are required")
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	var job servicetest.LoadJob
	err = gob.NewDecoder(f).Decode(&job)
	f.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	if job.Clients <= 0 || len(job.Requests) == 0 {
		return fmt.Errorf("%s: %d clients, %d requests; want both above 0", in, job.Clients, len(job.Requests))
	}
	for i := range job.Requests {
		if _, err := job.Requests[i].HTTP(); err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
	}
	cpu0 := cputime.Process()
	load := servicetest.Drive(servicetest.NewClient(job.Clients), job.Clients, job.Rate, job.Want, len(job.Requests), func(i int) *http.Request {
		r, _ := job.Requests[i].HTTP() // checked above
		return r
	})
	load.CPU = cputime.Process() - cpu0
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(load); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o600)
}

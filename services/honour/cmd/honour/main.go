// Command honour serves craftledger's honour service (honours conferred
// and withdrawn, innovations recognised, corrections, bulk back-fill) over
// a KurrentDB store.
//
//	honour --store esdb://127.0.0.1:2113?tls=false --addr :8085 --jwt-key-file jwt.key
//
// Every flag has an environment variable (CRAFTLEDGER_STORE,
// CRAFTLEDGER_ADDR, CRAFTLEDGER_JWT_KEY_FILE, ...), read after the command
// line; a value that does not parse stops start-up (pkg/servicekit).
// Without a key file the JWT key comes from CRAFTLEDGER_AUTH_KEY; --dev
// uses the public development key. It serves /healthz, /readyz (store
// reachable) and /metrics beside the API (docs/services-2.md) and shuts
// down gracefully on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/honour"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "honour:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT/SIGTERM; a clean stop is nil.
func run(ctx context.Context, args []string) error {
	f := servicekit.NewFlags("honour")
	cfg := servicekit.ServiceFlags(f, "honour", ":8085")
	var bodies string
	f.StringVar(&bodies, "conferring-bodies", "CRAFTLEDGER_CONFERRING_BODIES", "", "comma-separated org=body: organisations acting as a catalogue honour's conferring body beyond the one whose id is its name")
	if err := f.Parse(args, os.LookupEnv); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	conferring, err := conferringBodies(bodies)
	if err != nil {
		return err
	}
	logger, key, err := cfg.LoggerKey(os.Stderr)
	if err != nil {
		return err
	}
	st, err := cfg.OpenStore(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	svc, err := honour.New(st, time.Now, honour.Options{CheckWriters: true, ConferringBodies: conferring})
	if err != nil {
		return err
	}
	metrics := kit.NewMetrics("honour")
	svc = honour.LoggingMiddleware(logger)(honour.InstrumentingMiddleware(metrics)(svc))
	opts := honour.HTTPOptions{Backfill: cfg.Backfill(logger, metrics), Limiter: cfg.Limiter()}
	return cfg.Serve(ctx, logger, metrics, st.Ping, honour.NewHTTPHandler(svc, logger, key, opts))
}

// conferringBodies parses --conferring-bodies: "org=body,org=body" (a body
// may contain spaces, not commas).
func conferringBodies(v string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, pair := range servicekit.SplitList(v) {
		org, body, ok := strings.Cut(pair, "=")
		org, body = strings.TrimSpace(org), strings.TrimSpace(body)
		if !ok || org == "" || body == "" {
			return nil, fmt.Errorf("--conferring-bodies: %q is not org=body", pair)
		}
		out[org] = append(out[org], body)
	}
	return out, nil
}

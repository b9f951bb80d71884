package ctl

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// Generate is `ledgerctl generate`: write the demo population into the
// store through the real services, in-process.
func Generate() Command {
	var count, concurrency int
	var seed uint64
	var nidKeyFile string
	var quiet, direct bool
	return Command{
		Name:    "generate",
		Summary: "write a realistic, deterministic demo population through the real services",
		Usage:   "[--count N] [--seed S] [--concurrency C] [--direct] [--national-id-key-file F]",
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&count, "count", 1000, "craftsmen to generate")
			fs.Uint64Var(&seed, "seed", 1, "seed: the same seed and count give the same population")
			fs.IntVar(&concurrency, "concurrency", 8, "craftsmen written at once")
			fs.StringVar(&nidKeyFile, "national-id-key-file", os.Getenv("CRAFTLEDGER_NATIONAL_ID_KEY_FILE"), "key national ID numbers are hashed with (default: the public development key)")
			fs.BoolVar(&quiet, "quiet", false, "no progress bar")
			fs.BoolVar(&direct, "direct", false, "one append per craftsman: the services decide each command over an in-memory copy of the craftsman's stream, the whole history is written at once (much faster; same events)")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return errs.E(errs.InvalidArgument, "unexpected arguments %v", args)
			}
			if count <= 0 || concurrency <= 0 {
				return errs.E(errs.InvalidArgument, "--count and --concurrency must be positive")
			}
			nid := []byte(registry.DevNationalIDKey)
			if nidKeyFile != "" {
				b, err := os.ReadFile(nidKeyFile)
				if err != nil {
					return fmt.Errorf("read national ID key: %w", err)
				}
				nid = []byte(strings.TrimSpace(string(b)))
			}
			st, err := env.OpenStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			svc, err := generate.NewServices(st, nid)
			if err != nil {
				return err
			}
			cfg := generate.Config{Craftsmen: count, Seed: seed, Concurrency: concurrency, Direct: direct, NationalIDKey: nid}
			if !quiet {
				cfg.Progress = generate.ProgressBar(env.Stderr)
			}
			stats, err := generate.Run(ctx, svc, cfg)
			if err != nil {
				return err
			}
			if env.JSON {
				return env.PrintJSON(struct {
					generate.Stats
					ElapsedSeconds float64 `json:"elapsedSeconds"`
					EventsPerSec   float64 `json:"eventsPerSecond"`
					CraftsmenPerS  float64 `json:"craftsmenPerSecond"`
				}{stats, stats.Elapsed.Seconds(), float64(stats.Events) / stats.Elapsed.Seconds(), float64(stats.Craftsmen) / stats.Elapsed.Seconds()})
			}
			fmt.Fprintf(env.Stdout, "%d craftsmen, %d academies, %d employers, %d competitions (%d placements, %d entitlements), %d mentorships\n",
				stats.Craftsmen, stats.Academies, stats.Employers, stats.Competitions, stats.Placements, stats.Entitlements, stats.Mentorships)
			fmt.Fprintf(env.Stdout, "%d commands, %d events written, %d replayed (already there) in %s: %.0f events/s, %.0f craftsmen/s\n",
				stats.Commands, stats.Events, stats.Replayed, stats.Elapsed.Round(time.Millisecond),
				float64(stats.Events)/stats.Elapsed.Seconds(), float64(stats.Craftsmen)/stats.Elapsed.Seconds())
			return nil
		},
	}
}

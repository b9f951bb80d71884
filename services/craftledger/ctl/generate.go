package ctl

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// Generate is `ledgerctl generate`: write the demo population into the
// store through the real services, in-process.
func Generate() Command {
	var count, concurrency int
	var seed uint64
	var nidKeyFile string
	var quiet bool
	return Command{
		Name:    "generate",
		Summary: "write a realistic, deterministic demo population through the real services",
		Usage:   "[--count N] [--seed S] [--concurrency C] [--national-id-key-file F]",
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&count, "count", 1000, "craftsmen to generate")
			fs.Uint64Var(&seed, "seed", 1, "seed: the same seed and count give the same population")
			fs.IntVar(&concurrency, "concurrency", 8, "craftsmen written at once")
			fs.StringVar(&nidKeyFile, "national-id-key-file", os.Getenv("CRAFTLEDGER_NATIONAL_ID_KEY_FILE"), "key national ID numbers are hashed with (default: the public development key)")
			fs.BoolVar(&quiet, "quiet", false, "no progress bar")
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
			svc, err := Services(st, nid)
			if err != nil {
				return err
			}
			cfg := generate.Config{Craftsmen: count, Seed: seed, Concurrency: concurrency}
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

// Services builds the write-side services in-process over st, as the
// generator uses them.
func Services(st eventstore.Store, nationalIDKey []byte) (generate.Services, error) {
	s := generate.Services{Store: st}
	var err error
	if s.Registry, err = registry.New(st, time.Now, registry.Options{NationalIDKey: nationalIDKey}); err != nil {
		return s, err
	}
	if s.Training, err = training.New(st, time.Now, training.Options{}); err != nil {
		return s, err
	}
	if s.Competition, err = competition.New(st, time.Now, competition.Options{Seal: registry.Seal}); err != nil {
		return s, err
	}
	if s.Mentorship, err = mentorship.New(st, time.Now, mentorship.Options{Seal: registry.Seal}); err != nil {
		return s, err
	}
	if s.Honour, err = honour.New(st, time.Now, honour.Options{Seal: registry.Seal}); err != nil {
		return s, err
	}
	return s, nil
}

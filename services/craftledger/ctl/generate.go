package ctl

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// Generate is `ledgerctl generate`: write the demo population into the
// store through the real services, in-process. Personal data is sealed as
// the registry seals it, under the keys of --personal-keys-dir (see
// personalKeys); both modes, command by command and --direct, record the
// same events.
func Generate() Command {
	var count, concurrency int
	var seed uint64
	var nidKeyFile, keysDir string
	var quiet, direct bool
	var flags *flag.FlagSet
	return Command{
		Name:    "generate",
		Summary: "write a realistic, deterministic demo population through the real services",
		Usage:   "[--count N] [--seed S] [--concurrency C] [--direct] [--national-id-key-file F] [--personal-keys-dir D]",
		Flags: func(fs *flag.FlagSet) {
			flags = fs
			fs.IntVar(&count, "count", 1000, "craftsmen to generate")
			fs.Uint64Var(&seed, "seed", 1, "seed: the same seed and count give the same population")
			fs.IntVar(&concurrency, "concurrency", 8, "craftsmen written at once")
			fs.StringVar(&nidKeyFile, "national-id-key-file", os.Getenv("CRAFTLEDGER_NATIONAL_ID_KEY_FILE"), "key national ID numbers are hashed with (default: the public development key)")
			fs.StringVar(&keysDir, "personal-keys-dir", os.Getenv(keyring.EnvDir), "seal personal data (names, phones) under per-craftsman keys in this directory, as the registry does; empty: in clear (default $"+keyring.EnvDir+
				", else against make run's store, the --store default, the all-in-one's <data>/keys: $CRAFTLEDGER_DATA/keys, else ./data/keys, which must exist)")
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
			given := false
			flags.Visit(func(f *flag.Flag) { given = given || f.Name == "personal-keys-dir" })
			keys, dir, err := personalKeys(env.Store, keysDir, given)
			if err != nil {
				return err
			}
			st, err := env.OpenStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			svc, err := generate.NewServices(st, registry.Options{NationalIDKey: nid, Keyring: keys})
			if err != nil {
				return err
			}
			cfg := generate.Config{Craftsmen: count, Seed: seed, Concurrency: concurrency, Direct: direct}
			if !quiet {
				cfg.Progress = generate.ProgressBar(env.Stderr)
				if keys == nil {
					fmt.Fprintln(env.Stderr, "ledgerctl generate: personal data in clear (no --personal-keys-dir)")
				} else {
					fmt.Fprintf(env.Stderr, "ledgerctl generate: personal data sealed under the keys in %s\n", dir)
				}
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

// personalKeys is the keyring generate seals personal data with, as the
// services resolve theirs: --personal-keys-dir when given (empty: in clear,
// as bin/registry without it), else $CRAFTLEDGER_PERSONAL_KEYS_DIR (already
// the flag's value); else, against make run's embedded store (the default
// --store), the all-in-one's own default <data>/keys, with <data> the
// all-in-one's $CRAFTLEDGER_DATA or ./data, as `make run` from the repo
// root. That directory must exist (the all-in-one creates it on its first
// start): keys made anywhere else would seal names its read side cannot
// open. Against any other store, without a directory: in clear.
func personalKeys(store, dir string, given bool) (registry.Keyring, string, error) {
	if dir != "" {
		k, err := keyring.NewDir(dir)
		if err != nil {
			return nil, "", errs.E(errs.InvalidArgument, "--personal-keys-dir: %v", err)
		}
		return k, dir, nil
	}
	if given || store != servicekit.DefaultStore {
		return nil, "", nil
	}
	data := os.Getenv("CRAFTLEDGER_DATA")
	if data == "" {
		data = servicekit.DefaultDataDir
	}
	dir = keyring.DirIn(data)
	k, err := keyring.OpenDir(dir)
	if err != nil {
		return nil, "", errs.E(errs.InvalidArgument, "--store is make run's embedded store, whose personal-data keys are in <data>/keys, but %v: "+
			"run from the directory of make run's data (or set CRAFTLEDGER_DATA), give the all-in-one's --personal-keys-dir, or --personal-keys-dir '' to store names in clear", err)
	}
	return k, dir, nil
}

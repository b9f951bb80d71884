// Command eventstore runs craftledger's embedded KurrentDB-compatible event
// store on its own:
//
//	eventstore --data DIR --addr HOST:PORT [--insecure] [--tls-cert F --tls-key F [--password-file F]]
//
// Clients connect with esdb://HOST:PORT?tls=false (insecure) or
// esdb://admin:PASSWORD@HOST:PORT?tlsVerifyCert=false (TLS; the users are
// admin and ops, with KurrentDB's default password changeit unless
// --password-file gives theirs). It stops
// cleanly on SIGINT or SIGTERM.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if err := run(os.Args[1:], log, sig); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // --help printed the flags
		}
		log.Error("eventstore", "err", err)
		os.Exit(1)
	}
}

// run serves until a signal arrives on sig.
func run(args []string, log *slog.Logger, sig <-chan os.Signal) error {
	fs := flag.NewFlagSet("eventstore", flag.ContinueOnError)
	data := fs.String("data", "data/eventstore", "data directory (created if missing)")
	addr := fs.String("addr", "127.0.0.1:2113", "host:port to listen on")
	insecure := fs.Bool("insecure", false, "no TLS and no authentication")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM), required unless --insecure")
	key := fs.String("tls-key", "", "TLS private key file (PEM), required unless --insecure")
	maxAppend := fs.Int("max-append-size", 0, "maximum bytes per append (0 = 1 MiB)")
	pwFile := fs.String("password-file", "", "file of login:password lines replacing the default users' passwords (admin, ops; both \"changeit\" otherwise)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var passwords map[string]string
	if *pwFile != "" {
		if *insecure {
			return fmt.Errorf("--password-file: --insecure accepts everyone, so passwords would not be checked")
		}
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return fmt.Errorf("--password-file: %w", err)
		}
		if passwords, err = esdbserver.ParsePasswords(string(b)); err != nil {
			return fmt.Errorf("--password-file %s: %w", *pwFile, err)
		}
	}
	// The collector setting the store's benchmarks measure (GOGC and
	// GOMEMLIMIT override it); after the flags, so --help prints only them.
	percent, limit := esdbserver.TuneGC(os.LookupEnv)
	log.Info("gc", "percent", percent, "memoryLimit", limit)
	if !*insecure && (*cert == "" || *key == "") {
		return fmt.Errorf("--tls-cert and --tls-key are required unless --insecure")
	}
	srv, err := esdbserver.Start(esdbserver.Config{
		DataDir: *data, Addr: *addr, Insecure: *insecure,
		TLSCertFile: *cert, TLSKeyFile: *key, MaxAppendSize: *maxAppend, Logger: log, Passwords: passwords,
	})
	if err != nil {
		return err
	}
	log.Info("connect with", "url", srv.URL())
	s := <-sig
	log.Info("shutting down", "signal", s.String())
	return srv.Close()
}

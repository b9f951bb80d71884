package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// Local is an all-in-one server started in this process on loopback.
type Local struct {
	App  *app.App
	stop context.CancelFunc
	done chan error
}

// StartLocal starts the all-in-one on dir (embedded store, free loopback
// ports, development keys), or against storeURL when it is not empty, and
// loads a demo population of demo craftsmen first when demo > 0 (progress
// drawn on progress, nil for none). logger receives every component's
// logs (nil discards).
func StartLocal(ctx context.Context, dir, storeURL string, demo int, progress io.Writer, logger *slog.Logger) (*Local, error) {
	ctx, cancel := context.WithCancel(ctx)
	a, err := app.New(ctx, app.Config{DataDir: dir, Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0", StoreURL: storeURL,
		Key: auth.DevKey(), NationalIDKey: []byte(registry.DevNationalIDKey), Logger: logger})
	if err != nil {
		cancel()
		return nil, err
	}
	l := &Local{App: a, stop: cancel, done: make(chan error, 1)}
	go func() { l.done <- a.Run(ctx) }()
	if demo > 0 {
		if _, _, err := a.LoadDemo(ctx, generate.Config{Craftsmen: demo, Seed: 1, Concurrency: 8}, progress); err != nil {
			return nil, errors.Join(err, l.Close())
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	if err := a.WaitCaughtUp(wctx); err != nil {
		return nil, errors.Join(fmt.Errorf("wait for the projection: %w", err), l.Close())
	}
	return l, nil
}

// Close stops serving and releases the store.
func (l *Local) Close() error {
	l.stop()
	err := <-l.done
	return errors.Join(err, l.App.Close())
}

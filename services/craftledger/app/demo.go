package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/craftledger/generate"
)

// DemoMarker is the file, in the data directory, that records a completed
// demo load so a restart reuses the data instead of generating it again.
const DemoMarker = "demo.json"

// DemoInfo is what DemoMarker holds.
type DemoInfo struct {
	Seed        uint64         `json:"seed"`
	Craftsmen   int            `json:"craftsmen"`
	CompletedAt time.Time      `json:"completedAt"`
	Stats       generate.Stats `json:"stats"`
	// Store marks the store the population was loaded into (nil in the
	// markers of older versions).
	Store *DemoStore `json:"store,omitempty"`
}

// DemoStore marks a store by its first ledger event and its last one when
// the demo load completed (id and $all position): a store that was
// replaced or reset does not hold both there.
type DemoStore struct {
	FirstID string              `json:"firstId"`
	First   eventstore.Position `json:"first"`
	LastID  string              `json:"lastId"`
	Last    eventstore.Position `json:"last"`
}

// LoadDemo makes sure the demo population is in the store: when the data
// directory records a completed load into this store it does nothing
// (loaded is false); otherwise it runs the generator — which resumes an
// interrupted load without duplicating anything — drawing progress on
// progress (nil: none) and records the completion. A marker whose store
// is not this one (the store was replaced or emptied while the data
// directory was kept: it lacks the marker's first or last event, or —
// a marker without Store — holds no ledger event) is not reused: LoadDemo
// says so on progress and in the log, and loads the demo again.
func (a *App) LoadDemo(ctx context.Context, cfg generate.Config, progress io.Writer) (info DemoInfo, loaded bool, err error) {
	path := filepath.Join(a.cfg.DataDir, DemoMarker)
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &info); err != nil {
			return info, false, fmt.Errorf("read %s: %w", path, err)
		}
		why, err := a.demoMissing(ctx, info.Store)
		if err != nil {
			return info, false, fmt.Errorf("check the demo marker %s against the store: %w", path, err)
		}
		if why == "" {
			return info, false, nil
		}
		a.logger.Warn("the demo marker does not match the store; loading the demo population again", "marker", path, "reason", why)
		if progress != nil {
			fmt.Fprintf(progress, "craftledger: %s records a demo load, but %s: loading the demo population again\n", path, why)
		}
		info = DemoInfo{}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return info, false, err
	}
	if progress != nil && cfg.Progress == nil {
		cfg.Progress = generate.ProgressBar(progress)
	}
	s := a.services
	stats, err := generate.Run(ctx, generate.Services{Registry: s.Registry, Training: s.Training, Competition: s.Competition,
		Mentorship: s.Mentorship, Honour: s.Honour, Store: a.store}, cfg)
	if err != nil {
		return info, false, fmt.Errorf("demo population: %w", err)
	}
	info = DemoInfo{Seed: cfg.Seed, Craftsmen: stats.Craftsmen, CompletedAt: time.Now().UTC(), Stats: stats}
	first, last, err := a.ledgerEnds(ctx)
	if err != nil {
		return info, true, fmt.Errorf("demo population: mark the store: %w", err)
	}
	if first != nil && last != nil {
		info.Store = &DemoStore{FirstID: first.ID, First: first.Position, LastID: last.ID, Last: last.Position}
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return info, true, err
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o755); err != nil {
		return info, true, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return info, true, err
	}
	return info, true, os.Rename(tmp, path)
}

// ledgerFilter keeps the ledger's events of $all.
func ledgerFilter() *eventstore.Filter { return &eventstore.Filter{Prefixes: readmodel.Prefixes()} }

// ledgerFirst reads the store's first ledger event (nil: none).
func (a *App) ledgerFirst(ctx context.Context) (*eventstore.RecordedEvent, error) {
	f, err := a.store.ReadAll(ctx, eventstore.ReadAllOptions{Max: 1, Filter: ledgerFilter()})
	if err != nil || len(f) == 0 {
		return nil, err
	}
	return &f[0], nil
}

// ledgerEnds reads the store's first and last ledger events (nil, nil:
// none).
func (a *App) ledgerEnds(ctx context.Context) (first, last *eventstore.RecordedEvent, err error) {
	first, err = a.ledgerFirst(ctx)
	if err != nil || first == nil {
		return nil, nil, err
	}
	l, err := a.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1, Filter: ledgerFilter()})
	if err != nil || len(l) == 0 {
		return nil, nil, err
	}
	return first, &l[0], nil
}

// demoMissing answers why the store does not hold the demo load mark
// records ("" when it does): it holds no ledger event, or (mark set) its
// first ledger event, or the event at the mark's last position, is not
// the mark's.
func (a *App) demoMissing(ctx context.Context, mark *DemoStore) (string, error) {
	first, err := a.ledgerFirst(ctx)
	switch {
	case err != nil:
		return "", err
	case first == nil:
		return "the store holds no ledger event", nil
	case mark == nil:
		return "", nil
	case first.ID != mark.FirstID || first.Position != mark.First:
		return fmt.Sprintf("the store's first ledger event is %s at %d/%d, not the load's %s at %d/%d",
			first.ID, first.Position.Commit, first.Position.Prepare, mark.FirstID, mark.First.Commit, mark.First.Prepare), nil
	}
	at, err := a.store.ReadAll(ctx, eventstore.ReadAllOptions{From: mark.Last, Max: 1, Filter: ledgerFilter()})
	if err != nil {
		return "", err
	}
	if len(at) == 0 || at[0].ID != mark.LastID || at[0].Position != mark.Last {
		return fmt.Sprintf("the store does not hold the load's last event %s at %d/%d", mark.LastID, mark.Last.Commit, mark.Last.Prepare), nil
	}
	return "", nil
}

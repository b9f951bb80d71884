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
}

// LoadDemo makes sure the demo population is in the store: when the data
// directory records a completed load it does nothing (loaded is false);
// otherwise it runs the generator — which resumes an interrupted load
// without duplicating anything — drawing progress on progress (nil: none)
// and records the completion.
func (a *App) LoadDemo(ctx context.Context, cfg generate.Config, progress io.Writer) (info DemoInfo, loaded bool, err error) {
	path := filepath.Join(a.cfg.DataDir, DemoMarker)
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &info); err != nil {
			return info, false, fmt.Errorf("read %s: %w", path, err)
		}
		return info, false, nil
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

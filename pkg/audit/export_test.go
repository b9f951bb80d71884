package audit

import (
	"context"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Plan exposes the parallel read's knobs to the tests: tiny chunks and
// pages put chunk boundaries and page ends between the few events a test
// writes.
type Plan struct {
	Parallel, ChunkEvents, PageSize int
	OnChunk                         func(lo eventstore.Position, hi *eventstore.Position)
}

func (p Plan) plan() readPlan {
	return readPlan{parallel: p.Parallel, chunkEvents: p.ChunkEvents, pageSize: p.PageSize, onChunk: p.OnChunk}
}

// VerifyPlanned is Verify reading as p says.
func VerifyPlanned(ctx context.Context, st eventstore.Store, opts VerifyOptions, p Plan) (*Report, error) {
	return verifyPlanned(ctx, st, opts, p.plan())
}

// ReplayPlanned is Replay reading as p says.
func ReplayPlanned(ctx context.Context, st eventstore.Store, opts ReplayOptions, p Plan, fn func(*eventstore.RecordedEvent) error) (int64, error) {
	return replayPlanned(ctx, st, opts, p.plan(), fn)
}

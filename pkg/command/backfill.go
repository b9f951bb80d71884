package command

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
)

// Record is one data line of a bulk file.
type Record struct {
	// Line is the 1-based line number in the file (for CSV the header is line 1).
	Line int
	// Raw is the line's bytes for JSON Lines; nil for CSV.
	Raw []byte
	// Fields maps the CSV header's column names to the line's values; nil for JSON Lines.
	Fields map[string]string
}

// CheckColumns refuses a CSV record with a column that is not in allowed,
// naming it and listing the allowed ones; a JSON Lines record passes (its
// decoder refuses unknown fields).
func (r Record) CheckColumns(allowed []string) error {
	for k := range r.Fields {
		if !slices.Contains(allowed, k) {
			return kit.Invalid(k, "unknown column (allowed: %s)", strings.Join(allowed, ", "))
		}
	}
	return nil
}

// Job is what a service makes of one record: the command to run.
type Job struct {
	// Shard orders the work: jobs of one shard run one at a time in file
	// order (use the target stream, so a worker's history keeps its order).
	Shard string
	// Key is the line's idempotency key; empty means a key derived from the
	// line's content, so re-importing the same file writes nothing new.
	Key string
	// Run executes the command with the line's key.
	Run func(ctx context.Context, key string) (Result, error)
	// Command and Handler, when both set, let the runner append
	// consecutive lines of one shard together (Handler.ExecuteBatch):
	// Command builds the line's validated, authorized command without
	// running it. Run is then unused.
	Command func(ctx context.Context, key string) (Command, error)
	Handler *Handler
	// Group and Part, when both set, let the runner hand consecutive
	// lines of one shard with the same Group to Group.Run together (at
	// most MaxBatch): for lines that write several streams, which
	// Command cannot express, so that the service appends what they
	// write to the shard's stream together. Part gives the line's
	// GroupLine for its key. Run and Command are then unused.
	Group *Group
	Part  func(ctx context.Context, key string) GroupLine
}

// Group runs consecutive back-filled lines of one shard together.
type Group struct {
	// Run runs lines, in file order, and answers each: one BatchResult a
	// line, in order. Each line decides as if the lines before it had
	// run alone before it (its answer is its own; a refused line writes
	// nothing and does not fail the others).
	Run func(ctx context.Context, lines []GroupLine) []BatchResult
}

// GroupLine is one line handed to Group.Run: the context its commands
// run with (its key, source and the file's correlation id) and what the
// service made of the record.
type GroupLine struct {
	Ctx   context.Context
	Value any
}

// PrepareFunc decodes and validates one record into a Job, or returns a
// business error (errs.InvalidArgument with the field named) for that line.
type PrepareFunc func(Record) (Job, error)

// LineResult is the outcome of one line.
type LineResult struct {
	Line     int                  `json:"line"`
	OK       bool                 `json:"ok"`
	Code     string               `json:"code,omitempty"`
	Message  string               `json:"message,omitempty"`
	Stream   string               `json:"stream,omitempty"`
	Revision *uint64              `json:"revision,omitempty"`
	Position *eventstore.Position `json:"position,omitempty"`
	Replayed bool                 `json:"replayed,omitempty"`
}

// Summary counts a run's lines. Progress callbacks receive it too.
type Summary struct {
	Lines    int   `json:"lines"`
	OK       int   `json:"ok"`
	Failed   int   `json:"failed"`
	Replayed int   `json:"replayed"`
	Millis   int64 `json:"millis"`
}

// Backfill runs bulk files through commands. The zero value is usable.
type Backfill struct {
	// Workers is the number of concurrent commands; 0 = 16.
	Workers int
	// Progress, when set, is called every ProgressEvery finished lines and
	// once at the end, never concurrently.
	Progress      func(Summary)
	ProgressEvery int // 0 = 1000
	// MaxLineBytes rejects longer lines (per line; a CSV record, quoted
	// line breaks included, stops the run); the reader holds no more of
	// one line than this. 0 = 1 MiB.
	MaxLineBytes int
	// MaxBatch bounds how many queued lines of one shard are appended
	// together when jobs offer a Command, or handed to their Group
	// together; 0 = 64, 1 disables batching.
	MaxBatch int
	// Lookahead sets how many lines are read ahead of the workers: each
	// worker queues Lookahead/Workers lines (at least 1,024) on top of
	// the ones it is running; 0 = 65,536. A worker groups what it has
	// queued by shard, so the longer its queue, the more lines of one
	// craftsman an interleaved file (a craftsman's lines far apart) lets
	// it append together.
	Lookahead int
	// LookaheadBytes bounds the bytes of the lines read ahead (each line
	// counted with queuedOverhead on top); 0 = 64 MiB. A line longer than
	// the bound is still read when nothing else is queued.
	LookaheadBytes int64
	// Failed, when set, is called, never concurrently, with each line
	// whose command ran through its Handler (Job.Command: batched, or
	// built and run alone) or its Group and failed, with the error (a refusal or a
	// failure of the store): such a line does not pass through the
	// service's own method, so a service logs there what its middlewares
	// would have. Not for lines run with Job.Run (the middlewares see
	// them), lines refused before they ran, or any line once the request
	// is cancelled.
	Failed func(line int, err error)
	// Finished, when set, is called with each line's result as it
	// finishes (the emit of every run), never concurrently: a service
	// counts the lines there.
	Finished func(LineResult)
}

// queuedOverhead is what a queued line is counted for beyond its bytes
// (its job, its decoded command), in LookaheadBytes.
const queuedOverhead = 512

type run struct {
	ctx     context.Context // the request's
	b       Backfill
	prepare PrepareFunc
	emit    func(LineResult)
	start   time.Time

	mu  sync.Mutex
	sum Summary

	queues []*lineQueue
	wg     sync.WaitGroup
	ahead  readAhead
}

// readAhead holds the reader back while the lines queued ahead of the
// workers add up to more than max bytes.
type readAhead struct {
	mu        sync.Mutex
	cond      sync.Cond
	used, max int64
}

func (a *readAhead) acquire(n int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.used > 0 && a.used+n > a.max {
		a.cond.Wait()
	}
	a.used += n
}

func (a *readAhead) release(n int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.used -= n
	a.cond.Broadcast()
}

type item struct {
	line int
	job  Job
	size int64 // counted in readAhead
}

// lineQueue is a worker's queue: a buffered channel of capacity max, but
// its memory grows with the lines queued, not with max (a request of ten
// lines does not allocate room for thousands).
type lineQueue struct {
	mu                sync.Mutex
	notEmpty, notFull sync.Cond
	items             []item
	max               int
	closed            bool
}

func newLineQueue(max int) *lineQueue {
	q := &lineQueue{max: max}
	q.notEmpty.L, q.notFull.L = &q.mu, &q.mu
	return q
}

// put queues it, waiting while max lines are queued.
func (q *lineQueue) put(it item) {
	q.mu.Lock()
	for len(q.items) >= q.max {
		q.notFull.Wait()
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.notEmpty.Signal()
}

// close says nothing more will be put.
func (q *lineQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notEmpty.Broadcast()
}

// take waits for lines and takes all that are queued; false once the
// queue is closed and empty.
func (q *lineQueue) take() ([]item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.notEmpty.Wait()
	}
	items := q.items
	q.items = nil
	q.notFull.Broadcast()
	return items, len(items) > 0
}

func (b Backfill) start(ctx context.Context, prepare PrepareFunc, emit func(LineResult)) *run {
	if b.Workers <= 0 {
		b.Workers = 16
	}
	if b.ProgressEvery <= 0 {
		b.ProgressEvery = 1000
	}
	if b.MaxLineBytes <= 0 {
		b.MaxLineBytes = 1 << 20
	}
	if b.MaxBatch <= 0 {
		b.MaxBatch = 64
	}
	if b.Lookahead <= 0 {
		b.Lookahead = 1 << 16
	}
	if b.LookaheadBytes <= 0 {
		b.LookaheadBytes = 64 << 20
	}
	if emit == nil {
		emit = func(LineResult) {}
	}
	r := &run{ctx: ctx, b: b, prepare: prepare, emit: emit, start: time.Now()}
	r.ahead.max = b.LookaheadBytes
	r.ahead.cond.L = &r.ahead.mu
	r.queues = make([]*lineQueue, b.Workers)
	for i := range r.queues {
		q := newLineQueue(max(1024, b.Lookahead/b.Workers))
		r.queues[i] = q
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.work(ctx, q)
		}()
	}
	return r
}

// work runs a shard queue. It takes whatever is queued (up to the queue's
// size), groups it by shard keeping each shard's file order, and runs each
// group in turn: batchable jobs of one shard go out MaxBatch at a time as
// one append, the others one by one. So even an interleaved file gets
// batched when the queue holds several lines of one craftsman.
func (r *run) work(ctx context.Context, q *lineQueue) {
	for {
		items, ok := q.take()
		if !ok {
			return
		}
		var order []string
		groups := make(map[string][]item)
		for _, it := range items {
			if _, seen := groups[it.job.Shard]; !seen {
				order = append(order, it.job.Shard)
			}
			groups[it.job.Shard] = append(groups[it.job.Shard], it)
		}
		for _, shard := range order {
			r.runGroup(ctx, groups[shard])
		}
		var size int64
		for _, it := range items {
			size += it.size
		}
		r.ahead.release(size)
	}
}

// runGroup runs the items of one shard in order, batching runs of
// batchable jobs of one handler.
func (r *run) runGroup(ctx context.Context, items []item) {
	for len(items) > 0 {
		if ctx.Err() != nil {
			for _, it := range items {
				r.finish(LineResult{Line: it.line, Code: errs.Code(errs.Unavailable), Message: "cancelled: " + ctx.Err().Error()})
			}
			return
		}
		it := items[0]
		if g := it.job.Group; g != nil && it.job.Part != nil {
			n := 1
			for n < len(items) && n < r.b.MaxBatch && items[n].job.Group == g && items[n].job.Part != nil {
				n++
			}
			r.runParts(ctx, g, items[:n])
			items = items[n:]
			continue
		}
		if it.job.Command == nil || it.job.Handler == nil {
			r.runOne(ctx, it)
			items = items[1:]
			continue
		}
		n := 1
		for n < len(items) && n < r.b.MaxBatch && items[n].job.Command != nil && items[n].job.Handler == it.job.Handler {
			n++
		}
		r.runBatch(ctx, items[:n])
		items = items[n:]
	}
}

func (r *run) runOne(ctx context.Context, it item) {
	if it.job.Run != nil {
		res, err := it.job.Run(ctx, it.job.Key)
		r.done(it.line, res, err, false)
		return
	}
	c, err := it.job.Command(ctx, it.job.Key)
	var res Result
	if err == nil {
		res, err = it.job.Handler.Execute(ctx, c)
	}
	r.done(it.line, res, err, true)
}

// runParts runs items, lines of one shard, through their Group.
func (r *run) runParts(ctx context.Context, g *Group, items []item) {
	lines := make([]GroupLine, len(items))
	for i, it := range items {
		lines[i] = it.job.Part(ctx, it.job.Key)
	}
	out := g.Run(ctx, lines)
	for i, it := range items {
		br := BatchResult{Err: errs.E(errs.Internal, "line %d: its group answered %d lines of %d", it.line, len(out), len(items))}
		if len(out) == len(items) {
			br = out[i]
		}
		r.done(it.line, br.Result, br.Err, true)
	}
}

// done finishes a line that ran; direct says it ran through its Handler,
// not its service's method (Backfill.Failed hears of it when it failed).
func (r *run) done(line int, res Result, err error, direct bool) {
	if err != nil {
		if direct {
			r.tell(line, err)
		}
		r.fail(line, err)
		return
	}
	rev, pos := res.Revision, res.Position
	r.finish(LineResult{Line: line, OK: true, Stream: res.Stream, Revision: &rev, Position: &pos, Replayed: res.Replayed})
}

func (r *run) runBatch(ctx context.Context, batch []item) {
	if len(batch) == 1 {
		r.runOne(ctx, batch[0])
		return
	}
	var cmds []Command
	var lines []int
	for _, it := range batch {
		c, err := it.job.Command(ctx, it.job.Key)
		switch {
		case err != nil:
			r.done(it.line, Result{}, err, true)
		case len(cmds) > 0 && c.Stream != cmds[0].Stream:
			res, err := it.job.Handler.Execute(ctx, c)
			r.done(it.line, res, err, true)
		default:
			cmds = append(cmds, c)
			lines = append(lines, it.line)
		}
	}
	if len(cmds) == 0 {
		return
	}
	for i, br := range batch[0].job.Handler.ExecuteBatch(ctx, cmds[0].Stream, cmds) {
		r.done(lines[i], br.Result, br.Err, true)
	}
}

// tell passes a failed line to Backfill.Failed, unless the request is
// cancelled.
func (r *run) tell(line int, err error) {
	if r.b.Failed != nil && r.ctx.Err() == nil {
		r.mu.Lock()
		r.b.Failed(line, err)
		r.mu.Unlock()
	}
}

// fail finishes a line that failed with err.
func (r *run) fail(line int, err error) {
	r.finish(failure(line, err))
}

func failure(line int, err error) LineResult {
	return LineResult{Line: line, Code: errs.Code(err), Message: err.Error()}
}

func (r *run) finish(lr LineResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b.Finished != nil {
		r.b.Finished(lr)
	}
	r.sum.Lines++
	if lr.OK {
		r.sum.OK++
		if lr.Replayed {
			r.sum.Replayed++
		}
	} else {
		r.sum.Failed++
	}
	r.emit(lr)
	if r.b.Progress != nil && r.sum.Lines%r.b.ProgressEvery == 0 {
		s := r.sum
		s.Millis = time.Since(r.start).Milliseconds()
		r.b.Progress(s)
	}
}

func (r *run) submit(rec Record, keySource []byte) {
	job, err := r.prepare(rec)
	if err != nil {
		r.fail(rec.Line, err)
		return
	}
	if job.Run == nil && (job.Command == nil || job.Handler == nil) && (job.Group == nil || job.Part == nil) {
		r.fail(rec.Line, errs.E(errs.Internal, "line %d: no command", rec.Line))
		return
	}
	if job.Key == "" {
		sum := sha256.Sum256(keySource)
		job.Key = "line:" + hex.EncodeToString(sum[:16])
	}
	h := fnv.New32a()
	h.Write([]byte(job.Shard))
	size := int64(len(keySource)) + queuedOverhead
	r.ahead.acquire(size)
	r.queues[int(h.Sum32()%uint32(len(r.queues)))].put(item{line: rec.Line, job: job, size: size})
}

func (r *run) end(readErr error) (Summary, error) {
	for _, q := range r.queues {
		q.close()
	}
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Millis = time.Since(r.start).Milliseconds()
	if r.b.Progress != nil {
		r.b.Progress(r.sum)
	}
	return r.sum, readErr
}

// JSONLines runs every non-blank line of r (one JSON object per line)
// through prepare and its job, calling emit (serially, in completion order)
// with each line's result. A byte order mark before the first line is
// dropped. It returns the summary; an error only when the input itself
// could not be read.
func (b Backfill) JSONLines(ctx context.Context, in io.Reader, prepare PrepareFunc, emit func(LineResult)) (Summary, error) {
	r := b.start(ctx, prepare, emit)
	lr := lineReader{br: bufio.NewReaderSize(in, 64<<10), max: r.b.MaxLineBytes}
	var readErr error
	for line := 1; ctx.Err() == nil; line++ {
		raw, over, err := lr.next()
		if line == 1 {
			// A byte order mark, as editors on Windows write it (CSV
			// strips it from its header too).
			raw = bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\ufeff")))
		}
		switch {
		case over:
			r.fail(line, errs.E(errs.InvalidArgument, "line %d: longer than %d bytes", line, r.b.MaxLineBytes))
		case len(raw) == 0:
		default:
			r.submit(Record{Line: line, Raw: raw}, raw)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = fmt.Errorf("read line %d: %w", line, err)
			}
			break
		}
	}
	return r.end(readErr)
}

// lineReader reads lines holding at most about max bytes of one: a longer
// line is read to its end but not kept, so a file of one huge line costs
// the bound, not the line (bufio.Reader.ReadBytes would hold all of it).
type lineReader struct {
	br  *bufio.Reader
	max int
}

// next returns the next line without its surrounding white space (a new
// slice: the caller keeps it), or over for a line whose content is longer
// than max. err is the reader's error after the line (io.EOF at the end).
func (l lineReader) next() (line []byte, over bool, err error) {
	trimmed := false // line's trailing white space was dropped to keep it within max
	for {
		chunk, err := l.br.ReadSlice('\n')
		switch {
		case over:
		case trimmed:
			// line already had more than max bytes with this white space:
			// anything but more white space makes it too long.
			if len(bytes.TrimSpace(chunk)) > 0 {
				over, line = true, nil
			}
		default:
			if len(line) == 0 && !errors.Is(err, bufio.ErrBufferFull) {
				// The whole line in one piece (the usual case).
				line = bytes.TrimSpace(chunk)
				if len(line) > l.max {
					over, line = true, nil
				} else {
					line = bytes.Clone(line)
				}
				break
			}
			if len(line) == 0 {
				chunk = bytes.TrimLeftFunc(chunk, unicode.IsSpace)
			}
			line = append(line, chunk...)
			if len(line) > l.max {
				line = bytes.TrimRightFunc(line, unicode.IsSpace)
				if len(line) > l.max {
					over, line = true, nil
				} else {
					trimmed = true
				}
			}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if over {
				return nil, true, err
			}
			return bytes.TrimSpace(line), false, err
		}
	}
}

// CSV runs every data line of r (RFC 4180, first line the header naming the
// columns) through prepare and its job, like JSONLines. A line with the
// wrong number of fields, or a field that is not UTF-8, is that line's
// error; the run goes on. A header naming a column twice, or not UTF-8,
// refuses the file (the summary's error). A byte order mark is dropped.
func (b Backfill) CSV(ctx context.Context, in io.Reader, prepare PrepareFunc, emit func(LineResult)) (Summary, error) {
	r := b.start(ctx, prepare, emit)
	// csv.Reader holds a whole record before it returns it: bound it by
	// what it may read past the last record's end.
	cin := &csvBound{r: in, max: int64(r.b.MaxLineBytes) + csvReadAhead}
	cr := csv.NewReader(cin)
	cr.ReuseRecord = false
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return r.end(nil)
		}
		if errors.Is(err, errCSVTooLong) {
			return r.end(errs.E(errs.InvalidArgument, "line 1: csv header longer than %d bytes", r.b.MaxLineBytes))
		}
		return r.end(errs.E(errs.InvalidArgument, "csv header: %v", err))
	}
	cin.end = cr.InputOffset()
	endLine := 1 + strings.Count(header[len(header)-1], "\n")
	seen := make(map[string]bool, len(header))
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
		if !utf8.ValidString(header[i]) {
			return r.end(errs.E(errs.InvalidArgument, "csv header: column %d is not valid UTF-8: save the file as UTF-8 (a GBK or other encoding is not converted)", i+1))
		}
		// A column named twice would let the later value win silently
		// (a JSON line naming a field twice is refused too).
		if seen[header[i]] {
			return r.end(errs.E(errs.InvalidArgument, "csv header: column %q is named twice", header[i]))
		}
		seen[header[i]] = true
	}
	for ctx.Err() == nil {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				r.fail(pe.StartLine, errs.E(errs.InvalidArgument, "line %d: %v", pe.StartLine, pe.Err))
				cin.end = cr.InputOffset()
				endLine = pe.Line
				continue
			}
			if errors.Is(err, errCSVTooLong) {
				// The rest of the file cannot be told apart from the
				// record (a quote may be open): the run stops here.
				return r.end(errs.E(errs.InvalidArgument, "the record after line %d is longer than %d bytes; it and the lines after it were not read", endLine, r.b.MaxLineBytes))
			}
			return r.end(fmt.Errorf("read csv: %w", err))
		}
		cin.end = cr.InputOffset()
		line, _ := cr.FieldPos(0)
		last, _ := cr.FieldPos(len(rec) - 1)
		endLine = last + strings.Count(rec[len(rec)-1], "\n")
		if len(rec) != len(header) {
			r.fail(line, errs.E(errs.InvalidArgument, "line %d: %d fields, header has %d", line, len(rec), len(header)))
			continue
		}
		fields := make(map[string]string, len(header))
		bad := ""
		for i, h := range header {
			fields[h] = strings.TrimSpace(rec[i])
			if bad == "" && !utf8.ValidString(rec[i]) {
				bad = h
			}
		}
		if bad != "" {
			// csv.Reader keeps the bytes as they are; the JSON the
			// service would encode them into replaces them by U+FFFD.
			r.fail(line, errs.E(errs.InvalidArgument, "line %d: column %q is not valid UTF-8: save the file as UTF-8 (a GBK or other encoding is not converted)", line, bad))
			continue
		}
		r.submit(Record{Line: line, Fields: fields}, []byte(strings.Join(rec, "\x1f")))
	}
	return r.end(nil)
}

// csvReadAhead is how far csv.Reader's own buffer reads past the record
// it returns (bufio's default size).
const csvReadAhead = 4096

var errCSVTooLong = errors.New("csv record too long")

// csvBound feeds a csv.Reader, refusing to read more than max bytes past
// end, the input offset of the last record the reader returned.
type csvBound struct {
	r        io.Reader
	read     int64
	end, max int64
}

func (c *csvBound) Read(p []byte) (int, error) {
	room := c.end + c.max - c.read
	if room <= 0 {
		return 0, errCSVTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

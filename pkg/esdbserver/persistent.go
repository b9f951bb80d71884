package esdbserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/cockroachdb/pebble"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Persistent subscriptions: server-side consumer groups over a stream or
// $all. A group's settings and checkpoint live in pebble under prefixPSub;
// parked messages are links in $persistentsubscription-<source>::<group>-parked,
// as in KurrentDB. Delivery is at-least-once: after a restart the group
// resumes from its checkpoint, the lowest event not yet acknowledged.

// psConfig is a group as persisted.
type psConfig struct {
	Source            string    `json:"source"`
	Group             string    `json:"group"`
	StartFrom         string    `json:"startFrom"` // as reported by GetInfo
	Start             uint64    `json:"start"`     // first revision/position to deliver
	Checkpoint        *uint64   `json:"checkpoint,omitempty"`
	ResolveLinks      bool      `json:"resolveLinks"`
	ExtraStatistics   bool      `json:"extraStatistics"`
	MaxRetryCount     int32     `json:"maxRetryCount"`
	MinCheckpoint     int32     `json:"minCheckpointCount"`
	MaxCheckpoint     int32     `json:"maxCheckpointCount"`
	MaxSubscribers    int32     `json:"maxSubscriberCount"`
	LiveBufferSize    int32     `json:"liveBufferSize"`
	ReadBatchSize     int32     `json:"readBatchSize"`
	HistoryBufferSize int32     `json:"historyBufferSize"`
	MessageTimeoutMs  int32     `json:"messageTimeoutMs"`
	CheckpointAfterMs int32     `json:"checkpointAfterMs"`
	Strategy          string    `json:"strategy"`
	Filter            *psFilter `json:"filter,omitempty"`
}

type psFilter struct {
	ByType   bool     `json:"byType"`
	Regex    string   `json:"regex,omitempty"`
	Prefixes []string `json:"prefixes,omitempty"`
}

func (f *psFilter) compile() (recordMatch, error) {
	if f == nil {
		return nil, nil
	}
	expr := &streamsFilterExpr{regex: f.Regex, prefixes: f.Prefixes}
	return expr.matcher(f.ByType)
}

func psKey(source, group string) []byte {
	return append(append(append([]byte{prefixPSub}, source...), 0), group...)
}

func parkedStream(source, group string) string {
	return "$persistentsubscription-" + source + "::" + group + "-parked"
}

type psubManager struct {
	s      *Server
	mu     sync.Mutex
	groups map[string]*psGroup
	// topics are the sources that had a group since the subsystem
	// started, as KurrentDB's _subscriptionTopics, from which a delete
	// removes none (UpdateSubscription, PersistentSubscriptionService.cs
	// 876-921): a listing of such a source without groups is empty, not
	// NotFound (GetStreamPersistentSubscriptionStats 1398-1418).
	topics map[string]bool
	// closed is set by close (the server shutting down, gRPC still
	// serving): no group is made or restarted after it, so none outlives
	// Close.
	closed bool
}

// errPSClosing answers a Create, Update or RestartSubsystem that arrives
// while the server shuts down, as KurrentDB answers a request its node
// is not ready for (RpcExceptions.ServerNotReady).
var errPSClosing = status.Error(codes.Unavailable, "Server Is Not Ready")

func (s *Server) registerPersistent() error {
	m := &psubManager{s: s, groups: map[string]*psGroup{}, topics: map[string]bool{}}
	it, err := s.store.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPSub}, UpperBound: []byte{prefixPSub + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		var cfg psConfig
		if err := json.Unmarshal(it.Value(), &cfg); err != nil {
			it.Close()
			return fmt.Errorf("load persistent subscription %q: %w", it.Key()[1:], err)
		}
		g, err := m.newGroup(cfg)
		if err != nil {
			// Only a filter regex fails here: one stored before the
			// tenth session, when filters were Go's RE2 syntax, that
			// .NET's syntax (filterRegex) refuses — KurrentDB would not
			// have created the group. It is left out, record kept,
			// rather than keeping the server from starting.
			var regex string
			if cfg.Filter != nil {
				regex = cfg.Filter.Regex
			}
			s.log.Error("persistent subscription not loaded: its filter regex does not compile in .NET's syntax",
				"group", cfg.Group, "source", cfg.Source, "regex", regex)
			continue
		}
		m.groups[string(psKey(cfg.Source, cfg.Group))] = g
		m.topics[cfg.Source] = true
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, g := range m.groups {
		go g.run()
	}
	s.psubs = m
	persistent.RegisterPersistentSubscriptionsServer(s.grpc, &persistentService{s: s, m: m})
	return nil
}

func (m *psubManager) close() {
	m.mu.Lock()
	m.closed = true
	gs := make([]*psGroup, 0, len(m.groups))
	for _, g := range m.groups {
		gs = append(gs, g)
	}
	m.mu.Unlock()
	for _, g := range gs {
		g.shutdown()
	}
}

func (m *psubManager) get(source, group string) *psGroup {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.groups[string(psKey(source, group))]
}

// notFoundGroup is KurrentDB's RpcExceptions.PersistentSubscriptionDoesNotExist
// (no quotes around the names; a listing for a stream without groups names
// the group "").
func notFoundGroup(source, group string) error {
	return withTrailers(codes.NotFound, fmt.Sprintf("Subscription group %s on stream %s does not exist.", group, source),
		"exception", "persistent-subscription-does-not-exist", "stream-name", source, "group-name", group)
}

// droppedGroup is what a consumer of a group that was updated or deleted
// gets: KurrentDB shuts the group's subscription down
// (PersistentSubscriptionService.cs UpdateSubscription, 876-921), which
// drops each client with SubscriptionDropReason.Unsubscribed
// (PersistentSubscription.cs 374-378, PersistentSubscriptionClient.cs
// 124-127), and Read ends with RpcExceptions.PersistentSubscriptionDropped
// (PersistentSubscriptions.Read.cs 238-239, RpcExceptions.cs 213-221).
func droppedGroup(source, group string) error {
	return withTrailers(codes.Canceled, fmt.Sprintf("Subscription group %s on stream %s was dropped.", group, source),
		"exception", "persistent-subscription-dropped", "stream-name", source, "group-name", group)
}

// errPSReplaced tells Read that the group it found was replaced by an
// Update or a RestartSubsystem meanwhile: it joins the new one.
var errPSReplaced = errors.New("persistent subscription group replaced")

// dropConsumers ends every consumer's call with err. g.mu is held.
func (g *psGroup) dropConsumers(err error) {
	for _, c := range g.consumers {
		select {
		case c.dropped <- err:
		default: // already dropped
		}
	}
}

// psGroup is one running consumer group.
type psGroup struct {
	m     *psubManager
	match recordMatch

	mu          sync.Mutex
	cfg         psConfig
	consumers   []*psConsumer
	rr          int
	next        uint64 // next revision/position to read from the source
	buffer      []*psMsg
	retry       []*psMsg
	inflight    map[[16]byte]*psMsg
	outstanding map[uint64]struct{}
	savedCP     uint64
	savedAt     time.Time
	acksSinceCP int
	total       int64 // messages pushed to consumers, retries included
	lastKnown   *uint64
	deleted     bool
	// liveMode: the group has caught up with its stream and takes each event
	// as committed, as KurrentDB's live buffer does; catching up (not
	// live) it reads the stream as ReadStreamEventsForward would, with the
	// stream's metadata applied.
	liveMode bool
	// faulted: the source stream is tombstoned (KurrentDB's
	// HandleReadError): every consumer is dropped, now and when it joins.
	faulted  bool
	replaced bool // by an Update or RestartSubsystem: stopped, writes no checkpoint

	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

type psMsg struct {
	id       [16]byte // the original event's id: what the client acks
	orig     *record  // the link when one was resolved, else the event
	ev, link *record
	seq      uint64
	retries  int32
	replay   bool // from the parked stream: not part of the checkpoint
	consumer *psConsumer
	deadline time.Time
	parked   string // why it is parked: the parked link's reason
}

type psConsumer struct {
	buffer   int
	inflight int
	out      chan *psMsg
	dropped  chan error
}

func (m *psubManager) newGroup(cfg psConfig) (*psGroup, error) {
	match, err := cfg.Filter.compile()
	if err != nil {
		return nil, err
	}
	g := &psGroup{m: m, cfg: cfg, match: match, inflight: map[[16]byte]*psMsg{}, outstanding: map[uint64]struct{}{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}), savedAt: time.Now()}
	g.next = cfg.Start
	if cfg.Checkpoint != nil {
		g.next = *cfg.Checkpoint
	}
	// A group with no checkpoint that starts from the end starts live
	// (KurrentDB's StreamBuffer made with startInHistory false) at the end
	// of the moment: KurrentDB saves the start as -1
	// (CreatePersistentSubscription, PersistentSubscriptionService.cs
	// 297-317) and each load resolves it again (LoadConfiguration
	// 1291-1295; OnCheckpointLoaded, PersistentSubscription.cs 128-136).
	if cfg.Checkpoint == nil && g.fromEnd() {
		g.liveMode = true
		g.next = m.s.store.endOf(cfg.Source)
	}
	g.savedCP = g.next
	return g, nil
}

func (g *psGroup) wake() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

func (g *psGroup) shutdown() {
	g.once.Do(func() { close(g.stop) })
	<-g.stopped
}

func (g *psGroup) isAll() bool { return g.cfg.Source == "$all" }

// run dispatches events to the group's consumers until the group stops.
func (g *psGroup) run() {
	defer close(g.stopped)
	st := g.m.s.store
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	// Message timeouts are checked on KurrentDB's clock tick, once a
	// second (PersistentSubscriptionService.cs 156-162, NotifyClockTick
	// in PersistentSubscription.cs 692-710).
	clock := time.NewTicker(time.Second)
	defer clock.Stop()
	expire := false
	for {
		wait := st.waitCh()
		g.mu.Lock()
		parks := g.pump(time.Now(), expire)
		g.mu.Unlock()
		g.park(parks)
		g.checkpoint()
		expire = false
		select {
		case <-wait:
		case <-g.kick:
		case <-tick.C:
		case <-clock.C:
			expire = true
		case <-g.stop:
			// No checkpoint: KurrentDB's Shutdown only drops the
			// consumers (PersistentSubscriptionService.cs 166-178,
			// PersistentSubscription.cs 374-378).
			return
		}
	}
}

// pump expires timed-out messages (when expire, on the clock tick) and
// hands out as many as consumers can take. It returns the messages to
// park. Every message has a timeout: 0 ms is TimeSpan.Zero, not none
// (ToMessageTimeout, PersistentSubscriptionService.cs 1479-1481), so it
// expires at the next tick. g.mu is held.
func (g *psGroup) pump(now time.Time, expire bool) []*psMsg {
	var parks []*psMsg
	if expire {
		for id, msg := range g.inflight {
			if now.After(msg.deadline) {
				delete(g.inflight, id)
				msg.consumer.inflight--
				msg.consumer = nil
				if g.retryOrPark(msg) {
					parks = append(parks, msg)
				}
			}
		}
	}
	g.readAhead()
	for len(g.consumers) > 0 && !g.faulted {
		var msg *psMsg
		switch {
		case len(g.retry) > 0:
			msg = g.retry[0]
		case len(g.buffer) > 0:
			msg = g.buffer[0]
		default:
			if err := g.read(); err != nil {
				if errors.Is(err, errPSStreamDeleted) {
					g.fault()
				} else {
					g.readFailed(err)
				}
				return parks
			}
			if len(g.buffer) == 0 {
				return parks
			}
			continue
		}
		c := g.pick(msg)
		if c == nil {
			return parks
		}
		if len(g.retry) > 0 && g.retry[0] == msg {
			g.retry = g.retry[1:]
		} else {
			g.buffer = g.buffer[1:]
		}
		if old := g.inflight[msg.id]; old != nil && old != msg {
			// The same id already out (an id repeated in $all): deliver later.
			g.retry = append(g.retry, msg)
			return parks
		}
		msg.consumer = c
		msg.deadline = now.Add(time.Duration(g.cfg.MessageTimeoutMs) * time.Millisecond)
		g.total++ // KurrentDB's IncrementProcessed, in MarkBeginProcessing: each push, retries too
		c.inflight++
		g.inflight[msg.id] = msg
		select {
		case c.out <- msg:
		default: // cannot happen: in-flight is bounded by the channel's capacity
		}
	}
	return parks
}

// readAhead fills the buffer of a group catching up, consumers or not,
// while it has room for another batch, as KurrentDB's TryReadingNewBatch
// does (PersistentSubscription.cs 156-175, StreamBuffer.CanAccept): its
// status is Behind until a read reaches the end. A read of a tombstoned
// stream faults the group; any other read error is left to the
// consumers' reads (readFailed). g.mu is held.
func (g *psGroup) readAhead() {
	size, batch := g.bufferSize(), g.batchSize()
	for !g.faulted && !g.liveMode && size-(len(g.buffer)+len(g.retry)) > batch {
		n, next := len(g.buffer), g.next
		if err := g.read(); err != nil {
			if errors.Is(err, errPSStreamDeleted) {
				g.fault()
			}
			return
		}
		if len(g.buffer) == n && g.next == next {
			return
		}
	}
}

// status is GetInfo's status, KurrentDB's state flags as .NET prints them
// (PersistentSubscriptionStats.cs 94): Live once a read reached the end,
// Behind while catching up. g.mu is held.
func (g *psGroup) status() string {
	if g.liveMode {
		return "Live"
	}
	return "Behind"
}

// pick chooses a consumer with a free slot by the group's strategy.
func (g *psGroup) pick(msg *psMsg) *psConsumer {
	n := len(g.consumers)
	switch g.cfg.Strategy {
	case "DispatchToSingle":
		// KurrentDB's DispatchToSinglePersistentSubscriptionConsumerStrategy:
		// the consumer at the head of the queue, a full one moved to the
		// back, so the next one stays served once it took over.
		for i := 0; i < n; i++ {
			if c := g.consumers[0]; c.inflight < c.buffer {
				return c
			}
			g.consumers = append(g.consumers[1:], g.consumers[0])
		}
		return nil
	case "Pinned":
		h := fnv.New32a()
		h.Write([]byte(msg.orig.Stream))
		c := g.consumers[int(h.Sum32()%uint32(n))]
		if c.inflight < c.buffer {
			return c
		}
		return nil
	}
	for i := 0; i < n; i++ {
		c := g.consumers[(g.rr+i)%n]
		if c.inflight < c.buffer {
			g.rr = (g.rr + i + 1) % n
			return c
		}
	}
	return nil
}

// batchSize is the events one read takes: the group's ReadBatchSize, 20
// (the client's default) when it gives none.
func (g *psGroup) batchSize() int {
	if g.cfg.ReadBatchSize <= 0 {
		return 20
	}
	return int(g.cfg.ReadBatchSize)
}

// bufferSize is the history buffer's size: the group's
// HistoryBufferSize, 500 (the client's default) when it gives none. The
// read-ahead, a read's batch and the live reads all count with these two.
func (g *psGroup) bufferSize() int {
	if g.cfg.HistoryBufferSize <= 0 {
		return 500
	}
	return int(g.cfg.HistoryBufferSize)
}

// read fills the buffer from the source. g.mu is held.
func (g *psGroup) read() error {
	s := g.m.s
	batch := g.batchSize()
	added := 0 // by this read: a batch is this many
	add := func(r *record, seq uint64) {
		added++
		ev, link := s.resolveRecords(systemCtx, r, g.cfg.ResolveLinks)
		orig := r
		msg := &psMsg{id: orig.ID, orig: orig, ev: ev, link: link, seq: seq}
		g.buffer = append(g.buffer, msg)
		g.outstanding[seq] = struct{}{}
		last := seq
		g.lastKnown = &last
	}
	if g.isAll() {
		var matchErr error
		full := false
		err := s.store.scanAll(g.next, false, func(r *record) bool {
			selected := !excludedFromAll(r.Stream)
			if selected && g.match != nil {
				if selected, matchErr = g.match(r); matchErr != nil {
					return false // r is read again when the group is
				}
			}
			g.next = r.Position + 1
			if !selected {
				return true
			}
			add(r, r.Position)
			full = added >= batch
			return !full
		})
		if matchErr != nil {
			return matchErr
		}
		if err == nil && !full {
			g.liveMode = true // caught up: GetInfo's Live, and no more reading ahead
		}
		return err
	}
	if g.liveMode {
		return g.readLive(add)
	}
	// Catching up, as KurrentDB's PersistentSubscriptionStreamReader
	// reads with ReadStreamEventsForward: the stream's metadata applies; a
	// stream that does not exist is the end of the stream (NoStream,
	// FetchCompleted 133-137) and the group goes live; a tombstoned one
	// is StreamDeleted (IndexReader.cs 219-220), which faults the group.
	vis, info := s.streamVisibility(g.cfg.Source)
	if vis.tombstone {
		return errPSStreamDeleted
	}
	if vis.notFound {
		// Live from here on: what a soft delete hid is not sent (the
		// reader leaves the position, TryMoveToLive returning first). The
		// end is the one the visibility was read with: a second look
		// could find the stream re-created and skip its new event.
		g.liveMode = true
		g.next = max(g.next, uint64(info.Last+1))
		return nil
	}
	full, deleted := false, false
	err := s.store.scanStream(g.cfg.Source, g.next, false, func(r *record) bool {
		if r.Revision == tombstoneRevision {
			deleted = true
			return false
		}
		g.next = r.Revision + 1
		if vis.visible(r) {
			add(r, r.Revision)
		}
		full = added >= batch
		return !full
	})
	switch {
	case err != nil:
		return err
	case deleted:
		return errPSStreamDeleted
	case !full:
		g.liveMode = true // the end of the stream: HandleReadCompleted's TryMoveToLive
	}
	return nil
}

// readLive takes the events committed to a live group's stream since its
// last read as they are, the stream's $maxCount, $maxAge and $tb not
// applied and a tombstone ($streamDeleted) delivered like any event:
// KurrentDB hands each committed event to the stream's groups unfiltered
// (PersistentSubscriptionService.cs 1032-1051, NotifyLiveSubscriptionMessage
// in PersistentSubscription.cs 293-323). Past the history buffer's size
// the group falls behind (StreamBuffer.AddLiveMessage) and reads the rest
// as a catch-up. g.mu is held.
func (g *psGroup) readLive(add func(*record, uint64)) error {
	limit := g.bufferSize()
	return g.m.s.store.scanStream(g.cfg.Source, g.next, false, func(r *record) bool {
		if len(g.buffer) >= limit {
			g.liveMode = false
			return false
		}
		add(r, r.Revision)
		g.next = r.Revision + 1
		return true
	})
}

// fromEnd reports whether the group's start is the end of its source
// (KurrentDB's live position: "-1", or "C:-1/P:-1" for $all).
func (g *psGroup) fromEnd() bool {
	return g.cfg.StartFrom == "-1" || g.cfg.StartFrom == "C:-1/P:-1"
}

// complete marks msg done (acked, skipped or parked). g.mu is held.
func (g *psGroup) complete(msg *psMsg) {
	if !msg.replay {
		delete(g.outstanding, msg.seq)
	}
	g.acksSinceCP++
}

// settle acknowledges (ack) or nacks with action the messages ids out
// with c. A nack with Stop is a skip, as in KurrentDB (its StopSubscription
// does nothing and the message is dropped from the outstanding set): the
// consumer's call goes on.
func (g *psGroup) settle(c *psConsumer, ids []*shared.UUID, action persistent.ReadReq_Nack_Action, reason string, ack bool) {
	var parks []*psMsg
	g.mu.Lock()
	for _, u := range ids {
		id, err := eventID(u)
		if err != nil {
			continue
		}
		msg := g.inflight[id]
		if msg == nil {
			continue
		}
		delete(g.inflight, id)
		if msg.consumer != nil {
			msg.consumer.inflight--
			msg.consumer = nil
		}
		if ack {
			g.complete(msg)
			continue
		}
		switch action {
		case persistent.ReadReq_Nack_Park:
			g.complete(msg)
			msg.parked = "Client explicitly NAK'ed message.\n" + reason // PersistentSubscription.cs 517-520
			parks = append(parks, msg)
		case persistent.ReadReq_Nack_Skip, persistent.ReadReq_Nack_Stop:
			g.complete(msg)
		default: // retry, unknown
			if g.retryOrPark(msg) {
				parks = append(parks, msg)
			}
		}
	}
	g.mu.Unlock()
	g.park(parks)
	g.wake()
}

// park writes links to the parked messages into the group's parked
// stream as KurrentDB's MessageParker does (BeginParkMessage,
// PersistentSubscriptionMessageParker.cs 95-113): a link to the event
// the consumer got (for a resolved link, the event it points at; for a
// replayed message, the event its parked link points at), or for a link
// that did not resolve the link's own data, with ParkedMessageMetadata as
// the link's metadata.
func (g *psGroup) park(msgs []*psMsg) {
	if len(msgs) == 0 {
		return
	}
	evs := make([]proposed, len(msgs))
	for i, msg := range msgs {
		var data []byte
		if msg.ev != nil {
			data = []byte(strconv.FormatUint(msg.ev.Revision, 10) + "@" + msg.ev.Stream)
		} else {
			data = msg.link.Data // resolveRecords leaves the link when its event is gone
		}
		evs[i] = proposed{ID: newUUID(), Type: "$>", Data: data, Metadata: parkedMetadata(time.Now(), msg.parked, msg.orig.Revision)}
	}
	if r := g.m.s.store.submit(&writeOp{kind: opAppend, stream: parkedStream(g.cfg.Source, g.cfg.Group), expected: expectation{kind: expAny}, events: evs}); r.err != nil {
		g.m.s.log.Error("park messages", "group", g.cfg.Group, "source", g.cfg.Source, "err", r.err)
	}
}

// retryOrPark counts one more retry of msg (its timeout, or a nack asking
// for one) and queues it to be sent again, or, past MaxRetryCount,
// completes it and reports that it is to be parked (KurrentDB's
// RetryMessage, PersistentSubscription.cs 712-717). g.mu is held.
func (g *psGroup) retryOrPark(msg *psMsg) (park bool) {
	if msg.retries++; msg.retries <= g.cfg.MaxRetryCount {
		g.retry = append(g.retry, msg)
		return false
	}
	g.complete(msg)
	msg.parked = g.maxRetriesReason()
	return true
}

// maxRetriesReason is the parked link's reason for a message out of
// retries (ActionTakenForRetriedMessage, PersistentSubscription.cs 712-717).
func (g *psGroup) maxRetriesReason() string {
	return fmt.Sprintf("Reached retry count of %d", g.cfg.MaxRetryCount)
}

// parkedMetadata is KurrentDB's ParkedMessageMetadata {Added, Reason,
// SubscriptionEventNumber} as its Json.ToJson writes it
// (KurrentDB.Common/Utils/Json.cs 15-31): camel-cased, indented, the
// event number left out when 0 (DefaultValueHandling.Ignore), Added a
// local DateTime in ISO form with its offset.
func parkedMetadata(added time.Time, reason string, eventNumber uint64) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		Added                   string `json:"added"`
		Reason                  string `json:"reason"`
		SubscriptionEventNumber uint64 `json:"subscriptionEventNumber,omitempty"`
	}{added.Format("2006-01-02T15:04:05.9999999-07:00"), reason, eventNumber})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// checkpoint persists the lowest unfinished position when it moved and
// enough acks or time passed, as KurrentDB's TryMarkCheckpoint
// (PersistentSubscription.cs 465-476): max checkpoint count acks, or min
// checkpoint count acks and checkpoint-after time, a checkpoint-after of
// 0 ms being never (ToCheckPointAfterTimeout, PersistentSubscriptionService.cs
// 1475-1477).
func (g *psGroup) checkpoint() {
	g.mu.Lock()
	cp := g.next
	for seq := range g.outstanding {
		if seq < cp {
			cp = seq
		}
	}
	due := int(g.acksSinceCP) >= int(max(g.cfg.MaxCheckpoint, 1)) ||
		(g.cfg.CheckpointAfterMs != 0 && g.acksSinceCP >= int(g.cfg.MinCheckpoint) &&
			time.Since(g.savedAt) >= time.Duration(g.cfg.CheckpointAfterMs)*time.Millisecond)
	if cp == g.savedCP || !due || g.deleted || g.replaced {
		g.mu.Unlock()
		return
	}
	cfg := g.cfg
	cfg.Checkpoint = &cp
	g.savedCP, g.savedAt, g.acksSinceCP = cp, time.Now(), 0
	g.cfg.Checkpoint = &cp
	g.mu.Unlock()
	b, _ := json.Marshal(cfg)
	if err := g.m.s.store.db.Set(psKey(cfg.Source, cfg.Group), b, pebble.NoSync); err != nil {
		g.m.s.log.Error("persistent subscription checkpoint", "group", cfg.Group, "err", err)
	}
}

func (g *psGroup) addConsumer(buffer int) (*psConsumer, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return nil, notFoundGroup(g.cfg.Source, g.cfg.Group)
	}
	if g.replaced {
		return nil, errPSReplaced
	}
	if g.cfg.MaxSubscribers > 0 && len(g.consumers) >= int(g.cfg.MaxSubscribers) {
		return nil, withTrailers(codes.FailedPrecondition,
			fmt.Sprintf("Maximum subscriptions reached for subscription group %s on stream %s.", g.cfg.Group, g.cfg.Source),
			"exception", "maximum-subscribers-reached", "stream-name", g.cfg.Source, "group-name", g.cfg.Group)
	}
	if buffer <= 0 {
		buffer = 10
	}
	c := &psConsumer{buffer: buffer, out: make(chan *psMsg, buffer), dropped: make(chan error, 1)}
	if g.faulted {
		// KurrentDB's AddClient (PersistentSubscription.cs 363-368): the
		// consumer is confirmed, then dropped at once.
		c.dropped <- droppedGroup(g.cfg.Source, g.cfg.Group)
		return c, nil
	}
	g.consumers = append(g.consumers, c)
	g.wake()
	return c, nil
}

// removeConsumer drops c and returns its unacknowledged messages to the
// group, each counted as retried (KurrentDB's RemoveClientByCorrelationId
// retries them, RetryCount + 1, without parking any: a message whose
// consumer crashes on it shows a growing retry count to the next one).
func (g *psGroup) removeConsumer(c *psConsumer) {
	g.mu.Lock()
	for i, x := range g.consumers {
		if x == c {
			g.consumers = append(g.consumers[:i], g.consumers[i+1:]...)
			break
		}
	}
	var back []*psMsg
	for id, msg := range g.inflight {
		if msg.consumer == c {
			delete(g.inflight, id)
			msg.consumer = nil
			msg.retries++
			back = append(back, msg)
		}
	}
	sort.Slice(back, func(i, j int) bool { return back[i].seq < back[j].seq })
	g.retry = append(back, g.retry...)
	g.mu.Unlock()
	g.wake()
}

// live reports whether msg is still out with c (it may have timed out).
func (g *psGroup) live(c *psConsumer, msg *psMsg) (retries int32, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return msg.retries, g.inflight[msg.id] == msg && msg.consumer == c
}

func (g *psGroup) info() *persistent.SubscriptionInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	cfg := g.cfg
	info := &persistent.SubscriptionInfo{
		EventSource: cfg.Source, GroupName: cfg.Group, Status: g.status(),
		StartFrom: cfg.StartFrom, ResolveLinkTos: cfg.ResolveLinks, MessageTimeoutMilliseconds: cfg.MessageTimeoutMs,
		ExtraStatistics: cfg.ExtraStatistics, MaxRetryCount: cfg.MaxRetryCount, LiveBufferSize: cfg.LiveBufferSize,
		BufferSize: cfg.HistoryBufferSize, ReadBatchSize: cfg.ReadBatchSize, CheckPointAfterMilliseconds: cfg.CheckpointAfterMs,
		MinCheckPointCount: cfg.MinCheckpoint, MaxCheckPointCount: cfg.MaxCheckpoint, NamedConsumerStrategy: cfg.Strategy,
		MaxSubscriberCount: cfg.MaxSubscribers, TotalItems: g.total,
		ReadBufferCount: int32(len(g.buffer)), RetryBufferCount: int32(len(g.retry)),
		TotalInFlightMessages: int32(len(g.inflight)), OutstandingMessagesCount: int32(len(g.inflight)),
	}
	pos := func(v uint64) string {
		if g.isAll() {
			return fmt.Sprintf("C:%d/P:%d", v, v)
		}
		return strconv.FormatUint(v, 10)
	}
	if cfg.Checkpoint != nil && *cfg.Checkpoint > 0 {
		info.LastCheckpointedEventPosition = pos(*cfg.Checkpoint - 1)
	}
	if g.lastKnown != nil {
		info.LastKnownEventPosition = pos(*g.lastKnown)
	}
	vis, pinfo := g.m.s.streamVisibility(parkedStream(cfg.Source, cfg.Group))
	if !vis.notFound {
		info.ParkedMessageCount = pinfo.Last + 1 - int64(vis.lower)
	}
	for _, c := range g.consumers {
		// From is "": the Read handler connects with string.Empty
		// (PersistentSubscriptions.Read.cs 202-216).
		info.Connections = append(info.Connections, &persistent.SubscriptionInfo_ConnectionInfo{
			From: "", Username: "", AvailableSlots: int32(c.buffer - c.inflight), InFlightMessages: int32(c.inflight), ConnectionName: "<unknown>",
		})
	}
	return info
}

// persistentService implements event_store.client.persistent_subscriptions.
type persistentService struct {
	persistent.UnimplementedPersistentSubscriptionsServer
	s *Server
	m *psubManager
}

type settingsLike interface {
	GetResolveLinks() bool
	GetExtraStatistics() bool
	GetMaxRetryCount() int32
	GetMinCheckpointCount() int32
	GetMaxCheckpointCount() int32
	GetMaxSubscriberCount() int32
	GetLiveBufferSize() int32
	GetReadBatchSize() int32
	GetHistoryBufferSize() int32
	GetMessageTimeoutMs() int32
	GetMessageTimeoutTicks() int64
	GetCheckpointAfterMs() int32
	GetCheckpointAfterTicks() int64
}

func applySettings(cfg *psConfig, st settingsLike, strategy string) {
	if st == nil {
		st = &persistent.CreateReq_Settings{MaxRetryCount: 10, MinCheckpointCount: 10, MaxCheckpointCount: 1000, LiveBufferSize: 500,
			ReadBatchSize: 20, HistoryBufferSize: 500, MessageTimeout: &persistent.CreateReq_Settings_MessageTimeoutMs{MessageTimeoutMs: 30000},
			CheckpointAfter: &persistent.CreateReq_Settings_CheckpointAfterMs{CheckpointAfterMs: 2000}}
	}
	cfg.ResolveLinks, cfg.ExtraStatistics = st.GetResolveLinks(), st.GetExtraStatistics()
	cfg.MaxRetryCount, cfg.MinCheckpoint, cfg.MaxCheckpoint = st.GetMaxRetryCount(), st.GetMinCheckpointCount(), st.GetMaxCheckpointCount()
	cfg.MaxSubscribers, cfg.LiveBufferSize, cfg.ReadBatchSize, cfg.HistoryBufferSize = st.GetMaxSubscriberCount(), st.GetLiveBufferSize(), st.GetReadBatchSize(), st.GetHistoryBufferSize()
	cfg.MessageTimeoutMs = st.GetMessageTimeoutMs()
	if t := st.GetMessageTimeoutTicks(); t > 0 {
		cfg.MessageTimeoutMs = int32(min(t/10_000, math.MaxInt32))
	}
	cfg.CheckpointAfterMs = st.GetCheckpointAfterMs()
	if t := st.GetCheckpointAfterTicks(); t > 0 {
		cfg.CheckpointAfterMs = int32(min(t/10_000, math.MaxInt32))
	}
	if strategy != "" {
		cfg.Strategy = strategy
	}
	if cfg.Strategy == "" {
		cfg.Strategy = "RoundRobin"
	}
}

// strategyName is the consumer strategy a request names, as KurrentDB's
// handlers take it: Create the consumer_strategy string, or when that is
// empty the deprecated named_consumer_strategy enum's .NET ToString
// (PersistentSubscriptions.Create.cs 42-51); Update only the enum
// (PersistentSubscriptions.Update.cs 86, 129), so it passes "". A value
// the enum does not define prints as its number, as .NET's Enum.ToString
// does.
func strategyName(s string, named int32) string {
	if s != "" {
		return s
	}
	switch named {
	case 0:
		return "DispatchToSingle"
	case 1:
		return "RoundRobin"
	case 2:
		return "Pinned"
	}
	return strconv.FormatInt(int64(named), 10)
}

// knownStrategy reports whether KurrentDB's consumer strategy registry
// has a strategy of that name: the four it registers itself
// (PersistentSubscriptionConsumerStrategyRegistry.cs 22-30, names in
// SystemNames.cs 190-211; plugins may add more, none is loaded here), by
// ordinal comparison (a Dictionary<string, …> with the default comparer).
// PinnedByCorrelation is accepted and served round-robin by pick.
func knownStrategy(name string) bool {
	switch name {
	case "RoundRobin", "DispatchToSingle", "Pinned", "PinnedByCorrelation":
		return true
	}
	return false
}

// checkStrategy is PersistentSubscriptionService's refusal of a strategy
// the registry does not know (264-267 for Create, 487-490 for Update),
// a Fail result the handlers answer with PersistentSubscriptionFailed.
func checkStrategy(source, group, name string) error {
	if knownStrategy(name) {
		return nil
	}
	return psFailed(source, group, "Consumer strategy "+name+" does not exist.")
}

// streamStart resolves a stream group's start revision (uint64 max: the
// end, i.e. the next revision; KurrentDB's live position -1) to the first
// revision to deliver and GetInfo's start_from.
func (st *store) streamStart(name string, rev uint64) (uint64, string) {
	if rev == math.MaxUint64 {
		return uint64(st.info(name).Last + 1), "-1"
	}
	return rev, strconv.FormatUint(rev, 10)
}

// endOf is the revision (for $all, the position) after the last event of
// source, past a tombstone: where a group from the end starts.
func (st *store) endOf(source string) uint64 {
	if source == "$all" {
		return st.head.Load() + 1
	}
	info := st.info(source)
	if info.Tombstoned {
		return tombstoneRevision + 1
	}
	return uint64(info.Last + 1)
}

// allPosition is what KurrentDB's handlers make of a $all start position
// (PersistentSubscriptions.Create.cs 106-113, 130; Update.cs 91-98, 108):
// Transport/Common/Position's constructor (Position.cs 47-60) throws, the
// handler's exception (errHandler), for a commit position below the
// prepare position or either above int64 max other than uint64 max, and
// ToInt64 (159-161) turns anything but End (both uint64 max: -1, -1) into
// the two values as int64, so a commit position of uint64 max with a lower
// prepare position becomes -1 and passes on.
func allPosition(commit, prepare uint64) (int64, int64, error) {
	if commit < prepare || (commit > math.MaxInt64 && commit != math.MaxUint64) || (prepare > math.MaxInt64 && prepare != math.MaxUint64) {
		return 0, 0, errHandler
	}
	return int64(commit), int64(prepare), nil // uint64 max is -1
}

// checkAllStart is PersistentSubscriptionService.ValidateStartFrom for a
// $all start (PersistentSubscriptionService.cs 209-232), run by Create
// before the group's existence is checked (269-272) and by Update after it
// (485-495): it answers the reason for refusing the start, or "". Its
// third check (both positions -1 or neither negative) cannot be reached from
// gRPC: a -1 from ToInt64 is the commit position, and a prepare position of
// -1 needs a commit position of -1 too (allPosition), so it is left out.
func (st *store) checkAllStart(commit, prepare int64) (string, error) {
	if prepare > commit {
		return "Invalid Start From position: prepare position must be less than or equal to the commit position.", nil
	}
	last, err := st.lastIndexed()
	if err != nil {
		return "", err
	}
	if commit > int64(last) {
		return "Invalid Start From position: commit position must be less than or equal to the last commit position in the transaction file.", nil
	}
	return "", nil
}

// lastIndexed is KurrentDB's ReadIndex.LastIndexedPosition as the store has
// it. There it is the log position of the last prepare committed to the
// index (IndexCommitter.cs 46, 374, 458), i.e. the commit position of the
// last event or tombstone; an empty append's prepare, having neither the
// Data nor the StreamDelete flag, is left out of the transaction
// (ImplicitTransaction.cs 19-20) and never reaches the index (IndexCommitter.cs
// 330-331). Here it is the position of the last durable record (an event or
// a tombstone), 0 in an empty store; the head can be higher, by the
// positions of empty appends, which hold no record. It is looked up only on
// the persistent-subscription administration paths.
func (st *store) lastIndexed() (uint64, error) {
	it, err := st.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: logKey(st.head.Load() + 1)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if it.Last() {
		return binary.BigEndian.Uint64(it.Key()[1:]), nil
	}
	return 0, it.Error()
}

// allGroupStart checks a $all group's start (commit, prepare, from
// allPosition) as ValidateStartFrom does (checkAllStart) and answers where
// the group starts (allStart), or KurrentDB's Fail answer for source and
// group. Create and Update call it, each at its own point.
func (st *store) allGroupStart(source, group string, at [2]int64) (uint64, string, error) {
	reason, err := st.checkAllStart(at[0], at[1])
	if err != nil {
		return 0, "", status.Error(codes.Internal, err.Error())
	}
	if reason != "" {
		return 0, "", psFailed(source, group, reason)
	}
	start, from := st.allStart(at[0], at[1])
	return start, from, nil
}

// checkBatchSize is PersistentSubscription's constructor refusing a read
// batch not below the history buffer (PersistentSubscription.cs 88-90):
// its ArgumentOutOfRangeException, made with the text as the parameter
// name, reaches the client as the service's Fail with the exception's
// message (PersistentSubscriptionService.cs 388-393 for Create, after the
// group's existence is checked, 700-701; 640-684 for Update, before the
// old group is touched).
func checkBatchSize(cfg psConfig) error {
	if cfg.ReadBatchSize < cfg.HistoryBufferSize {
		return nil
	}
	return psFailed(cfg.Source, cfg.Group,
		"Specified argument was out of the range of valid values. (Parameter 'ReadBatchSize may not be greater than or equal to BufferSize')")
}

// psFailed is RpcExceptions.PersistentSubscriptionFailed (RpcExceptions.cs
// 171-180), the handlers' answer to the service's Fail result
// (PersistentSubscriptions.Create.cs 209-213, Update.cs 175-178).
func psFailed(source, group, reason string) error {
	return withTrailers(codes.Internal, fmt.Sprintf("Subscription group %s on stream %s failed: '%s'", group, source, reason),
		"exception", "persistent-subscription-failed", "stream-name", source, "group-name", group, "reason", reason)
}

// allStart is streamStart for a $all group, from allPosition's values: -1,
// -1 is the end (the next position; GetInfo's C:-1/P:-1), anything else
// starts at the commit position (the store's positions are both at once),
// GetInfo showing both as KurrentDB's PersistentSubscriptionAllStreamPosition
// does (ToString, 46).
func (st *store) allStart(commit, prepare int64) (uint64, string) {
	if commit == -1 && prepare == -1 {
		return st.head.Load() + 1, "C:-1/P:-1"
	}
	return uint64(max(commit, 0)), fmt.Sprintf("C:%d/P:%d", commit, prepare)
}

// Create checks a malformed request as KurrentDB's
// PersistentSubscriptions.Create.cs does where its answer is known: no
// options (before the access check) or no settings (after it) is the
// handler's exception (errHandler); an unset $all start, stream start or
// filter expression is InvalidArgument naming the .NET oneof-case enum; a
// start revision above int64 max other than uint64 max (StreamRevision)
// and a filter regex that does not compile are the handler's exception.
// The deprecated form (no stream option, the stream in stream_identifier)
// starts at settings.revision, uint64 max being the end. An empty group
// name is a group like any other: PersistentSubscriptionService creates
// it (PersistentSubscription checks the name only for null).
func (p *persistentService) Create(ctx context.Context, req *persistent.CreateReq) (*persistent.CreateResp, error) {
	o := req.GetOptions()
	if o == nil {
		return nil, errHandler
	}
	if err := p.s.requireOps(ctx); err != nil {
		return nil, err
	}
	if o.GetSettings() == nil {
		return nil, errHandler
	}
	cfg := psConfig{Group: o.GetGroupName()}
	st := p.s.store
	var allStartAt *[2]int64 // a $all group's start: commit, prepare
	switch {
	case o.GetAll() != nil:
		cfg.Source = "$all"
		switch v := o.GetAll().GetAllOption().(type) {
		case *persistent.CreateReq_AllOptions_Position:
			c, p, err := allPosition(v.Position.GetCommitPosition(), v.Position.GetPreparePosition())
			if err != nil {
				return nil, err
			}
			allStartAt = &[2]int64{c, p}
		case *persistent.CreateReq_AllOptions_End:
			allStartAt = &[2]int64{-1, -1}
		case *persistent.CreateReq_AllOptions_Start:
			allStartAt = &[2]int64{0, 0}
		default:
			return nil, psNoneNotValid("CreateReq+Types+AllOptions+AllOptionOneofCase")
		}
		if f := o.GetAll().GetFilter(); f != nil {
			pf := &psFilter{}
			var e interface {
				GetRegex() string
				GetPrefix() []string
			}
			if x := f.GetStreamIdentifier(); x != nil {
				e = x
			} else if x := f.GetEventType(); x != nil {
				e, pf.ByType = x, true
			} else {
				return nil, psNoneNotValid("CreateReq+Types+AllOptions+Types+FilterOptions+FilterOneofCase")
			}
			pf.Regex, pf.Prefixes = e.GetRegex(), e.GetPrefix()
			cfg.Filter = pf
		}
	default:
		so := o.GetStream()
		id := so.GetStreamIdentifier()
		if id == nil {
			id = o.GetStreamIdentifier()
		}
		name, err := streamName(id)
		if err != nil {
			return nil, err
		}
		cfg.Source = name
		// Create.cs 58-72: StreamRevision(revision); End is uint64 max.
		rev := uint64(math.MaxUint64)
		switch v := so.GetRevisionOption().(type) {
		case *persistent.CreateReq_StreamOptions_Revision:
			rev = v.Revision
		case *persistent.CreateReq_StreamOptions_Start:
			rev = 0
		case *persistent.CreateReq_StreamOptions_End:
		default:
			if so != nil {
				return nil, psNoneNotValid("CreateReq+Types+StreamOptions+RevisionOptionOneofCase")
			}
			rev = o.GetSettings().GetRevision() // the deprecated form
		}
		if _, err := revisionExpectation(rev); err != nil {
			return nil, err // StreamRevision's ArgumentOutOfRangeException
		}
		if name == "$all" {
			return nil, errPSStreamAll
		}
		cfg.Start, cfg.StartFrom = st.streamStart(name, rev)
	}
	s := req.GetOptions().GetSettings()
	strategy := strategyName(s.GetConsumerStrategy(), int32(s.GetNamedConsumerStrategy()))
	applySettings(&cfg, s, strategy)
	// The filter compiles in the handler (Create.cs 114-119); the service
	// then checks the consumer strategy and the start, in that order, before
	// the group's existence (PersistentSubscriptionService.cs 264-272), the
	// start against the head of the moment: a $all group starts there.
	if _, err := cfg.Filter.compile(); err != nil {
		return nil, err
	}
	if err := checkStrategy(cfg.Source, cfg.Group, strategy); err != nil {
		return nil, err
	}
	if allStartAt != nil {
		var err error
		if cfg.Start, cfg.StartFrom, err = st.allGroupStart(cfg.Source, cfg.Group, *allStartAt); err != nil {
			return nil, err
		}
	}
	g, err := p.m.newGroup(cfg)
	if err != nil {
		return nil, err
	}
	key := string(psKey(cfg.Source, cfg.Group))
	p.m.mu.Lock()
	if p.m.closed {
		p.m.mu.Unlock()
		return nil, errPSClosing
	}
	if p.m.groups[key] != nil {
		p.m.mu.Unlock()
		return nil, withTrailers(codes.AlreadyExists, fmt.Sprintf("Subscription group %s on stream %s exists.", cfg.Group, cfg.Source),
			"exception", "persistent-subscription-exists", "stream-name", cfg.Source, "group-name", cfg.Group)
	}
	if err := checkBatchSize(cfg); err != nil {
		p.m.mu.Unlock()
		return nil, err
	}
	b, _ := json.Marshal(cfg)
	if err := st.db.Set([]byte(key), b, pebble.Sync); err != nil {
		p.m.mu.Unlock()
		return nil, status.Error(codes.Internal, err.Error())
	}
	p.m.groups[key] = g
	p.m.topics[cfg.Source] = true
	p.m.mu.Unlock()
	go g.run()
	return &persistent.CreateResp{}, nil
}

// Update checks a malformed request as PersistentSubscriptions.Update.cs
// does: no options (before the access check), a $all start that is unset
// or (after the start) no settings are the handler's exception; a stream
// option without start is InvalidArgument naming the .NET oneof-case enum.
//
// Then it replaces the group as KurrentDB's UpdatePersistentSubscription
// does (PersistentSubscriptionService.cs 456-548): the running group stops
// and its consumers are dropped (droppedGroup); a new group with the
// update's settings and start (saved, and shown by GetInfo) takes its place
// and, like KurrentDB's new subscription loading the checkpoint stream of
// the same group (PersistentSubscription.cs 125-153), starts from the
// group's last saved checkpoint if it has one and from the new start
// otherwise. The old group writes no final checkpoint, as KurrentDB's
// Shutdown writes none, so what was acknowledged after the last one is
// delivered again, and so is everything in flight or awaiting a retry (it
// lies at or after the checkpoint); parked messages being replayed go with
// the old group. A $all group keeps its filter (635).
func (p *persistentService) Update(ctx context.Context, req *persistent.UpdateReq) (*persistent.UpdateResp, error) {
	o := req.GetOptions()
	if o == nil {
		return nil, errHandler
	}
	if err := p.s.requireOps(ctx); err != nil {
		return nil, err
	}
	if so := o.GetStream(); so != nil && so.GetRevisionOption() == nil {
		return nil, psNoneNotValid("UpdateReq+Types+StreamOptions+RevisionOptionOneofCase")
	}
	if a := o.GetAll(); (a != nil && a.GetAllOption() == nil) || o.GetSettings() == nil {
		return nil, errHandler
	}
	st := p.s.store
	source := "$all"
	var start uint64
	var startFrom string
	var allStartAt *[2]int64 // a $all group's start: commit, prepare
	if a := o.GetAll(); a != nil {
		// Update.cs 91-98: Position, Start, End.
		switch v := a.GetAllOption().(type) {
		case *persistent.UpdateReq_AllOptions_Position:
			c, p, err := allPosition(v.Position.GetCommitPosition(), v.Position.GetPreparePosition())
			if err != nil {
				return nil, err
			}
			allStartAt = &[2]int64{c, p}
		case *persistent.UpdateReq_AllOptions_Start:
			allStartAt = &[2]int64{0, 0}
		default:
			allStartAt = &[2]int64{-1, -1}
		}
	} else {
		so := o.GetStream()
		id := so.GetStreamIdentifier()
		// Update.cs 42-56: Revision, Start, End (StreamRevision.End is
		// uint64 max); the deprecated form starts at settings.revision.
		var rev uint64
		switch v := so.GetRevisionOption().(type) {
		case *persistent.UpdateReq_StreamOptions_Revision:
			rev = v.Revision
		case *persistent.UpdateReq_StreamOptions_Start:
			rev = 0
		case *persistent.UpdateReq_StreamOptions_End:
			rev = math.MaxUint64
		default:
			rev = o.GetSettings().GetRevision()
		}
		if id == nil {
			id = o.GetStreamIdentifier()
		}
		if _, err := revisionExpectation(rev); err != nil {
			return nil, err // Update.cs 42-56: StreamRevision's exception
		}
		name, err := streamName(id)
		if err != nil {
			return nil, err
		}
		if name == "$all" {
			return nil, errPSUpdateStreamAll
		}
		source = name
		start, startFrom = st.streamStart(name, rev)
	}
	group := o.GetGroupName()
	key := string(psKey(source, group))
	// The manager's lock is held until the new group is in place: Read,
	// finding the old group replaced, waits for it here.
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.m.closed {
		return nil, errPSClosing
	}
	old := p.m.groups[key]
	if old == nil {
		return nil, notFoundGroup(source, group)
	}
	// PersistentSubscriptionService.cs 482-495: the consumer strategy and
	// then the start are checked after the group's existence, the start
	// against the head of the moment.
	s := o.GetSettings()
	strategy := strategyName("", int32(s.GetNamedConsumerStrategy()))
	if err := checkStrategy(source, group, strategy); err != nil {
		return nil, err
	}
	if allStartAt != nil {
		var err error
		if start, startFrom, err = st.allGroupStart(source, group, *allStartAt); err != nil {
			return nil, err
		}
	}
	old.mu.Lock()
	cfg := old.cfg
	cfg.Start, cfg.StartFrom = start, startFrom
	applySettings(&cfg, s, strategy)
	if err := checkBatchSize(cfg); err != nil {
		old.mu.Unlock()
		return nil, err // the old group goes on untouched
	}
	old.replaced = true
	old.dropConsumers(droppedGroup(source, group))
	old.mu.Unlock()
	old.shutdown()
	// Only now is the old group's last checkpoint final: it writes none
	// once replaced, and its run loop, the only writer, has ended.
	old.mu.Lock()
	cfg.Checkpoint = old.cfg.Checkpoint
	old.mu.Unlock()
	g, err := p.m.newGroup(cfg)
	if err != nil {
		// The filter compiled when the group was created; it cannot fail.
		return nil, status.Error(codes.Internal, err.Error())
	}
	p.m.groups[key] = g
	go g.run()
	b, _ := json.Marshal(cfg)
	if err := st.db.Set([]byte(key), b, pebble.Sync); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &persistent.UpdateResp{}, nil
}

// errPSStreamAll answers a Create whose stream option (or deprecated
// stream_identifier) names "$all". PersistentSubscriptionService refuses a
// stream subscription to $all with a CreatePersistentSubscriptionToStreamCompleted
// failure (PersistentSubscriptionService.cs 336-342), but the handler,
// seeing the stream "$all", waits for the $all reply (Create.cs 177, 203-226)
// and answers RpcExceptions.UnknownMessage (RpcExceptions.cs 41-46).
var errPSStreamAll = status.Error(codes.Unknown,
	"Envelope callback expected either CreatePersistentSubscriptionToAllCompleted or NotHandled, received CreatePersistentSubscriptionToStreamCompleted instead")

// errPSUpdateStreamAll is errPSStreamAll's counterpart for Update
// (PersistentSubscriptionService.cs 565-571, Update.cs 144, 170-192).
var errPSUpdateStreamAll = status.Error(codes.Unknown,
	"Envelope callback expected either UpdatePersistentSubscriptionToAllCompleted or NotHandled, received UpdatePersistentSubscriptionToStreamCompleted instead")

// psNoneNotValid is RpcExceptions.InvalidArgument(oneofCase) for an unset
// oneof of a persistent-subscription request.
func psNoneNotValid(enum string) error {
	return status.Error(codes.InvalidArgument, "'None' is not a valid EventStore.Client.PersistentSubscriptions."+enum)
}

// psSource is the source a request's stream option names. Naming neither
// a stream nor $all (or sending no options) is an InvalidOperationException
// or a null dereference in every KurrentDB handler: errHandler.
func psSource(all bool, id *shared.StreamIdentifier) (string, error) {
	if all {
		return "$all", nil
	}
	if id == nil {
		return "", errHandler
	}
	return streamName(id)
}

func (p *persistentService) Delete(ctx context.Context, req *persistent.DeleteReq) (*persistent.DeleteResp, error) {
	if err := p.s.requireOps(ctx); err != nil {
		return nil, err
	}
	o := req.GetOptions()
	source, err := psSource(o.GetAll() != nil, o.GetStreamIdentifier())
	if err != nil {
		return nil, err
	}
	key := string(psKey(source, o.GetGroupName()))
	p.m.mu.Lock()
	g := p.m.groups[key]
	if g == nil {
		p.m.mu.Unlock()
		return nil, notFoundGroup(source, o.GetGroupName())
	}
	delete(p.m.groups, key)
	if err := p.s.store.db.Delete([]byte(key), pebble.Sync); err != nil {
		p.m.mu.Unlock()
		return nil, status.Error(codes.Internal, err.Error())
	}
	p.m.mu.Unlock()
	g.mu.Lock()
	g.deleted = true
	g.dropConsumers(droppedGroup(source, o.GetGroupName()))
	g.mu.Unlock()
	g.shutdown()
	// KurrentDB's PersistentSubscription.Delete (751-754) soft-deletes the
	// parked stream (MessageParker.BeginDelete: DeleteStream, expected
	// any, not hard) without waiting for it, so a group made again under
	// the name has no parked messages. A parked stream never written
	// fails the delete, as KurrentDB's would, and that is ignored too.
	if r := p.s.store.submit(&writeOp{kind: opDelete, stream: parkedStream(source, o.GetGroupName()), expected: expectation{kind: expAny}}); r.err != nil {
		var wv *wrongVersionError
		if !errors.As(r.err, &wv) {
			p.s.log.Error("delete the parked messages of a deleted group", "source", source, "group", o.GetGroupName(), "err", r.err)
		}
	}
	return &persistent.DeleteResp{}, nil
}

func (p *persistentService) GetInfo(ctx context.Context, req *persistent.GetInfoReq) (*persistent.GetInfoResp, error) {
	if !p.s.cfg.Insecure && principalFrom(ctx) == nil {
		return nil, accessDenied()
	}
	o := req.GetOptions()
	source, err := psSource(o.GetAll() != nil, o.GetStreamIdentifier())
	if err != nil {
		return nil, err
	}
	g := p.m.get(source, o.GetGroupName())
	if g == nil {
		return nil, notFoundGroup(source, o.GetGroupName())
	}
	return &persistent.GetInfoResp{SubscriptionInfo: g.info()}, nil
}

func (p *persistentService) List(ctx context.Context, req *persistent.ListReq) (*persistent.ListResp, error) {
	if !p.s.cfg.Insecure && principalFrom(ctx) == nil {
		return nil, accessDenied()
	}
	o := req.GetOptions()
	if o.GetListAllSubscriptions() == nil && o.GetListForStream() == nil {
		return nil, errHandler // KurrentDB: no list option throws
	}
	var source string
	filtered := false
	if fs := o.GetListForStream(); fs != nil {
		filtered = true
		var err error
		if source, err = psSource(fs.GetAll() != nil, fs.GetStream()); err != nil {
			return nil, err
		}
	}
	p.m.mu.Lock()
	var gs []*psGroup
	for _, g := range p.m.groups {
		if !filtered || g.cfg.Source == source {
			gs = append(gs, g)
		}
	}
	known := p.m.topics[source]
	p.m.mu.Unlock()
	if filtered && !known {
		return nil, notFoundGroup(source, "") // KurrentDB: PersistentSubscriptionDoesNotExist(streamId, "")
	}
	resp := &persistent.ListResp{}
	for _, g := range gs {
		resp.Subscriptions = append(resp.Subscriptions, g.info())
	}
	sort.Slice(resp.Subscriptions, func(i, j int) bool {
		a, b := resp.Subscriptions[i], resp.Subscriptions[j]
		return a.EventSource+"\x00"+a.GroupName < b.EventSource+"\x00"+b.GroupName
	})
	return resp, nil
}

func (p *persistentService) ReplayParked(ctx context.Context, req *persistent.ReplayParkedReq) (*persistent.ReplayParkedResp, error) {
	if err := p.s.requireOps(ctx); err != nil {
		return nil, err
	}
	o := req.GetOptions()
	source, err := psSource(o.GetAll() != nil, o.GetStreamIdentifier())
	if err != nil {
		return nil, err
	}
	if o.GetStopAtOption() == nil {
		return nil, errHandler // KurrentDB: no stop-at option throws
	}
	g := p.m.get(source, o.GetGroupName())
	if g == nil {
		return nil, notFoundGroup(source, o.GetGroupName())
	}
	// stop_at is an event number of the parked stream (exclusive), as in
	// KurrentDB's RetryParkedMessages: not a count of messages.
	stopAt := uint64(math.MaxInt64)
	if v, ok := o.GetStopAtOption().(*persistent.ReplayParkedReq_Options_StopAt); ok && v.StopAt > 0 {
		stopAt = uint64(v.StopAt)
	}
	parked := parkedStream(source, o.GetGroupName())
	vis, _ := p.s.streamVisibility(parked)
	if vis.notFound {
		return &persistent.ReplayParkedResp{}, nil
	}
	var links []*record
	if err := p.s.store.scanStream(parked, vis.lower, false, func(r *record) bool {
		if r.Revision >= stopAt {
			return false
		}
		links = append(links, r)
		return true
	}); err != nil {
		return nil, storeError(err)
	}
	if len(links) == 0 {
		return &persistent.ReplayParkedResp{}, nil
	}
	var msgs []*psMsg
	for _, l := range links {
		revText, stream, ok := strings.Cut(string(l.Data), "@")
		rev, err := strconv.ParseUint(revText, 10, 64)
		if !ok || err != nil {
			continue
		}
		r, err := p.s.store.readDurable(stream, rev)
		if err != nil {
			// Nothing is truncated: the parked messages stay parked.
			p.s.log.Error("replay parked messages", "source", source, "group", g.cfg.Group, "err", err)
			return nil, storeError(err)
		}
		if r == nil {
			continue // its event is gone: nothing to replay
		}
		// As KurrentDB reads the parked stream (links resolved): the event
		// the parked link points at, with that link; the client acks the
		// link (OriginalEvent).
		msgs = append(msgs, &psMsg{id: l.ID, orig: l, ev: r, link: l, seq: r.Revision, replay: true})
	}
	// Truncate what was replayed, then hand the messages out.
	tb := links[len(links)-1].Revision + 1
	if r := p.s.store.submit(&writeOp{kind: opAppend, stream: "$$" + parked, expected: expectation{kind: expAny}, events: []proposed{{
		ID: newUUID(), Type: "$metadata", IsJSON: true, Data: []byte(fmt.Sprintf(`{"$tb":%d}`, tb)),
	}}}); r.err != nil {
		return nil, storeError(r.err)
	}
	g.mu.Lock()
	g.retry = append(g.retry, msgs...)
	g.mu.Unlock()
	g.wake()
	return &persistent.ReplayParkedResp{}, nil
}

func (p *persistentService) RestartSubsystem(ctx context.Context, _ *shared.Empty) (*shared.Empty, error) {
	if err := p.s.requireOps(ctx); err != nil {
		return nil, err
	}
	if !p.m.restart() {
		return nil, errPSClosing
	}
	return &shared.Empty{}, nil
}

// restart is KurrentDB's PersistentSubscriptionsRestart
// (PersistentSubscriptionService.cs 142-154): every group is shut down,
// its consumers dropped as by an Update (droppedGroup; Shutdown →
// ShutdownAll, PersistentSubscription.cs 374-378), and loaded again from
// its settings and last checkpoint: in-flight messages are delivered again
// from the checkpoint, a faulted group reads again, a group from the end
// starts at the end of the moment. Parked messages being replayed are not
// sent again: the replay truncated the parked stream when it read it, as
// KurrentDB's HandleParkedReadCompleted does, and the checkpoint is past
// them. The manager's lock is held throughout, so a Read finding its group
// replaced waits for the new one. It reports false, doing nothing, once
// the server is shutting down (close).
func (m *psubManager) restart() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.topics = map[string]bool{} // InitToEmpty (120-122): the loaded groups' sources only
	for key, old := range m.groups {
		old.mu.Lock()
		old.replaced = true
		old.dropConsumers(droppedGroup(old.cfg.Source, old.cfg.Group))
		old.mu.Unlock()
		old.shutdown()
		old.mu.Lock()
		cfg := old.cfg // its last checkpoint is final: it wrote none once replaced
		old.mu.Unlock()
		g, err := m.newGroup(cfg)
		if err != nil {
			// The filter compiled when the group was loaded; it cannot fail.
			m.s.log.Error("persistent subscription not restarted", "group", cfg.Group, "source", cfg.Source, "err", err)
			delete(m.groups, key)
			continue
		}
		m.groups[key] = g
		m.topics[cfg.Source] = true
		go g.run()
	}
	return true
}

// Read checks its first message as KurrentDB's PersistentSubscriptions.Read.cs
// does: a call the client ends without a message ends with OK; a first
// message that is not options, options naming neither a stream nor $all,
// and (after the access check, before the group is looked up) options
// without uuid_option, with a buffer size below 1 or with an empty group
// name are the handler's exception (errHandler). The buffer size:
// PersistentStreamSubscriptionEnumerator creates a bounded channel of that
// capacity (PersistentSubscriptions.Read.cs 194), and .NET's
// BoundedChannelOptions refuses a capacity below 1. The group name:
// Ensure.NotNullOrEmpty in ClientMessage.ConnectToPersistentSubscription*
// (ClientMessage.cs 1132 and 1153), so a group "" can be created but not
// read.
func (p *persistentService) Read(stream persistent.PersistentSubscriptions_ReadServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	o := first.GetOptions()
	if o == nil {
		return errHandler
	}
	// The stream "" reaches KurrentDB's access check as null, which a
	// secure server denies (authorize); without access checks the
	// enumerator's ArgumentNullException.ThrowIfNull(streamName) throws
	// (PersistentSubscriptions.Read.cs 186).
	source, emptyName := "", o.GetAll() == nil && o.GetStreamIdentifier() != nil && len(o.GetStreamIdentifier().GetStreamName()) == 0
	if !emptyName {
		if source, err = psSource(o.GetAll() != nil, o.GetStreamIdentifier()); err != nil { // neither: errHandler
			return err
		}
	}
	if !p.s.cfg.Insecure && principalFrom(ctx) == nil {
		return accessDenied()
	}
	if err := p.s.authorize(ctx, source, aclRead); err != nil {
		return err
	}
	if emptyName || o.GetUuidOption() == nil || o.GetBufferSize() < 1 || o.GetGroupName() == "" {
		return errHandler
	}
	var g *psGroup
	var c *psConsumer
	for {
		if g = p.m.get(source, o.GetGroupName()); g == nil {
			return notFoundGroup(source, o.GetGroupName())
		}
		// A group replaced by an Update or a RestartSubsystem meanwhile:
		// the manager holds its successor once get returns again.
		if c, err = g.addConsumer(int(o.GetBufferSize())); err != errPSReplaced {
			break
		}
	}
	if err != nil {
		return err
	}
	defer g.removeConsumer(c)
	strUUID := o.GetUuidOption().GetString_() != nil
	if err := stream.Send(&persistent.ReadResp{Content: &persistent.ReadResp_SubscriptionConfirmation_{
		SubscriptionConfirmation: &persistent.ReadResp_SubscriptionConfirmation{SubscriptionId: source + "::" + g.cfg.Group}}}); err != nil {
		return err
	}
	ended := make(chan error, 1)
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				ended <- err
				return
			}
			switch {
			case msg.GetAck() != nil:
				g.settle(c, msg.GetAck().GetIds(), 0, "", true)
			case msg.GetNack() != nil:
				g.settle(c, msg.GetNack().GetIds(), msg.GetNack().GetAction(), msg.GetNack().GetReason(), false)
			}
		}
	}()
	done := p.s.done(ctx)
	for {
		select {
		case msg := <-c.out:
			retries, ok := g.live(c, msg)
			if !ok {
				continue
			}
			if err := stream.Send(&persistent.ReadResp{Content: &persistent.ReadResp_Event{Event: persistentEvent(p.s.forConsumer(ctx, msg), retries, strUUID)}}); err != nil {
				return err
			}
		case err := <-c.dropped:
			return err
		case err := <-ended:
			return err
		case <-done:
			return ctxErr(ctx)
		}
	}
}

func persistentRecorded(r *record, strUUID bool) *persistent.ReadResp_ReadEvent_RecordedEvent {
	if r == nil {
		return nil
	}
	w := recorded(r, strUUID)
	return &persistent.ReadResp_ReadEvent_RecordedEvent{
		Id: w.Id, StreamIdentifier: w.StreamIdentifier, StreamRevision: w.StreamRevision,
		PreparePosition: w.PreparePosition, CommitPosition: w.CommitPosition,
		Metadata: w.Metadata, CustomMetadata: w.CustomMetadata, Data: w.Data,
	}
}

func persistentEvent(msg *psMsg, retries int32, strUUID bool) *persistent.ReadResp_ReadEvent {
	return &persistent.ReadResp_ReadEvent{
		Event:    persistentRecorded(msg.ev, strUUID),
		Link:     persistentRecorded(msg.link, strUUID),
		Position: &persistent.ReadResp_ReadEvent_CommitPosition{CommitPosition: msg.orig.Position},
		Count:    &persistent.ReadResp_ReadEvent_RetryCount{RetryCount: retries},
	}
}

package esdbserver_test

// The consumer strategy of persistent Create and Update, established from
// KurrentDB's source in the tenth session: Create takes the
// consumer_strategy string, or when it is empty the deprecated enum's .NET
// ToString (PersistentSubscriptions.Create.cs 42-51); Update only the enum
// (PersistentSubscriptions.Update.cs 86, 129). PersistentSubscriptionService
// refuses a name its registry does not hold (RoundRobin, DispatchToSingle,
// Pinned, PinnedByCorrelation: PersistentSubscriptionConsumerStrategyRegistry.cs
// 22-30) with "Consumer strategy X does not exist." — Create before the
// start and the group's existence (264-267), Update after the existence and
// before the start (487-490) — a Fail the handlers answer with
// RpcExceptions.PersistentSubscriptionFailed (RpcExceptions.cs 171-180).

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// TestFidelityPersistentStrategy: a consumer strategy KurrentDB does not
// know is refused with Internal "Subscription group G on stream S failed:
// 'Consumer strategy X does not exist.'" and the persistent-subscription-
// failed trailers; in Create before a wrong $all start and before the
// group's existence, in Update after the existence and before the start.
// The four known names are served, and GetInfo shows the name sent.
func TestFidelityPersistentStrategy(t *testing.T) {
	p := newProtoTarget(t)
	c := p.client
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	s := streamName("ps-strategy")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	last := lastAllPosition(t, c)
	settings := func(name string, named persistent.CreateReq_ConsumerStrategy) *persistent.CreateReq_Settings {
		st := psSettings()
		st.ConsumerStrategy, st.NamedConsumerStrategy = name, named
		return st
	}
	createStream := func(group string, st *persistent.CreateReq_Settings) (metadata.MD, error) {
		var md metadata.MD
		_, err := raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: group, Settings: st,
			StreamOption: &persistent.CreateReq_Options_Stream{Stream: &persistent.CreateReq_StreamOptions{StreamIdentifier: sid(s),
				RevisionOption: &persistent.CreateReq_StreamOptions_Start{Start: &shared.Empty{}}}}}}, grpc.Trailer(&md))
		return md, err
	}
	createAll := func(group string, st *persistent.CreateReq_Settings, commit uint64) (metadata.MD, error) {
		var md metadata.MD
		_, err := raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: group, Settings: st,
			StreamOption: &persistent.CreateReq_Options_All{All: &persistent.CreateReq_AllOptions{
				AllOption:    &persistent.CreateReq_AllOptions_Position{Position: &persistent.CreateReq_Position{CommitPosition: commit, PreparePosition: commit}},
				FilterOption: &persistent.CreateReq_AllOptions_NoFilter{NoFilter: &shared.Empty{}}}}}}, grpc.Trailer(&md))
		return md, err
	}
	updateStream := func(group string, named persistent.UpdateReq_ConsumerStrategy) (metadata.MD, error) {
		var md metadata.MD
		_, err := raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: group,
			Settings: &persistent.UpdateReq_Settings{MaxRetryCount: 1, ReadBatchSize: 20, HistoryBufferSize: 500, NamedConsumerStrategy: named},
			StreamOption: &persistent.UpdateReq_Options_Stream{Stream: &persistent.UpdateReq_StreamOptions{StreamIdentifier: sid(s),
				RevisionOption: &persistent.UpdateReq_StreamOptions_Start{Start: &shared.Empty{}}}}}}, grpc.Trailer(&md))
		return md, err
	}
	updateAll := func(group string, named persistent.UpdateReq_ConsumerStrategy, commit uint64) (metadata.MD, error) {
		var md metadata.MD
		_, err := raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: group,
			Settings: &persistent.UpdateReq_Settings{MaxRetryCount: 1, ReadBatchSize: 20, HistoryBufferSize: 500, NamedConsumerStrategy: named},
			StreamOption: &persistent.UpdateReq_Options_All{All: &persistent.UpdateReq_AllOptions{
				AllOption: &persistent.UpdateReq_AllOptions_Position{Position: &persistent.UpdateReq_Position{CommitPosition: commit, PreparePosition: commit}}}}}},
			grpc.Trailer(&md))
		return md, err
	}
	refused := func(what, source, group, name string, md metadata.MD, err error) {
		t.Helper()
		reason := "Consumer strategy " + name + " does not exist."
		wantStatus(t, what, err, md, codes.Internal, "Subscription group "+group+" on stream "+source+" failed: '"+reason+"'",
			map[string]string{"exception": "persistent-subscription-failed", "stream-name": source, "group-name": group, "reason": reason})
	}
	strategyOf := func(source, group string) string {
		t.Helper()
		var info *esdb.PersistentSubscriptionInfo
		var err error
		if source == "$all" {
			info, err = c.GetPersistentSubscriptionInfoToAll(ctxT(t), group, esdb.GetPersistentSubscriptionOptions{})
		} else {
			info, err = c.GetPersistentSubscriptionInfo(ctxT(t), source, group, esdb.GetPersistentSubscriptionOptions{})
		}
		if err != nil {
			t.Fatalf("info of %s on %s: %v", group, source, err)
		}
		return string(info.Settings.ConsumerStrategyName)
	}
	absent := func(what, source, group string) {
		t.Helper()
		var err error
		if source == "$all" {
			_, err = c.GetPersistentSubscriptionInfoToAll(ctxT(t), group, esdb.GetPersistentSubscriptionOptions{})
		} else {
			_, err = c.GetPersistentSubscriptionInfo(ctxT(t), source, group, esdb.GetPersistentSubscriptionOptions{})
		}
		if errCode(err) != esdb.ErrorCodeResourceNotFound {
			t.Errorf("%s: group %s on %s: %v, want not found", what, group, source, err)
		}
	}

	// Create: unknown names (the string, matched case-sensitively; the
	// enum's undefined values as numbers) are refused and create nothing.
	for _, tc := range []struct {
		name, strategy string
		named          persistent.CreateReq_ConsumerStrategy
		want           string
	}{
		{"unknown string", "Fastest", persistent.CreateReq_RoundRobin, "Fastest"},
		{"another case", "roundrobin", persistent.CreateReq_RoundRobin, "roundrobin"},
		{"undefined enum value", "", 7, "7"},
		{"negative enum value", "", -3, "-3"},
	} {
		md, err := createStream("bad", settings(tc.strategy, tc.named))
		refused("create, "+tc.name, s, "bad", tc.want, md, err)
		md, err = createAll("bad", settings(tc.strategy, tc.named), 0)
		refused("create $all, "+tc.name, "$all", "bad", tc.want, md, err)
	}
	absent("refused creates", s, "bad")
	absent("refused creates", "$all", "bad")

	// The known names: the string wins over the enum; an empty string
	// takes the enum's name.
	for _, tc := range []struct {
		group, strategy string
		named           persistent.CreateReq_ConsumerStrategy
		want            string
	}{
		{"rr", "RoundRobin", persistent.CreateReq_Pinned, "RoundRobin"},
		{"single", "DispatchToSingle", persistent.CreateReq_RoundRobin, "DispatchToSingle"},
		{"pinned", "Pinned", persistent.CreateReq_RoundRobin, "Pinned"},
		{"corr", "PinnedByCorrelation", persistent.CreateReq_RoundRobin, "PinnedByCorrelation"},
		{"enum-single", "", persistent.CreateReq_DispatchToSingle, "DispatchToSingle"},
		{"enum-rr", "", persistent.CreateReq_RoundRobin, "RoundRobin"},
		{"enum-pinned", "", persistent.CreateReq_Pinned, "Pinned"},
	} {
		if _, err := createStream(tc.group, settings(tc.strategy, tc.named)); err != nil {
			t.Errorf("create with %q/%v: %v", tc.strategy, tc.named, err)
			continue
		}
		if got := strategyOf(s, tc.group); got != tc.want {
			t.Errorf("create with %q/%v: strategy %q, want %q", tc.strategy, tc.named, got, tc.want)
		}
	}
	// PinnedByCorrelation is served (round-robin here).
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "corr", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := nextPersistent(t, sub).Event.OriginalEvent(); got.EventNumber != 0 {
		t.Errorf("PinnedByCorrelation group delivers revision %d first, want 0", got.EventNumber)
	}
	sub.Close()

	// Create checks the strategy before the start and before the group's
	// existence.
	md, err := createAll("bad", settings("Fastest", 0), last+1)
	refused("create $all past the last event", "$all", "bad", "Fastest", md, err)
	md, err = createStream("rr", settings("Fastest", 0))
	refused("create of an existing group", s, "rr", "Fastest", md, err)

	// Update: the group's existence first, then the strategy, then the
	// start; a refused update leaves the group as it was.
	md, err = updateStream("none", 9)
	wantStatus(t, "update of no group", err, md, codes.NotFound, "Subscription group none on stream "+s+" does not exist.",
		map[string]string{"exception": "persistent-subscription-does-not-exist", "stream-name": s})
	md, err = updateStream("single", 9)
	refused("update", s, "single", "9", md, err)
	if got := strategyOf(s, "single"); got != "DispatchToSingle" {
		t.Errorf("strategy after a refused update: %q", got)
	}
	if _, err := createAll("all", settings("RoundRobin", 0), 0); err != nil {
		t.Fatal(err)
	}
	md, err = updateAll("all", -1, last+1)
	refused("update $all past the last event", "$all", "all", "-1", md, err)
	if _, err := updateAll("all", persistent.UpdateReq_Pinned, 0); err != nil {
		t.Errorf("update to Pinned: %v", err)
	}
	if got := strategyOf("$all", "all"); got != "Pinned" {
		t.Errorf("strategy after update to Pinned: %q", got)
	}
	if _, err := updateStream("corr", persistent.UpdateReq_DispatchToSingle); err != nil {
		t.Errorf("update to DispatchToSingle: %v", err)
	}
	if got := strategyOf(s, "corr"); got != "DispatchToSingle" {
		t.Errorf("strategy after update to DispatchToSingle: %q", got)
	}

	// The official client sends the three enum names.
	for _, name := range []esdb.ConsumerStrategy{esdb.ConsumerStrategyRoundRobin, esdb.ConsumerStrategyDispatchToSingle, esdb.ConsumerStrategyPinned} {
		st := esdb.SubscriptionSettingsDefault()
		st.ConsumerStrategyName = name
		group := "official-" + string(name)
		if err := c.CreatePersistentSubscription(ctxT(t), s, group, esdb.PersistentStreamSubscriptionOptions{Settings: &st}); err != nil {
			t.Errorf("official create with %s: %v", name, err)
			continue
		}
		if got := strategyOf(s, group); got != string(name) {
			t.Errorf("official create with %s: strategy %q", name, got)
		}
	}
}

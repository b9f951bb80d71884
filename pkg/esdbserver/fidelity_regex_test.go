package esdbserver_test

// Filter regexes as KurrentDB compiles and matches them (tenth session):
// .NET's Regex (EventFilter.cs 162, 174, new Regex(pattern,
// RegexOptions.Compiled), tested with Match(...).Success), which the
// server reproduces with regexp2 (filterregex.go's filterRegex). Patterns
// .NET serves and Go's RE2 refused (lookarounds, backreferences, atomic
// groups) are served; patterns RE2 accepted and .NET refuses are the
// handler's exception; where both accept a pattern, the events are .NET's.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// regexStreams are appended in this order, one event each but for
// craftsman-11, which has a second event at the end of the log; the
// event types go with them.
var regexStreams = []struct{ stream, typ string }{
	{"craftsman-1", "HonourConferred.v1"},
	{"craftsman-11", "HonourWithdrawn.v1"},
	{"craftsman-12", "TrainingCompleted.v1"},
	{"craftsman-\u0663", "HonourConferred.v1"}, // ARABIC-INDIC DIGIT THREE, a Unicode digit
	{"academy-1", "CourseAdded.v1"},
	{"newline-a\n", "Line.v1\n"},
	{"emoji-\U0001F600", "Emoji.v2"}, // beyond the BMP: two UTF-16 units in .NET
	{"craftsman-11", "HonourConferred.v1"},
}

// newRegexTarget is a server holding regexStreams.
func newRegexTarget(t *testing.T) *protoTarget {
	t.Helper()
	p := newProtoTarget(t)
	for _, s := range regexStreams {
		if _, err := p.client.AppendToStream(ctxT(t), s.stream, esdb.AppendToStreamOptions{}, event(s.typ, "{}")); err != nil {
			t.Fatalf("append to %q: %v", s.stream, err)
		}
	}
	return p
}

// filteredRead reads $all forwards through the generated client with a
// regex filter on stream names (byType false) or event types, and returns
// the streams of the events it got.
func (p *protoTarget) filteredRead(t *testing.T, pattern string, byType bool) ([]string, error) {
	t.Helper()
	expr := &streams.ReadReq_Options_FilterOptions_Expression{Regex: pattern}
	f := &streams.ReadReq_Options_FilterOptions{Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 32}, CheckpointIntervalMultiplier: 1,
		Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: expr}}
	if byType {
		f.Filter = &streams.ReadReq_Options_FilterOptions_EventType{EventType: expr}
	}
	rs, err := p.raw.Read(ctxT(t), &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}},
		CountOption:  &streams.ReadReq_Options_Count{Count: 1000},
		FilterOption: &streams.ReadReq_Options_Filter{Filter: f},
		UuidOption:   structuredUUIDs(),
	}})
	if err != nil {
		return nil, err
	}
	var got []string
	for {
		resp, err := rs.Recv()
		if err != nil {
			if err.Error() == "EOF" {
				return got, nil
			}
			return got, err
		}
		got = append(got, string(resp.GetEvent().GetEvent().GetStreamIdentifier().GetStreamName()))
	}
}

// TestFilterRegexDotNet: patterns KurrentDB serves that Go's RE2 refuses
// or matches differently, through a filtered $all read; each case's
// events are those .NET's Regex matches (established from .NET's
// documented semantics: \d is any Unicode decimal digit, $ also matches
// before a final newline, a string is UTF-16 units).
func TestFilterRegexDotNet(t *testing.T) {
	p := newRegexTarget(t)
	for _, c := range []struct {
		name    string
		pattern string
		byType  bool
		want    []string
	}{
		{"negative lookahead", `^craftsman-(?!1$)`, false, []string{"craftsman-11", "craftsman-12", "craftsman-\u0663", "craftsman-11"}},
		{"positive lookahead on types", `^Honour(?=Conferred)`, true, []string{"craftsman-1", "craftsman-\u0663", "craftsman-11"}},
		{"lookbehind", `(?<=craftsman-1)2$`, false, []string{"craftsman-12"}},
		{"backreference", `^craftsman-(\d)\1$`, false, []string{"craftsman-11", "craftsman-11"}},
		{"named backreference", `^craftsman-(?<d>1)\k<d>$`, false, []string{"craftsman-11", "craftsman-11"}},
		{"atomic group", `^(?>craftsman-1)$`, false, []string{"craftsman-1"}},
		{`\d is Unicode`, `^craftsman-\d$`, false, []string{"craftsman-1", "craftsman-\u0663"}},
		{"$ before a final newline", `^newline-a$`, false, []string{"newline-a\n"}},
		{"$ before a final newline on types", `\.v1$`, true, []string{"craftsman-1", "craftsman-11", "craftsman-12", "craftsman-\u0663", "academy-1", "newline-a\n", "craftsman-11"}},
		{`\z is the very end`, `^newline-a\z`, false, nil},
		{"one . per UTF-16 unit", `^emoji-.$`, false, nil},
		{"two . for a character beyond the BMP", `^emoji-..$`, false, []string{"emoji-\U0001F600"}},
		{"a class of its two surrogates", "^emoji-[\U0001F600]{2}$", false, []string{"emoji-\U0001F600"}},
	} {
		got, err := p.filteredRead(t, c.pattern, c.byType)
		if err != nil {
			t.Errorf("%s (%s): %v", c.name, c.pattern, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s (%s): streams %q, want %q", c.name, c.pattern, got, c.want)
		}
	}
}

// TestFilterRegexRefusedByDotNet: patterns Go's RE2 accepts and .NET's
// Regex constructor refuses (regexp2 refuses the first two itself; the
// others are its own extensions, which filterRegex refuses) are the
// handler's exception, before any message, on a read, a subscription
// (generated and official client) and a persistent subscription to $all.
func TestFilterRegexRefusedByDotNet(t *testing.T) {
	p := newRegexTarget(t)
	for _, pattern := range []string{
		`^(?P<family>craftsman)-`, // Python/RE2 named group: .NET knows (?<n>) and (?'n') only
		`^\Qcraftsman-\E`,         // quoting: no \Q in .NET
		`^\x{63}raftsman-`,        // .NET's \x takes exactly two hex digits
		`^\pLraftsman-`,           // .NET's \p needs braces
		`^\p{Latin}raftsman-`,     // a script: .NET has categories and blocks only
		`(?U)^craftsman-`,         // inline options: .NET has i, m, n, s, x
	} {
		got, err := p.filteredRead(t, pattern, false)
		if len(got) != 0 {
			t.Errorf("read %s: %d events before the error", pattern, len(got))
		}
		wantStatus(t, "read "+pattern, err, nil, codes.Unknown, handlerThrew, nil)

		n, md, err := p.readRaw(t, &streams.ReadReq_Options{
			StreamOption: &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_End{End: &shared.Empty{}}}},
			CountOption:  &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}},
			FilterOption: &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
				Filter: &streams.ReadReq_Options_FilterOptions_EventType{EventType: &streams.ReadReq_Options_FilterOptions_Expression{Regex: pattern}},
				Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 32}, CheckpointIntervalMultiplier: 1}},
			UuidOption: structuredUUIDs(),
		})
		if n != 0 {
			t.Errorf("subscription %s: %d messages before the error", pattern, n)
		}
		wantStatus(t, "subscription "+pattern, err, md, codes.Unknown, handlerThrew, nil)

		_, err = p.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.Start{},
			Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: pattern}})
		if errCode(err) != esdb.ErrorCodeUnknown {
			t.Errorf("official SubscribeToAll %s: %v (code %d), want ErrorCodeUnknown", pattern, err, errCode(err))
		}
		err = p.client.CreatePersistentSubscriptionToAll(ctxT(t), "g", esdb.PersistentAllSubscriptionOptions{StartFrom: esdb.Start{},
			Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: pattern}})
		if errCode(err) != esdb.ErrorCodeUnknown {
			t.Errorf("official CreatePersistentSubscriptionToAll %s: %v (code %d), want ErrorCodeUnknown", pattern, err, errCode(err))
		}
	}
	if _, err := p.client.GetPersistentSubscriptionInfoToAll(ctxT(t), "g", esdb.GetPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("group after the refused creates: %v, want not found", err)
	}
}

// TestFilterRegexOfficialClient: the official client's subscription to
// $all with a lookahead and a persistent subscription to $all with a
// backreference get exactly the events the pattern matches, in order.
func TestFilterRegexOfficialClient(t *testing.T) {
	p := newRegexTarget(t)

	sub, err := p.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: `^Honour(?!Withdrawn)`}})
	if err != nil {
		t.Fatalf("SubscribeToAll with a lookahead: %v", err)
	}
	var got []string
	for ev := sub.Recv(); ev.CaughtUp == nil; ev = sub.Recv() {
		if ev.SubscriptionDropped != nil {
			t.Fatalf("subscription dropped: %v", ev.SubscriptionDropped.Error)
		}
		if ev.EventAppeared != nil {
			got = append(got, ev.EventAppeared.OriginalEvent().StreamID)
		}
	}
	sub.Close()
	if want := []string{"craftsman-1", "craftsman-\u0663", "craftsman-11"}; !slices.Equal(got, want) {
		t.Errorf("SubscribeToAll with a lookahead: streams %q, want %q", got, want)
	}

	if err := p.client.CreatePersistentSubscriptionToAll(ctxT(t), "twins", esdb.PersistentAllSubscriptionOptions{StartFrom: esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^craftsman-(\d)\1$`}}); err != nil {
		t.Fatalf("CreatePersistentSubscriptionToAll with a backreference: %v", err)
	}
	ps, err := p.client.SubscribeToPersistentSubscriptionToAll(ctxT(t), "twins", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	// craftsman-11's second event is the last in the log: any event the
	// filter should have dropped would come before it.
	for want := uint64(0); want < 2; want++ {
		ev := nextPersistent(t, ps)
		if got := ev.Event.OriginalEvent(); got.StreamID != "craftsman-11" || got.EventNumber != want {
			t.Fatalf("persistent event %d: %s@%d, want craftsman-11@%d", want, got.StreamID, got.EventNumber, want)
		}
		if err := ps.Ack(ev.Event); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFilterRegexGivesUp: a filter regex that backtracks without end on a
// stream's name (an hour or more for `^(a|aa)+$` on 80 a's and a b) ends
// the filtered read with the handler's exception once a match runs past
// the store's bound — KurrentDB sets none and would spin — and a
// subscription with it likewise, after its confirmation.
func TestFilterRegexGivesUp(t *testing.T) {
	defer esdbserver.SetFilterMatchTimeout(100 * time.Millisecond)()
	p := newRegexTarget(t)
	if _, err := p.client.AppendToStream(ctxT(t), strings.Repeat("a", 80)+"b", esdb.AppendToStreamOptions{}, event("Thing.v1", "{}")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := p.filteredRead(t, `^(a|aa)+$`, false)
	if st := status.Convert(err); st.Code() != codes.Unknown || st.Message() != handlerThrew {
		t.Fatalf("read with a runaway regex: %v; want the handler's exception", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("read gave up after %v", d)
	}
	sub, err := p.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^(a|aa)+$`}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for {
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			if st := status.Convert(ev.SubscriptionDropped.Error); !strings.Contains(ev.SubscriptionDropped.Error.Error(), handlerThrew) && st.Message() != handlerThrew {
				t.Fatalf("subscription dropped with %v; want the handler's exception", ev.SubscriptionDropped.Error)
			}
			return
		}
		if ev.EventAppeared != nil && ev.EventAppeared.OriginalEvent().StreamID == strings.Repeat("a", 80)+"b" {
			t.Fatal("the runaway regex selected the name it could not decide")
		}
	}
}

// TestFilterRegexGivesUpPersistent: a persistent $all group whose regex
// cannot decide a name in time fails its read of the source, as any failed
// source read: its consumer is dropped with Unavailable naming the group
// and the handler's exception, and no event of the undecided name is sent.
func TestFilterRegexGivesUpPersistent(t *testing.T) {
	defer esdbserver.SetFilterMatchTimeout(100 * time.Millisecond)()
	p := newRegexTarget(t)
	long := strings.Repeat("a", 80) + "b"
	if _, err := p.client.AppendToStream(ctxT(t), long, esdb.AppendToStreamOptions{}, event("Thing.v1", "{}")); err != nil {
		t.Fatal(err)
	}
	if err := p.client.CreatePersistentSubscriptionToAll(ctxT(t), "runaway", esdb.PersistentAllSubscriptionOptions{StartFrom: esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^(a|aa)+$`}}); err != nil {
		t.Fatal(err)
	}
	ps, err := p.client.SubscribeToPersistentSubscriptionToAll(ctxT(t), "runaway", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	timer := time.AfterFunc(15*time.Second, func() { ps.Close() })
	defer timer.Stop()
	for {
		ev := ps.Recv()
		if ev.EventAppeared != nil && ev.EventAppeared.Event.OriginalEvent().StreamID == long {
			t.Fatal("the runaway regex selected the name it could not decide")
		}
		if d := ev.SubscriptionDropped; d != nil {
			if msg := d.Error.Error(); !strings.Contains(msg, "runaway") || !strings.Contains(msg, handlerThrew) {
				t.Fatalf("dropped with %v; want the group's failed read naming the handler's exception", d.Error)
			}
			return
		}
	}
}

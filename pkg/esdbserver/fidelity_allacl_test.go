package esdbserver_test

// $all's ACL, established from KurrentDB's source in the tenth session:
// every read of $all — count reads with or without a filter, subscriptions,
// a persistent group's consumers — is checked as a read of the stream
// "$all" (Streams.Read.cs 61-69, AuthorizationGateway.cs 122-123,
// PersistentSubscriptions.Read.cs 49-57), whose ACL the legacy policy
// loads like any stream's (LegacyStreamPermissionAssertion.cs 121,
// IndexReader.cs 773-790): the $acl of $$$all, per operation, else the
// system streams' default, $admins. Reading and writing $$$all are the
// metadata read and write of $all ($mr, $mw).

import (
	"context"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// allACL is $$$all's metadata with the given roles per ACL key ($r, $mr, …).
func allACL(roles map[string][]string) esdb.StreamMetadata {
	var acl esdb.Acl
	for k, r := range roles {
		switch k {
		case "$r":
			acl.AddReadRoles(r...)
		case "$w":
			acl.AddWriteRoles(r...)
		case "$d":
			acl.AddDeleteRoles(r...)
		case "$mr":
			acl.AddMetaReadRoles(r...)
		case "$mw":
			acl.AddMetaWriteRoles(r...)
		}
	}
	var m esdb.StreamMetadata
	m.SetAcl(acl)
	return m
}

// TestFidelityAllACL: on a secure server, whether a user who is not an
// admin may read $all follows the $r of $$$all's $acl — for the official
// client's ReadAll, SubscribeToAll (with and without a filter) and a
// persistent subscription to $all, and for filtered reads and
// subscriptions through the generated client (PermissionDenied "Access
// Denied" with exception access-denied when refused). Without a $r the
// default is admins only; anonymous callers are refused whatever it says;
// $$$all itself is read under $mr and written under $mw.
func TestFidelityAllACL(t *testing.T) {
	srv := startSecureServer(t)
	admin, ops, anon := connectAs(t, srv, "admin:changeit@"), connectAs(t, srv, "ops:changeit@"), connectAs(t, srv, "")
	s := streamName("all-acl")
	if _, err := admin.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	if err := admin.CreatePersistentSubscriptionToAll(ctxT(t), "g", esdb.PersistentAllSubscriptionOptions{}); err != nil {
		t.Fatal(err)
	}
	conn := dialTLS(t, srv)
	raw := streams.NewStreamsClient(conn)
	opsAuth := basicAuth("ops", "changeit")
	filter := &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
		Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{Prefix: []string{s}}},
		Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 32}, CheckpointIntervalMultiplier: 1}}
	allStart := &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}}

	// checkReads runs every kind of $all read as ops (and one as an
	// anonymous caller, always refused).
	checkReads := func(stage string, allowed bool) {
		t.Helper()
		outcome := func(what string, err error) {
			t.Helper()
			if allowed && err != nil {
				t.Errorf("%s: ops %s: %v, want it served", stage, what, err)
			}
			if !allowed {
				checkAccessDenied(t, stage+": ops "+what, err)
			}
		}
		rs, err := ops.ReadAll(ctxT(t), esdb.ReadAllOptions{}, 1)
		if err == nil {
			_, err = rs.Recv()
			rs.Close()
		}
		outcome("ReadAll", err)
		for _, f := range []*esdb.SubscriptionFilter{nil, {Type: esdb.StreamFilterType, Prefixes: []string{s}}} {
			sub, err := ops.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{Filter: f})
			if err == nil {
				ev := sub.Recv()
				sub.Close()
				if ev.SubscriptionDropped != nil {
					err = ev.SubscriptionDropped.Error
				}
			}
			outcome("SubscribeToAll (filtered "+map[bool]string{false: "no", true: "yes"}[f != nil]+")", err)
		}
		ps, err := ops.SubscribeToPersistentSubscriptionToAll(ctxT(t), "g", esdb.SubscribeToPersistentSubscriptionOptions{})
		if err == nil {
			ps.Close()
		}
		outcome("persistent subscription to $all", err)
		// Filtered reads and subscriptions, exactly.
		for _, sub := range []bool{false, true} {
			o := &streams.ReadReq_Options{StreamOption: allStart, FilterOption: filter, UuidOption: structuredUUIDs(),
				CountOption: &streams.ReadReq_Options_Count{Count: 10}}
			if sub {
				o.CountOption = &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}}
			}
			ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(ctxT(t), "authorization", opsAuth))
			var md metadata.MD
			rs, err := raw.Read(ctx, &streams.ReadReq{Options: o}, grpc.Trailer(&md))
			var first *streams.ReadResp
			if err == nil {
				first, err = rs.Recv()
			}
			cancel()
			what := stage + ": ops filtered read of $all"
			if sub {
				what = stage + ": ops filtered subscription to $all"
			}
			if allowed {
				if err != nil || first == nil {
					t.Errorf("%s: %v, want it served", what, err)
				}
				continue
			}
			wantStatus(t, what, err, md, codes.PermissionDenied, "Access Denied", map[string]string{"exception": "access-denied"})
		}
		rs, err = anon.ReadAll(ctxT(t), esdb.ReadAllOptions{}, 1)
		if err == nil {
			_, err = rs.Recv()
			rs.Close()
		}
		checkAccessDenied(t, stage+": anonymous ReadAll", err)
	}

	checkReads("no metadata", false)
	// An ACL without $r leaves reading $all to admins.
	if _, err := admin.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, allACL(map[string][]string{"$w": {"ops"}})); err != nil {
		t.Fatal(err)
	}
	checkReads("$acl without $r", false)
	if _, err := admin.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, allACL(map[string][]string{"$r": {"ops"}})); err != nil {
		t.Fatal(err)
	}
	checkReads("$r ops", true)
	// $$$all is $all's metadata: ops may neither read nor write it yet.
	_, err := ops.GetStreamMetadata(ctxT(t), "$all", esdb.ReadStreamOptions{})
	checkAccessDenied(t, "ops reads $$$all without $mr", err)
	_, err = ops.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, allACL(nil))
	checkAccessDenied(t, "ops writes $$$all without $mw", err)

	// "$all" as a role: every authenticated user.
	if _, err := admin.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, allACL(map[string][]string{"$r": {"$all"}, "$mr": {"ops"}, "$mw": {"ops"}})); err != nil {
		t.Fatal(err)
	}
	checkReads("$r $all", true)
	if m, err := ops.GetStreamMetadata(ctxT(t), "$all", esdb.ReadStreamOptions{}); err != nil || m.Acl() == nil {
		t.Errorf("ops reads $$$all under $mr ops: %+v, %v", m, err)
	}
	// ops takes its own read access away.
	if _, err := ops.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, allACL(map[string][]string{"$r": {"$admins"}, "$mw": {"ops"}})); err != nil {
		t.Fatalf("ops writes $$$all under $mw ops: %v", err)
	}
	checkReads("$r $admins", false)
	// Writing the stream $all stays denied to everyone (TestFidelityWriteAllDenied).
	_, err = admin.AppendToStream(ctxT(t), "$all", esdb.AppendToStreamOptions{}, event("T", "{}"))
	checkAccessDenied(t, "admin append to $all", err)
}

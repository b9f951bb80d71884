package esdbserver_test

// Deleting and tombstoning a metadata stream, established from KurrentDB's
// source in the tenth session. With access checks on, the legacy policy
// maps only read and write of a metastream to metadata operations
// (LegacyStreamPermissionAssertion.cs 63-70) and denies anything else to
// every caller, admins too (InvalidMetadataOperation, 78, 142-148). Without
// them nothing on the delete path refuses a metastream name but the empty
// one (ClientMessage.DeleteStream, Managers/DeleteStream.cs,
// StorageWriterService.cs 518-598), so "$$x" and "$$" are deleted like any
// stream.

import (
	"context"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// rawDelete sends a Delete (tombstone false) or Tombstone of stream with
// expected revision any and returns the answer's position (0 when there is
// none), trailers and error.
func rawDelete(ctx context.Context, raw streams.StreamsClient, stream string, tombstone bool) (uint64, metadata.MD, error) {
	var md metadata.MD
	if tombstone {
		r, err := raw.Tombstone(ctx, &streams.TombstoneReq{Options: &streams.TombstoneReq_Options{StreamIdentifier: sid(stream),
			ExpectedStreamRevision: &streams.TombstoneReq_Options_Any{Any: &shared.Empty{}}}}, grpc.Trailer(&md))
		return r.GetPosition().GetCommitPosition(), md, err
	}
	r, err := raw.Delete(ctx, &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: sid(stream),
		ExpectedStreamRevision: &streams.DeleteReq_Options_Any{Any: &shared.Empty{}}}}, grpc.Trailer(&md))
	return r.GetPosition().GetCommitPosition(), md, err
}

func deleteKind(tombstone bool) string {
	if tombstone {
		return "tombstone"
	}
	return "delete"
}

// TestFidelityDeleteMetastream: on a secure server a Delete or Tombstone of
// a metadata stream ("$$x", "$$", "$$$all") is PermissionDenied "Access
// Denied" to admins and to a user whom the stream's ACL grants delete and
// metadata write, and nothing is written; on an insecure server "$$" is
// deleted like a stream that was never written (a soft delete is a wrong
// expected version, a tombstone succeeds and later reads of "$$" answer
// stream-deleted), and "$$x" like any stream (a soft delete writes "$$$$x",
// a tombstone leaves x without metadata).
func TestFidelityDeleteMetastream(t *testing.T) {
	t.Run("secure", func(t *testing.T) {
		srv := startSecureServer(t)
		admin := connectAs(t, srv, "admin:changeit@")
		ops := connectAs(t, srv, "ops:changeit@")
		x := streamName("meta-del")
		if _, err := admin.AppendToStream(ctxT(t), x, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
			t.Fatal(err)
		}
		// ops may delete x and write its metadata: that grants nothing on $$x.
		var m esdb.StreamMetadata
		var acl esdb.Acl
		acl.AddDeleteRoles("ops")
		acl.AddMetaWriteRoles("ops")
		acl.AddMetaReadRoles("ops")
		m.SetAcl(acl)
		m.SetMaxCount(5)
		if _, err := admin.SetStreamMetadata(ctxT(t), x, esdb.AppendToStreamOptions{}, m); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, esdb.StreamMetadata{}); err != nil {
			t.Fatal(err)
		}
		conn := dialTLS(t, srv)
		raw := streams.NewStreamsClient(conn)
		accessDenied := map[string]string{"exception": "access-denied"}
		for _, user := range []string{"admin", "ops"} {
			auth := basicAuth(user, "changeit")
			for _, s := range []string{"$$" + x, "$$", "$$$all"} {
				for _, tomb := range []bool{false, true} {
					ctx := metadata.AppendToOutgoingContext(ctxT(t), "authorization", auth)
					_, md, err := rawDelete(ctx, raw, s, tomb)
					wantStatus(t, user+" "+deleteKind(tomb)+" of "+s, err, md, codes.PermissionDenied, "Access Denied", accessDenied)
				}
			}
		}
		// The official client: AccessDenied.
		for name, c := range map[string]*esdb.Client{"admin": admin, "ops": ops} {
			_, err := c.DeleteStream(ctxT(t), "$$"+x, esdb.DeleteStreamOptions{})
			checkAccessDenied(t, name+" official delete of $$x", err)
			_, err = c.TombstoneStream(ctxT(t), "$$"+x, esdb.TombstoneStreamOptions{})
			checkAccessDenied(t, name+" official tombstone of $$x", err)
		}
		// Nothing was written: x keeps its metadata, $$$$x does not exist.
		got, err := admin.GetStreamMetadata(ctxT(t), x, esdb.ReadStreamOptions{})
		if err != nil || got.MaxCount() == nil || *got.MaxCount() != 5 {
			t.Errorf("x's metadata after the refused deletes: %+v, %v", got, err)
		}
		if _, err := readStream(t, admin, "$$$$"+x, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound {
			t.Errorf("read of $$$$x after the refused deletes: %v, want not found", err)
		}
		// x itself: ops may delete it (its ACL says so).
		if _, err := ops.DeleteStream(ctxT(t), x, esdb.DeleteStreamOptions{}); err != nil {
			t.Errorf("ops delete of x under $d=ops: %v", err)
		}
	})

	t.Run("insecure", func(t *testing.T) {
		p := newProtoTarget(t)
		// "$$" was never written: a soft delete finds neither "$$" nor its
		// metadata stream "$$$$" (StorageWriterService.cs 570-579).
		_, md, err := rawDelete(ctxT(t), p.raw, "$$", false)
		wantStatus(t, "delete of $$", err, md, codes.FailedPrecondition,
			"Delete failed due to WrongExpectedVersion. Stream: $$, Expected version: -2, Actual version: -1",
			map[string]string{"exception": "wrong-expected-version", "stream-name": "$$", "expected-version": "-2", "actual-version": "-1"})
		// (The v4 client does not classify a Delete's wrong expected version.)
		if _, err := p.client.DeleteStream(ctxT(t), "$$", esdb.DeleteStreamOptions{}); err == nil || !strings.Contains(err.Error(), "WrongExpectedVersion") {
			t.Errorf("official delete of $$: %v, want the wrong expected version", err)
		}
		// A tombstone succeeds; "$$" is deleted from then on.
		pos, _, err := rawDelete(ctxT(t), p.raw, "$$", true)
		if err != nil || pos == 0 {
			t.Fatalf("tombstone of $$: position %d, %v", pos, err)
		}
		n, md, err := p.readRaw(t, dollarDollarOptions(true, streams.ReadReq_Options_Forwards, fromStart()))
		if n != 0 {
			t.Errorf("read of tombstoned $$: %d messages", n)
		}
		wantStatus(t, "read of tombstoned $$", err, md, codes.FailedPrecondition, "Event stream '$$' is deleted.",
			map[string]string{"exception": "stream-deleted", "stream-name": "$$"})
		_, md, err = rawDelete(ctxT(t), p.raw, "$$", true)
		wantStatus(t, "second tombstone of $$", err, md, codes.FailedPrecondition, "Event stream '$$' is deleted.",
			map[string]string{"exception": "stream-deleted", "stream-name": "$$"})

		// "$$x": a soft delete writes {"$tb": int64 max} to "$$$$x"; x and
		// its metadata stay as they were (a metastream's own metadata is
		// fixed, IndexReader.cs 917-918).
		x := streamName("meta-del")
		if _, err := p.client.AppendToStream(ctxT(t), x, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
			t.Fatal(err)
		}
		var m esdb.StreamMetadata
		m.SetMaxCount(2)
		if _, err := p.client.SetStreamMetadata(ctxT(t), x, esdb.AppendToStreamOptions{}, m); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.DeleteStream(ctxT(t), "$$"+x, esdb.DeleteStreamOptions{}); err != nil {
			t.Fatalf("delete of $$x: %v", err)
		}
		meta, err := readStream(t, p.client, "$$$$"+x, esdb.ReadStreamOptions{}, 10)
		if err != nil || len(meta) != 1 || meta[0].Event.EventType != "$metadata" || string(meta[0].Event.Data) != `{"$tb":9223372036854775807}` {
			t.Errorf("$$$$x after the delete of $$x: %v, %v", meta, err)
		}
		if evs, err := readStream(t, p.client, x, esdb.ReadStreamOptions{}, 10); err != nil || len(evs) != 2 {
			t.Errorf("x after the delete of $$x: %d events, %v; want 2 ($maxCount)", len(evs), err)
		}
		// A tombstone of "$$x" ends x's metadata (a deleted metastream
		// reads as none, IndexReader.cs 939-941); x itself stays.
		if _, err := p.client.TombstoneStream(ctxT(t), "$$"+x, esdb.TombstoneStreamOptions{}); err != nil {
			t.Fatalf("tombstone of $$x: %v", err)
		}
		if evs, err := readStream(t, p.client, x, esdb.ReadStreamOptions{}, 10); err != nil || len(evs) != 3 {
			t.Errorf("x after the tombstone of $$x: %d events, %v; want all 3", len(evs), err)
		}
		if _, err := readStream(t, p.client, "$$"+x, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeStreamDeleted {
			t.Errorf("read of tombstoned $$x: %v, want stream deleted", err)
		}
		if _, err := p.client.SetStreamMetadata(ctxT(t), x, esdb.AppendToStreamOptions{}, m); errCode(err) != esdb.ErrorCodeStreamDeleted {
			t.Errorf("metadata write after the tombstone of $$x: %v, want stream deleted", err)
		}
		if _, err := p.client.AppendToStream(ctxT(t), x, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
			t.Errorf("append to x after the tombstone of $$x: %v", err)
		}
	})
}

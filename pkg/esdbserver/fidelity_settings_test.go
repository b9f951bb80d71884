package esdbserver_test

// $settings, established from KurrentDB's source in the tenth session: the
// last event of the stream $settings holds the default ACLs of user and
// system streams ($userStreamAcl, $systemStreamAcl; IndexCommitter.cs
// 301-302, 450-451; SystemSettings.cs 31-63), which a stream without an
// ACL of its own for an operation takes, else the built-in default
// (IndexReader.cs 773-790, LegacyStreamPermissionAssertion.cs 172-182);
// unreadable settings are no settings (IndexCommitter.cs 519-527). A
// $settings event re-checks every live subscription (SubscriptionsService.cs
// 488-501).

import (
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
)

// TestFidelitySettingsACL: on a secure server, once $settings says user
// streams are read and written by admins only and system streams are read
// by ops too, ops may no longer read or append to a user stream without an
// ACL (but may still delete it: no $d there, so the built-in default), may
// read $users and $all, and keeps a stream whose own $acl names it; its
// live subscription to the user stream ends PermissionDenied after the
// events before the $settings event, the one to the stream with its own
// ACL goes on. Settings that cannot be read are no settings.
func TestFidelitySettingsACL(t *testing.T) {
	srv := startSecureServer(t)
	admin := connectAs(t, srv, "admin:changeit@")
	ops := connectAs(t, srv, "ops:changeit@")
	conn := dialTLS(t, srv)
	raw := streams.NewStreamsClient(conn)
	u, own, del := streamName("settings-u"), streamName("settings-own"), streamName("settings-del")
	for _, s := range []string{u, own, del} {
		if _, err := admin.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.SetStreamMetadata(ctxT(t), own, esdb.AppendToStreamOptions{}, allACL(map[string][]string{"$r": {"ops"}})); err != nil {
		t.Fatal(err)
	}
	streamSub := func(s string) *streams.ReadReq_Options {
		o := dollarDollarOptions(false, streams.ReadReq_Options_Forwards, fromStart())
		o.GetStream().StreamIdentifier = sid(s)
		return o
	}
	subU, subOwn := subscribeRaw(t, raw, "ops", streamSub(u)), subscribeRaw(t, raw, "ops", streamSub(own))
	for _, sub := range []*rawSubscription{subU, subOwn} {
		if got, err := sub.until(t, "caught_up"); err != nil {
			t.Fatalf("start: %v, %v", got, err)
		}
	}
	opsReads := func(s string) error {
		_, err := readStream(t, ops, s, esdb.ReadStreamOptions{}, 10)
		return err
	}
	writeSettings := func(data string) {
		t.Helper()
		ev := esdb.EventData{EventType: "$settings", ContentType: esdb.ContentTypeJson, Data: []byte(data)}
		if _, err := admin.AppendToStream(ctxT(t), "$settings", esdb.AppendToStreamOptions{}, ev); err != nil {
			t.Fatal(err)
		}
	}
	appendOne := func(s string) {
		t.Helper()
		if _, err := admin.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
			t.Fatal(err)
		}
	}

	appendOne(u)
	writeSettings(`{"$userStreamAcl": {"$r": "$admins", "$w": ["$admins"]}, "$systemStreamAcl": {"$r": ["$admins", "ops"]}, "other": [1]}`)
	appendOne(u)
	appendOne(own)
	checkAccessDenied(t, "ops read of a user stream", opsReads(u))
	_, err := ops.AppendToStream(ctxT(t), u, esdb.AppendToStreamOptions{}, event("T", "{}"))
	checkAccessDenied(t, "ops append to a user stream", err)
	if _, err := ops.DeleteStream(ctxT(t), del, esdb.DeleteStreamOptions{}); err != nil {
		t.Errorf("ops delete of a user stream (no $d in the settings): %v", err)
	}
	if err := opsReads("$users"); err != nil {
		t.Errorf("ops read of $users under $systemStreamAcl: %v", err)
	}
	if got := readAll(t, ops, esdb.ReadAllOptions{}, 10); len(got) == 0 {
		t.Error("ops read of $all under $systemStreamAcl returned nothing")
	}
	if err := opsReads(own); err != nil {
		t.Errorf("ops read of a stream whose $acl names it: %v", err)
	}
	_, err = ops.AppendToStream(ctxT(t), "$settings", esdb.AppendToStreamOptions{}, event("$settings", "{}"))
	checkAccessDenied(t, "ops write of $settings", err)

	got, err := subU.until(t, "never")
	if strings.Join(got, " ") != u+":1" {
		t.Errorf("ops's subscription to the user stream: %v, want only %s:1 before the end", got, u)
	}
	wantStatus(t, "ops's subscription to the user stream", err, subU.rs.Trailer(), codes.PermissionDenied, "Access Denied", map[string]string{"exception": "access-denied"})
	if got, err := subOwn.until(t, own+":1"); err != nil || strings.Join(got, " ") != own+":1" {
		t.Errorf("ops's subscription to the stream with its own ACL: %v, %v; want it to go on", got, err)
	}

	// Settings that cannot be read are no settings: the built-in defaults again.
	for _, bad := range []string{`{"$userStreamAcl": {"$r": "$admins", "$x": "ops"}}`, `{"$userStreamAcl": {"$r": null}}`, `[]`, `{"$userStreamAcl": "ops"}`} {
		writeSettings(`{"$userStreamAcl": {"$r": "$admins"}}`)
		checkAccessDenied(t, "ops read of a user stream before "+bad, opsReads(u))
		writeSettings(bad)
		if err := opsReads(u); err != nil {
			t.Errorf("ops read of a user stream after the settings %s: %v", bad, err)
		}
	}
}

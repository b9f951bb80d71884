package esdbserver_test

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// KurrentDB reads a stream's metadata all or nothing (StreamMetadata.cs
// FromJsonReader 105-170 inside TryFromJsonBytes 63-75): a token it does
// not expect anywhere — a quoted number, a fraction, an int64 overflow, a
// non-boolean $tempStream, an $acl it cannot read — throws, and the
// metadata is Empty. Values not > 0 of $maxCount/$maxAge (and a negative
// $tb) are dropped (166-169). Metadata without the JSON flag is Empty
// (IndexReader.cs 946-947). Each case: 5 events, then $metadata; a read
// returns 5 where KurrentDB ignores the metadata.
func TestFidelityMetadataAllOrNothing(t *testing.T) {
	tg := newTarget(t)
	for _, c := range []struct {
		meta   string
		binary bool
		want   int
	}{
		{meta: `{"$maxCount":2}`, want: 2},
		{meta: `{"$maxCount":2} x`, want: 2}, // the reader stops at the object's end
		{meta: `{"$maxCount":2,"owner":{"a":[1,"x",null]}}`, want: 2},
		{meta: `{"$maxCount":2,"$tb":-1}`, want: 2}, // negative $tb dropped, not invalid
		{meta: `{"$maxCount":2,"$tempStream":true,"$cacheControl":10,"$acl":{}}`, want: 2},
		{meta: `{"$maxCount":"2"}`, want: 5},
		{meta: `{"$maxCount":2,"$tb":"x"}`, want: 5},
		{meta: `{"$maxCount":2,"$maxAge":1.5}`, want: 5},
		{meta: `{"$maxCount":2,"$maxAge":1e3}`, want: 5},
		{meta: `{"$maxCount":2,"$maxAge":null}`, want: 5},
		{meta: `{"$maxCount":2,"$acl":{"$r":5}}`, want: 5},
		{meta: `{"$maxCount":2,"$acl":{"$x":"y"}}`, want: 5},
		{meta: `{"$maxCount":2,"$acl":null}`, want: 5},
		{meta: `{"$maxCount":2,"$tempStream":"yes"}`, want: 5},
		{meta: `{"$maxCount":2,"$cacheControl":"10"}`, want: 5},
		{meta: `{"$maxCount":2,"$maxAge":99999999999999999999}`, want: 5},
		{meta: `{"$maxCount":"x","$maxCount":2}`, want: 5}, // read in order: the first throws
		{meta: `[2]`, want: 5},
		{meta: `{"$maxCount":0}`, want: 5},
		{meta: `{"$maxCount":-3}`, want: 5},
		{meta: `{"$maxAge":0}`, want: 5},
		{meta: `{"$maxCount":2}`, binary: true, want: 5},
	} {
		s := streamName("metaparse")
		if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(5, "e")...); err != nil {
			t.Fatal(err)
		}
		ct := esdb.ContentTypeJson
		if c.binary {
			ct = esdb.ContentTypeBinary
		}
		ev := esdb.EventData{EventID: uuid.New(), EventType: "$metadata", ContentType: ct, Data: []byte(c.meta)}
		if _, err := tg.client.AppendToStream(ctxT(t), "$$"+s, esdb.AppendToStreamOptions{}, ev); err != nil {
			t.Fatal(err)
		}
		got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 100)
		if err != nil || len(got) != c.want {
			t.Errorf("%s (binary %v): read %d events, err %v; KurrentDB: %d", c.meta, c.binary, len(got), err, c.want)
		}
	}
}

// A malformed $acl makes the whole metadata Empty (ReadRoles throws,
// StreamMetadata.cs 210-228), so the default ACL applies (IndexReader.cs
// 773-789): ops reads a user stream. The store denied it.
func TestFidelityMalformedACLDefault(t *testing.T) {
	srv := startSecureServer(t)
	admin := connectAs(t, srv, "admin:changeit@")
	ops := connectAs(t, srv, "ops:changeit@")
	for _, meta := range []string{`{"$acl":{"$r":5}}`, `{"$acl":{"$r":null}}`, `{"$acl":{"$r":[1]}}`, `{"$acl":{"$r":["$admins",2]}}`, `{"$acl":{"$r":"$admins","$x":"y"}}`} {
		s := streamName("badacl")
		if _, err := admin.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(2, "e")...); err != nil {
			t.Fatal(err)
		}
		ev := esdb.EventData{EventID: uuid.New(), EventType: "$metadata", ContentType: esdb.ContentTypeJson, Data: []byte(meta)}
		if _, err := admin.AppendToStream(ctxT(t), "$$"+s, esdb.AppendToStreamOptions{}, ev); err != nil {
			t.Fatal(err)
		}
		got, err := readStream(t, ops, s, esdb.ReadStreamOptions{}, 10)
		if err != nil || len(got) != 2 {
			t.Errorf("%s: ops read %d events, err %v; KurrentDB: metadata Empty, default ACL, 2 events", meta, len(got), err)
		}
	}
	// A well-formed $acl still denies.
	s := streamName("goodacl")
	if _, err := admin.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(2, "e")...); err != nil {
		t.Fatal(err)
	}
	ev := esdb.EventData{EventID: uuid.New(), EventType: "$metadata", ContentType: esdb.ContentTypeJson, Data: []byte(`{"$acl":{"$r":"$admins"}}`)}
	if _, err := admin.AppendToStream(ctxT(t), "$$"+s, esdb.AppendToStreamOptions{}, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := readStream(t, ops, s, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeAccessDenied {
		t.Errorf(`{"$acl":{"$r":"$admins"}}: ops read err %v; want access denied`, err)
	}
}

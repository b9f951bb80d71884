package events_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	ev "github.com/craftledger/craftledger/events"
)

func TestDecodeMetadataMatchesJSON(t *testing.T) {
	full := ev.Metadata{SchemaVersion: 2, OccurredAt: time.Date(2019, 6, 1, 8, 30, 0, 123, time.UTC), IssuerOrgID: "acad-1", ActingUserID: "u-1",
		CorrelationID: "corr", CausationID: "cause", Source: "import", PrevHash: "sha256:ab", Hash: "sha256:cd"}
	canon, err := ev.EncodeMetadata(full)
	if err != nil {
		t.Fatal(err)
	}
	minimal, _ := ev.EncodeMetadata(ev.Metadata{SchemaVersion: 1, OccurredAt: time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC), IssuerOrgID: "o", ActingUserID: "u"})
	for name, b := range map[string]string{
		"canonical":       string(canon),
		"minimal":         string(minimal),
		"reordered":       `{"occurredAt":"2019-06-01T00:00:00Z","schemaVersion":1,"issuerOrgId":"o","actingUserId":"u"}`,
		"spaces":          `{ "schemaVersion": 1, "occurredAt": "2019-06-01T00:00:00Z", "issuerOrgId": "o", "actingUserId": "u" }`,
		"escapes":         `{"schemaVersion":1,"occurredAt":"2019-06-01T00:00:00Z","issuerOrgId":"\u5b66\u9662","actingUserId":"u\"x"}`,
		"extra field":     `{"schemaVersion":1,"occurredAt":"2019-06-01T00:00:00Z","issuerOrgId":"o","actingUserId":"u","x":1}`,
		"offset time":     `{"schemaVersion":1,"occurredAt":"2019-06-01T08:00:00+08:00","issuerOrgId":"o","actingUserId":"u"}`,
		"chinese":         `{"schemaVersion":1,"occurredAt":"2019-06-01T00:00:00Z","issuerOrgId":"上海电力工匠学院","actingUserId":"张三"}`,
		"empty optionals": `{"schemaVersion":1,"occurredAt":"2019-06-01T00:00:00Z","issuerOrgId":"","actingUserId":"","prevHash":""}`,
	} {
		got, err := ev.DecodeMetadata([]byte(b))
		var want ev.Metadata
		werr := json.Unmarshal([]byte(b), &want)
		if (err != nil) != (werr != nil) {
			t.Errorf("%s: err %v, json err %v", name, err, werr)
			continue
		}
		if !reflect.DeepEqual(got, want) || !got.OccurredAt.Equal(want.OccurredAt) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	if _, err := ev.DecodeMetadata([]byte(`{"schemaVersion":"x"`)); err == nil {
		t.Error("malformed metadata decoded")
	}
}

// FuzzDecodeMetadata: the fast path agrees with encoding/json on every input it accepts.
func FuzzDecodeMetadata(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":1,"occurredAt":"2019-06-01T00:00:00Z","issuerOrgId":"o","actingUserId":"u","hash":"h"}`))
	f.Add([]byte(`{"schemaVersion":1,"occurredAt":"2019-06-01T00:00:00Z","issuerOrgId":"o","actingUserId":"u","$causationId":"c","source":"api"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ev.DecodeMetadata(b)
		var want ev.Metadata
		werr := json.Unmarshal(b, &want)
		if err != nil || werr != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", b, got, want)
		}
	})
}

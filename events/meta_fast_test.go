package events_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
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

// randMetadata draws metadata whose strings hold what json.Marshal
// escapes (quotes, backslashes, control characters, <, >, &, U+2028,
// invalid UTF-8) besides plain ASCII and Chinese, at times in other zones
// and now and then outside the years time.Time can write.
func randMetadata(r *rand.Rand) ev.Metadata {
	parts := []string{"acad-1", "u", "sha256:0f", "\"", "\\", "<", ">", "&", "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028", "\u2029",
		"学院", "\xff", "\xe5\xad", "é", "/", " ", "$", "{}", "'"}
	str := func() string {
		if r.IntN(4) == 0 {
			return ""
		}
		var sb strings.Builder
		for n := r.IntN(5); n >= 0; n-- {
			sb.WriteString(parts[r.IntN(len(parts))])
		}
		return sb.String()
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 8*3600), time.FixedZone("", -3*3600-1800), nil}
	zones[3] = time.Local
	year := 1900 + r.IntN(300)
	if r.IntN(50) == 0 {
		year = []int{-1, 10000, 0, 9999}[r.IntN(4)]
	}
	nsec := 0
	if r.IntN(2) == 0 {
		nsec = r.IntN(1e9)
	}
	return ev.Metadata{
		SchemaVersion: r.IntN(5) - 1,
		OccurredAt:    time.Date(year, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), nsec, zones[r.IntN(len(zones))]),
		IssuerOrgID:   str(), ActingUserID: str(), CorrelationID: str(), CausationID: str(),
		Source: str(), PrevHash: str(), Hash: str(),
	}
}

// sameAsEncodeMetadata: AppendMetadata writes EncodeMetadata's bytes (after
// what dst holds) or fails with its error.
func sameAsEncodeMetadata(t *testing.T, m ev.Metadata) {
	t.Helper()
	want, werr := ev.EncodeMetadata(m)
	got, err := ev.AppendMetadata([]byte("x"), m)
	if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
		t.Fatalf("%+v: error %v, EncodeMetadata's %v", m, err, werr)
	}
	if err != nil {
		if string(got) != "x" {
			t.Fatalf("%+v: %q appended on error", m, got)
		}
		return
	}
	if string(got) != "x"+string(want) {
		t.Fatalf("%+v:\n got %s\nwant x%s", m, got, want)
	}
}

func TestAppendMetadataMatchesEncodeMetadata(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	errs := 0
	for i := 0; i < 20000; i++ {
		m := randMetadata(r)
		if _, err := ev.EncodeMetadata(m); err != nil {
			errs++
		}
		sameAsEncodeMetadata(t, m)
	}
	if errs == 0 {
		t.Error("no metadata with an unwritable time drawn")
	}
	sameAsEncodeMetadata(t, ev.Metadata{})
}

// FuzzAppendMetadata: AppendMetadata against EncodeMetadata on any strings.
func FuzzAppendMetadata(f *testing.F) {
	f.Add(1, int64(0), "acad-1", "u-1", "corr", "", "api", "sha256:ab", "")
	f.Add(-7, int64(1<<62), "\"<&>\"", "\\\n\x00", "\u2028", "\xff", "学院", "", "h")
	f.Fuzz(func(t *testing.T, v int, ns int64, issuer, actor, corr, cause, source, prev, hash string) {
		sameAsEncodeMetadata(t, ev.Metadata{SchemaVersion: v, OccurredAt: time.Unix(0, ns).In(time.FixedZone("", 3600)),
			IssuerOrgID: issuer, ActingUserID: actor, CorrelationID: corr, CausationID: cause, Source: source, PrevHash: prev, Hash: hash})
	})
}

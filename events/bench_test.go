package events_test

import (
	"testing"
	"time"

	ev "github.com/craftledger/craftledger/events"
)

// BenchmarkDecodeRecorded decodes a stored event (payload and metadata), the
// per-event cost of every projection.
func BenchmarkDecodeRecorded(b *testing.B) {
	reg := ev.NewRegistry()
	p := examples()[9] // SkillLevelCertified.v2
	typ, data, err := ev.Encode(p)
	if err != nil {
		b.Fatal(err)
	}
	m := ev.NewMetadata(typ, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "org", "user")
	m.CorrelationID, m.CausationID = "c", "d"
	meta, err := ev.EncodeMetadata(m)
	if err != nil {
		b.Fatal(err)
	}
	raw := ev.Raw{Stream: "craftsman-c-1001", Revision: 3, ID: "id", Type: typ, Data: data, Metadata: meta, Created: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.DecodeRecorded(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

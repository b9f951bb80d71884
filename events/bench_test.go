package events_test

import (
	"encoding/json"
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
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := reg.DecodeRecorded(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkDecodeMetadata compares the canonical-metadata scanner with
// encoding/json on the same bytes.
func BenchmarkDecodeMetadata(b *testing.B) {
	m := ev.NewMetadata(ev.TypeSkillLevelCertified, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "acad-sh-electric", "user-42")
	m.CorrelationID, m.CausationID, m.PrevHash, m.Hash = "c0b1d2e3", "a9f8e7d6", "sha256:0123456789abcdef", "sha256:fedcba9876543210"
	meta, err := ev.EncodeMetadata(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scanner", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if _, err := ev.DecodeMetadata(meta); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "decodes/cpu-s")
	})
	b.Run("encoding-json", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			var got ev.Metadata
			if err := json.Unmarshal(meta, &got); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "decodes/cpu-s")
	})
}

// trainingCompletedData is a TrainingCompleted.v2 payload as the demo
// generator writes it (services/craftledger/generate).
var trainingCompletedData = []byte(`{"craftsmanId":"c0000004","enrolmentId":"enr-autorepair-intermediate","academyId":"acad-0001","courseId":"4-12-01-01-intermediate","trade":{"code":"4-12-01-01","name":"汽车维修工"},"hours":128,"mode":"on_the_job","score":89,"passed":true}`)

// BenchmarkDecodeTrainingCompleted compares the registry's decoder of the
// most frequent payload type (the canonical-form scanner) with
// encoding/json on the same bytes.
//
//	go test -run '^$' -bench DecodeTrainingCompleted -benchmem -cpu 1 ./events/
func BenchmarkDecodeTrainingCompleted(b *testing.B) {
	benchRegistryVsJSON[ev.TrainingCompleted](b, ev.TypeTrainingCompleted, trainingCompletedData)
}

// BenchmarkDecodeRecordedTraining is BenchmarkDecodeRecorded for a sealed
// TrainingCompleted event, the bulk of a ledger.
func BenchmarkDecodeRecordedTraining(b *testing.B) {
	reg := ev.NewRegistry()
	m := ev.NewMetadata(ev.TypeTrainingCompleted, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "acad-0001", "user-42")
	m.CorrelationID, m.CausationID, m.PrevHash, m.Hash = "c0b1d2e3", "a9f8e7d6", "sha256:0123456789abcdef", "sha256:fedcba9876543210"
	meta, err := ev.EncodeMetadata(m)
	if err != nil {
		b.Fatal(err)
	}
	raw := ev.Raw{Stream: "craftsman-c0000004", Revision: 7, ID: "id", Type: ev.TypeTrainingCompleted, Data: trainingCompletedData, Metadata: meta, Created: time.Now()}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := reg.DecodeRecorded(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkDecodeSkillLevelCertified: the second most frequent payload, as
// the demo generator writes it, through the registry and encoding/json.
//
//	go test -run '^$' -bench DecodeSkillLevelCertified -benchmem -cpu 1 ./events/
func BenchmarkDecodeSkillLevelCertified(b *testing.B) {
	data := []byte(`{"craftsmanId":"c0000004","trade":{"code":"4-12-01-01","name":"汽车维修工"},"level":"intermediate","certificateNumber":"S3701022000000044","family":"skill_level","evaluatingOrgId":"acad-0001","issuingOrg":{"id":"acad-0001","name":"天津示范重工集团有限公司工匠学院","kind":"registered_employer"},"route":"regular"}`)
	benchRegistryVsJSON[ev.SkillLevelCertified](b, ev.TypeSkillLevelCertified, data)
}

// benchRegistryVsJSON decodes data as payload type typ through the
// registry and as a T through encoding/json, reporting decodes per CPU
// second for each.
func benchRegistryVsJSON[T any](b *testing.B, typ string, data []byte) {
	reg := ev.NewRegistry()
	b.Run("registry", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuTime()
		for b.Loop() {
			if _, err := reg.Decode(typ, data); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "decodes/cpu-s")
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuTime()
		for b.Loop() {
			var v T
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "decodes/cpu-s")
	})
}

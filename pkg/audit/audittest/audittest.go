// Package audittest writes small, honest, sealed histories straight into a
// real embedded store for the audit and credential tests: the events the
// services would write (valid payloads, canonical metadata, hash chain),
// and helpers to write damaged copies of them, bypassing the services.
package audittest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Store starts an embedded server on loopback and connects a client;
// both are closed when the test ends.
func Store(tb testing.TB) (*eventstore.Client, *esdbserver.Server) {
	tb.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: tb.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		tb.Fatalf("start store: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = cl.Close() })
	return cl, srv
}

// Event is an event before sealing.
type Event struct {
	Payload  events.Payload
	Issuer   string
	Occurred time.Time
}

// Sealed is an event ready to append: ID, type, data and sealed metadata.
type Sealed struct {
	ID       string
	Type     string
	Data     []byte
	Metadata []byte
	Hash     string
}

// EventData converts for appending.
func (s Sealed) EventData() eventstore.EventData {
	return eventstore.EventData{ID: s.ID, Type: s.Type, ContentType: "application/json", Data: s.Data, Metadata: s.Metadata}
}

// Seal encodes and chains evs as the services do (events.Encode,
// events/chain.Seal), with deterministic event ids derived from stream.
func Seal(tb testing.TB, stream string, evs []Event) []Sealed {
	tb.Helper()
	out := make([]Sealed, len(evs))
	prev := ""
	for i, e := range evs {
		typ, data, err := events.Encode(e.Payload)
		if err != nil {
			tb.Fatalf("encode %s: %v", typ, err)
		}
		m := events.NewMetadata(typ, e.Occurred, e.Issuer, "auditor-test-user")
		m.Source = "api"
		sm, meta, err := chain.Seal(prev, typ, data, m)
		if err != nil {
			tb.Fatalf("seal %s: %v", typ, err)
		}
		out[i] = Sealed{ID: UUID(stream, i), Type: typ, Data: data, Metadata: meta, Hash: sm.Hash}
		prev = sm.Hash
	}
	return out
}

// UUID is a deterministic UUID-shaped id for event i of stream.
func UUID(stream string, i int) string {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(stream) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, i>>12&0xfff, uint64(i)&0xffffffffffff)
}

// Append writes sealed events to stream, which must not exist yet.
func Append(tb testing.TB, st eventstore.Store, stream string, evs []Sealed) eventstore.AppendResult {
	tb.Helper()
	data := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		data[i] = e.EventData()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := st.Append(ctx, stream, eventstore.NoStream(), data...)
	if err != nil {
		tb.Fatalf("append %s: %v", stream, err)
	}
	return res
}

// Day is a UTC date.
func Day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }

// Trade is the trade every test career is in (a fresh value each call:
// the careers hold a pointer to it).
func Trade() events.Trade { return events.Trade{Code: "6-31-01-03", Name: "电工"} }

// Orgs of the test careers.
const (
	Academy   = "acad-sh-electric"
	Employer  = "org-shanghai-grid"
	Evaluator = "org-sh-eval-3"
	Union     = "org-sh-union"
)

// Career is an honest career for craftsman id: registered 2010, employed
// as an electrician from 2010, training in 2012 and 2016, certified junior
// (2011), intermediate (2014) and senior (2018), a city competition
// bronze in 2019 and a provincial honour in 2020. Issuers are the
// organisations allowed to record each event.
func Career(id string) []Event {
	reg := events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", len(id)), BirthDate: "1990-03-07", Region: "310000",
		Personal: &events.Personal{Name: "测试工匠 " + id}}
	cert := func(l events.Level, n string) events.SkillLevelCertified {
		return events.SkillLevelCertified{CraftsmanID: id, Trade: Trade(), Level: l, CertificateNumber: n + id, Family: events.FamilySkillLevel,
			EvaluatingOrgID: Evaluator, IssuingOrg: events.Org{ID: Evaluator, Name: "上海电力技能评价中心", Kind: "third_party"}, Route: events.RouteRegular}
	}
	train := func(enr, course string, hours float64) events.TrainingCompleted {
		return events.TrainingCompleted{CraftsmanID: id, EnrolmentID: enr, AcademyID: Academy, CourseID: course, Trade: Trade(),
			Hours: hours, Mode: "classroom", Passed: true}
	}
	return []Event{
		{reg, Academy, Day(2010, 3, 1)},
		{events.EmploymentStarted{CraftsmanID: id, EmploymentID: "emp-1", EmployerOrgID: Employer, EmployerName: "上海电力", Trade: Trade(), Position: "electrician"}, Employer, Day(2010, 3, 1)},
		{cert(events.Junior, "J"), Evaluator, Day(2011, 6, 1)},
		{train("enr-1", "plc-basics", 32), Academy, Day(2012, 5, 1)},
		{cert(events.Intermediate, "I"), Evaluator, Day(2014, 6, 1)},
		{train("enr-2", "plc-advanced", 120), Academy, Day(2016, 9, 1)},
		{cert(events.Senior, "S"), Evaluator, Day(2018, 6, 1)},
		{events.CompetitionPlaced{CraftsmanID: id, CompetitionID: "city-sh-2019", CompetitionName: "上海市职工技能大赛 2019",
			PlacementID: "city-sh-2019:" + id, Tier: "city", Year: 2019, Track: "employees", TeamSize: 1, Trade: Trade(), Rank: 3, Award: "bronze"}, Union, Day(2019, 10, 1)},
		{events.HonourConferred{CraftsmanID: id, HonourID: "h-" + id, Code: "provincial_craftsman", Name: "上海工匠", Level: "provincial",
			ConferringBody: "上海市总工会", Trade: new(Trade())}, Union, Day(2020, 5, 1)},
	}
}

// Competition is the competition the test careers placed in, organised by Union.
func Competition() []Event {
	return []Event{{events.CompetitionDefined{CompetitionID: "city-sh-2019", Name: "上海市职工技能大赛 2019", Tier: "city", Organiser: Union,
		Year: 2019, Trades: []events.Trade{Trade()}, Tracks: []string{"employees"}, StartsOn: "2019-05-01", EndsOn: "2019-09-30"}, Union, Day(2019, 4, 1)}}
}

// Population writes the competition stream and n honest careers
// (craftsman ids "c-0001"…) and returns the ids.
func Population(tb testing.TB, st eventstore.Store, n int) []string {
	tb.Helper()
	Append(tb, st, events.CompetitionStream("city-sh-2019"), Seal(tb, events.CompetitionStream("city-sh-2019"), Competition()))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("c-%04d", i+1)
		s := events.CraftsmanStream(ids[i])
		Append(tb, st, s, Seal(tb, s, Career(ids[i])))
	}
	return ids
}

// Tamper returns a copy of b with one byte changed at offset i (mod len).
func Tamper(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	i %= len(c)
	c[i] ^= 0x01
	if !json.Valid(c) {
		c[i] ^= 0x01
		c[i] ^= 0x20 // try keeping JSON valid for the reader's sake; either way it must fail
	}
	return c
}

// SealRaw seals hand-written metadata: body is the metadata object without
// its hash (prevHash included, as the caller wants it); SealRaw appends
// the hash computed as docs/audit.md describes (SHA-256 over the domain
// tag, prev, type, data and body, each length-prefixed), so damage inside
// the metadata that the chain cannot see — two members of one name — can
// be written correctly sealed.
func SealRaw(prev, typ string, data, body []byte) (meta []byte, hash string) {
	h := sha256.New()
	for _, b := range [][]byte{[]byte("craftledger/chain/v1"), []byte(prev), []byte(typ), data, body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	hash = chain.Prefix + hex.EncodeToString(h.Sum(nil))
	meta = append(append(append([]byte(nil), body[:len(body)-1]...), `,"hash":"`+hash+`"`...), '}')
	return meta, hash
}

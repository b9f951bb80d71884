package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	ev "github.com/craftledger/craftledger/events"
)

var update = flag.Bool("update", false, "rewrite golden files (testdata/, docs/events.md)")

func lvl(l ev.Level) *ev.Level { return &l }
func f64(f float64) *float64   { return &f }

var (
	welder      = ev.Trade{Code: "6-18-02-04", Name: "焊工"}
	electrician = ev.Trade{Code: "6-31-01-03", Name: "电工"}
)

// examples is one valid payload of every current type, with the story of
// what it records; the fixtures in testdata/fixtures and docs/events.md are
// generated from it.
func examples() []ev.Payload {
	rep, err := ev.NewReplacement(ev.TrainingCompleted{CraftsmanID: "c-1001", AcademyID: "acad-sh-electric", CourseID: "plc-basics",
		Trade: electrician, Module: "PLC wiring", Hours: 23, Mode: ev.ModeClassroom, Score: f64(88), Passed: true}, nil)
	if err != nil {
		panic(err)
	}
	return []ev.Payload{
		ev.CraftsmanRegistered{CraftsmanID: "c-1001", NationalIDHash: ev.HashNationalID([]byte("demo-key"), "110101199003071234"),
			BirthDate: "1990-03-07", Region: "310000", SealedPersonal: &ev.SealedPersonal{KeyID: "wk-c-1001-1", Alg: "A256GCM", Nonce: "bm9uY2Vub25jZQ==", Ciphertext: "q83vEjRWeJq83vEjRWeJ"}},
		ev.CraftsmanProfileChanged{CraftsmanID: "c-1001", Region: "320500"},
		ev.TradeEntered{CraftsmanID: "c-1001", Trade: electrician},
		ev.EmploymentStarted{CraftsmanID: "c-1001", EmploymentID: "emp-1", EmployerOrgID: "org-shanghai-grid", EmployerName: "上海电力", Trade: electrician, Position: "maintenance electrician"},
		ev.EmploymentEnded{CraftsmanID: "c-1001", EmploymentID: "emp-1", Reason: "moved to a new employer"},
		ev.Graduated{CraftsmanID: "c-1001", SchoolKind: ev.SchoolTechnicianCollege, SchoolName: "上海市技师学院", Speciality: "电气自动化", Trade: electrician, ProgrammeTarget: lvl(ev.Senior)},
		ev.ProfessionalTitleObtained{CraftsmanID: "c-1001", Tier: ev.TitleJunior, Title: "助理工程师", Series: "工程", Trade: electrician, AwardingOrg: "上海市人社局"},
		ev.TrainingEnrolled{CraftsmanID: "c-1001", EnrolmentID: "enr-77", AcademyID: "acad-sh-electric", CourseID: "plc-basics", Trade: electrician, Module: "PLC wiring", Mode: ev.ModeClassroom},
		ev.TrainingCompleted{CraftsmanID: "c-1001", EnrolmentID: "enr-77", AcademyID: "acad-sh-electric", CourseID: "plc-basics", Trade: electrician, Module: "PLC wiring", Hours: 32, Mode: ev.ModeClassroom, Score: f64(91.5), Passed: true},
		ev.SkillLevelCertified{CraftsmanID: "c-1001", Trade: electrician, Level: ev.Senior, CertificateNumber: "S000031000000241234", Family: ev.FamilySkillLevel,
			EvaluatingOrgID: "org-sh-eval-3", IssuingOrg: ev.Org{ID: "org-sh-eval-3", Name: "上海电力技能评价中心", Kind: ev.IssuerThirdParty}, Route: ev.RouteRegular},
		ev.PromotionEntitlementGranted{CraftsmanID: "c-1001", EntitlementID: "ent-nsc2023-c-1001", Trade: electrician, Level: ev.Technician,
			Source: ev.EntitlementSource{Kind: ev.SourceCompetition, CompetitionID: "nsc-2023", PlacementID: "nsc-2023:c-1001:6-31-01-03:employees", RuleID: "excellence-or-better"}, RequiresApproval: true},
		ev.PromotionEntitlementApproved{CraftsmanID: "c-1001", EntitlementID: "ent-nsc2023-c-1001", ApprovalRef: "沪人社核〔2024〕12号", ApprovingOrgID: "org-sh-hrss"},
		ev.UpperGradeAppointed{CraftsmanID: "c-1001", Trade: electrician, Grade: ev.PrincipalTechnician, EmployerOrgID: "org-shanghai-grid", ApprovalRef: "沪电人〔2030〕7号", PolicyName: "upper-grades", PolicyVersion: 1},
		ev.CompetitionDefined{CompetitionID: "city-sh-2024", Name: "上海市职工技能大赛 2024", Tier: ev.TierCity, Organiser: "上海市总工会", Year: 2024,
			Trades: []ev.Trade{electrician}, Tracks: []string{ev.TrackEmployees, ev.TrackStudents}, StartsOn: "2024-05-01", EndsOn: "2024-09-30",
			Rules: ev.CompetitionRules{RequiresApproval: true, MaxPromotionsPerYear: 1, Grants: []ev.GrantRule{
				{ID: "employees-top10", Band: ev.Band{Track: ev.TrackEmployees, TeamSize: 1, FromRank: 1, ToRank: 10}, Level: ev.Technician},
				{ID: "students-top10", Band: ev.Band{Track: ev.TrackStudents, TeamSize: 1, FromRank: 1, ToRank: 10}, Level: ev.Senior},
			}}},
		ev.CompetitionResultsPublished{CompetitionID: "city-sh-2024", Placements: []ev.Placement{
			{PlacementID: "city-sh-2024:c-1001:6-31-01-03:employees", CraftsmanID: "c-1001", Track: ev.TrackEmployees, TeamSize: 1, Trade: electrician, Rank: 3, Award: ev.AwardBronze}}},
		ev.CompetitionPlaced{CraftsmanID: "c-1001", CompetitionID: "city-sh-2024", CompetitionName: "上海市职工技能大赛 2024", PlacementID: "city-sh-2024:c-1001:6-31-01-03:employees",
			Tier: ev.TierCity, Year: 2024, Track: ev.TrackEmployees, TeamSize: 1, Trade: electrician, Rank: 3, Award: ev.AwardBronze},
		ev.MentorshipStarted{MentorshipParties: ev.MentorshipParties{MentorshipID: "m-501", MasterID: "c-1001", ApprenticeID: "c-2002"}, Kind: ev.MentorshipMasterApprentice, Trade: electrician, EmployerOrgID: "org-shanghai-grid", PlannedMonths: 24},
		ev.MentorshipSessionLogged{MentorshipParties: ev.MentorshipParties{MentorshipID: "m-501", MasterID: "c-1001", ApprenticeID: "c-2002"}, Hours: 3.5, Topic: "relay protection fault finding"},
		ev.MentorshipCompleted{MentorshipParties: ev.MentorshipParties{MentorshipID: "m-501", MasterID: "c-1001", ApprenticeID: "c-2002"}, Trade: electrician, LevelReached: lvl(ev.Senior)},
		ev.MentorshipEndedEarly{MentorshipParties: ev.MentorshipParties{MentorshipID: "m-502", MasterID: "c-1001", ApprenticeID: "c-2003"}, Reason: "apprentice left the enterprise"},
		ev.HonourConferred{CraftsmanID: "c-1001", HonourID: "h-77", Code: "provincial_craftsman", Name: "上海工匠", Level: ev.LevelProvincial, ConferringBody: "上海市总工会", Trade: &electrician},
		ev.HonourWithdrawn{CraftsmanID: "c-1001", HonourID: "h-77", Reason: "conferred in error: wrong worker"},
		ev.InnovationRecognised{CraftsmanID: "c-1001", InnovationID: "inv-9", Kind: ev.InnovationFiveSmall, Category: "invention", Title: "带电作业绝缘支架", Level: ev.LevelProvincial, Trade: &electrician, InUse: true, Role: "leader"},
		ev.EventCorrected{CraftsmanID: "c-1001", SupersedesEventID: "0b4f2a9e-6a0e-4c1f-9d61-2b7f1e0a5c33", Reason: "hours were 23, not 32: typing error on the paper record", Replacement: rep},
		ev.AcademyRegistered{AcademyID: "acad-sh-electric", Name: "上海电力工匠学院", Kind: ev.AcademyEnterprise, Region: "310000", ParentOrgID: "org-shanghai-grid"},
		ev.CourseAdded{AcademyID: "acad-sh-electric", CourseID: "plc-basics", Title: "PLC 基础", Trade: electrician, Modules: []string{"PLC wiring", "ladder logic"}, Hours: 64, Mode: ev.ModeClassroom, TargetLevel: lvl(ev.Senior)},
		ev.PolicyPublished{Name: "template-a", Version: 1, EffectiveFrom: "2018-01-01", Document: json.RawMessage(`{"name":"template-a","version":1}`)},
		ev.IssuerRegistered{IssuerID: "acad-sh-electric", Name: "上海电力工匠学院", Kind: ev.IssuerKindAcademy, Region: "310000"},
		ev.IssuerUserAdded{IssuerID: "acad-sh-electric", UserID: "u-li-ming", Role: ev.IssuerRoleIssuer, DisplayName: "李明"},
		ev.NationalIDReserved{NationalIDHash: ev.HashNationalID([]byte("demo-key"), "110101199003071234"), CraftsmanID: "c-1001"},
		ev.AssessmentRecorded{CraftsmanID: "c-1001", AssessmentID: "asm-2024-118", Trade: electrician, Level: ev.Technician, EvaluatingOrgID: "org-sh-eval-3",
			TheoryScore: f64(78), PracticalScore: f64(85.5), Passed: true},
		ev.PersonalDataErased{CraftsmanID: "c-1001", Reason: "the worker withdrew consent (PIPL art. 47)"},
	}
}

// legacyFixtures are the stored shapes of older versions, by type.
var legacyTypes = []string{ev.TypeTrainingCompletedV1, ev.TypeSkillLevelCertifiedV1}

func fixturePath(typ string) string { return filepath.Join("testdata", "fixtures", typ+".json") }

// TestExamplesCoverRegistry: every current type has an example and every
// type name (every version) has a fixture.
func TestExamplesCoverRegistry(t *testing.T) {
	reg := ev.NewRegistry()
	have := map[string]bool{}
	for _, p := range examples() {
		have[p.EventType()] = true
	}
	for _, typ := range legacyTypes {
		have[typ] = true
	}
	for _, typ := range reg.Types() {
		if !have[typ] {
			t.Errorf("type %s has no example/fixture", typ)
		}
		if ev.TypeVersion(typ) < 1 {
			t.Errorf("type %s has no .vN version suffix", typ)
		}
	}
	if len(have) != len(reg.Types()) {
		t.Errorf("examples cover %d types, registry has %d", len(have), len(reg.Types()))
	}
}

// TestFixturesDecode: the golden JSON of every type and version decodes to
// a valid payload; current versions round-trip byte for byte.
func TestFixturesDecode(t *testing.T) {
	reg := ev.NewRegistry()
	for _, p := range examples() {
		typ := p.EventType()
		t.Run(typ, func(t *testing.T) {
			data, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, '\n')
			if *update {
				if err := os.MkdirAll(filepath.Dir(fixturePath(typ)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(fixturePath(typ), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(fixturePath(typ))
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			got, err := reg.Decode(typ, golden)
			if err != nil {
				t.Fatalf("decode golden: %v", err)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("golden does not validate: %v", err)
			}
			if g, w := compact(t, got), compact(t, p); g != w {
				t.Errorf("golden decodes to\n%s\nwant\n%s", g, w)
			}
			if !bytes.Equal(golden, data) {
				t.Errorf("encoding changed for %s (run go test -update if intended):\n%s", typ, data)
			}
		})
	}
	for _, typ := range legacyTypes {
		t.Run(typ, func(t *testing.T) {
			golden, err := os.ReadFile(fixturePath(typ))
			if err != nil {
				t.Fatal(err)
			}
			got, err := reg.Decode(typ, golden)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.EventType() != ev.CurrentType(typ) || got.EventType() == typ {
				t.Errorf("%s decodes to %s, want the current version", typ, got.EventType())
			}
			if err := got.Validate(); err != nil {
				t.Errorf("upgraded %s does not validate: %v", typ, err)
			}
		})
	}
}

func TestUpgrades(t *testing.T) {
	reg := ev.NewRegistry()
	got, err := reg.Decode(ev.TypeSkillLevelCertifiedV1, []byte(`{"craftsmanId":"c-1","tradeCode":"6-18-02-04","grade":2,"certificateNumber":"Z-1","issuingOrgId":"hr-sh"}`))
	if err != nil {
		t.Fatal(err)
	}
	c := got.(ev.SkillLevelCertified)
	if c.Level != ev.Technician || c.Family != ev.FamilyVocationalQualification || c.Route != ev.RouteRegular || c.IssuingOrg.Kind != ev.IssuerDesignatedBody {
		t.Errorf("v1 grade 2 upgraded to %+v", c)
	}
	if _, err := reg.Decode(ev.TypeSkillLevelCertifiedV1, []byte(`{"craftsmanId":"c-1","tradeCode":"6-18-02-04","grade":7,"certificateNumber":"Z-1","issuingOrgId":"hr-sh"}`)); !errors.Is(err, ev.ErrInvalid) {
		t.Errorf("grade 7 decoded without error: %v", err)
	}
	got, err = reg.Decode(ev.TypeTrainingCompletedV1, []byte(`{"craftsmanId":"c-1","academyId":"a","courseId":"x","tradeCode":"6-18-02-04","hours":12,"score":80}`))
	if err != nil {
		t.Fatal(err)
	}
	if tc := got.(ev.TrainingCompleted); tc.Mode != ev.ModeClassroom || tc.Hours != 12 || *tc.Score != 80 || !tc.Passed {
		t.Errorf("v1 training upgraded to %+v", tc)
	}
}

func TestDecodeErrors(t *testing.T) {
	reg := ev.NewRegistry()
	for _, tc := range []struct {
		name, typ, data, field string
	}{
		{"unknown type", "Nope.v1", `{}`, "type"},
		{"wrong json type", ev.TypeTrainingCompleted, `{"hours":"ten"}`, "hours"},
		{"unknown level", ev.TypeSkillLevelCertified, `{"level":"grandmaster"}`, "level"},
		{"syntax", ev.TypeTradeEntered, `{"trade":`, ""},
		{"bad replacement", ev.TypeEventCorrected, `{"supersedesEventId":"x","reason":"r","replacement":{"type":"Nope.v1","data":{}}}`, "replacement.type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reg.Decode(tc.typ, []byte(tc.data))
			var fe *ev.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tc.field, err)
			}
		})
	}
}

func TestValidationErrors(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	meta := func(p ev.Payload) ev.Metadata {
		return ev.NewMetadata(p.EventType(), now.Add(-time.Hour), "org-1", "user-1")
	}
	base := ev.SkillLevelCertified{CraftsmanID: "c-1", Trade: welder, Level: ev.Senior, CertificateNumber: "N1", Family: ev.FamilySkillLevel,
		EvaluatingOrgID: "e", IssuingOrg: ev.Org{ID: "i", Kind: ev.IssuerThirdParty}, Route: ev.RouteRegular}
	mod := func(f func(*ev.SkillLevelCertified)) ev.SkillLevelCertified { c := base; f(&c); return c }
	for _, tc := range []struct {
		name  string
		p     ev.Payload
		m     func(ev.Metadata) ev.Metadata
		field string
	}{
		{"unknown trade code", mod(func(c *ev.SkillLevelCertified) { c.Trade.Code = "6-18-2-04" }), nil, "trade.code"},
		{"level out of range", mod(func(c *ev.SkillLevelCertified) { c.Level = ev.ChiefTechnician }), nil, "level"},
		{"exceptional without entitlement", mod(func(c *ev.SkillLevelCertified) { c.Route = ev.RouteExceptional }), nil, "entitlementId"},
		{"issuer kind", mod(func(c *ev.SkillLevelCertified) { c.IssuingOrg.Kind = "friend" }), nil, "issuingOrg.kind"},
		{"negative hours", ev.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: "k", Trade: welder, Mode: ev.ModeOnTheJob, Hours: -4}, nil, "hours"},
		{"bad mode", ev.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: "k", Trade: welder, Mode: "osmosis", Hours: 4}, nil, "mode"},
		{"self mentoring", ev.MentorshipStarted{MentorshipParties: ev.MentorshipParties{MentorshipID: "m", MasterID: "c-1", ApprenticeID: "c-1"}, Kind: ev.MentorshipApprenticeship, Trade: welder}, nil, "apprenticeId"},
		{"future occurredAt", base, func(m ev.Metadata) ev.Metadata { m.OccurredAt = now.Add(24 * time.Hour); return m }, "metadata.occurredAt"},
		{"future birth date", ev.CraftsmanRegistered{CraftsmanID: "c-1", NationalIDHash: ev.HashNationalID([]byte("k"), "x"), BirthDate: "2030-01-01", Personal: &ev.Personal{Name: "张三"}}, nil, "birthDate"},
		{"clear national id", ev.CraftsmanRegistered{CraftsmanID: "c-1", NationalIDHash: "110101199003071234", Personal: &ev.Personal{Name: "张三"}}, nil, "nationalIdHash"},
		{"schema version mismatch", base, func(m ev.Metadata) ev.Metadata { m.SchemaVersion = 1; return m }, "metadata.schemaVersion"},
		{"missing issuer", base, func(m ev.Metadata) ev.Metadata { m.IssuerOrgID = ""; return m }, "metadata.issuerOrgId"},
		{"patent without number", ev.InnovationRecognised{CraftsmanID: "c-1", InnovationID: "i", Kind: ev.InnovationPatent, Title: "t", Level: ev.LevelNational, Role: "leader"}, nil, "patentNumber"},
		{"honour level", ev.HonourConferred{CraftsmanID: "c-1", HonourID: "h", Code: "x", Level: "galactic", ConferringBody: "b"}, nil, "level"},
		{"placement rank", ev.CompetitionResultsPublished{CompetitionID: "k", Placements: []ev.Placement{{PlacementID: "p", CraftsmanID: "c", Track: ev.TrackEmployees, TeamSize: 1, Trade: welder, Award: ev.AwardNone}}}, nil, "placements[0].rank"},
		{"grant band", ev.CompetitionDefined{CompetitionID: "k", Name: "n", Tier: ev.TierCity, Year: 2024, Trades: []ev.Trade{welder}, Tracks: []string{ev.TrackEmployees},
			Rules: ev.CompetitionRules{Grants: []ev.GrantRule{{ID: "g", Band: ev.Band{FromRank: 5, ToRank: 1}, Level: ev.Senior}}}}, nil, "rules.grants[0].band.fromRank"},
		{"grants without approval", ev.CompetitionDefined{CompetitionID: "k", Name: "n", Tier: ev.TierCity, Year: 2024, Trades: []ev.Trade{welder}, Tracks: []string{ev.TrackEmployees},
			Rules: ev.CompetitionRules{Grants: []ev.GrantRule{{ID: "g", Band: ev.Band{FromRank: 1, ToRank: 5}, Level: ev.Senior}}}}, nil, "rules.requiresApproval"},
		{"correction replacement invalid", ev.EventCorrected{SupersedesEventID: "x", Reason: "r", Replacement: mustRep(ev.TradeEntered{CraftsmanID: "c-1", Trade: ev.Trade{Code: "bad"}})}, nil, "replacement.data.trade.code"},
		{"issuer kind", ev.IssuerRegistered{IssuerID: "i", Name: "n", Kind: "guild"}, nil, "kind"},
		{"issuer user role", ev.IssuerUserAdded{IssuerID: "i", UserID: "u", Role: "admin"}, nil, "role"},
		{"reservation of a clear number", ev.NationalIDReserved{NationalIDHash: "110101199003071234", CraftsmanID: "c-1"}, nil, "nationalIdHash"},
		{"assessment score", ev.AssessmentRecorded{CraftsmanID: "c-1", AssessmentID: "a", Trade: welder, Level: ev.Senior, EvaluatingOrgID: "e", PracticalScore: f64(101)}, nil, "practicalScore"},
		{"assessment level", ev.AssessmentRecorded{CraftsmanID: "c-1", AssessmentID: "a", Trade: welder, Level: ev.ChiefTechnician, EvaluatingOrgID: "e"}, nil, "level"},
		{"erasure without reason", ev.PersonalDataErased{CraftsmanID: "c-1"}, nil, "reason"},
		{"policy version", ev.PolicyPublished{Name: "p", Version: 0, EffectiveFrom: "2020-01-01", Document: json.RawMessage(`{}`)}, nil, "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := meta(tc.p)
			if tc.m != nil {
				m = tc.m(m)
			}
			err := ev.Check(tc.p, m, now)
			var fe *ev.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ev.ErrInvalid) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tc.field, err)
			}
		})
	}
	for _, p := range examples() {
		if err := ev.Check(p, meta(p), now); err != nil {
			t.Errorf("example %s: %v", p.EventType(), err)
		}
	}
}

func mustRep(p ev.Payload) *ev.Replacement {
	r, err := ev.NewReplacement(p, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func TestLadderAndTrades(t *testing.T) {
	for i, li := range ev.Ladder() {
		if int(li.Rank) != i {
			t.Errorf("rank %d at %d", li.Rank, i)
		}
		got, err := ev.ParseLevel(li.API)
		if err != nil || got != li.Rank {
			t.Errorf("ParseLevel(%q) = %v, %v", li.API, got, err)
		}
	}
	if l, _ := ev.LevelFromGrade(5); l != ev.Junior {
		t.Errorf("grade 5 = %v", l)
	}
	for code, ok := range map[string]bool{"6-31-01-03": true, "4-07-05-01": true, "6-31-1-03": false, "6-31-01-031": false, "a-31-01-03": false, "": false, "6_31_01_03": false} {
		if ev.ValidTradeCode(code) != ok {
			t.Errorf("ValidTradeCode(%q) = %v", code, !ok)
		}
	}
	if got := ev.CraftsmanStream("42"); got != "craftsman-42" {
		t.Errorf("CraftsmanStream = %q", got)
	}
	if c, id, ok := ev.SplitStream("mentorship-m-1"); !ok || c != "mentorship" || id != "m-1" {
		t.Errorf("SplitStream = %q %q %v", c, id, ok)
	}
	a, b := ev.DeterministicID("placement", "x"), ev.DeterministicID("placement", "x")
	if a != b || a == ev.DeterministicID("placement", "y") || len(a) != 36 || a[14] != '5' {
		t.Errorf("DeterministicID = %q, %q", a, b)
	}
}

func TestRecordedRoundTrip(t *testing.T) {
	reg := ev.NewRegistry()
	p := examples()[8]
	typ, data, err := ev.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	m := ev.NewMetadata(typ, time.Date(2019, 6, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)), "acad-1", "u-1")
	m.CorrelationID, m.CausationID = "corr-1", "cause-1"
	mb, err := ev.EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mb, []byte(`"$correlationId":"corr-1"`)) || !bytes.Contains(mb, []byte(`"occurredAt":"2019-06-01T00:00:00Z"`)) {
		t.Errorf("metadata json = %s", mb)
	}
	r, err := reg.DecodeRecorded(ev.Raw{Stream: "craftsman-c-1001", Revision: 3, ID: "id", Type: typ, Data: data, Metadata: mb, Created: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Payload, p) || r.Meta.CausationID != "cause-1" || r.Ref() != (ev.Ref{Stream: "craftsman-c-1001", Revision: 3, EventID: "id"}) {
		t.Errorf("recorded = %+v", r)
	}
}

// compact is v's JSON with raw messages compacted.
func compact(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

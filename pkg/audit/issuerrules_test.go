package audit_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// rawEvent is a hand-written event, sealed by sealChain (audittest.SealRaw).
type rawEvent struct {
	typ, data, issuer string
}

// sealChain seals the honest events evs of stream, then the raw ones after
// them, chained on.
func sealChain(t *testing.T, stream string, evs []audittest.Event, raws ...rawEvent) []audittest.Sealed {
	t.Helper()
	out := audittest.Seal(t, stream, evs)
	for _, r := range raws {
		prev, link := "", ""
		if len(out) > 0 {
			prev = out[len(out)-1].Hash
			link = `,"prevHash":"` + prev + `"`
		}
		body := `{"schemaVersion":1,"occurredAt":"2025-01-01T00:00:00Z","issuerOrgId":"` + r.issuer + `","actingUserId":"u","source":"api"` + link + `}`
		meta, hash := audittest.SealRaw(prev, r.typ, []byte(r.data), []byte(body))
		out = append(out, audittest.Sealed{ID: audittest.UUID(stream, len(out)), Type: r.typ, Data: []byte(r.data), Metadata: meta, Hash: hash})
	}
	return out
}

// issuerFindings are a report's findings as "stream@revision issuer: reason".
func issuerFindings(rep *audit.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Stream+"@"+strconv.FormatUint(f.Revision, 10)+" "+f.Issuer+": "+f.Reason)
	}
	return out
}

// replayed is the store's whole history as a JSON Lines replay file.
func replayed(t *testing.T, st eventstore.Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := audit.NewJSONLWriter(&buf)
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{}, w.Write); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return buf.Bytes()
}

// checkFindings verifies st in every scope and its replay file offline,
// and compares each report with want (substrings, in the report's order).
func checkFindings(t *testing.T, st eventstore.Store, want []string) {
	t.Helper()
	matches := func(got []string) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if !strings.Contains(got[i], want[i]) {
				return false
			}
		}
		return true
	}
	for _, sc := range []audit.Scope{{}, {Category: "craftsman"}} {
		rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: sc})
		if err != nil {
			t.Fatal(err)
		}
		if got := issuerFindings(rep); !matches(got) {
			t.Errorf("verify %s: findings\n%s\nwant\n%s", sc, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	file := replayed(t, st)
	store, err := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []eventstore.Store{st, nil} {
		rep, err := audit.VerifyFeed(ctx(t), s, audit.VerifyOptions{}, audit.LinesFeed(bytes.NewReader(file)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(store.Findings, rep.Findings); diff != "" {
			t.Errorf("file (store %v) vs store (-store +file):\n%s", s != nil, diff)
		}
	}
}

func replacementOf(t *testing.T, p events.Payload) *events.Replacement {
	t.Helper()
	r, err := events.NewReplacement(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A correction's replacement must be the superseded fact corrected — of
// its type, with the fields identifying it unchanged — and is judged as
// its issuer recording it anew; an admin's too must keep the fact. Until
// the fourteenth session the academy's training "corrected" into a senior
// certificate of another organisation passed, and the fold showed it.
func TestVerifyJudgesReplacements(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 0)
	mohrss := events.SkillLevelCertified{CraftsmanID: "x", Trade: audittest.Trade(), Level: events.Senior, CertificateNumber: "S999", Family: events.FamilySkillLevel,
		EvaluatingOrgID: "mohrss", IssuingOrg: events.Org{ID: "mohrss", Name: "人社部", Kind: "third_party"}, Route: events.RouteRegular}
	training := func(id, academy string, hours float64) events.TrainingCompleted {
		return events.TrainingCompleted{CraftsmanID: id, EnrolmentID: "enr-1", AcademyID: academy, CourseID: "plc-basics", Trade: audittest.Trade(),
			Hours: hours, Mode: "classroom", Passed: true}
	}
	write := func(id string, issuer string, c events.EventCorrected, raws ...rawEvent) {
		s := events.CraftsmanStream(id)
		c.CraftsmanID = id
		if c.SupersedesEventID == "" {
			c.SupersedesEventID = audittest.UUID(s, 3) // the 2012 training
		}
		evs := append(audittest.Career(id), audittest.Event{Payload: c, Issuer: issuer, Occurred: audittest.Day(2024, 1, 1)})
		audittest.Append(t, st, s, sealChain(t, s, evs, raws...))
	}
	// Honest: the academy corrects its training's hours; an admin does too.
	write("fix", audittest.Academy, events.EventCorrected{Reason: "hours", Replacement: replacementOf(t, training("fix", audittest.Academy, 23))})
	write("admin", audit.PlatformOrg, events.EventCorrected{Reason: "hours", Replacement: replacementOf(t, training("admin", audittest.Academy, 23))})
	// The academy turns its training into mohrss's senior certificate.
	write("cert", audittest.Academy, events.EventCorrected{Reason: "typo", Replacement: replacementOf(t, mohrss)})
	// An admin does the same: the fact changes type, whoever records it.
	write("admincert", audit.PlatformOrg, events.EventCorrected{Reason: "typo", Replacement: replacementOf(t, mohrss)})
	// The academy moves its training to another academy.
	write("moved", audittest.Academy, events.EventCorrected{Reason: "typo", Replacement: replacementOf(t, training("moved", "acad-other", 32))})
	// A correction of a correction answers to the original fact.
	s := events.CraftsmanStream("twice")
	write("twice", audittest.Academy, events.EventCorrected{Reason: "hours", Replacement: replacementOf(t, training("twice", audittest.Academy, 23))},
		rawEvent{events.TypeEventCorrected, `{"craftsmanId":"twice","supersedesEventId":"` + audittest.UUID(s, 9) + `","reason":"again","replacement":{"type":"SkillLevelCertified.v2","data":{"craftsmanId":"twice","trade":{"code":"6-31-01-03","name":"电工"},"level":"senior","certificateNumber":"S9","family":"skill_level","evaluatingOrgId":"` + audittest.Academy + `","issuingOrg":{"id":"` + audittest.Academy + `","kind":"third_party"},"route":"regular"}}}`, audittest.Academy})
	// A v1 certificate corrected by its issuer into the v2 form of the
	// same fact (its upgrade) with another trade name: honest.
	v1 := events.CraftsmanStream("v1")
	audittest.Append(t, st, v1, sealChain(t, v1, audittest.Career("v1"),
		rawEvent{events.TypeSkillLevelCertifiedV1, `{"craftsmanId":"v1","tradeCode":"6-31-01-03","tradeName":"电工","grade":3,"certificateNumber":"V1-9","issuingOrgId":"org-v1"}`, "org-v1"},
		rawEvent{events.TypeEventCorrected, `{"craftsmanId":"v1","supersedesEventId":"` + audittest.UUID(v1, 9) + `","reason":"name","replacement":{"type":"SkillLevelCertified.v2","data":{"craftsmanId":"v1","trade":{"code":"6-31-01-03","name":"电工（维修）"},"level":"senior","certificateNumber":"V1-9","family":"vocational_qualification","evaluatingOrgId":"org-v1","issuingOrg":{"kind":"designated_body","id":"org-v1"},"route":"regular"}}}`, "org-v1"}))

	foreign := "is not the superseded fact corrected"
	checkFindings(t, st, []string{
		"craftsman-admincert@9 craftledger: its replacement (SkillLevelCertified.v2) " + foreign,
		"craftsman-cert@9 acad-sh-electric: issuer acad-sh-electric may not record EventCorrected.v1 replacing its fact with SkillLevelCertified.v2: allowed is the issuing organisation (issuingOrg.id) or the evaluating organisation (evaluatingOrgId) = mohrss",
		"craftsman-cert@9 acad-sh-electric: its replacement (SkillLevelCertified.v2) " + foreign,
		"craftsman-moved@9 acad-sh-electric: issuer acad-sh-electric may not record EventCorrected.v1 replacing its fact with TrainingCompleted.v2: allowed is the academy running the course (academyId) = acad-other",
		"craftsman-moved@9 acad-sh-electric: its replacement (TrainingCompleted.v2) " + foreign,
		"craftsman-twice@10 acad-sh-electric: its replacement (SkillLevelCertified.v2) " + foreign,
	})
}

// A field of another version of the event's type does not satisfy the
// rule: a v2 certificate is its issuingOrg.id's or evaluatingOrgId's, a
// v1 certificate its issuingOrgId's, whatever else the data holds (the
// catalogue's decoder ignores it).
func TestVerifyReadsTheFieldsOfTheEventsVersion(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 0)
	cert := func(extra string) string {
		return `{"craftsmanId":"v","trade":{"code":"6-31-01-03","name":"电工"},"level":"senior_technician","certificateNumber":"S999","family":"skill_level",` +
			`"evaluatingOrgId":"mohrss","issuingOrg":{"id":"mohrss","name":"人社部","kind":"third_party"},"route":"regular"` + extra + `}`
	}
	v1 := func(extra string) string {
		return `{"craftsmanId":"v","tradeCode":"6-31-01-03","grade":3,"certificateNumber":"V1","issuingOrgId":"org-v1"` + extra + `}`
	}
	for id, raw := range map[string]rawEvent{
		"v2stray": {events.TypeSkillLevelCertified, cert(`,"issuingOrgId":"` + audittest.Academy + `"`), audittest.Academy},
		"v2":      {events.TypeSkillLevelCertified, cert(`,"issuingOrgId":"` + audittest.Academy + `"`), "mohrss"},
		"v1stray": {events.TypeSkillLevelCertifiedV1, v1(`,"evaluatingOrgId":"org-rogue","issuingOrg":{"id":"org-rogue"}`), "org-rogue"},
		"v1":      {events.TypeSkillLevelCertifiedV1, v1(`,"evaluatingOrgId":"org-rogue"`), "org-v1"},
	} {
		s := events.CraftsmanStream(id)
		audittest.Append(t, st, s, sealChain(t, s, audittest.Career(id), raw))
	}
	checkFindings(t, st, []string{
		"craftsman-v1stray@9 org-rogue: issuer org-rogue may not record SkillLevelCertified.v1: allowed is the issuing organisation (issuingOrg.id) or the evaluating organisation (evaluatingOrgId) = org-v1",
		"craftsman-v2stray@9 acad-sh-electric: issuer acad-sh-electric may not record SkillLevelCertified.v2: allowed is the issuing organisation (issuingOrg.id) or the evaluating organisation (evaluatingOrgId) = mohrss",
	})
}

// Only the platform records the registry's administrative events: an
// employer "forgetting" a craftsman, or registering an issuer, is a
// finding.
func TestVerifyAdminOnlyEvents(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 0)
	for id, issuer := range map[string]string{"erased": audittest.Employer, "erasedok": audit.PlatformOrg} {
		s := events.CraftsmanStream(id)
		audittest.Append(t, st, s, audittest.Seal(t, s, append(audittest.Career(id),
			audittest.Event{Payload: events.PersonalDataErased{CraftsmanID: id, Reason: "request 42"}, Issuer: issuer, Occurred: audittest.Day(2024, 1, 1)})))
	}
	for id, issuer := range map[string]string{"org-new": audittest.Employer, "org-ok": audit.PlatformOrg} {
		s := events.IssuerStream(id)
		audittest.Append(t, st, s, audittest.Seal(t, s, []audittest.Event{
			{Payload: events.IssuerRegistered{IssuerID: id, Name: "新单位", Kind: events.IssuerKindEmployer}, Issuer: issuer, Occurred: audittest.Day(2024, 1, 1)},
			{Payload: events.IssuerUserAdded{IssuerID: id, UserID: "u-1", Role: events.IssuerRoleIssuer}, Issuer: issuer, Occurred: audittest.Day(2024, 1, 2)},
		}))
	}
	rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	only := "allowed is a platform organisation only (an administrator's command) = craftledger"
	want := []string{
		"craftsman-erased@9 org-shanghai-grid: issuer org-shanghai-grid may not record PersonalDataErased.v1: " + only,
		"issuer-org-new@0 org-shanghai-grid: issuer org-shanghai-grid may not record IssuerRegistered.v1: " + only,
		"issuer-org-new@1 org-shanghai-grid: issuer org-shanghai-grid may not record IssuerUserAdded.v1: " + only,
	}
	if diff := cmp.Diff(want, issuerFindings(rep)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A placement in a competition, or a session of a pairing, that the store
// does not hold is a finding; a file verified offline without them counts
// such events as not judged.
func TestVerifyUnknownCompetitionOrPairing(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 0)
	s := events.CraftsmanStream("fake")
	audittest.Append(t, st, s, sealChain(t, s, audittest.Career("fake"),
		rawEvent{events.TypeCompetitionPlaced, `{"craftsmanId":"fake","competitionId":"national-fake","competitionName":"全国大赛","placementId":"national-fake:fake","tier":"national","year":2024,"track":"employees","teamSize":1,"trade":{"code":"6-31-01-03","name":"电工"},"rank":1,"award":"gold"}`, audittest.Academy}))
	m := events.MentorshipStream("m-none")
	audittest.Append(t, st, m, sealChain(t, m, nil,
		rawEvent{events.TypeMentorshipSessionLogged, `{"mentorshipId":"m-none","masterId":"c-1","apprenticeId":"c-2","hours":2,"topic":"relays"}`, "org-rogue"}))
	want := []string{
		`craftsman-fake@9 acad-sh-electric: CompetitionPlaced.v1 names competition "national-fake", which is not recorded (stream competition-national-fake does not exist`,
		`mentorship-m-none@0 org-rogue: MentorshipSessionLogged.v1 names pairing "m-none", which is not recorded (stream mentorship-m-none does not exist or does not open with a readable MentorshipStarted`,
	}
	for _, sc := range []audit.Scope{{}, {Category: "craftsman"}, {Stream: s}} {
		rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: sc})
		if err != nil {
			t.Fatal(err)
		}
		got := issuerFindings(rep)
		w := want
		if sc.Category != "" || sc.Stream != "" {
			w = want[:1]
		}
		if len(got) != len(w) || !strings.HasPrefix(got[0], w[0]) || len(w) > 1 && !strings.HasPrefix(got[1], w[1]) || rep.NotJudged != 0 {
			t.Errorf("verify %s: %q (not judged %d), want %q", sc, got, rep.NotJudged, w)
		}
	}
	file := replayed(t, st)
	rep, err := audit.VerifyFeed(ctx(t), st, audit.VerifyOptions{}, audit.LinesFeed(bytes.NewReader(file)))
	if err != nil || len(rep.Findings) != 2 || rep.NotJudged != 0 {
		t.Errorf("file with the store: %v (not judged %d), %v; want the store's two findings", issuerFindings(rep), rep.NotJudged, err)
	}
	rep, err = audit.VerifyFeed(ctx(t), nil, audit.VerifyOptions{}, audit.LinesFeed(bytes.NewReader(file)))
	if err != nil || len(rep.Findings) != 0 || rep.NotJudged != 2 || !rep.OK {
		t.Errorf("file offline: %v (not judged %d), %v; want no finding and 2 not judged", issuerFindings(rep), rep.NotJudged, err)
	}
}

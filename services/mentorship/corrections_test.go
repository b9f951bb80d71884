package mentorship_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

// Corrections of a pairing's fact over real HTTP against the embedded
// store: the recording academy corrects it on a worker's stream, the view
// sees the corrected terms, a repeat is replayed, and other organisations,
// other pairings and foreign facts are refused.
func TestCorrect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Senior)
	e.register("app", events.Junior)
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), nil); code != 201 {
		t.Fatalf("start: %d %+v", code, eb)
	}
	orig := servicetest.EventID(t, e.Store, "app", events.TypeMentorshipStarted)
	registered := servicetest.EventID(t, e.Store, "app", events.TypeCraftsmanRegistered)
	fix := func(mentorshipID string, months int) string {
		return fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the indenture says %d months","replacement":{"data":{"mentorshipId":%q,"masterId":"master","apprenticeId":"app","kind":"master_apprentice","trade":{"code":%q},"academyId":%q,"plannedMonths":%d}}}`,
			orig, months, mentorshipID, trade, orgAcademy, months)
	}
	for _, tc := range []struct {
		name, caller, body string
		code               int
		field              string
	}{
		{"another organisation", "otherIssuer", fix("m1", 36), 403, ""},
		{"an auditor", "auditor", fix("m1", 36), 403, ""},
		{"another pairing", "issuer", fix("m2", 36), 400, "replacement.data.mentorshipId"},
		{"a fact the service does not record", "admin", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"r"}`, registered), 400, "supersedesEventId"},
		{"unknown event", "issuer", `{"supersedesEventId":"nope","reason":"r"}`, 404, "supersedesEventId"},
	} {
		if code, eb := e.Do(tc.caller, "POST", "/v1/craftsmen/app/corrections", tc.body, nil); code != tc.code || (tc.field != "" && eb.Field != tc.field) {
			t.Errorf("%s: %d %+v, want %d on %q", tc.name, code, eb, tc.code, tc.field)
		}
	}
	var c1, again command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/app/corrections", fix("m1", 36), &c1); code != 201 {
		t.Fatalf("correct: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/app/corrections", fix("m1", 36), &again); code != 200 || !again.Replayed || again.EventIDs[0] != c1.EventIDs[0] {
		t.Errorf("repeat: %d %+v %+v", code, eb, again)
	}
	if n := e.Count("craftsman-app", events.TypeEventCorrected); n != 1 {
		t.Errorf("%d corrections, want 1", n)
	}
	st := servicetest.Career(t, e.Store, "app")
	if len(st.Mentorships) != 1 || st.Mentorships[0].Supersedes == nil || st.Mentorships[0].Supersedes.EventID != orig || len(st.Corrections) != 1 {
		t.Errorf("corrected pairing: %+v corrections %+v", st.Mentorships, st.Corrections)
	}
	// The master's stream is corrected separately: untouched here.
	if n := e.Count("craftsman-master", events.TypeEventCorrected); n != 0 {
		t.Errorf("the master's stream has %d corrections", n)
	}
	e.VerifyChain("craftsman-app")
}

// TestAdminCorrectsAsThePlatform: an admin whose token names an
// organisation corrects another organisation's fact as the platform
// (craftledger), so that an auditor's verify, which lets only the
// original's recorder or the platform correct a fact, finds nothing wrong.
func TestAdminCorrectsAsThePlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Senior)
	e.register("app", events.Junior)
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), nil); code != 201 {
		t.Fatalf("start: %d %+v", code, eb)
	}
	orig := servicetest.EventID(t, e.Store, "app", events.TypeMentorshipStarted)
	if code, eb := e.Do("orgAdmin", "POST", "/v1/craftsmen/app/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"recorded for the wrong apprentice"}`, orig), nil); code != 201 {
		t.Fatalf("correct: %d %+v", code, eb)
	}
	evs, err := e.Store.ReadStream(context.Background(), "craftsman-app", eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := command.DecodeMetadata(evs[len(evs)-1].Metadata)
	if err != nil || evs[len(evs)-1].Type != events.TypeEventCorrected || m.IssuerOrgID != mentorship.PlatformOrg {
		t.Fatalf("last event %s issued by %q (%v), want a correction by %q", evs[len(evs)-1].Type, m.IssuerOrgID, err, mentorship.PlatformOrg)
	}
	// (The test's seeding records its certificates as "seed", which verify
	// flags: only findings about the correction matter here.)
	rep, err := audit.Verify(context.Background(), e.Store, audit.VerifyOptions{Scope: audit.Scope{Stream: "craftsman-app"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Type == events.TypeEventCorrected {
			t.Errorf("verify: %v", f)
		}
	}
}

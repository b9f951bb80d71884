package mentorship_test

import (
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/services/mentorship"
)

// certify records, as another service would, that craftsman id reached
// level in the trade on day.
func (e *env) certify(id string, level events.Level, day time.Time) {
	e.T.Helper()
	e.Seed(events.CraftsmanStream(id), day, events.SkillLevelCertified{CraftsmanID: id, Trade: events.Trade{Code: trade}, Level: level,
		CertificateNumber: "C2-" + id, Family: events.FamilySkillLevel, EvaluatingOrgID: "eval",
		IssuingOrg: events.Org{ID: "eval", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
}

// The master's level is the one held on the pairing's date: a certificate
// dated later does not let an earlier pairing start.
func TestStartLevelOnThePairingsDate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("late", events.Intermediate)
	e.register("app", 0)
	e.certify("late", events.Senior, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "late", "app"), nil) // dated 2025-03-01
	if code != 422 || eb.Field != "masterId" || !strings.Contains(eb.Message, "holds intermediate") {
		t.Fatalf("start before the certificate: %d %+v", code, eb)
	}
	if e.Types("mentorship-m1") != nil || e.Count("craftsman-late", events.TypeMentorshipStarted) != 0 || e.Count("craftsman-app", events.TypeMentorshipStarted) != 0 {
		t.Fatal("the refused start wrote")
	}
	after := strings.Replace(start("m1", "late", "app"), "2025-03-01", "2025-07-01", 1)
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", after, nil); code != 201 {
		t.Fatalf("start after the certificate: %d %+v", code, eb)
	}
}

// The service keeps the apprentice's stream it read for a start; what
// another service appends to it later is seen by the next start all the
// same (refused when the apprentice now holds the master's level, and
// appended at the right revision, on the hash chain, otherwise).
func TestStartSeesTheApprenticesNewFacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Senior)
	e.register("master2", events.Senior)
	e.register("master3", events.Technician)
	e.register("app", events.Junior)
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), nil); code != 201 {
		t.Fatalf("first start: %d %+v", code, eb)
	}
	e.certify("app", events.Senior, time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))
	code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m2", "master2", "app"), nil)
	if code != 422 || eb.Field != "apprenticeId" || !strings.Contains(eb.Message, "already holds senior") {
		t.Fatalf("start with an apprentice now at the master's level: %d %+v", code, eb)
	}
	if e.Types("mentorship-m2") != nil || e.Count("craftsman-master2", events.TypeMentorshipStarted) != 0 {
		t.Fatal("the refused start wrote")
	}
	var r mentorship.Response
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m3", "master3", "app"), &r); code != 201 {
		t.Fatalf("start with a technician: %d %+v", code, eb)
	}
	if got := e.Types("craftsman-app"); len(got) != 5 || got[4] != events.TypeMentorshipStarted || r.Apprentice.Revision != 4 {
		t.Fatalf("apprentice's stream %v, answer at revision %d", got, r.Apprentice.Revision)
	}
	e.VerifyChain("craftsman-app")
}

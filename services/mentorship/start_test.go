package mentorship_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
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

// Concurrent starts of one mentorship id with other parties: one is
// written, the others are 409 on mentorshipId, and only the written one
// shows in any worker's history — whether they share the master (its
// stream holds the id first) or not (the pairing's stream does; a losing
// master's copy is then retracted).
func TestConcurrentStartsOfOneID(t *testing.T) {
	t.Parallel()
	const n = 6
	for _, shared := range []bool{true, false} {
		name := map[bool]string{true: "one master", false: "other masters"}[shared]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, mentorship.Options{})
			masters := make([]string, n)
			for i := range n {
				masters[i] = "master"
				if !shared {
					masters[i] = fmt.Sprintf("master%d", i)
				}
				e.register(masters[i], events.Senior)
				e.register(fmt.Sprintf("app%d", i), events.Junior)
			}
			var wg sync.WaitGroup
			codes := make([]int, n)
			errs := make([]kit.ErrorDetail, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i], errs[i] = e.Do("issuer", "POST", "/v1/mentorships", start("mx", masters[i], fmt.Sprintf("app%d", i)), nil)
				}()
			}
			wg.Wait()
			won := -1
			for i, c := range codes {
				switch {
				case c == 201 && won < 0:
					won = i
				case c == 409 && errs[i].Code == "CONFLICT" && errs[i].Field == "mentorshipId":
				default:
					t.Errorf("start %d: %d %+v", i, c, errs[i])
				}
			}
			if won < 0 {
				t.Fatalf("no start was written: %v", codes)
			}
			app := fmt.Sprintf("app%d", won)
			if got := e.Types("mentorship-mx"); len(got) != 1 {
				t.Errorf("pairing's stream %v", got)
			}
			for i := range n {
				worker := fmt.Sprintf("app%d", i)
				if n := e.Count("craftsman-"+worker, events.TypeMentorshipStarted); n != map[bool]int{true: 1, false: 0}[worker == app] {
					t.Errorf("%s's stream holds %d starts of mx (the start of %s was written)", worker, n, app)
				}
				if i > 0 && shared {
					continue
				}
				var ms []string
				for _, m := range servicetest.Career(t, e.Store, masters[i]).Mentorships {
					ms = append(ms, m.ID+" with "+m.Counterpart)
				}
				if want := (i == won || shared); len(ms) != map[bool]int{true: 1, false: 0}[want] || want && ms[0] != "mx with "+app {
					t.Errorf("%s mentors %v (the start of %s was written)", masters[i], ms, app)
				}
				e.VerifyChain("craftsman-" + masters[i])
			}
		})
	}
}

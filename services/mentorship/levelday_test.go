package mentorship_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/services/mentorship"
)

// TestMasterLevelSameChinaDay: the master's level at a start is decided on
// the start's China day. Certified senior at 10:00 China time on
// 2025-03-01, they may start a pairing at 07:00 China time that day (23:00
// UTC the day before); a start the China day before is refused with a
// message naming that China date, not the UTC one.
func TestMasterLevelSameChinaDay(t *testing.T) {
	e := newEnv(t, mentorship.Options{})
	e.register("master", 0)
	e.register("app", 0)
	e.Seed("craftsman-master", time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC), events.SkillLevelCertified{CraftsmanID: "master", Trade: events.Trade{Code: trade}, Level: events.SeniorTechnician,
		CertificateNumber: "C-m2", Family: events.FamilySkillLevel, EvaluatingOrgID: "eval",
		IssuingOrg: events.Org{ID: "eval", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
	body := func(id, at string) string {
		return fmt.Sprintf(`{"mentorshipId":%q,"masterId":"master","apprenticeId":"app","trade":{"code":%q},"academyId":%q,"plannedMonths":24,"occurredAt":%q}`, id, trade, orgAcademy, at)
	}
	code, eb := e.Do("issuer", "POST", "/v1/mentorships", body("m0", "2025-02-28T07:00:00+08:00"), nil)
	if code != 422 || eb.Field != "masterId" || !strings.Contains(eb.Message, "on 2025-02-28;") {
		t.Errorf("the China day before: %d %+v; want 422 masterId naming 2025-02-28", code, eb)
	}
	if n := e.Count("mentorship-m0", events.TypeMentorshipStarted); n != 0 {
		t.Errorf("refused start wrote %d events", n)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", body("m1", "2025-03-01T07:00:00+08:00"), nil); code != 201 {
		t.Errorf("a pairing started on the master's certification day (China): %d %+v, want 201", code, eb)
	}
}

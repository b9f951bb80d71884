package schema

import (
	"strings"
	"testing"
	"unicode"

	"github.com/craftledger/craftledger/events"
)

// TestTitlesInChinese: every timeline sentence the server writes in
// English has a Chinese one of its own (not the English, not the type
// name), with the level names of the ladder and the words of the codes.
func TestTitlesInChinese(t *testing.T) {
	welder := events.Trade{Code: "6-18-02-04", Name: "焊工"}
	senior := events.Senior
	parties := events.MentorshipParties{MentorshipID: "m1", MasterID: "c1", ApprenticeID: "c2"}
	payloads := []events.Payload{
		events.CraftsmanRegistered{CraftsmanID: "c1"},
		events.CraftsmanProfileChanged{CraftsmanID: "c1", Region: "HLJ"},
		events.TradeEntered{CraftsmanID: "c1", Trade: welder},
		events.EmploymentStarted{CraftsmanID: "c1", EmployerOrgID: "emp1", Trade: welder},
		events.EmploymentEnded{CraftsmanID: "c1", EmploymentID: "e1"},
		events.Graduated{CraftsmanID: "c1", SchoolKind: "technician_college", Speciality: "welding"},
		events.ProfessionalTitleObtained{CraftsmanID: "c1", Tier: "intermediate", Title: "engineer"},
		events.TrainingEnrolled{CraftsmanID: "c1", AcademyID: "a1", CourseID: "k1", Trade: welder, Mode: "classroom"},
		events.TrainingCompleted{CraftsmanID: "c1", AcademyID: "a1", CourseID: "k1", Trade: welder, Hours: 40, Mode: "on_the_job", Passed: true},
		events.TrainingCompleted{CraftsmanID: "c1", AcademyID: "a1", CourseID: "k1", Trade: welder, Hours: 8, Mode: "online_micro"},
		events.SkillLevelCertified{CraftsmanID: "c1", Trade: welder, Level: events.Senior, CertificateNumber: "N1"},
		events.AssessmentRecorded{CraftsmanID: "c1", AssessmentID: "a1", Trade: welder, Level: events.Senior, EvaluatingOrgID: "eval1", Passed: true},
		events.AssessmentRecorded{CraftsmanID: "c1", AssessmentID: "a2", Trade: welder, Level: events.Senior, EvaluatingOrgID: "eval1"},
		events.PromotionEntitlementGranted{CraftsmanID: "c1", Trade: welder, Level: events.Technician},
		events.PromotionEntitlementApproved{CraftsmanID: "c1", EntitlementID: "en1", ApprovalRef: "r1"},
		events.UpperGradeAppointed{CraftsmanID: "c1", Trade: welder, Grade: events.PrincipalTechnician, EmployerOrgID: "emp1"},
		events.CompetitionPlaced{CraftsmanID: "c1", CompetitionID: "k", Rank: 2, Award: "silver", Tier: "provincial", Trade: welder},
		events.MentorshipStarted{MentorshipParties: parties, Trade: welder},
		events.MentorshipSessionLogged{MentorshipParties: parties, Hours: 2},
		events.MentorshipCompleted{MentorshipParties: parties, Trade: welder, LevelReached: &senior},
		events.MentorshipCompleted{MentorshipParties: parties, Trade: welder},
		events.MentorshipEndedEarly{MentorshipParties: parties, Reason: "moved"},
		events.HonourConferred{CraftsmanID: "c1", HonourID: "h1", Code: "x", Name: "哈尔滨工匠", Level: "city", ConferringBody: "总工会"},
		events.HonourWithdrawn{CraftsmanID: "c1", HonourID: "h1", Reason: "error"},
		events.InnovationRecognised{CraftsmanID: "c1", Title: "焊枪", Kind: "patent", Level: "national"},
		events.EventCorrected{CraftsmanID: "c1", SupersedesEventID: "0123456789abcdef", Reason: "typo"},
		events.PersonalDataErased{CraftsmanID: "c1", Reason: "request 1"},
	}
	han := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
	}
	for _, p := range payloads {
		r := events.Recorded{Type: p.EventType(), Payload: p}
		en, zh := describeIn(r, langEN), describeIn(r, langZH)
		if en == r.Type || zh == r.Type || zh == en || !han(zh) {
			t.Errorf("%s: en %q, zh %q", r.Type, en, zh)
		}
		for _, word := range []string{"classroom", "on_the_job", "online_micro", "silver", "provincial", "technician_college", "patent", "national", "city", "Senior", "Technician"} {
			if strings.Contains(zh, word) {
				t.Errorf("%s: %q leaves the code %q untranslated", r.Type, zh, word)
			}
		}
	}
	if got := describeIn(events.Recorded{Type: "AssessmentRecorded.v1", Payload: payloads[12]}, langZH); !strings.Contains(got, "未通过") {
		t.Errorf("a failed assessment in Chinese %q does not say 未通过", got)
	}
	if got := describeIn(events.Recorded{Type: "SkillLevelCertified.v1", Payload: payloads[10]}, langZH); !strings.Contains(got, events.Senior.Info().Chinese) {
		t.Errorf("certificate in Chinese %q lacks the ladder's name %q", got, events.Senior.Info().Chinese)
	}
}

// TestCorrectionSaysWhatTheFactNowIs: a correction that replaces a fact
// describes the replacement (a placement corrected from rank 1 to rank 30
// reads "Placed 30"), in both languages; a retraction keeps its reason
// only.
func TestCorrectionSaysWhatTheFactNowIs(t *testing.T) {
	welder := events.Trade{Code: "6-18-02-04", Name: "焊工"}
	placed := events.CompetitionPlaced{CraftsmanID: "c1", CompetitionID: "k", CompetitionName: "市职工技能大赛", Rank: 30, Award: "none", Tier: "city", Trade: welder}
	rep, err := events.NewReplacement(placed, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := events.EventCorrected{CraftsmanID: "c1", SupersedesEventID: "e1", Reason: "rank was 30", Replacement: rep}
	r := events.Recorded{Type: c.EventType(), Payload: c}
	if en := describeIn(r, langEN); !strings.Contains(en, "Placed 30 (none) at 市职工技能大赛") || !strings.Contains(en, "rank was 30") {
		t.Errorf("en %q, want the replacement described and the reason", en)
	}
	if zh := describeIn(r, langZH); !strings.Contains(zh, "第 30 名") || !strings.Contains(zh, "rank was 30") {
		t.Errorf("zh %q, want the replacement described and the reason", zh)
	}
	retract := events.Recorded{Type: c.EventType(), Payload: events.EventCorrected{CraftsmanID: "c1", SupersedesEventID: "e1", Reason: "never happened"}}
	if en := describeIn(retract, langEN); en != "Correction of event e1: never happened" {
		t.Errorf("retraction: %q", en)
	}
}

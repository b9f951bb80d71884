package schema

import (
	"fmt"
	"strconv"

	"github.com/craftledger/craftledger/events"
)

// tradeOf returns the trade an event is about, when it names one.
func tradeOf(p events.Payload) (events.Trade, bool) {
	switch p := p.(type) {
	case events.TradeEntered:
		return p.Trade, true
	case events.EmploymentStarted:
		return p.Trade, true
	case events.Graduated:
		return p.Trade, true
	case events.ProfessionalTitleObtained:
		return p.Trade, true
	case events.TrainingEnrolled:
		return p.Trade, true
	case events.TrainingCompleted:
		return p.Trade, true
	case events.SkillLevelCertified:
		return p.Trade, true
	case events.PromotionEntitlementGranted:
		return p.Trade, true
	case events.UpperGradeAppointed:
		return p.Trade, true
	case events.CompetitionPlaced:
		return p.Trade, true
	case events.MentorshipStarted:
		return p.Trade, true
	case events.MentorshipCompleted:
		return p.Trade, true
	case events.HonourConferred:
		if p.Trade != nil {
			return *p.Trade, true
		}
	case events.InnovationRecognised:
		if p.Trade != nil {
			return *p.Trade, true
		}
	}
	return events.Trade{}, false
}

func tradeName(t events.Trade) string {
	if t.Name != "" {
		return t.Name + " (" + t.Code + ")"
	}
	return t.Code
}

// describe is the readable English line of a timeline entry.
func describe(r events.Recorded) string {
	switch p := r.Payload.(type) {
	case events.CraftsmanRegistered:
		return "Registered in the ledger"
	case events.CraftsmanProfileChanged:
		return "Profile updated"
	case events.TradeEntered:
		return "Entered the trade " + tradeName(p.Trade)
	case events.EmploymentStarted:
		who := p.EmployerName
		if who == "" {
			who = p.EmployerOrgID
		}
		return "Started work at " + who + " as " + tradeName(p.Trade)
	case events.EmploymentEnded:
		return "Employment " + p.EmploymentID + " ended"
	case events.Graduated:
		return fmt.Sprintf("Graduated from a %s in %s", p.SchoolKind, p.Speciality)
	case events.ProfessionalTitleObtained:
		return fmt.Sprintf("Obtained the %s professional title %s", p.Tier, p.Title)
	case events.TrainingEnrolled:
		return fmt.Sprintf("Enrolled in course %s at %s (%s)", p.CourseID, p.AcademyID, p.Mode)
	case events.TrainingCompleted:
		verdict := "completed"
		if !p.Passed {
			verdict = "attended"
		}
		return fmt.Sprintf("%s course %s at %s: %s hours (%s)", capital(verdict), p.CourseID, p.AcademyID, strconv.FormatFloat(p.Hours, 'f', -1, 64), p.Mode)
	case events.SkillLevelCertified:
		return fmt.Sprintf("Certified %s in %s (certificate %s)", p.Level.Info().English, tradeName(p.Trade), p.CertificateNumber)
	case events.PromotionEntitlementGranted:
		return fmt.Sprintf("Entitled to promotion to %s in %s (%s)", p.Level.Info().English, tradeName(p.Trade), p.Source.Kind)
	case events.PromotionEntitlementApproved:
		return "Promotion entitlement " + p.EntitlementID + " approved (" + p.ApprovalRef + ")"
	case events.UpperGradeAppointed:
		return fmt.Sprintf("Appointed %s in %s by %s", p.Grade.Info().English, tradeName(p.Trade), p.EmployerOrgID)
	case events.CompetitionPlaced:
		name := p.CompetitionName
		if name == "" {
			name = p.CompetitionID
		}
		return fmt.Sprintf("Placed %d (%s) at %s, %s tier", p.Rank, p.Award, name, p.Tier)
	case events.MentorshipStarted:
		return fmt.Sprintf("Mentorship %s started: master %s, apprentice %s", p.MentorshipID, p.MasterID, p.ApprenticeID)
	case events.MentorshipSessionLogged:
		return fmt.Sprintf("Mentorship session, %s hours", strconv.FormatFloat(p.Hours, 'f', -1, 64))
	case events.MentorshipCompleted:
		if p.LevelReached != nil {
			return "Mentorship completed; apprentice reached " + p.LevelReached.Info().English
		}
		return "Mentorship completed"
	case events.MentorshipEndedEarly:
		return "Mentorship ended early: " + p.Reason
	case events.HonourConferred:
		name := p.Name
		if name == "" {
			name = p.Code
		}
		return fmt.Sprintf("Honoured: %s (%s, by %s)", name, p.Level, p.ConferringBody)
	case events.HonourWithdrawn:
		return "Honour " + p.HonourID + " withdrawn: " + p.Reason
	case events.InnovationRecognised:
		return fmt.Sprintf("Innovation recognised: %s (%s, %s level)", p.Title, p.Kind, p.Level)
	case events.EventCorrected:
		return "Correction of event " + p.SupersedesEventID + ": " + p.Reason
	}
	return r.Type
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

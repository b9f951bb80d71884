package schema

import (
	"fmt"
	"strconv"

	"github.com/craftledger/craftledger/events"
)

const personalDataDoc = "What is known of the personal data: none, clear (recorded in clear; name shown), sealed (encrypted under the craftsman's key; the name is shown when this server holds the keyring and the key exists) or erased (forgotten: the key destroyed; never shown)."

const nameDoc = "Recorded in clear, or sealed and opened with this server's keyring; null when sealed without a key here, or erased."

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
	case events.AssessmentRecorded:
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
	case events.AssessmentRecorded:
		verdict := "passed"
		if !p.Passed {
			verdict = "not passed"
		}
		return fmt.Sprintf("Assessed for %s in %s by %s: %s", p.Level.Info().English, tradeName(p.Trade), p.EvaluatingOrgID, verdict)
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
		if rep := p.Replacement; rep != nil && rep.Payload != nil {
			// What the fact now says, not only that it changed.
			return "Corrected: " + describe(events.Recorded{Type: rep.Type, Payload: rep.Payload}) + " (" + p.Reason + ")"
		}
		return "Correction of event " + p.SupersedesEventID + ": " + p.Reason
	case events.PersonalDataErased:
		return "Personal data erased: " + p.Reason
	}
	return r.Type
}

// Languages of TimelineEntry.title.
const (
	langEN = "en"
	langZH = "zh"
)

// describeIn is the readable line of a timeline entry in lang (en or zh).
func describeIn(r events.Recorded, lang string) string {
	if lang == langZH {
		return describeZH(r)
	}
	return describe(r)
}

// zhWords are the Chinese words for the codes events carry (modes, tiers,
// awards, school kinds, honour and innovation levels and kinds); a code
// without one is shown as it is.
var zhWords = map[string]string{
	"classroom": "面授", "on_the_job": "岗位实训", "online_micro": "线上微课", "virtual_sim": "虚拟仿真",
	"world": "世界", "national": "国家级", "national_class_1": "国家级一类", "national_class_2": "国家级二类",
	"provincial": "省级", "city": "市级", "enterprise": "企业级", "academy": "学院级",
	"gold": "金牌", "silver": "银牌", "bronze": "铜牌", "excellence": "优胜奖", "none": "无奖项",
	"technical_school": "技工学校", "senior_technical_school": "高级技工学校", "technician_college": "技师学院",
	"secondary_vocational": "中等职业学校", "higher_vocational": "高等职业学校", "college": "大专", "university": "本科",
	"five_small": "五小", "breakthrough": "技术攻关", "patent": "专利", "studio_project": "创新工作室项目",
	"junior": "初级", "intermediate": "中级", "senior": "高级", "competition": "竞赛", "honour": "荣誉",
	"employees": "职工组", "students": "学生组", "invention": "小发明", "creation": "小创造", "innovation": "小革新",
	"design": "小设计", "suggestion": "小建议",
}

func zhWord(code string) string {
	if w, ok := zhWords[code]; ok {
		return w
	}
	return code
}

func zhLevel(l events.Level) string { return l.Info().Chinese }

func zhHours(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) + " 学时" }

// describeZH is describe in Chinese, sentence for sentence.
func describeZH(r events.Recorded) string {
	switch p := r.Payload.(type) {
	case events.CraftsmanRegistered:
		return "在档案中登记"
	case events.CraftsmanProfileChanged:
		return "资料更新"
	case events.TradeEntered:
		return "进入工种 " + tradeName(p.Trade)
	case events.EmploymentStarted:
		who := p.EmployerName
		if who == "" {
			who = p.EmployerOrgID
		}
		return "入职 " + who + "，工种 " + tradeName(p.Trade)
	case events.EmploymentEnded:
		return "就业 " + p.EmploymentID + " 结束"
	case events.Graduated:
		return zhWord(p.SchoolKind) + "毕业，专业 " + p.Speciality
	case events.ProfessionalTitleObtained:
		return "取得" + zhWord(p.Tier) + "职称 " + p.Title
	case events.TrainingEnrolled:
		return "报名 " + p.AcademyID + " 课程 " + p.CourseID + "（" + zhWord(p.Mode) + "）"
	case events.TrainingCompleted:
		if !p.Passed {
			return "在 " + p.AcademyID + " 参加课程 " + p.CourseID + "（未通过）：" + zhHours(p.Hours) + "（" + zhWord(p.Mode) + "）"
		}
		return "在 " + p.AcademyID + " 完成课程 " + p.CourseID + "：" + zhHours(p.Hours) + "（" + zhWord(p.Mode) + "）"
	case events.AssessmentRecorded:
		verdict := "通过"
		if !p.Passed {
			verdict = "未通过"
		}
		return "参加 " + p.EvaluatingOrgID + " 组织的 " + tradeName(p.Trade) + " " + zhLevel(p.Level) + "鉴定：" + verdict
	case events.SkillLevelCertified:
		return "取得 " + tradeName(p.Trade) + " " + zhLevel(p.Level) + "证书（编号 " + p.CertificateNumber + "）"
	case events.PromotionEntitlementGranted:
		return "获得 " + tradeName(p.Trade) + " 晋升" + zhLevel(p.Level) + "的资格（" + zhWord(p.Source.Kind) + "）"
	case events.PromotionEntitlementApproved:
		return "晋升资格 " + p.EntitlementID + " 已批准（" + p.ApprovalRef + "）"
	case events.UpperGradeAppointed:
		return "由 " + p.EmployerOrgID + " 聘任为 " + tradeName(p.Trade) + " " + zhLevel(p.Grade)
	case events.CompetitionPlaced:
		name := p.CompetitionName
		if name == "" {
			name = p.CompetitionID
		}
		return fmt.Sprintf("%s 第 %d 名（%s，%s）", name, p.Rank, zhWord(p.Award), zhWord(p.Tier))
	case events.MentorshipStarted:
		return "师徒结对 " + p.MentorshipID + "：师傅 " + p.MasterID + "，徒弟 " + p.ApprenticeID
	case events.MentorshipSessionLogged:
		return "带徒活动 " + zhHours(p.Hours)
	case events.MentorshipCompleted:
		if p.LevelReached != nil {
			return "师徒期满，徒弟达到" + zhLevel(*p.LevelReached)
		}
		return "师徒期满"
	case events.MentorshipEndedEarly:
		return "师徒关系提前结束：" + p.Reason
	case events.HonourConferred:
		name := p.Name
		if name == "" {
			name = p.Code
		}
		return "获得荣誉：" + name + "（" + zhWord(p.Level) + "，" + p.ConferringBody + " 授予）"
	case events.HonourWithdrawn:
		return "荣誉 " + p.HonourID + " 被撤销：" + p.Reason
	case events.InnovationRecognised:
		return "创新成果认定：" + p.Title + "（" + zhWord(p.Kind) + "，" + zhWord(p.Level) + "）"
	case events.EventCorrected:
		if rep := p.Replacement; rep != nil && rep.Payload != nil {
			return "更正为：" + describeZH(events.Recorded{Type: rep.Type, Payload: rep.Payload}) + "（" + p.Reason + "）"
		}
		id := p.SupersedesEventID
		if len(id) > 8 {
			id = id[:8] + "…"
		}
		return "更正事件 " + id + "：" + p.Reason
	case events.PersonalDataErased:
		return "个人信息已删除：" + p.Reason
	}
	return r.Type
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

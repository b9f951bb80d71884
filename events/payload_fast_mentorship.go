package events

// The scanner for MentorshipStarted, which a mentorship start decodes on
// every command (the pairing's stream, read before the append), under the
// same rules as payload_fast.go: the exact form json.Marshal writes,
// anything else left to encoding/json.

func decodeMentorshipStarted(data []byte) (Payload, error) {
	return decodeScanned(data, scanMentorshipStarted)
}

func scanMentorshipStarted(data []byte) (v MentorshipStarted, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	if s.whole(func(k []byte) bool {
		switch string(k) { // no allocation for the switch
		case "mentorshipId":
			return seen(&m, 1<<0) && s.strTo(&v.MentorshipID)
		case "masterId":
			return seen(&m, 1<<1) && s.strTo(&v.MasterID)
		case "apprenticeId":
			return seen(&m, 1<<2) && s.strTo(&v.ApprenticeID)
		case "kind":
			return seen(&m, 1<<3) && s.strTo(&v.Kind)
		case "trade":
			return seen(&m, 1<<4) && s.trade(&v.Trade)
		case "academyId":
			return seen(&m, 1<<5) && s.strTo(&v.AcademyID)
		case "employerOrgId":
			return seen(&m, 1<<6) && s.strTo(&v.EmployerOrgID)
		case "plannedMonths":
			return seen(&m, 1<<7) && s.intTo(&v.PlannedMonths)
		}
		return false
	}) {
		return v, true
	}
	return MentorshipStarted{}, false
}

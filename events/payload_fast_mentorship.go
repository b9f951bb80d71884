package events

import "strconv"

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

// intTo reads an integer as json.Marshal writes an int (-?(0|[1-9][0-9]*),
// no fraction or exponent, which encoding/json refuses for an int) that
// fits an int.
func (s *jsonScan) intTo(dst *int) bool {
	start := s.i
	s.byte('-')
	switch {
	case s.byte('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	default:
		return false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, strconv.IntSize)
	*dst = int(n)
	return err == nil
}

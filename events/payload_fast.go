package events

import (
	"strconv"
	"unicode/utf8"
)

// The hot payload types of a projection's catch-up (TrainingCompleted is
// about two thirds of a generated ledger's events) are read by a scanner
// for the exact form json.Marshal writes — no whitespace, no escapes, known
// keys spelt exactly, each once, no nulls. Anything else (escapes, unknown
// or case-variant or duplicate keys, nulls, whitespace, numbers out of
// range, invalid UTF-8) falls back to encoding/json, so the result is
// always encoding/json's: FuzzDecodeTrainingCompleted checks that.

func decodeTrainingCompleted(data []byte) (Payload, error) {
	if v, ok := scanTrainingCompleted(data); ok {
		return v, nil
	}
	return decodeAs[TrainingCompleted](data)
}

// jsonScan reads canonical JSON; every method returns ok=false on anything
// outside the canonical form.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, valid UTF-8:
// encoding/json returns such a string's bytes unchanged.
func (s *jsonScan) str() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	start := s.i
	ascii := true
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				return "", false
			}
			return string(v), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// key reads an object key and its colon.
func (s *jsonScan) key() ([]byte, bool) {
	start := s.i
	if !s.byte('"') {
		return nil, false
	}
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		if c == '"' {
			k := s.b[start+1 : s.i]
			s.i++
			if !s.byte(':') {
				return nil, false
			}
			return k, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return nil, false
		}
	}
	return nil, false
}

// num reads a number in JSON's grammar that fits a float64.
func (s *jsonScan) num() (float64, bool) {
	start := s.i
	s.byte('-')
	digits := func() bool {
		n := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		return s.i > n
	}
	switch {
	case s.byte('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		digits()
	default:
		return 0, false
	}
	if s.byte('.') && !digits() {
		return 0, false
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if !digits() {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
	return f, err == nil
}

func (s *jsonScan) boolean() (bool, bool) {
	rest := s.b[s.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// object reads {"k":v,...}: field reads the value of key k, or returns
// false (unknown key, duplicate, bad value) to give up.
func (s *jsonScan) object(field func(k []byte) bool) bool {
	if !s.byte('{') {
		return false
	}
	if s.byte('}') {
		return true
	}
	for {
		k, ok := s.key()
		if !ok || !field(k) {
			return false
		}
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// seen marks field bit of *m, false when it was already set.
func seen(m *uint32, bit uint32) bool {
	if *m&bit != 0 {
		return false
	}
	*m |= bit
	return true
}

func (s *jsonScan) trade(t *Trade) bool {
	var m uint32
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) { // no allocation for the switch
		case "code":
			if ok = seen(&m, 1); ok {
				t.Code, ok = s.str()
			}
		case "name":
			if ok = seen(&m, 2); ok {
				t.Name, ok = s.str()
			}
		}
		return ok
	})
}

func scanTrainingCompleted(data []byte) (v TrainingCompleted, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	ok = s.object(func(k []byte) bool {
		var ok bool
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			if ok = seen(&m, 1<<0); ok {
				v.CraftsmanID, ok = s.str()
			}
		case "enrolmentId":
			if ok = seen(&m, 1<<1); ok {
				v.EnrolmentID, ok = s.str()
			}
		case "academyId":
			if ok = seen(&m, 1<<2); ok {
				v.AcademyID, ok = s.str()
			}
		case "courseId":
			if ok = seen(&m, 1<<3); ok {
				v.CourseID, ok = s.str()
			}
		case "trade":
			if ok = seen(&m, 1<<4); ok {
				ok = s.trade(&v.Trade)
			}
		case "module":
			if ok = seen(&m, 1<<5); ok {
				v.Module, ok = s.str()
			}
		case "hours":
			if ok = seen(&m, 1<<6); ok {
				v.Hours, ok = s.num()
			}
		case "mode":
			if ok = seen(&m, 1<<7); ok {
				v.Mode, ok = s.str()
			}
		case "score":
			if ok = seen(&m, 1<<8); ok {
				var f float64
				f, ok = s.num()
				v.Score = &f
			}
		case "passed":
			if ok = seen(&m, 1<<9); ok {
				v.Passed, ok = s.boolean()
			}
		}
		return ok
	})
	if !ok || s.i != len(data) {
		return TrainingCompleted{}, false
	}
	return v, true
}

func decodeSkillLevelCertified(data []byte) (Payload, error) {
	if v, ok := scanSkillLevelCertified(data); ok {
		return v, nil
	}
	return decodeAs[SkillLevelCertified](data)
}

func (s *jsonScan) org(o *Org) bool {
	var m uint32
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "id":
			if ok = seen(&m, 1); ok {
				o.ID, ok = s.str()
			}
		case "name":
			if ok = seen(&m, 2); ok {
				o.Name, ok = s.str()
			}
		case "kind":
			if ok = seen(&m, 4); ok {
				o.Kind, ok = s.str()
			}
		}
		return ok
	})
}

// level reads a level as a string (what MarshalText writes); a name that
// ParseLevel rejects, or a number, is left to encoding/json and its error.
func (s *jsonScan) level(l *Level) bool {
	v, ok := s.str()
	if !ok {
		return false
	}
	p, err := ParseLevel(v)
	if err != nil {
		return false
	}
	*l = p
	return true
}

func scanSkillLevelCertified(data []byte) (v SkillLevelCertified, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	ok = s.object(func(k []byte) bool {
		var ok bool
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			if ok = seen(&m, 1<<0); ok {
				v.CraftsmanID, ok = s.str()
			}
		case "trade":
			if ok = seen(&m, 1<<1); ok {
				ok = s.trade(&v.Trade)
			}
		case "level":
			if ok = seen(&m, 1<<2); ok {
				ok = s.level(&v.Level)
			}
		case "certificateNumber":
			if ok = seen(&m, 1<<3); ok {
				v.CertificateNumber, ok = s.str()
			}
		case "family":
			if ok = seen(&m, 1<<4); ok {
				v.Family, ok = s.str()
			}
		case "evaluatingOrgId":
			if ok = seen(&m, 1<<5); ok {
				v.EvaluatingOrgID, ok = s.str()
			}
		case "issuingOrg":
			if ok = seen(&m, 1<<6); ok {
				ok = s.org(&v.IssuingOrg)
			}
		case "route":
			if ok = seen(&m, 1<<7); ok {
				v.Route, ok = s.str()
			}
		case "entitlementId":
			if ok = seen(&m, 1<<8); ok {
				v.EntitlementID, ok = s.str()
			}
		}
		return ok
	})
	if !ok || s.i != len(data) {
		return SkillLevelCertified{}, false
	}
	return v, true
}

func decodeEmploymentStarted(data []byte) (Payload, error) {
	if v, ok := scanEmploymentStarted(data); ok {
		return v, nil
	}
	return decodeAs[EmploymentStarted](data)
}

func scanEmploymentStarted(data []byte) (v EmploymentStarted, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	ok = s.object(func(k []byte) bool {
		var ok bool
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			if ok = seen(&m, 1<<0); ok {
				v.CraftsmanID, ok = s.str()
			}
		case "employmentId":
			if ok = seen(&m, 1<<1); ok {
				v.EmploymentID, ok = s.str()
			}
		case "employerOrgId":
			if ok = seen(&m, 1<<2); ok {
				v.EmployerOrgID, ok = s.str()
			}
		case "employerName":
			if ok = seen(&m, 1<<3); ok {
				v.EmployerName, ok = s.str()
			}
		case "trade":
			if ok = seen(&m, 1<<4); ok {
				ok = s.trade(&v.Trade)
			}
		case "position":
			if ok = seen(&m, 1<<5); ok {
				v.Position, ok = s.str()
			}
		}
		return ok
	})
	if !ok || s.i != len(data) {
		return EmploymentStarted{}, false
	}
	return v, true
}

func decodeTradeEntered(data []byte) (Payload, error) {
	if v, ok := scanTradeEntered(data); ok {
		return v, nil
	}
	return decodeAs[TradeEntered](data)
}

func scanTradeEntered(data []byte) (v TradeEntered, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	ok = s.object(func(k []byte) bool {
		var ok bool
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			if ok = seen(&m, 1<<0); ok {
				v.CraftsmanID, ok = s.str()
			}
		case "trade":
			if ok = seen(&m, 1<<1); ok {
				ok = s.trade(&v.Trade)
			}
		}
		return ok
	})
	if !ok || s.i != len(data) {
		return TradeEntered{}, false
	}
	return v, true
}

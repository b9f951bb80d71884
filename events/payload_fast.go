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

// decodeScanned decodes data with scan when it is in the form json.Marshal
// writes, and with encoding/json otherwise.
func decodeScanned[T Payload](data []byte, scan func([]byte) (T, bool)) (Payload, error) {
	if v, ok := scan(data); ok {
		return v, nil
	}
	return decodeAs[T](data)
}

func decodeTrainingCompleted(data []byte) (Payload, error) {
	return decodeScanned(data, scanTrainingCompleted)
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

// intPart reads the sign and integer part of a number in JSON's grammar
// (-?(0|[1-9][0-9]*)).
func (s *jsonScan) intPart() bool {
	s.byte('-')
	switch {
	case s.byte('0'):
		return true
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
		return true
	}
	return false
}

// digits reads decimal digits; false when there is none.
func (s *jsonScan) digits() bool {
	n := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > n
}

// intTo reads an integer as json.Marshal writes an int (intPart, no
// fraction or exponent, which encoding/json refuses for an int) that fits
// an int.
func (s *jsonScan) intTo(dst *int) bool {
	start := s.i
	if !s.intPart() {
		return false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, strconv.IntSize)
	*dst = int(n)
	return err == nil
}

// num reads a number in JSON's grammar that fits a float64.
func (s *jsonScan) num() (float64, bool) {
	start := s.i
	if !s.intPart() {
		return 0, false
	}
	if s.byte('.') && !s.digits() {
		return 0, false
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if !s.digits() {
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

// strTo, numTo and boolTo read a value into *dst.
func (s *jsonScan) strTo(dst *string) (ok bool) {
	*dst, ok = s.str()
	return ok
}

func (s *jsonScan) numTo(dst *float64) (ok bool) {
	*dst, ok = s.num()
	return ok
}

func (s *jsonScan) boolTo(dst *bool) (ok bool) {
	*dst, ok = s.boolean()
	return ok
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

// whole reads a whole document: an object and nothing after it.
func (s *jsonScan) whole(field func(k []byte) bool) bool {
	return s.object(field) && s.i == len(s.b)
}

// alloc points *p at a new zero T and returns it, for optional fields.
func alloc[T any](p **T) *T {
	*p = new(T)
	return *p
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
		switch string(k) { // no allocation for the switch
		case "code":
			return seen(&m, 1) && s.strTo(&t.Code)
		case "name":
			return seen(&m, 2) && s.strTo(&t.Name)
		}
		return false
	})
}

func scanTrainingCompleted(data []byte) (v TrainingCompleted, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	if s.whole(func(k []byte) bool {
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			return seen(&m, 1<<0) && s.strTo(&v.CraftsmanID)
		case "enrolmentId":
			return seen(&m, 1<<1) && s.strTo(&v.EnrolmentID)
		case "academyId":
			return seen(&m, 1<<2) && s.strTo(&v.AcademyID)
		case "courseId":
			return seen(&m, 1<<3) && s.strTo(&v.CourseID)
		case "trade":
			return seen(&m, 1<<4) && s.trade(&v.Trade)
		case "module":
			return seen(&m, 1<<5) && s.strTo(&v.Module)
		case "hours":
			return seen(&m, 1<<6) && s.numTo(&v.Hours)
		case "mode":
			return seen(&m, 1<<7) && s.strTo(&v.Mode)
		case "score":
			return seen(&m, 1<<8) && s.numTo(alloc(&v.Score))
		case "passed":
			return seen(&m, 1<<9) && s.boolTo(&v.Passed)
		}
		return false
	}) {
		return v, true
	}
	return TrainingCompleted{}, false
}

func decodeSkillLevelCertified(data []byte) (Payload, error) {
	return decodeScanned(data, scanSkillLevelCertified)
}

func (s *jsonScan) org(o *Org) bool {
	var m uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return seen(&m, 1) && s.strTo(&o.ID)
		case "name":
			return seen(&m, 2) && s.strTo(&o.Name)
		case "kind":
			return seen(&m, 4) && s.strTo(&o.Kind)
		}
		return false
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
	if s.whole(func(k []byte) bool {
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			return seen(&m, 1<<0) && s.strTo(&v.CraftsmanID)
		case "trade":
			return seen(&m, 1<<1) && s.trade(&v.Trade)
		case "level":
			return seen(&m, 1<<2) && s.level(&v.Level)
		case "certificateNumber":
			return seen(&m, 1<<3) && s.strTo(&v.CertificateNumber)
		case "family":
			return seen(&m, 1<<4) && s.strTo(&v.Family)
		case "evaluatingOrgId":
			return seen(&m, 1<<5) && s.strTo(&v.EvaluatingOrgID)
		case "issuingOrg":
			return seen(&m, 1<<6) && s.org(&v.IssuingOrg)
		case "route":
			return seen(&m, 1<<7) && s.strTo(&v.Route)
		case "entitlementId":
			return seen(&m, 1<<8) && s.strTo(&v.EntitlementID)
		}
		return false
	}) {
		return v, true
	}
	return SkillLevelCertified{}, false
}

func decodeEmploymentStarted(data []byte) (Payload, error) {
	return decodeScanned(data, scanEmploymentStarted)
}

func scanEmploymentStarted(data []byte) (v EmploymentStarted, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	if s.whole(func(k []byte) bool {
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			return seen(&m, 1<<0) && s.strTo(&v.CraftsmanID)
		case "employmentId":
			return seen(&m, 1<<1) && s.strTo(&v.EmploymentID)
		case "employerOrgId":
			return seen(&m, 1<<2) && s.strTo(&v.EmployerOrgID)
		case "employerName":
			return seen(&m, 1<<3) && s.strTo(&v.EmployerName)
		case "trade":
			return seen(&m, 1<<4) && s.trade(&v.Trade)
		case "position":
			return seen(&m, 1<<5) && s.strTo(&v.Position)
		}
		return false
	}) {
		return v, true
	}
	return EmploymentStarted{}, false
}

func decodeTradeEntered(data []byte) (Payload, error) { return decodeScanned(data, scanTradeEntered) }

func scanTradeEntered(data []byte) (v TradeEntered, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	if s.whole(func(k []byte) bool {
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			return seen(&m, 1<<0) && s.strTo(&v.CraftsmanID)
		case "trade":
			return seen(&m, 1<<1) && s.trade(&v.Trade)
		}
		return false
	}) {
		return v, true
	}
	return TradeEntered{}, false
}

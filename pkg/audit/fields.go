package audit

import (
	"encoding/json"
	"errors"
)

// scanOrgFields fills f from a JSON object without reflection: it walks the
// top-level members once, keeps the string values the issuer rule needs
// (and those of the issuingOrg and source objects), and skips everything
// else. Verify calls it for most events, so it must cost far less than the
// store's read. Malformed JSON is an error, as with encoding/json.
func scanOrgFields(data []byte, f *orgFields) error {
	i, err := scanObject(data, skipSpace(data, 0), func(key []byte, val []byte, isString bool) error {
		if !isString {
			if val[0] != '{' {
				return nil // not an object: nothing the rule reads
			}
			switch string(key) {
			case "issuingOrg":
				_, err := scanObject(val, 0, func(k, v []byte, s bool) error {
					if s && string(k) == "id" {
						return unquote(v, &f.IssuingOrg.ID)
					}
					return nil
				})
				return err
			case "source":
				_, err := scanObject(val, 0, func(k, v []byte, s bool) error {
					if !s {
						return nil
					}
					switch string(k) {
					case "kind":
						return unquote(v, &f.Source.Kind)
					case "competitionId":
						return unquote(v, &f.Source.CompetitionID)
					}
					return nil
				})
				return err
			}
			return nil
		}
		var dst *string
		switch string(key) {
		case "academyId":
			dst = &f.AcademyID
		case "issuingOrgId":
			dst = &f.IssuingOrgID
		case "evaluatingOrgId":
			dst = &f.EvaluatingOrgID
		case "approvingOrgId":
			dst = &f.ApprovingOrgID
		case "employerOrgId":
			dst = &f.EmployerOrgID
		case "organiser":
			dst = &f.Organiser
		case "competitionId":
			dst = &f.CompetitionID
		case "mentorshipId":
			dst = &f.MentorshipID
		case "employmentId":
			dst = &f.EmploymentID
		case "honourId":
			dst = &f.HonourID
		default:
			return nil
		}
		return unquote(val, dst)
	})
	if err != nil {
		return err
	}
	if skipSpace(data, i) != len(data) {
		return errBadJSON
	}
	return nil
}

var errBadJSON = errors.New("malformed JSON")

func unquote(v []byte, dst *string) error {
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' {
			return json.Unmarshal(v, dst)
		}
	}
	*dst = string(v[1 : len(v)-1])
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanObject walks the object starting at b[i] ('{'), calling fn with each
// member's raw key (unquoted only if it has no escapes) and raw value, and
// returns the index after the object.
func scanObject(b []byte, i int, fn func(key, val []byte, isString bool) error) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return i, errBadJSON
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, errBadJSON
		}
		end, err := skipString(b, i)
		if err != nil {
			return i, err
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, errBadJSON
		}
		i = skipSpace(b, i+1)
		vstart := i
		if i, err = skipValue(b, i); err != nil {
			return i, err
		}
		if err := fn(key, b[vstart:i], b[vstart] == '"'); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, errBadJSON
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return i, errBadJSON
		}
		i = skipSpace(b, i+1)
	}
}

// literal reports whether v is true, false, null or a JSON number.
func literal(v []byte) bool {
	switch string(v) {
	case "true", "false", "null":
		return true
	}
	i := 0
	if v[0] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if n := digits(); n == 0 || (n > 1 && v[i-n] == '0') {
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(v)
}

func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return len(b), errBadJSON
}

func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errBadJSON
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, err := skipString(b, j)
				if err != nil {
					return e, err
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return len(b), errBadJSON
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return i, errBadJSON
		}
		if !literal(b[i:j]) {
			return j, errBadJSON
		}
		return j, nil
	}
}

package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// orgRefs are orgFields as parts of the scanned data (a copy only for a
// string with escapes), so that the issuer rule, which runs for most
// events, reads them without allocating.
type orgRefs struct {
	AcademyID, IssuingOrgNestedID, IssuingOrgID, EvaluatingOrgID, ApprovingOrgID  []byte
	EmployerOrgID, Organiser, CompetitionID, MentorshipID, EmploymentID, HonourID []byte
	SourceKind, SourceCompetitionID                                               []byte
	SupersedesEventID                                                             []byte // EventCorrected
	// ReplacementType and ReplacementData are an EventCorrected's
	// replacement: its type (unquoted) and its data (the raw JSON value).
	ReplacementType, ReplacementData []byte
}

// scanOrgRefs fills f from a JSON object without reflection: it walks the
// top-level members once, keeps the string values the issuer rule needs
// (and those of the issuingOrg, source and replacement objects), and skips everything
// else. Verify calls it for most events, so it must cost far less than the
// store's read. Member names match as encoding/json matches them (escapes
// decoded, case-insensitive), and a name the rule reads that occurs twice
// in one object is an error (errDuplicate): encoding/json would take the
// last, a reader stopping at the first another. Malformed JSON is an
// error, as with encoding/json.
func scanOrgRefs(data []byte, f *orgRefs) error { return scanOrgRefsFact(data, f, nil) }

// scanOrgRefsFact is scanOrgRefs feeding each top-level member to d as
// well (when not nil), so that the issuer rule's one pass over a feed's
// event also digests the fact it records (factDigest).
func scanOrgRefsFact(data []byte, f *orgRefs, d *factHasher) error {
	var seen uint32 // bit per field below, so a repeated name is seen
	set := func(bit uint32, key, v []byte, dst *[]byte) error {
		if err := mark(&seen, bit, key); err != nil {
			return err
		}
		return unquoteBytes(v, dst)
	}
	var buf [64]byte
	i, err := scanObject(data, skipSpace(data, 0), func(key []byte, val []byte, isString bool) error {
		k, err := foldKey(buf[:0], key)
		if err != nil {
			return err
		}
		if d != nil {
			d.member(k, val, isString)
		}
		if !isString {
			if val[0] != '{' {
				return nil // not an object: nothing the rule reads
			}
			switch string(k) {
			case "ISSUINGORG":
				if err := mark(&seen, 1<<20, key); err != nil {
					return err
				}
				var inner uint32
				var kb [64]byte
				_, err := scanObject(val, 0, func(k, v []byte, s bool) error {
					fk, err := foldKey(kb[:0], k)
					if err != nil || string(fk) != "ID" {
						return err
					}
					if inner != 0 {
						return duplicate(k)
					}
					inner = 1
					if !s {
						return nil
					}
					return unquoteBytes(v, &f.IssuingOrgNestedID)
				})
				return err
			case "REPLACEMENT":
				if err := mark(&seen, 1<<22, key); err != nil {
					return err
				}
				var inner uint32
				var kb [64]byte
				_, err := scanObject(val, 0, func(k, v []byte, s bool) error {
					fk, err := foldKey(kb[:0], k)
					if err != nil {
						return err
					}
					switch string(fk) {
					case "TYPE":
						if err := mark(&inner, 1, k); err != nil || !s {
							return err
						}
						return unquoteBytes(v, &f.ReplacementType)
					case "DATA":
						if err := mark(&inner, 2, k); err != nil {
							return err
						}
						f.ReplacementData = v
					}
					return nil
				})
				return err
			case "SOURCE":
				if err := mark(&seen, 1<<21, key); err != nil {
					return err
				}
				var inner uint32
				var kb [64]byte
				_, err := scanObject(val, 0, func(k, v []byte, s bool) error {
					fk, err := foldKey(kb[:0], k)
					if err != nil {
						return err
					}
					var bit uint32
					var dst *[]byte
					switch string(fk) {
					case "KIND":
						bit, dst = 1, &f.SourceKind
					case "COMPETITIONID":
						bit, dst = 2, &f.SourceCompetitionID
					default:
						return nil
					}
					if err := mark(&inner, bit, k); err != nil {
						return err
					}
					if !s {
						return nil
					}
					return unquoteBytes(v, dst)
				})
				return err
			}
			return nil
		}
		switch string(k) {
		case "ACADEMYID":
			return set(1<<0, key, val, &f.AcademyID)
		case "ISSUINGORGID":
			return set(1<<1, key, val, &f.IssuingOrgID)
		case "EVALUATINGORGID":
			return set(1<<2, key, val, &f.EvaluatingOrgID)
		case "APPROVINGORGID":
			return set(1<<3, key, val, &f.ApprovingOrgID)
		case "EMPLOYERORGID":
			return set(1<<4, key, val, &f.EmployerOrgID)
		case "ORGANISER":
			return set(1<<5, key, val, &f.Organiser)
		case "COMPETITIONID":
			return set(1<<6, key, val, &f.CompetitionID)
		case "MENTORSHIPID":
			return set(1<<7, key, val, &f.MentorshipID)
		case "EMPLOYMENTID":
			return set(1<<8, key, val, &f.EmploymentID)
		case "HONOURID":
			return set(1<<9, key, val, &f.HonourID)
		case "SUPERSEDESEVENTID":
			return set(1<<10, key, val, &f.SupersedesEventID)
		case "ISSUINGORG":
			return mark(&seen, 1<<20, key)
		case "SOURCE":
			return mark(&seen, 1<<21, key)
		case "REPLACEMENT":
			return mark(&seen, 1<<22, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if skipSpace(data, i) != len(data) {
		return errBadJSON
	}
	return nil
}

// errDuplicate: an object names one member twice (as encoding/json
// matches names), so two readers may disagree on its value.
var errDuplicate = errors.New("duplicate member")

// mark sets bit in *seen, or returns errDuplicate for key when it is
// already set.
func mark(seen *uint32, bit uint32, key []byte) error {
	if *seen&bit != 0 {
		return duplicate(key)
	}
	*seen |= bit
	return nil
}

func duplicate(key []byte) error {
	return fmt.Errorf("%w %q: ambiguous", errDuplicate, key)
}

// metaIssuer is metaIssuerBytes as a string.
func metaIssuer(meta []byte) (string, error) {
	issuer, err := metaIssuerBytes(meta)
	return string(issuer), err
}

// metaIssuerBytes reads issuerOrgId from an event's metadata as the
// domain's decoder (events.DecodeMetadata, encoding/json on anything not
// canonical) reads it: names match case-insensitively with escapes
// decoded, and of repeated names the last counts. It checks the whole
// object: any member name occurring twice is an errDuplicate error (the
// issuer returned is still the last one, what the services believe), as is
// metadata that is not a JSON object (errBadJSON) or an issuer that is not
// a string. The issuer is a part of meta unless it has escapes.
func metaIssuerBytes(meta []byte) ([]byte, error) {
	if issuer, ok := canonicalIssuer(meta); ok {
		return issuer, nil
	}
	return foldedIssuer(meta)
}

// foldedIssuer is metaIssuerBytes on any metadata: it folds every name.
func foldedIssuer(meta []byte) ([]byte, error) {
	var (
		issuer []byte
		dup    error
		buf    [256]byte // folded names, back to back
		endBuf [16]int   // where each folded name ends in keys
	)
	keys, ends := buf[:0], endBuf[:0]
	i, err := scanObject(meta, skipSpace(meta, 0), func(key, val []byte, isString bool) error {
		start := len(keys)
		var err error
		if keys, err = foldKey(keys, key); err != nil {
			return err
		}
		k := keys[start:]
		from := 0
		for _, end := range ends {
			if bytes.Equal(keys[from:end], k) && dup == nil {
				dup = duplicate(key)
			}
			from = end
		}
		ends = append(ends, len(keys))
		if string(k) == "ISSUERORGID" {
			switch {
			case isString:
				return unquoteBytes(val, &issuer)
			case string(val) != "null":
				return fmt.Errorf("issuerOrgId is not a string")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if skipSpace(meta, i) != len(meta) {
		return nil, errBadJSON
	}
	return issuer, dup
}

// canonicalIssuer is metaIssuerBytes for metadata whose member names are
// each one of Metadata's JSON names, exactly and at most once (what
// events.EncodeMetadata writes): no two such names fold alike, so there is
// no duplicate to find and no name to fold. ok is false for anything else
// (another name, a repeated one, an error), which the general reader then
// reads.
func canonicalIssuer(meta []byte) (issuer []byte, ok bool) {
	var seen uint16
	i, err := scanObject(meta, skipSpace(meta, 0), func(key, val []byte, isString bool) error {
		var bit uint16
		switch string(key) {
		case "schemaVersion":
			bit = 1 << 0
		case "occurredAt":
			bit = 1 << 1
		case "issuerOrgId":
			bit = 1 << 2
		case "actingUserId":
			bit = 1 << 3
		case "$correlationId":
			bit = 1 << 4
		case "$causationId":
			bit = 1 << 5
		case "source":
			bit = 1 << 6
		case "prevHash":
			bit = 1 << 7
		case "hash":
			bit = 1 << 8
		default:
			return errBadJSON
		}
		if seen&bit != 0 {
			return errBadJSON
		}
		seen |= bit
		if bit == 1<<2 {
			switch {
			case isString:
				return unquoteBytes(val, &issuer)
			case string(val) != "null":
				return errBadJSON
			}
		}
		return nil
	})
	if err != nil || skipSpace(meta, i) != len(meta) {
		return nil, false
	}
	return issuer, true
}

// foldKey appends to dst the form under which encoding/json matches a
// member name to a struct field: escapes decoded, each letter replaced by
// the smallest rune of its Unicode simple-folding orbit (so ASCII letters
// become upper case, and the Kelvin sign a K).
func foldKey(dst, key []byte) ([]byte, error) {
	if bytes.IndexByte(key, '\\') >= 0 {
		var s string
		q := make([]byte, 0, len(key)+2)
		q = append(append(append(q, '"'), key...), '"')
		if err := json.Unmarshal(q, &s); err != nil {
			return dst, errBadJSON
		}
		key = []byte(s)
	}
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(key[i:])
		i += size
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		dst = utf8.AppendRune(dst, m)
	}
	return dst, nil
}

var errBadJSON = errors.New("malformed JSON")

// unquoteBytes sets *dst to the JSON string v unquoted: a part of v when v
// has no escapes, else a decoded copy.
func unquoteBytes(v []byte, dst *[]byte) error {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		*dst = inner
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return err
	}
	*dst = []byte(s)
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

// skipString returns the index after the string starting at b[i] ('"').
// Plain content is skipped a word at a time (plainRun): verify skips the
// metadata's hashes and ids and most of an event's payload this way.
func skipString(b []byte, i int) (int, error) {
	for j := plainRun(b, i+1); j < len(b); j++ {
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

package schema

import "encoding/binary"

// The side files of the schema's indexes (eligtable.go, asofsidecar.go)
// start with string tables written and read by these two.

// appendStrings appends list as its length and each string's length and
// bytes (uvarints).
func appendStrings(b []byte, list []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, s := range list {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// readStrings reads what appendStrings wrote at the start of b, at most
// max strings; ok is false when b does not hold that.
func readStrings(b []byte, max int) (list []string, rest []byte, ok bool) {
	k, n := binary.Uvarint(b)
	if n <= 0 || k > uint64(max) || k > uint64(len(b)) {
		return nil, nil, false
	}
	b = b[n:]
	list = make([]string, 0, k)
	for range k {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, nil, false
		}
		list = append(list, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	return list, b, true
}

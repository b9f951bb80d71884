package esdbserver

import (
	"bytes"
	"encoding/json"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// $settings: the default stream ACLs.
//
// KurrentDB takes the default ACLs of user streams and of system (`$`)
// streams from the last event of the stream $settings, whatever its type:
// the index committer deserializes every event committed to it
// (IndexCommitter.cs 301-302, 450-451; at start-up the stream's last event,
// 514-517) with SystemSettings.FromJsonBytes (SystemSettings.cs 31-63),
// and anything it cannot read counts as no settings (519-527). A stream
// without an ACL of its own for an operation takes the settings' ACL for
// its kind, else the built-in default, $all for user streams and $admins
// for system streams (IndexReader.cs 773-790, SystemSettings.cs 14-17;
// LegacyStreamPermissionAssertion.cs 172-182 picks per operation).

// systemSettings are the parsed default ACLs; nil fields leave the
// built-in default.
type systemSettings struct {
	user, system *streamACL
}

// settingsAt caches the settings parsed from the $settings event at pos.
type settingsAt struct {
	pos uint64
	set *systemSettings
}

// systemSettings returns the settings of the last durable $settings event:
// nil when there is none or its data is not settings. An event the store
// cannot read is an error (Unavailable), so that a caller denies rather
// than fall back to the built-in defaults, which may grant more; it is not
// cached, and the next call reads it again.
func (s *Server) systemSettings() (*systemSettings, error) {
	info := s.store.info("$settings")
	if info.LastPos == 0 {
		return nil, nil
	}
	if c := s.settings.Load(); c != nil && c.pos == info.LastPos {
		return c.set, nil
	}
	r, err := s.store.get(info.LastPos)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "cannot read $settings for an access check: %v", err)
	}
	set := parseSystemSettings(r.Data)
	s.settings.Store(&settingsAt{pos: info.LastPos, set: set})
	return set, nil
}

// parseSystemSettings reads a $settings event's data as
// SystemSettings.FromJsonBytes does: an object whose $userStreamAcl and
// $systemStreamAcl are ACL objects (other keys skipped). Anything else
// there — a value that is not an object, a key other than $r, $w, $d, $mr,
// $mw in an ACL (StreamMetadata.ReadAcl has no case for it, so the reader
// meets a value where it wants a name), roles other than a string or an
// array of strings (ReadRoles) — throws, and throwing means no settings
// (nil).
func parseSystemSettings(data []byte) *systemSettings {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return nil
	}
	var set systemSettings
	for key, dst := range map[string]**streamACL{"$userStreamAcl": &set.user, "$systemStreamAcl": &set.system} {
		raw, ok := obj[key]
		if !ok {
			continue
		}
		if *dst = parseStrictACL(raw); *dst == nil {
			return nil
		}
	}
	return &set
}

// aclKeys are the $acl keys, in aclOp order.
var aclKeys = []string{"$r", "$w", "$d", "$mr", "$mw"}

// parseStrictACL reads an ACL object as StreamMetadata.ReadAcl does, nil
// for anything it would throw on.
func parseStrictACL(raw json.RawMessage) *streamACL {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil
	}
	a := &streamACL{}
	for k, v := range obj {
		op := slices.Index(aclKeys, k)
		roles, ok := strictRoles(v)
		if op < 0 || !ok {
			return nil
		}
		a.setRoles(aclOp(op), roles)
	}
	return a
}

// strictRoles reads a string or an array of strings; null anywhere, or any
// other value, is not.
func strictRoles(raw json.RawMessage) ([]string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return nil, false
		}
		return []string{one}, true
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil || items == nil {
		return nil, false
	}
	roles := make([]string, 0, len(items))
	for _, it := range items {
		var r string
		if it = bytes.TrimSpace(it); len(it) == 0 || it[0] != '"' || json.Unmarshal(it, &r) != nil {
			return nil, false
		}
		roles = append(roles, r)
	}
	return roles, true
}

// setRoles sets the roles of op.
func (a *streamACL) setRoles(op aclOp, roles []string) {
	a.byOp[op], a.set[op] = roles, true
}

// roles returns op's roles and whether the ACL sets them.
func (a *streamACL) roles(op aclOp) ([]string, bool) {
	if a == nil || !a.set[op] {
		return nil, false
	}
	return a.byOp[op], true
}

package esdbserver

import (
	"encoding/json"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/craftledger/craftledger/pkg/internal/streammeta"
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
		if *dst = streammeta.ParseACL(raw); *dst == nil {
			return nil
		}
	}
	return &set
}

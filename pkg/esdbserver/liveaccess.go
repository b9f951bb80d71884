package esdbserver

import "context"

// Live subscriptions lose their access when their stream's metadata takes
// it away, as in KurrentDB.
//
// KurrentDB's SubscriptionsService, after handing a committed event to the
// live subscriptions (SubscriptionsService.cs 357-368), looks at the
// event's stream: an event of a metadata stream "$$X" re-checks the live
// subscriptions to X, and one of "$$$all" those to $all, filtered or not
// (ProcessStreamMetadataChanges, 472-486); an event of $settings re-checks
// all of them, a stream subscription to the stream $all too (488-501;
// settings.go). Each is
// checked as a read of its stream by its own user (Authorize, 503-546) and
// a denied one is dropped with SubscriptionDropReason.AccessDenied (520),
// which the gRPC enumerators turn into ReadResponseException.AccessDenied
// (Enumerator.StreamSubscription.cs 330-336, AllSubscription.cs 325-326,
// AllSubscriptionFiltered.cs 413-414) after the events already handed on,
// and the Read handler into RpcExceptions.AccessDenied (Streams.Read.cs
// 365-366): the call ends PermissionDenied "Access Denied", trailer
// exception: access-denied. So the subscriber receives every event
// committed before the metadata event (a $all subscriber also the metadata
// event itself, delivered before the check), and nothing after it.
// Admins are never dropped (the legacy policy lets them through before any
// ACL, LegacyStreamPermissionAssertion.cs 83-92). A stream subscription to
// a stream named $all is not re-checked: "$$$all" maps to the all-streams
// topic (478-479). Persistent subscriptions live in another service and
// are not re-checked.
//
// A subscription here reads the log, so instead of being told it looks:
// after each page it reads the metadata and $settings events written since
// it last looked and finds the first under which its caller may no longer
// read (the cut); it sends what comes before the cut and then ends with
// AccessDenied.

// accessWatch follows what governs one subscription's access: its stream's
// metadata stream, and $settings.
type accessWatch struct {
	watched []watchedStream
	s       *Server
	cut     uint64 // position of the event that took access away; 0: none
}

// watchedStream is a stream whose new events may take access away.
type watchedStream struct {
	name  string
	next  uint64              // the next revision to look at
	check func(*record) error // the caller's access as the event left it
}

// watchAccess starts following, from now on, what governs the access of
// the caller in ctx to stream: "$$"+stream when byMetadata, and $settings.
// Once the watch has begun it authorizes the read once more: the caller
// was authorized before, and a change committed between that check and
// the watch's start would be seen by neither (an error is that denial).
// The watch is nil when nothing can take the access away: an insecure
// server, or an admin.
func (s *Server) watchAccess(ctx context.Context, stream string, byMetadata bool) (*accessWatch, error) {
	p := principalFrom(ctx)
	if s.cfg.Insecure || p.admin() {
		return nil, nil
	}
	w := &accessWatch{s: s}
	add := func(name string, check func(*record) error) {
		w.watched = append(w.watched, watchedStream{name: name, next: uint64(s.store.info(name).Last + 1), check: check})
	}
	// A metastream's access is its stream's metadata access, which an
	// event of the metastream's own metadata stream does not hold: that
	// is checked against the present.
	_, metastream := metaStreamOf(stream)
	ownACL := !metastream && stream != "$$" // its access is its own ACL's
	present := func(*record) error { return s.authorize(ctx, stream, aclRead) }
	if byMetadata {
		check := present
		if ownACL {
			// The ACL as this event left it, as KurrentDB checks it
			// right after committing it.
			check = func(r *record) error {
				settings, err := s.systemSettings()
				if err != nil {
					return err // denied: unknown settings grant nothing
				}
				return checkACL(p, stream, aclRead, parseStreamMeta(r.IsJSON, r.Data), settings)
			}
		}
		add("$$"+stream, check)
	}
	check := present
	if ownACL {
		check = func(r *record) error {
			return checkACL(p, stream, aclRead, s.store.info(stream).Meta, parseSystemSettings(r.Data))
		}
	}
	add("$settings", check)
	if err := s.authorize(ctx, stream, aclRead); err != nil {
		return nil, err
	}
	return w, nil
}

// deniedAt reads the durable events of the watched streams written since
// the last call and returns the position of the first one under which the
// caller may no longer read the stream, or 0 when there is none. Every
// event a subscription read before the call is durable, so it is either
// before the returned position or after it.
func (w *accessWatch) deniedAt() (uint64, error) {
	if w == nil {
		return 0, nil
	}
	if w.cut != 0 {
		return w.cut, nil
	}
	for i := range w.watched {
		ws := &w.watched[i]
		if int64(ws.next) > w.s.store.info(ws.name).Last {
			continue // nothing new: no pebble read
		}
		err := w.s.store.scanStream(ws.name, ws.next, false, func(r *record) bool {
			ws.next = r.Revision + 1
			if ws.check(r) == nil {
				return true
			}
			if w.cut == 0 || r.Position < w.cut {
				w.cut = r.Position
			}
			return false
		})
		if err != nil {
			return 0, err
		}
	}
	return w.cut, nil
}

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
// all of them (488-501; the store has no $settings, see authorize). Each is
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
// after each page it reads the metadata events written since it last
// looked and finds the first under which its caller may no longer read
// (the cut); it sends what comes before the cut and then ends with
// AccessDenied.

// accessWatch follows the metadata of one subscription's stream.
type accessWatch struct {
	s      *Server
	ctx    context.Context
	p      *principal
	stream string // whose metadata governs: the stream, or "$all"
	next   uint64 // the next revision of "$$"+stream to look at
	cut    uint64 // position of the metadata event that took access away; 0: none
}

// watchAccess starts following the metadata of stream for the caller in
// ctx, from now on. It returns nil when nothing can take the caller's
// access away: an insecure server, or an admin.
func (s *Server) watchAccess(ctx context.Context, stream string) *accessWatch {
	p := principalFrom(ctx)
	if s.cfg.Insecure || p.admin() {
		return nil
	}
	return &accessWatch{s: s, ctx: ctx, p: p, stream: stream, next: uint64(s.store.info("$$"+stream).Last + 1)}
}

// deniedAt reads the durable metadata events written since the last call
// and returns the position of the first one under which the caller may no
// longer read the stream, or 0 when there is none. Every event a
// subscription read before the call is durable, so it is either before the
// returned position or after it.
func (w *accessWatch) deniedAt() (uint64, error) {
	if w == nil {
		return 0, nil
	}
	if w.cut != 0 {
		return w.cut, nil
	}
	meta := "$$" + w.stream
	if int64(w.next) > w.s.store.info(meta).Last {
		return 0, nil // no new metadata: no pebble read
	}
	_, metastream := metaStreamOf(w.stream)
	metastream = metastream || w.stream == "$$"
	err := w.s.store.scanStream(meta, w.next, false, func(r *record) bool {
		w.next = r.Revision + 1
		var err error
		if metastream {
			// A metastream's access is its stream's metadata access,
			// which this event does not hold: look at the present.
			err = w.s.authorize(w.ctx, w.stream, aclRead)
		} else {
			// The ACL as this event left it, as KurrentDB checks it
			// right after committing it.
			err = checkACL(w.p, w.stream, aclRead, parseStreamMeta(r.Data))
		}
		if err != nil {
			w.cut = r.Position
			return false
		}
		return true
	})
	return w.cut, err
}

package esdbserver

import "context"

// Link resolution and stream ACLs.
//
// A `$>` link names another stream's event ("N@stream"). Resolving it hands
// the caller that event, so the caller must be allowed to read the target
// stream, not only the stream holding the link: otherwise anyone may write
// "0@$users" into a stream of their own and read `$users` through it.
//
// KurrentDB: EventStore 5.x's StorageReaderWorker.ResolveLinkToEvent
// checked CheckStreamAccess(target, Read, user) for every link and failed
// the whole read with AccessDenied when it was refused. The newer reader
// (KurrentDB's StorageReaderWorker) no longer checks the target there at
// all; a link it cannot resolve goes out unresolved
// (ResolvedEvent.ForFailedResolvedLink: no event, the link itself). We keep
// the check, since without it `$users` leaks through a link, and answer a
// refused target the way KurrentDB answers an unresolvable link instead of
// failing the whole read as 5.x did: the read goes on, the caller gets the
// link and never the target's event, exactly as for a link whose target is
// gone, so it learns nothing about the target.

// mayResolve reports whether the caller in ctx may read target, the stream
// a link points at. Insecure servers allow everything (authorize does).
func (s *Server) mayResolve(ctx context.Context, target string) bool {
	return s.authorize(ctx, target, aclRead) == nil
}

// systemCtx carries the server's own principal ($admins): a persistent
// subscription group resolves links once for all of its consumers, and
// forConsumer then hides what a consumer may not read.
var systemCtx = context.WithValue(context.Background(), principalKey{}, &principal{name: "$system", groups: []string{"$admins"}})

// forConsumer returns msg as the consumer in ctx may see it: a resolved link
// whose target that consumer may not read goes out unresolved (the link
// without the event).
func (s *Server) forConsumer(ctx context.Context, msg *psMsg) *psMsg {
	if msg.link == nil || msg.ev == nil || s.mayResolve(ctx, msg.ev.Stream) {
		return msg
	}
	m := *msg
	m.ev = nil
	return &m
}

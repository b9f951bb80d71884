package esdbserver

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// principal is an authenticated user; nil means anonymous.
type principal struct {
	name   string
	groups []string
}

func (p *principal) admin() bool { return p != nil && p.in("$admins") }
func (p *principal) ops() bool   { return p != nil && (p.in("$ops") || p.admin()) }

func (p *principal) in(role string) bool {
	if p == nil {
		return false
	}
	if role == p.name {
		return true
	}
	for _, g := range p.groups {
		if g == role {
			return true
		}
	}
	return false
}

// user is a login the server knows.
type user struct {
	password string
	groups   []string
}

// The default users of a fresh KurrentDB.
var defaultUsers = map[string]user{
	"admin": {"changeit", []string{"$admins"}},
	"ops":   {"changeit", []string{"$ops"}},
}

// usersWith is the default users with their passwords replaced by
// passwords (login -> password); a login that is not a default user, or an
// empty password, is an error.
func usersWith(passwords map[string]string) (map[string]user, error) {
	users := make(map[string]user, len(defaultUsers))
	for login, u := range defaultUsers {
		users[login] = u
	}
	for login, pw := range passwords {
		u, ok := users[login]
		if !ok {
			return nil, fmt.Errorf("esdbserver: no user %q: the embedded store has the users admin and ops", login)
		}
		if pw == "" {
			return nil, fmt.Errorf("esdbserver: empty password for %s", login)
		}
		u.password = pw
		users[login] = u
	}
	return users, nil
}

// ParsePasswords reads a password file: one "login:password" a line
// (admin and/or ops), blank lines and lines starting with # skipped.
func ParsePasswords(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		login, pw, ok := strings.Cut(line, ":")
		if !ok || login == "" || pw == "" {
			return nil, fmt.Errorf("password file line %d: want login:password", i+1)
		}
		if _, dup := out[login]; dup {
			return nil, fmt.Errorf("password file line %d: %s given twice", i+1, login)
		}
		out[login] = pw
	}
	if len(out) == 0 {
		return nil, errors.New("password file: no login:password line")
	}
	return out, nil
}

type principalKey struct{}

// anonymousMethods may be called without credentials even in secure mode:
// the client's discovery calls never carry any.
func anonymousMethod(full string) bool {
	return strings.HasPrefix(full, "/event_store.client.server_features.") || strings.HasPrefix(full, "/event_store.client.gossip.")
}

// authenticate reads basic credentials from the call. Bad credentials are
// Unauthenticated; none at all is the anonymous principal.
func (s *Server) authenticate(ctx context.Context) (*principal, error) {
	if s.cfg.Insecure {
		return nil, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return nil, nil
	}
	v := vals[0]
	if !strings.HasPrefix(strings.ToLower(v), "basic ") {
		return nil, status.Error(codes.Unauthenticated, "Unauthenticated")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[6:]))
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, "Unauthenticated")
	}
	login, pass, ok := strings.Cut(string(raw), ":")
	u, known := s.users[login]
	if !ok || !known || subtle.ConstantTimeCompare([]byte(pass), []byte(u.password)) != 1 {
		return nil, status.Error(codes.Unauthenticated, "Unauthenticated")
	}
	return &principal{name: login, groups: u.groups}, nil
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if !anonymousMethod(info.FullMethod) {
		p, err := s.authenticate(ctx)
		if err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	resp, err := h(ctx, req)
	if te, ok := asTrailerError(err); ok {
		_ = grpc.SetTrailer(ctx, te.md)
	}
	return resp, err
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a *authedStream) Context() context.Context { return a.ctx }

func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx := ss.Context()
	// Insecure: everyone is the anonymous principal, whom principalFrom
	// returns for a context without one.
	if !s.cfg.Insecure && !anonymousMethod(info.FullMethod) {
		p, err := s.authenticate(ctx)
		if err != nil {
			if info.FullMethod == appendMethod {
				drain(ss)
			} else if info.IsClientStream {
				// A persistent subscription sends its options, then waits.
				_ = ss.RecvMsg(new(emptypb.Empty))
			}
			return err
		}
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	if ctx != ss.Context() {
		ss = &authedStream{ServerStream: ss, ctx: ctx}
	}
	err := h(srv, ss)
	if te, ok := asTrailerError(err); ok {
		ss.SetTrailer(te.md)
	}
	return err
}

const appendMethod = "/event_store.client.streams.Streams/Append"

// drain reads an Append call's messages to their end before an early
// error, so the client's sends succeed and it reads the error status (the v4
// client reports a failed send as an unknown error, not the status). Only
// Append: the client half-closes it after its last event, whereas a
// persistent subscription's stream stays open while the client waits.
func drain(ss grpc.ServerStream) {
	for {
		if err := ss.RecvMsg(new(emptypb.Empty)); err != nil {
			return
		}
	}
}

// authorize checks that the caller may do op on stream, following
// KurrentDB's defaults: anonymous callers get no stream access, `$` streams
// (and so $all) are for $admins, user streams for any authenticated user,
// and a stream's own $acl overrides the default per operation ($settings
// can change the default, settings.go). $all's ACL
// is the $acl of $$$all, as for any stream: every read of $all (count
// reads, filtered or not, subscriptions, a persistent group on $all) is
// checked as a read of the stream "$all" (Streams.Read.cs 61-69,
// AuthorizationGateway.cs 122-123, PersistentSubscriptions.Read.cs 49-57),
// whose ACL the index reader takes from its metadata stream
// (IndexReader.cs 773-790, 915-951). Writing or deleting $all is
// denied to every caller, admins too, as KurrentDB's legacy policy does
// before it looks at the caller (LegacyStreamPermissionAssertion.cs 55-60).
// So is every operation on the stream "": KurrentDB's StreamIdentifier turns
// an empty name into null (Transport/Grpc/StreamIdentifier.cs 13-20), and
// the legacy policy denies a null stream id (LegacyStreamPermissionAssertion.cs
// 47-51). A request without stream identifier is not "": converting it
// throws in KurrentDB's handlers, so callers answer it before they get here.
func (s *Server) authorize(ctx context.Context, stream string, op aclOp) error {
	if s.cfg.Insecure {
		return nil
	}
	if stream == "" || (stream == "$all" && (op == aclWrite || op == aclDelete)) {
		return accessDenied()
	}
	if op == aclDelete && strings.HasPrefix(stream, "$$") {
		// Deleting or tombstoning a metadata stream ("$$x", "$$", "$$$all")
		// is an operation the legacy policy has no metadata action for
		// (LegacyStreamPermissionAssertion.cs 63-68: only read and write
		// map), so it denies it to every caller, admins too, before any
		// ACL (InvalidMetadataOperation, 78, 142-148).
		return accessDenied()
	}
	p := principalFrom(ctx)
	if p.admin() {
		return nil
	}
	if p == nil {
		return accessDenied()
	}
	if base, ok := metaStreamOf(stream); ok {
		stream = base
		switch op {
		case aclRead:
			op = aclMetaRead
		default:
			op = aclMetaWrite
		}
	} else if stream == "$$" {
		// KurrentDB's legacy policy takes "$$" as the metastream of ""
		// (SystemStreams.IsMetastream and OriginalStreamOf, SystemNames.cs
		// 70-74; LegacyStreamPermissionAssertion.cs 63-70): reading it is
		// reading the metadata of "", a user stream without metadata, so
		// any authenticated caller may (and the name is refused later, or,
		// for a read, found empty). Deleting it was denied above.
		stream = ""
		if op == aclRead {
			op = aclMetaRead
		} else {
			op = aclMetaWrite
		}
	}
	settings, err := s.systemSettings()
	if err != nil {
		return err
	}
	return checkACL(p, stream, op, s.store.info(stream).Meta, settings)
}

// checkACL decides op on stream (not a metadata stream: authorize maps
// those to the metadata operations of their stream) for p, an
// authenticated caller who is not an admin, under the stream's metadata
// meta and the settings set: the stream's $acl for op if it has one, else
// $settings' ACL for its kind ($systemStreamAcl for `$` streams,
// $userStreamAcl for the others) if that has one for op, else the built-in
// default, which lets everyone use user streams and no one `$` streams
// (KurrentDB's IndexReader.GetEffectiveAcl and
// LegacyStreamPermissionAssertion.RolesFor; see settings.go).
func checkACL(p *principal, stream string, op aclOp, meta streamMeta, set *systemSettings) error {
	system := strings.HasPrefix(stream, "$")
	roles, ok := meta.ACL.Roles(op)
	if !ok && set != nil {
		if system {
			roles, ok = set.system.Roles(op)
		} else {
			roles, ok = set.user.Roles(op)
		}
	}
	if !ok {
		if system {
			return accessDenied()
		}
		return nil
	}
	for _, r := range roles {
		if r == "$all" || p.in(r) {
			return nil
		}
	}
	return accessDenied()
}

// requireOps guards persistent subscription administration.
func (s *Server) requireOps(ctx context.Context) error {
	if s.cfg.Insecure || principalFrom(ctx).ops() {
		return nil
	}
	return accessDenied()
}

// trailerError is a gRPC status plus the trailers KurrentDB sends with it;
// the interceptors attach the trailers.
type trailerError struct {
	st *status.Status
	md metadata.MD
}

func (e *trailerError) Error() string              { return e.st.Err().Error() }
func (e *trailerError) GRPCStatus() *status.Status { return e.st }

func asTrailerError(err error) (*trailerError, bool) {
	if err == nil {
		return nil, false
	}
	var te *trailerError
	ok := errors.As(err, &te)
	return te, ok
}

func withTrailers(code codes.Code, msg string, kv ...string) error {
	md := metadata.MD{}
	for i := 0; i+1 < len(kv); i += 2 {
		// A trailer value must be printable ASCII: grpc-go refuses to send
		// any other, and the call would end Internal instead of with its
		// status. A stream or group name that is not is left out of the
		// trailers; the status message still names it.
		if printableASCII(kv[i+1]) {
			md.Append(kv[i], kv[i+1])
		}
	}
	return &trailerError{st: status.New(code, msg), md: md}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func accessDenied() error {
	return withTrailers(codes.PermissionDenied, "Access Denied", "exception", "access-denied")
}

func streamDeleted(stream string) error {
	return withTrailers(codes.FailedPrecondition, "Event stream '"+stream+"' is deleted.", "exception", "stream-deleted", "stream-name", stream)
}

// storeError maps a store failure to what KurrentDB answers. Errors are
// classified with errors.As/Is, so a wrapped store error maps the same.
func storeError(err error) error {
	var (
		sd *streamDeletedError
		wv *wrongVersionError
		te *trailerError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te): // already what KurrentDB answers
		return te
	case errors.As(err, &sd):
		return streamDeleted(sd.stream)
	case errors.As(err, &wv):
		e := wv
		actual := ""
		if e.current >= 0 {
			actual = strconv.FormatInt(e.current, 10)
		} else {
			actual = "-1"
		}
		// Only Delete and Tombstone answer a wrong expected version with a
		// gRPC error (Append and BatchAppend answer it in band), and
		// KurrentDB's Streams.Delete.cs names the operation "Delete" for
		// both.
		return withTrailers(codes.FailedPrecondition, "Delete failed due to WrongExpectedVersion. Stream: "+e.stream+", Expected version: "+strconv.FormatInt(e.expected.wireValue(), 10)+", Actual version: "+actual,
			"exception", "wrong-expected-version", "stream-name", e.stream,
			"expected-version", strconv.FormatInt(e.expected.wireValue(), 10), "actual-version", actual)
	}
	if errors.Is(err, errStoreClosed) {
		return status.Error(codes.Unavailable, "server is shutting down")
	}
	if st := writeFailure(err); st != nil {
		return st
	}
	return status.Error(codes.Unknown, err.Error())
}

package esdbserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// selfSignedCert writes a fresh certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "eventstore test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestSecureModeAuth(t *testing.T) {
	srv := startSecureServer(t)
	admin, ops, anon, wrong := connectAs(t, srv, "admin:changeit@"), connectAs(t, srv, "ops:changeit@"), connectAs(t, srv, ""), connectAs(t, srv, "admin:nope@")
	s := streamName("secure")

	if _, err := wrong.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); errCode(err) != esdb.ErrorCodeUnauthenticated {
		t.Errorf("bad password: %v, want unauthenticated", err)
	}
	if _, err := wrong.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeUnauthenticated {
		t.Errorf("bad password, persistent subscription: %v, want unauthenticated", err)
	}
	if err := ops.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{}); err != nil {
		t.Errorf("ops creates a persistent subscription: %v", err)
	}
	if _, err := anon.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); errCode(err) != esdb.ErrorCodeAccessDenied {
		t.Errorf("anonymous append: %v, want access denied", err)
	}
	if _, err := ops.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Errorf("ops append to a user stream: %v", err)
	}
	if _, err := readStream(t, ops, s, esdb.ReadStreamOptions{}, 10); err != nil {
		t.Errorf("ops read of a user stream: %v", err)
	}
	if _, err := readStream(t, anon, s, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeAccessDenied {
		t.Errorf("anonymous read: %v, want access denied", err)
	}
	if _, err := readStream(t, ops, "$users", esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeAccessDenied {
		t.Errorf("ops read of $users: %v, want access denied", err)
	}
	users, err := readStream(t, admin, "$users", esdb.ReadStreamOptions{}, 10)
	if err != nil || len(users) != 2 {
		t.Errorf("admin read of $users: %d events, %v", len(users), err)
	}
	rs, err := ops.ReadAll(ctxT(t), esdb.ReadAllOptions{}, 1)
	if err == nil {
		_, err = rs.Recv()
		rs.Close()
	}
	if errCode(err) != esdb.ErrorCodeAccessDenied {
		t.Errorf("ops read of $all: %v, want access denied", err)
	}
	if got := readAll(t, admin, esdb.ReadAllOptions{}, 100); len(got) == 0 {
		t.Error("admin read of $all returned nothing")
	}
	// A stream's own ACL narrows access.
	var m esdb.StreamMetadata
	var acl esdb.Acl
	acl.AddReadRoles("$admins")
	m.SetAcl(acl)
	if _, err := admin.SetStreamMetadata(ctxT(t), s, esdb.AppendToStreamOptions{}, m); err != nil {
		t.Fatal(err)
	}
	if _, err := readStream(t, ops, s, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeAccessDenied {
		t.Errorf("ops read under $r=$admins: %v, want access denied", err)
	}
	if _, err := readStream(t, admin, s, esdb.ReadStreamOptions{}, 10); err != nil {
		t.Errorf("admin read under $r=$admins: %v", err)
	}
}

// dialTLS is a raw gRPC connection to a secure srv (its self-signed
// certificate not verified), for the generated clients; closed at the end.
func dialTLS(t *testing.T, srv *esdbserver.Server) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// startSecureServer starts a server with TLS (a self-signed certificate)
// and access checks on.
func startSecureServer(t *testing.T) *esdbserver.Server {
	t.Helper()
	cert, key := selfSignedCert(t)
	return startServer(t, esdbserver.Config{TLSCertFile: cert, TLSKeyFile: key})
}

// connectAs connects the official client to a secure srv with userinfo
// in its URL ("admin:changeit@"; "" for an anonymous caller).
func connectAs(t *testing.T, srv *esdbserver.Server, userinfo string) *esdb.Client {
	t.Helper()
	return connect(t, strings.Replace(srv.URL(), "esdb://", "esdb://"+userinfo, 1))
}

// basicAuth is the authorization header value for user and pass.
func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestPasswordsReplaceDefaults: Config.Passwords (bin/eventstore's
// --password-file) replaces a default user's password, so that a secure
// store is not open to KurrentDB's public default; the other default user
// keeps its own, and Start refuses a login the store does not have.
func TestPasswordsReplaceDefaults(t *testing.T) {
	cert, key := selfSignedCert(t)
	srv := startServer(t, esdbserver.Config{TLSCertFile: cert, TLSKeyFile: key, Passwords: map[string]string{"admin": "s3cret:with colon"}})
	s := "pw-" + t.Name()
	old := connectAs(t, srv, "admin:changeit@")
	if _, err := old.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); errCode(err) != esdb.ErrorCodeUnauthenticated {
		t.Errorf("admin with the default password: %v, want unauthenticated", err)
	}
	admin := connectAs(t, srv, "admin:"+url.PathEscape("s3cret:with colon")+"@")
	if _, err := admin.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Errorf("admin with the password given: %v", err)
	}
	ops := connectAs(t, srv, "ops:changeit@")
	if _, err := ops.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Errorf("ops with its default password: %v", err)
	}

	if _, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key,
		Passwords: map[string]string{"root": "x"}}); err == nil || !strings.Contains(err.Error(), `no user "root"`) {
		t.Errorf("unknown login: %v, want refused", err)
	}
}

func TestParsePasswords(t *testing.T) {
	got, err := esdbserver.ParsePasswords("# the store's logins\nadmin:a:b\r\n\n  \nops:o\n")
	if err != nil || len(got) != 2 || got["admin"] != "a:b" || got["ops"] != "o" {
		t.Errorf("parse: %v, %v", got, err)
	}
	for _, bad := range []string{"", "# only a comment\n", "admin\n", "admin:\n", ":pw\n", "admin:a\nadmin:b\n"} {
		if _, err := esdbserver.ParsePasswords(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

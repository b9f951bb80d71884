package kit

import (
	"crypto/tls"
	"net/http"

	"github.com/craftledger/craftledger/pkg/errs"
)

// TLSConfig loads a PEM certificate (chain) and its key for serving HTTPS:
// TLS 1.2 at least, HTTP/2 and HTTP/1.1 offered. The key's bytes are never
// part of an error message.
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errs.E(errs.InvalidArgument, "https needs both a certificate file and a key file")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "load TLS certificate %s and key %s: %v", certFile, keyFile, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

// UseTLS makes srv serve HTTPS with the certificate and key in the given
// files (HTTPActor then wraps its listener in TLS). Empty file names leave
// srv serving plain HTTP.
func UseTLS(srv *http.Server, certFile, keyFile string) error {
	if certFile == "" && keyFile == "" {
		return nil
	}
	cfg, err := TLSConfig(certFile, keyFile)
	if err != nil {
		return err
	}
	srv.TLSConfig = cfg
	return nil
}

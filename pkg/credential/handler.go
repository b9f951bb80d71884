package credential

import (
	"crypto/ed25519"
	"io"
	"net/http"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/kit"
)

// MaxCredentialBytes bounds a credential posted for verification.
const MaxCredentialBytes = 4 << 20

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Key is the deployment's signing key; its public half verifies.
	// Required.
	Key ed25519.PrivateKey
	// Store, when set, enables GET /credentials/{craftsmanId}.
	Store eventstore.Store
	// Auth verifies bearer tokens for issuing: a worker gets their own
	// record, auditors and admins anyone's. Required with Store.
	Auth       auth.Key
	IssuerName string
	Now        func() time.Time // nil: time.Now
	// Personal opens sealed names for the records issued (IssueOptions).
	Personal keyring.Opener
}

// VerifyResult is the answer of POST /credentials/verify.
type VerifyResult struct {
	Valid       bool   `json:"valid"`
	Reason      string `json:"reason,omitempty"`
	Code        string `json:"code,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	CraftsmanID string `json:"craftsmanId,omitempty"`
	Claims      int    `json:"claims,omitempty"`
	IssuedAt    string `json:"issuedAt,omitempty"`
	// Current and Problems answer an online check (?online=true): whether
	// every claim still stands in the ledger, and which do not.
	Current  *bool     `json:"current,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
}

// NewHandler serves the deployment's credential routes, for the GraphQL
// or all-in-one server to mount at its root:
//
//	POST /credentials/verify        body: a signed credential (as issued) → VerifyResult
//	POST /credentials/verify?online=true  … and whether its claims still stand (needs Store)
//	GET  /credentials/{craftsmanId} bearer token → the signed credential (application/vc)
//
// Verification needs no token: anyone may check a credential against this
// deployment's key (and anyone holding the public key can do it offline).
// Online, the answer names only the credential's own claims that no
// longer stand (CheckCurrent); what else the ledger holds about the
// craftsman (verify findings, events since) is summarised, not shown.
func NewHandler(cfg HandlerConfig) (http.Handler, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errs.E(errs.InvalidArgument, "credential handler: an Ed25519 signing key is required")
	}
	if cfg.Store != nil && len(cfg.Auth) == 0 {
		return nil, errs.E(errs.InvalidArgument, "credential handler: issuing needs a token key")
	}
	pub := cfg.Key.Public().(ed25519.PublicKey)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /credentials/verify", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxCredentialBytes))
		if err != nil {
			kit.EncodeError(r.Context(), errs.E(errs.InvalidArgument, "credential body: %v", err), w)
			return
		}
		res := Check(body, pub)
		if online := r.URL.Query().Get("online"); res.Valid && (online == "true" || online == "1") {
			if cfg.Store == nil {
				kit.EncodeError(r.Context(), errs.E(errs.NotFound, "this server has no ledger to check credentials against"), w)
				return
			}
			c, err := Verify(body, pub)
			if err != nil {
				kit.EncodeError(r.Context(), err, w)
				return
			}
			now := time.Now
			if cfg.Now != nil {
				now = cfg.Now
			}
			cur, err := CheckCurrent(r.Context(), cfg.Store, c, now())
			if err != nil {
				kit.EncodeError(r.Context(), err, w)
				return
			}
			res.Current, res.Problems = &cur.Current, make([]Problem, 0, len(cur.Problems))
			for _, p := range cur.Problems {
				if p.Claim == "ledger" {
					p = Problem{Claim: "ledger", Reason: "the ledger no longer confirms this record as issued"}
				}
				res.Problems = append(res.Problems, p)
			}
		}
		_ = kit.EncodeJSON(r.Context(), w, res)
	})
	mux.HandleFunc("GET /credentials/{craftsmanId}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := r.PathValue("craftsmanId")
		if cfg.Store == nil {
			kit.EncodeError(ctx, errs.E(errs.NotFound, "this server does not issue credentials"), w)
			return
		}
		c, err := auth.FromRequest(cfg.Auth, r)
		if err != nil {
			kit.EncodeError(ctx, err, w)
			return
		}
		if !auth.CanAudit(c) && !(c.Role == auth.RoleWorker && c.CraftsmanID == id) {
			kit.EncodeError(ctx, errs.E(errs.PermissionDenied, "only craftsman %s, an auditor or an admin may export this record", id), w)
			return
		}
		now := time.Now
		if cfg.Now != nil {
			now = cfg.Now
		}
		b, _, err := Issue(ctx, cfg.Store, id, IssueOptions{Key: cfg.Key, IssuerName: cfg.IssuerName, Now: now(), Personal: cfg.Personal})
		if err != nil {
			kit.EncodeError(ctx, err, w)
			return
		}
		w.Header().Set("Content-Type", "application/vc+ld+json")
		w.Header().Set("Content-Disposition", `attachment; filename="craftledger-`+id+`.vc.json"`)
		_, _ = w.Write(b)
	})
	return mux, nil
}

// Check verifies data against pub and says why not, as a value.
func Check(data []byte, pub ed25519.PublicKey) VerifyResult {
	c, err := Verify(data, pub)
	if err != nil {
		return VerifyResult{Valid: false, Reason: err.Error(), Code: errs.Code(err)}
	}
	res := VerifyResult{Valid: true, Issuer: c.Issuer.ID, CraftsmanID: c.CredentialSubject.CraftsmanID,
		Claims: len(c.CredentialSubject.VerifiableCredential)}
	if c.Proof != nil {
		res.IssuedAt = c.Proof.Created
	}
	return res
}

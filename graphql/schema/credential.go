package schema

import (
	"crypto/ed25519"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/errs"
)

// credentialFields adds verifyCredential: an offline check of a signed
// credential (pkg/credential) against this deployment's public key — the
// signature over every byte, the issuer and the proof. It needs no token
// (anyone may check a credential) and reads nothing from the ledger.
func (b *builder) credentialFields(f graphql.Fields) {
	answer := graphql.NewObject(graphql.ObjectConfig{
		Name:        "CredentialVerification",
		Description: "The offline check of a signed credential against this deployment's key.",
		Fields: graphql.Fields{
			"valid": fieldOf(graphql.NewNonNull(graphql.Boolean), "Whether the signature and proof hold for every byte as given.",
				func(r credential.VerifyResult) any { return r.Valid }),
			"issuer": fieldOf(graphql.String, "The issuing deployment (did:key) when valid.",
				func(r credential.VerifyResult) any { return nilIfEmpty(r.Issuer) }),
			"subject": fieldOf(graphql.String, "The craftsman the credential is about, when valid.",
				func(r credential.VerifyResult) any { return nilIfEmpty(r.CraftsmanID) }),
			"claims": fieldOf(graphql.NewNonNull(graphql.Int), "How many claims (achievement credentials) it carries; 0 when invalid.",
				func(r credential.VerifyResult) any { return r.Claims }),
			"issuedAt": fieldOf(graphql.String, "When it was signed (the proof's created), when valid.",
				func(r credential.VerifyResult) any { return nilIfEmpty(r.IssuedAt) }),
			"code": fieldOf(graphql.String, "The error code when invalid (e.g. INVALID_ARGUMENT, PERMISSION_DENIED).",
				func(r credential.VerifyResult) any { return nilIfEmpty(r.Code) }),
			"problems": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(graphql.String))), "Why it is invalid; empty when valid.",
				func(r credential.VerifyResult) any {
					if r.Valid || r.Reason == "" {
						return []string{}
					}
					return []string{r.Reason}
				}),
		},
	})
	f["verifyCredential"] = &graphql.Field{
		Type: graphql.NewNonNull(answer),
		Description: "Checks a signed credential (as issued by GET /credentials/{craftsmanId} or `ledgerctl credential issue`) " +
			"against this deployment's Ed25519 key, offline: changing any byte makes it invalid. No token needed. " +
			"Whether its claims still stand in the ledger is POST /credentials/verify?online=true.",
		Args: graphql.FieldConfigArgument{
			"credential": {Type: graphql.NewNonNull(graphql.String), Description: "The credential's JSON text, exactly as issued."},
		},
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			if len(b.d.CredentialKey) != ed25519.PublicKeySize {
				return nil, errs.E(errs.FailedPrecondition, "this deployment has no credential key; credentials cannot be checked here")
			}
			s, err := argRequiredString(p, "credential")
			if err != nil {
				return nil, err
			}
			if len(s) > credential.MaxCredentialBytes {
				return nil, errs.E(errs.InvalidArgument, "credential exceeds %d bytes", credential.MaxCredentialBytes)
			}
			return credential.Check([]byte(s), b.d.CredentialKey), nil
		}),
	}
}

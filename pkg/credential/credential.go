// Package credential is a craftsman's portable, verifiable record: their
// skill-level certificates, competition placements, honours and training
// totals as one W3C Verifiable Credentials 2.0 credential — a
// Comprehensive Learner Record 2.0 ClrCredential bundling one Open Badges
// 3.0 AchievementCredential per claim — where every claim names the ledger
// event that proves it (stream, revision, event id and chain hash).
//
// The credential is secured by a Data Integrity proof of cryptosuite
// eddsa-jcs-2022: an Ed25519 signature (crypto/ed25519) by the issuing
// deployment's key over SHA-256(JCS(proof options)) ‖ SHA-256(JCS(credential
// without proof)), JCS being RFC 8785 canonical JSON. The issuer is the
// key's did:key, so anyone holding the deployment's public key verifies a
// credential offline with Verify. Credentials are distributed in their
// canonical JSON form, and Verify accepts only that form: a change to any
// byte either changes what was signed or makes the text non-canonical.
package credential

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
)

// Contexts returns the JSON-LD contexts of an issued credential, in the
// order the specifications require (a fresh copy each call).
func Contexts() []string { return slices.Clone(contexts) }

var contexts = []string{
	"https://www.w3.org/ns/credentials/v2",
	"https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
}

// Proof parameters.
const (
	ProofType    = "DataIntegrityProof"
	Cryptosuite  = "eddsa-jcs-2022"
	ProofPurpose = "assertionMethod"
)

// Credential is a ClrCredential.
type Credential struct {
	Context           []string   `json:"@context"`
	ID                string     `json:"id"`
	Type              []string   `json:"type"`
	Issuer            Profile    `json:"issuer"`
	ValidFrom         string     `json:"validFrom"`
	Name              string     `json:"name"`
	CredentialSubject ClrSubject `json:"credentialSubject"`
	Proof             *Proof     `json:"proof,omitempty"`
}

// Profile is an issuer (Open Badges Profile).
type Profile struct {
	ID   string   `json:"id"`
	Type []string `json:"type"`
	Name string   `json:"name,omitempty"`
}

// ClrSubject is the craftsman and their achievements.
type ClrSubject struct {
	ID   string   `json:"id"` // urn:craftledger:craftsman:<id>
	Type []string `json:"type"`
	// CraftsmanID and Name identify the worker (Name only when recorded
	// in clear; personal data may be sealed).
	CraftsmanID          string                  `json:"craftsmanId"`
	Name                 string                  `json:"name,omitempty"`
	VerifiableCredential []AchievementCredential `json:"verifiableCredential"`
	TrainingTotals       TrainingTotals          `json:"trainingTotals"`
	// Ledger is the head of the craftsman's stream when issued: an auditor
	// with access to the ledger checks that this hash is on the chain.
	Ledger Evidence `json:"ledger"`
}

// AchievementCredential is one claim, in the Open Badges 3.0 shape. It is
// covered by the outer credential's proof and carries none of its own.
type AchievementCredential struct {
	ID                string             `json:"id"` // urn:craftledger:event:<event id>
	Type              []string           `json:"type"`
	Issuer            Profile            `json:"issuer"`
	ValidFrom         string             `json:"validFrom"`
	Name              string             `json:"name"`
	CredentialSubject AchievementSubject `json:"credentialSubject"`
	Evidence          []Evidence         `json:"evidence"`
}

// AchievementSubject says who achieved what.
type AchievementSubject struct {
	ID          string      `json:"id"`
	Type        []string    `json:"type"`
	Achievement Achievement `json:"achievement"`
	// ActivityEndDate is when it happened in the world (occurredAt).
	ActivityEndDate string `json:"activityEndDate"`
}

// Achievement is what was achieved. AchievementType is from the Open
// Badges vocabulary; Level, Trade, CertificateNumber, Rank and Tier are
// craftledger's extension properties.
type Achievement struct {
	ID                string   `json:"id"`
	Type              []string `json:"type"`
	AchievementType   string   `json:"achievementType"`
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	Criteria          Criteria `json:"criteria"`
	FieldOfStudy      string   `json:"fieldOfStudy,omitempty"`
	HumanCode         string   `json:"humanCode,omitempty"`
	Trade             string   `json:"trade,omitempty"`
	Level             string   `json:"level,omitempty"`
	CertificateNumber string   `json:"certificateNumber,omitempty"`
	Tier              string   `json:"tier,omitempty"`
	Rank              int      `json:"rank,omitempty"`
}

// Criteria describe how the achievement is earned.
type Criteria struct {
	Narrative string `json:"narrative"`
}

// Evidence is the ledger event that proves a claim.
type Evidence struct {
	ID       string   `json:"id"` // urn:craftledger:event:<event id>
	Type     []string `json:"type"`
	Stream   string   `json:"stream"`
	Revision uint64   `json:"revision"`
	EventID  string   `json:"eventId"`
	Hash     string   `json:"hash"`
}

// TrainingTotals sum the passed training per trade.
type TrainingTotals struct {
	Hours    float64      `json:"hours"`
	Courses  int          `json:"courses"`
	ByTrade  []TradeHours `json:"byTrade"`
	Evidence []Evidence   `json:"evidence"`
}

// TradeHours is the passed training in one trade.
type TradeHours struct {
	Trade   string  `json:"trade"`
	Hours   float64 `json:"hours"`
	Courses int     `json:"courses"`
}

// Proof is a Data Integrity proof.
type Proof struct {
	Context            []string `json:"@context,omitempty"`
	Type               string   `json:"type"`
	Cryptosuite        string   `json:"cryptosuite"`
	Created            string   `json:"created"`
	VerificationMethod string   `json:"verificationMethod"`
	ProofPurpose       string   `json:"proofPurpose"`
	ProofValue         string   `json:"proofValue,omitempty"`
}

// IssueOptions configure Issue.
type IssueOptions struct {
	// Key signs; its did:key is the issuer.
	Key ed25519.PrivateKey
	// IssuerName names the deployment (default "craftledger").
	IssuerName string
	// Now is the issuance time (zero: time.Now).
	Now time.Time
	// Personal opens a name the registry sealed (pkg/keyring.Dir over the
	// registry's --personal-keys-dir), so that the worker is named in their
	// record; nil, or a key destroyed or not held, leaves the name out.
	Personal keyring.Opener
}

// Issue builds and signs the record of craftsman id from their stream as
// recorded now: the career fold (events/career) gives the claims, each
// with the event that proves it; corrected claims cite the correction.
func Issue(ctx context.Context, st eventstore.Store, id string, opts IssueOptions) ([]byte, *Credential, error) {
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, nil, errs.E(errs.InvalidArgument, "issue: no Ed25519 signing key")
	}
	now := opts.Now.UTC()
	if now.IsZero() {
		now = time.Now().UTC()
	}
	recs, _, err := audit.ReadCraftsman(ctx, st, id)
	if err != nil {
		return nil, nil, fmt.Errorf("issue credential for %s: %w", id, err)
	}
	if len(recs) == 0 {
		return nil, nil, errs.E(errs.NotFound, "craftsman %s has no events", id)
	}
	// Fold at the exact instant (the store's record times have sub-second
	// precision); the document states the second.
	state := career.Fold(recs, now, career.AsRecorded)
	if state.Personal == nil && state.SealedPersonal != nil && opts.Personal != nil {
		p, err := opts.Personal.Open(*state.SealedPersonal)
		switch {
		case err == nil:
			state.Personal = &p
		case errors.Is(err, errs.Internal):
			// The keyring could not be read: no record that silently
			// lacks the worker's name.
			return nil, nil, fmt.Errorf("issue credential for %s: open personal data: %w", id, err)
		}
		// Destroyed (forgotten) or never held here: the record names no one.
	}
	c := Build(recs, state, opts.IssuerName, opts.Key.Public().(ed25519.PublicKey), now.Truncate(time.Second))
	b, err := Sign(c, opts.Key, now)
	if err != nil {
		return nil, nil, err
	}
	return b, c, nil
}

// Build assembles the unsigned credential from a craftsman's decoded
// events and their folded state.
func Build(recs []events.Recorded, s *career.State, issuerName string, pub ed25519.PublicKey, now time.Time) *Credential {
	if issuerName == "" {
		issuerName = "craftledger"
	}
	hashes := make(map[string]string, len(recs))           // "stream@rev" → hash
	issuers := make(map[string]string, len(recs))          // "stream@rev" → recording organisation
	payloads := make(map[string]events.Payload, len(recs)) // "stream@rev" → what it asserts (a correction's replacement)
	for _, r := range recs {
		k := r.Stream + "@" + strconv.FormatUint(r.Revision, 10)
		hashes[k], issuers[k], payloads[k] = r.Meta.Hash, r.Meta.IssuerOrgID, r.Payload
		if ec, ok := r.Payload.(events.EventCorrected); ok && ec.Replacement != nil {
			payloads[k] = ec.Replacement.Payload
		}
	}
	recorder := func(ref events.Ref) string { return issuers[ref.Stream+"@"+strconv.FormatUint(ref.Revision, 10)] }
	ev := func(ref events.Ref) Evidence {
		return Evidence{ID: "urn:craftledger:event:" + ref.EventID, Type: []string{"Evidence"}, Stream: ref.Stream, Revision: ref.Revision,
			EventID: ref.EventID, Hash: hashes[ref.Stream+"@"+strconv.FormatUint(ref.Revision, 10)]}
	}
	subject := "urn:craftledger:craftsman:" + s.CraftsmanID
	org := func(id, name string) Profile {
		return Profile{ID: "urn:craftledger:org:" + id, Type: []string{"Profile"}, Name: name}
	}
	day := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	// A claim's trade is named by the event that proves it, not by the
	// fold's first-seen name for the code: an event recorded later in the
	// same trade under another name (a back-filled training dated earlier)
	// must not rename claims it does not touch.
	tradeName := func(ref events.Ref, code string) string {
		var t events.Trade
		switch p := payloads[ref.Stream+"@"+strconv.FormatUint(ref.Revision, 10)].(type) {
		case events.SkillLevelCertified:
			t = p.Trade
		case events.CompetitionPlaced:
			t = p.Trade
		}
		if t.Code == code && t.Name != "" {
			return t.Name
		}
		return code
	}
	claim := func(src career.Source, issuer Profile, at time.Time, a Achievement) AchievementCredential {
		a.Type = []string{"Achievement"}
		return AchievementCredential{ID: "urn:craftledger:event:" + src.Ref.EventID, Type: []string{"VerifiableCredential", "AchievementCredential"},
			Issuer: issuer, ValidFrom: day(at), Name: a.Name,
			CredentialSubject: AchievementSubject{ID: subject, Type: []string{"AchievementSubject"}, Achievement: a, ActivityEndDate: day(at)},
			Evidence:          []Evidence{ev(src.Ref)}}
	}
	var vcs []AchievementCredential
	for _, c := range s.Certificates {
		info := c.Level.Info()
		vcs = append(vcs, claim(c.Source, org(c.IssuingOrg.ID, c.IssuingOrg.Name), c.Date, Achievement{
			ID:              "urn:craftledger:achievement:" + c.Family + ":" + c.Trade + ":" + c.Level.String(),
			AchievementType: achievementType(c.Family, c.Level), Name: info.Chinese + " " + tradeName(c.Ref, c.Trade) + " (" + info.English + ")",
			Description:  "Skill-level certificate " + c.Number + " in trade " + c.Trade + ", route " + c.Route + ".",
			Criteria:     Criteria{Narrative: "Assessed by " + c.EvaluatingOrgID + " under the national occupational skill standard."},
			FieldOfStudy: tradeName(c.Ref, c.Trade), HumanCode: c.Number, Trade: c.Trade, Level: c.Level.String(), CertificateNumber: c.Number,
		}))
	}
	for _, p := range s.Competitions {
		name := p.CompetitionName
		if name == "" {
			name = p.CompetitionID
		}
		vcs = append(vcs, claim(p.Source, org(recorder(p.Ref), ""), p.Date, Achievement{
			ID: "urn:craftledger:achievement:competition:" + p.PlacementID, AchievementType: "Award",
			Name:        fmt.Sprintf("%s — rank %d (%s)", name, p.Rank, p.Award),
			Description: fmt.Sprintf("Placement in the %s-tier competition %s, track %s, trade %s.", p.Tier, p.CompetitionID, p.Track, p.Trade),
			Criteria:    Criteria{Narrative: "Placed by the competition's published results."},
			Trade:       p.Trade, Tier: p.Tier, Rank: p.Rank, FieldOfStudy: tradeName(p.Ref, p.Trade),
		}))
	}
	for _, h := range s.ActiveHonours() {
		name := h.Name
		if name == "" {
			name = h.Code
		}
		vcs = append(vcs, claim(h.Source, org(recorder(h.Ref), h.ConferringBody), h.Date, Achievement{
			ID: "urn:craftledger:achievement:honour:" + h.Code, AchievementType: "Award", Name: name,
			Description: fmt.Sprintf("Honour %s (%s level) conferred by %s.", h.Code, h.Level, h.ConferringBody),
			Criteria:    Criteria{Narrative: "Conferred under the honours system."}, Trade: h.Trade, Tier: h.Level,
		}))
	}
	if vcs == nil {
		vcs = []AchievementCredential{}
	}
	tt := TrainingTotals{ByTrade: []TradeHours{}, Evidence: []Evidence{}}
	by := map[string]*TradeHours{}
	for _, t := range s.Training {
		if !t.Passed {
			continue
		}
		tt.Hours += t.Hours
		tt.Courses++
		th := by[t.Trade]
		if th == nil {
			th = &TradeHours{Trade: t.Trade}
			by[t.Trade] = th
		}
		th.Hours += t.Hours
		th.Courses++
		tt.Evidence = append(tt.Evidence, ev(t.Ref))
	}
	for _, th := range by {
		tt.ByTrade = append(tt.ByTrade, *th)
	}
	slices.SortFunc(tt.ByTrade, func(a, b TradeHours) int { return strings.Compare(a.Trade, b.Trade) })
	last := recs[len(recs)-1]
	for _, r := range recs {
		if r.Revision > last.Revision {
			last = r
		}
	}
	name := ""
	if s.Personal != nil {
		name = s.Personal.Name
	}
	return &Credential{
		Context: Contexts(), ID: "urn:craftledger:record:" + s.CraftsmanID + ":" + strconv.FormatUint(last.Revision, 10) + ":" + now.Format("20060102T150405Z"),
		Type:   []string{"VerifiableCredential", "ClrCredential"},
		Issuer: Profile{ID: DID(pub), Type: []string{"Profile"}, Name: issuerName}, ValidFrom: day(now),
		Name: "Lifelong growth record of craftsman " + s.CraftsmanID,
		CredentialSubject: ClrSubject{ID: subject, Type: []string{"ClrSubject"}, CraftsmanID: s.CraftsmanID, Name: name,
			VerifiableCredential: vcs, TrainingTotals: tt, Ledger: ev(last.Ref())},
	}
}

// achievementType maps a certificate to the Open Badges vocabulary:
// vocational qualifications are Certification; skill levels junior to
// senior are JourneymanCertificate, technician and above MasterCertificate.
func achievementType(family string, l events.Level) string {
	switch {
	case family == events.FamilyVocationalQualification:
		return "Certification"
	case l >= events.Technician:
		return "MasterCertificate"
	case l >= events.Junior:
		return "JourneymanCertificate"
	}
	return "ApprenticeshipCertificate"
}

// Sign adds an eddsa-jcs-2022 proof to c (replacing any) and returns the
// signed credential in canonical JSON, followed by a newline.
func Sign(c *Credential, key ed25519.PrivateKey, created time.Time) ([]byte, error) {
	pub := key.Public().(ed25519.PublicKey)
	c.Proof = nil
	if c.Issuer.ID != DID(pub) {
		return nil, errs.E(errs.InvalidArgument, "sign: issuer %s is not the key's %s", c.Issuer.ID, DID(pub))
	}
	doc, err := canonicalOf(c)
	if err != nil {
		return nil, err
	}
	p := &Proof{Context: c.Context, Type: ProofType, Cryptosuite: Cryptosuite, Created: created.UTC().Truncate(time.Second).Format(time.RFC3339),
		VerificationMethod: VerificationMethod(pub), ProofPurpose: ProofPurpose}
	cfg, err := canonicalOf(p)
	if err != nil {
		return nil, err
	}
	p.ProofValue = "z" + base58Encode(ed25519.Sign(key, hashData(cfg, doc)))
	c.Proof = p
	out, err := canonicalOf(c)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func canonicalOf(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical form: %w", err)
	}
	return Canonicalize(b)
}

// hashData is what eddsa-jcs-2022 signs: SHA-256 of the canonical proof
// options followed by SHA-256 of the canonical unsecured document.
func hashData(proofConfig, doc []byte) []byte {
	a, b := sha256.Sum256(proofConfig), sha256.Sum256(doc)
	return append(a[:], b[:]...)
}

// Verify checks a signed credential offline against the issuing
// deployment's public key and returns it decoded. It fails (errs.
// InvalidArgument for a malformed document, errs.PermissionDenied for a
// proof that does not hold) unless: data is the credential's canonical
// JSON (optionally followed by one newline); the proof is an
// eddsa-jcs-2022 Data Integrity proof for assertionMethod by pub's
// did:key, which is also the issuer; and the Ed25519 signature over
// SHA-256(JCS(proof options)) ‖ SHA-256(JCS(credential without proof))
// holds.
func Verify(data []byte, pub ed25519.PublicKey) (*Credential, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errs.E(errs.InvalidArgument, "verify: not an Ed25519 public key")
	}
	body := bytes.TrimSuffix(data, []byte("\n"))
	canon, err := Canonicalize(body)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "verify: not a JSON document: %v", err)
	}
	if !bytes.Equal(canon, body) {
		return nil, errs.E(errs.InvalidArgument, "verify: the credential is not in its canonical JSON form (RFC 8785): it was altered or re-serialised")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errs.E(errs.InvalidArgument, "verify: %v", err)
	}
	rawProof, ok := doc["proof"]
	if !ok {
		return nil, errs.E(errs.PermissionDenied, "verify: the credential has no proof")
	}
	delete(doc, "proof")
	var proof map[string]json.RawMessage
	if err := json.Unmarshal(rawProof, &proof); err != nil {
		return nil, errs.E(errs.InvalidArgument, "verify: proof: %v", err)
	}
	var pv string
	if err := json.Unmarshal(proof["proofValue"], &pv); err != nil || len(pv) < 2 || pv[0] != 'z' {
		return nil, errs.E(errs.InvalidArgument, "verify: proof has no base58btc proofValue")
	}
	delete(proof, "proofValue")
	var p Proof
	if err := json.Unmarshal(rawProof, &p); err != nil {
		return nil, errs.E(errs.InvalidArgument, "verify: proof: %v", err)
	}
	var c Credential
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, errs.E(errs.InvalidArgument, "verify: credential: %v", err)
	}
	switch {
	case p.Type != ProofType || p.Cryptosuite != Cryptosuite:
		return nil, errs.E(errs.PermissionDenied, "verify: proof is %s/%s, want %s/%s", p.Type, p.Cryptosuite, ProofType, Cryptosuite)
	case p.ProofPurpose != ProofPurpose:
		return nil, errs.E(errs.PermissionDenied, "verify: proof purpose %q, want %q", p.ProofPurpose, ProofPurpose)
	case p.VerificationMethod != VerificationMethod(pub):
		return nil, errs.E(errs.PermissionDenied, "verify: signed by %s, not by the given key %s", p.VerificationMethod, VerificationMethod(pub))
	case c.Issuer.ID != DID(pub):
		return nil, errs.E(errs.PermissionDenied, "verify: issuer %s is not the given key's %s", c.Issuer.ID, DID(pub))
	case !slices.Equal(p.Context, c.Context):
		return nil, errs.E(errs.PermissionDenied, "verify: proof @context differs from the credential's")
	}
	sig, err := base58Decode(pv[1:])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, errs.E(errs.PermissionDenied, "verify: proofValue is not an Ed25519 signature")
	}
	docBytes, err := canonicalOf(doc)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "verify: %v", err)
	}
	cfgBytes, err := canonicalOf(proof)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "verify: %v", err)
	}
	if !ed25519.Verify(pub, hashData(cfgBytes, docBytes), sig) {
		return nil, errs.E(errs.PermissionDenied, "verify: the signature does not match the credential: it was altered or signed by another key")
	}
	return &c, nil
}

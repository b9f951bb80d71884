package credential

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Currency is what an online check of a credential found against the
// ledger: whether every claim still stands as it was issued.
type Currency struct {
	// Current is true when every cited event is still in the ledger with
	// the cited hash, the craftsman's stream passes audit.Verify, and every
	// claim (and the training totals) would be issued the same today.
	Current bool `json:"current"`
	// Problems lists what is no longer so, one entry per claim or event.
	Problems []Problem `json:"problems"`
	// Head is the craftsman's stream head now; the credential's Ledger is
	// the head when issued.
	Head Evidence `json:"head"`
	// NewEvents counts the events recorded on the stream since issuance.
	NewEvents uint64 `json:"newEvents"`
}

// Problem is one claim or cited event that no longer stands.
type Problem struct {
	// Claim is the claim's id (urn:craftledger:event:…), "trainingTotals"
	// or "ledger".
	Claim    string `json:"claim"`
	Name     string `json:"name,omitempty"`
	Stream   string `json:"stream,omitempty"`
	Revision uint64 `json:"revision"`
	Reason   string `json:"reason"`
}

// CheckCurrent checks a credential, already verified offline (Verify),
// against the ledger it cites: each evidence event must still be at its
// stream and revision with the cited id and hash; the craftsman's stream
// must pass audit.Verify (hash chain, gaps, issuers); and the claims
// rebuilt from the stream as recorded at now must contain every claim of
// the credential unchanged — a certificate corrected since (it would now
// cite the correction), an honour withdrawn, a training corrected away is
// reported. Claims added since are not problems: the credential is a
// record as of its issuance. A failing store is an error.
func CheckCurrent(ctx context.Context, st eventstore.Store, c *Credential, now time.Time) (*Currency, error) {
	id := c.CredentialSubject.CraftsmanID
	stream := events.CraftsmanStream(id)
	cur := &Currency{Problems: []Problem{}}
	add := func(claim, name string, e Evidence, format string, args ...any) {
		cur.Problems = append(cur.Problems, Problem{Claim: claim, Name: name, Stream: e.Stream, Revision: e.Revision, Reason: fmt.Sprintf(format, args...)})
	}

	// The cited events, as stored now.
	type stored struct{ id, hash string }
	at := map[string]map[uint64]stored{}
	read := func(s string) (map[uint64]stored, error) {
		if m, ok := at[s]; ok {
			return m, nil
		}
		m := map[uint64]stored{}
		_, err := audit.Replay(ctx, st, audit.ReplayOptions{Scope: audit.Scope{Stream: s}}, func(e *eventstore.RecordedEvent) error {
			meta, err := events.DecodeMetadata(e.Metadata)
			if err != nil {
				meta = events.Metadata{} // the hash then differs: reported below
			}
			m[e.Revision] = stored{e.ID, meta.Hash}
			return nil
		})
		if err != nil && !errors.Is(err, errs.NotFound) { // a deleted stream cites nothing
			return nil, fmt.Errorf("check credential of %s: read %s: %w", id, s, err)
		}
		at[s] = m
		return m, nil
	}
	check := func(claim, name string, e Evidence) error {
		m, err := read(e.Stream)
		if err != nil {
			return err
		}
		got, ok := m[e.Revision]
		switch {
		case !ok:
			add(claim, name, e, "the cited event %s@%d is no longer in the ledger", e.Stream, e.Revision)
		case got.id != e.EventID:
			add(claim, name, e, "%s@%d is now event %s, not the cited %s", e.Stream, e.Revision, got.id, e.EventID)
		case got.hash != e.Hash:
			add(claim, name, e, "%s@%d now has hash %s, not the cited %s", e.Stream, e.Revision, got.hash, e.Hash)
		}
		return nil
	}
	subj := c.CredentialSubject
	for _, a := range subj.VerifiableCredential {
		for _, e := range a.Evidence {
			if err := check(a.ID, a.Name, e); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range subj.TrainingTotals.Evidence {
		if err := check("trainingTotals", "", e); err != nil {
			return nil, err
		}
	}
	if err := check("ledger", "", subj.Ledger); err != nil {
		return nil, err
	}

	// The stream's chain and issuers.
	rep, err := audit.Verify(ctx, st, audit.VerifyOptions{Scope: audit.Scope{Stream: stream}})
	if errors.Is(err, errs.NotFound) {
		add("ledger", "", subj.Ledger, "the ledger has no stream %s", stream)
		cur.Current = false
		return cur, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check credential of %s: %w", id, err)
	}
	for _, f := range rep.Findings {
		add("ledger", "", Evidence{Stream: f.Stream, Revision: f.Revision}, "verify: %s", f.Reason)
	}

	// The claims as they would be issued now.
	recs, _, err := audit.ReadCraftsman(ctx, st, id)
	if err != nil && !errors.Is(err, errs.NotFound) {
		return nil, fmt.Errorf("check credential of %s: %w", id, err)
	}
	if len(recs) == 0 {
		add("ledger", "", subj.Ledger, "craftsman %s has no events any more", id)
		return cur, nil
	}
	now = now.UTC()
	again := Build(recs, career.Fold(recs, now, career.AsRecorded), c.Issuer.Name, make(ed25519.PublicKey, ed25519.PublicKeySize), now)
	cur.Head = again.CredentialSubject.Ledger
	if cur.Head.Revision >= subj.Ledger.Revision {
		cur.NewEvents = cur.Head.Revision - subj.Ledger.Revision
	}
	claims := make(map[string]string, len(again.CredentialSubject.VerifiableCredential))
	for _, a := range again.CredentialSubject.VerifiableCredential {
		claims[a.ID] = substance(a)
	}
	for _, a := range subj.VerifiableCredential {
		ev := Evidence{}
		if len(a.Evidence) > 0 {
			ev = a.Evidence[0]
		}
		now, ok := claims[a.ID]
		if !ok {
			add(a.ID, a.Name, ev, "no longer claimed: the event was corrected or withdrawn since issuance")
			continue
		}
		if substance(a) != now {
			add(a.ID, a.Name, ev, "claimed differently now: the claim changed since issuance")
		}
	}
	counted := map[string]bool{}
	for _, e := range again.CredentialSubject.TrainingTotals.Evidence {
		counted[e.EventID+"@"+e.Hash] = true
	}
	for _, e := range subj.TrainingTotals.Evidence {
		if !counted[e.EventID+"@"+e.Hash] {
			add("trainingTotals", "", e, "training %s@%d no longer counts: corrected or withdrawn since issuance", e.Stream, e.Revision)
		}
	}
	cur.Current = len(cur.Problems) == 0
	return cur, nil
}

// substance is what a claim asserts, for comparing the claim as issued
// with the claim rebuilt now: its evidence (events and their hashes), its
// issuer, its date (activityEndDate), and the achievement's id, kind, trade
// code, level, certificate number, tier and rank. Display text (names, descriptions, the trade's
// name) is left out: it may be worded differently by another build, and
// must not make an untouched claim "claimed differently".
func substance(a AchievementCredential) string {
	x := a.CredentialSubject.Achievement
	b, _ := json.Marshal(struct {
		Evidence                                  []Evidence
		Issuer                                    string
		ID, Type, Trade, Level, Number, Tier, Day string
		Rank                                      int
	}{a.Evidence, a.Issuer.ID, x.ID, x.AchievementType, x.Trade, x.Level, x.CertificateNumber, x.Tier, a.CredentialSubject.ActivityEndDate, x.Rank})
	return string(b)
}

func (p Problem) String() string {
	where := ""
	if p.Stream != "" {
		where = " (" + p.Stream + "@" + strconv.FormatUint(p.Revision, 10) + ")"
	}
	name := p.Claim
	if p.Name != "" {
		name = p.Name
	}
	return name + where + ": " + p.Reason
}

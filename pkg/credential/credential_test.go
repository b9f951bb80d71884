package credential_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
)

func issue(t *testing.T) ([]byte, ed25519.PrivateKey) {
	t.Helper()
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, c, err := credential.Issue(ctx, st, "c-0001", credential.IssueOptions{Key: key, IssuerName: "test deployment"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Proof == nil {
		t.Fatal("issued credential has no proof")
	}
	return b, key
}

func TestIssueAndVerifyRoundTrip(t *testing.T) {
	b, key := issue(t)
	pub := key.Public().(ed25519.PublicKey)
	c, err := credential.Verify(b, pub)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	s := c.CredentialSubject
	if s.CraftsmanID != "c-0001" || c.Issuer.ID != credential.DID(pub) || !strings.HasPrefix(c.Issuer.ID, "did:key:z6Mk") {
		t.Errorf("subject %s issuer %s", s.CraftsmanID, c.Issuer.ID)
	}
	// Three certificates, one placement, one honour, two trainings (152 h).
	var types []string
	for _, a := range s.VerifiableCredential {
		types = append(types, a.CredentialSubject.Achievement.AchievementType)
		if len(a.Evidence) != 1 || a.Evidence[0].Stream != "craftsman-c-0001" || !strings.HasPrefix(a.Evidence[0].Hash, "sha256:") || a.Evidence[0].EventID == "" {
			t.Errorf("claim %s evidence %+v", a.Name, a.Evidence)
		}
	}
	if got := strings.Join(types, ","); got != "JourneymanCertificate,JourneymanCertificate,JourneymanCertificate,Award,Award" {
		t.Errorf("achievement types %s", got)
	}
	for i, want := range []string{audittest.Evaluator, audittest.Evaluator, audittest.Evaluator, audittest.Union, audittest.Union} {
		if got := s.VerifiableCredential[i].Issuer.ID; got != "urn:craftledger:org:"+want {
			t.Errorf("claim %d issuer %s, want the recording organisation %s", i, got, want)
		}
	}
	if s.TrainingTotals.Hours != 152 || s.TrainingTotals.Courses != 2 || len(s.TrainingTotals.Evidence) != 2 {
		t.Errorf("training totals %+v", s.TrainingTotals)
	}
	// Evidence points at the right events: the senior certificate is revision 6.
	sealed := audittest.Seal(t, "craftsman-c-0001", audittest.Career("c-0001"))
	ev := s.VerifiableCredential[2].Evidence[0]
	if ev.Revision != 6 || ev.Hash != sealed[6].Hash || ev.EventID != sealed[6].ID {
		t.Errorf("senior certificate evidence %+v, want revision 6 hash %s", ev, sealed[6].Hash)
	}
	if s.Ledger.Revision != uint64(len(sealed)-1) || s.Ledger.Hash != sealed[len(sealed)-1].Hash {
		t.Errorf("ledger head %+v", s.Ledger)
	}
	// The signed text is canonical JSON and a standard JSON document.
	var any map[string]any
	if err := json.Unmarshal(b, &any); err != nil || any["proof"] == nil {
		t.Errorf("not JSON with a proof: %v", err)
	}
}

func TestAnySingleByteTamperingFails(t *testing.T) {
	b, key := issue(t)
	pub := key.Public().(ed25519.PublicKey)
	if testing.Short() {
		b = b[len(b)-600:] // the proof and the end of the document still fail
	}
	for i := range b {
		masks := []byte{0x01}
		if i%5 == 0 {
			masks = append(masks, 0x20) // a case or space change, on a sample
		}
		for _, mask := range masks {
			c := bytes.Clone(b)
			c[i] ^= mask
			if _, err := credential.Verify(c, pub); err == nil {
				t.Fatalf("byte %d (%q → %q) changed and the credential still verifies", i, b[i], c[i])
			}
		}
	}
}

func TestVerifyRefusesOtherKeysAndReserialisation(t *testing.T) {
	b, key := issue(t)
	pub := key.Public().(ed25519.PublicKey)
	otherPub, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := credential.Verify(b, otherPub); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("verify under another key: %v", err)
	}
	// Re-signed by another key that claims the original issuer.
	var c credential.Credential
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if _, err := credential.Sign(&c, otherKey, time.Now()); err == nil {
		t.Error("signing with a key that is not the issuer's: no error")
	}
	// A forged claim, honestly re-signed by the forger's own key, fails
	// against the deployment's key.
	c.Issuer.ID = credential.DID(otherPub)
	c.CredentialSubject.TrainingTotals.Hours = 9999
	forged, err := credential.Sign(&c, otherKey, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credential.Verify(forged, pub); err == nil {
		t.Error("a credential re-signed by another key verifies under the deployment's key")
	}
	// Pretty-printing changes bytes: refused as non-canonical.
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, b, "", "  ")
	if _, err := credential.Verify(pretty.Bytes(), pub); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("pretty-printed: %v", err)
	}
}

func TestCanonicalizeRFC8785(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"b":1,"a":[true,null,"x"]}`, `{"a":[true,null,"x"],"b":1}`},
		{`{"€":1,"\r":2,"1":3,"ö":4,"😀":5,"\u0080":6}`, "{\"\\r\":2,\"1\":3,\"\u0080\":6,\"ö\":4,\"€\":1,\"😀\":5}"},
		{`[1.0, 1e21, 1e-7, 0.000001, -0, 123456789012345680000, 4.5, 2e-3]`, `[1,1e+21,1e-7,0.000001,0,123456789012345680000,4.5,0.002]`},
		{`"<\u003e&\u00e9\u001f\/"`, "\"<>&é\\u001f/\""},
	} {
		got, err := credential.Canonicalize([]byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("Canonicalize(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	if _, err := credential.Canonicalize([]byte(`{"a":1,"a":2}`)); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestKeyFilesAndDID(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "issuer.key")
	key, err := credential.GenerateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credential.GenerateKeyFile(path); err == nil {
		t.Error("overwrote an existing key")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	got, err := credential.LoadPrivateKey(path)
	if err != nil || !got.Equal(key) {
		t.Fatalf("load private: %v", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	for _, p := range []string{path + ".pub", path} {
		if got, err := credential.LoadPublicKey(p); err != nil || !got.Equal(pub) {
			t.Errorf("load public from %s: %v", p, err)
		}
	}
	didFile := filepath.Join(dir, "did.txt")
	_ = os.WriteFile(didFile, []byte(credential.DID(pub)+"\n"), 0o644)
	if got, err := credential.LoadPublicKey(didFile); err != nil || !got.Equal(pub) {
		t.Errorf("load public from did: %v", err)
	}
}

func TestHandlerVerifiesAndIssues(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 2)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ak := auth.DevKey()
	h, err := credential.NewHandler(credential.HandlerConfig{Key: key, Store: st, Auth: ak})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tok := func(c auth.Claims) string {
		s, err := auth.Mint(ak, c, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	get := func(id, token string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/credentials/"+id, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp, buf.Bytes()
	}
	resp, vc := get("c-0001", tok(auth.Claims{Subject: "w1", Role: auth.RoleWorker, CraftsmanID: "c-0001"}))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("worker gets own record: %d %s", resp.StatusCode, vc)
	}
	if resp, _ := get("c-0002", tok(auth.Claims{Subject: "w1", Role: auth.RoleWorker, CraftsmanID: "c-0001"})); resp.StatusCode != http.StatusForbidden {
		t.Errorf("worker gets another's record: %d", resp.StatusCode)
	}
	if resp, _ := get("c-0002", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp, _ := get("nobody", tok(auth.Claims{Subject: "a", Role: auth.RoleAuditor})); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown craftsman: %d", resp.StatusCode)
	}
	post := func(body []byte) credential.VerifyResult {
		resp, err := srv.Client().Post(srv.URL+"/credentials/verify", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r credential.VerifyResult
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("verify answer %d: %v", resp.StatusCode, err)
		}
		return r
	}
	if r := post(vc); !r.Valid || r.CraftsmanID != "c-0001" || r.Claims != 5 {
		t.Errorf("verify issued: %+v", r)
	}
	bad := bytes.Replace(vc, []byte(`"hours":152`), []byte(`"hours":952`), 1)
	if bytes.Equal(bad, vc) {
		t.Fatal("tamper did not apply")
	}
	if r := post(bad); r.Valid || r.Code != errs.Code(errs.PermissionDenied) {
		t.Errorf("verify tampered: %+v", r)
	}
	// Online: current now; after the honour is withdrawn in the ledger,
	// that claim alone is named.
	online := func() credential.VerifyResult {
		resp, err := srv.Client().Post(srv.URL+"/credentials/verify?online=true", "application/json", bytes.NewReader(vc))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r credential.VerifyResult
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("online verify answer %d: %v", resp.StatusCode, err)
		}
		return r
	}
	if r := online(); !r.Valid || r.Current == nil || !*r.Current || len(r.Problems) != 0 {
		t.Errorf("online, fresh: %+v", r)
	}
	if r := post(vc); r.Current != nil {
		t.Errorf("offline answer carries an online verdict: %+v", r)
	}
	stream := events.CraftsmanStream("c-0001")
	all := audittest.Seal(t, stream, append(audittest.Career("c-0001"), audittest.Event{Payload: events.HonourWithdrawn{CraftsmanID: "c-0001", HonourID: "h-c-0001", Reason: "error"},
		Issuer: audittest.Union, Occurred: audittest.Day(2021, 1, 1)}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := st.Append(ctx, stream, eventstore.At(8), all[9].EventData()); err != nil {
		t.Fatal(err)
	}
	if r := online(); !r.Valid || r.Current == nil || *r.Current || len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Reason, "no longer claimed") {
		t.Errorf("online, honour withdrawn: %+v", r)
	}
}

// A corrected certificate is claimed as corrected, citing the correction;
// a withdrawn honour is not claimed.
func TestIssueFollowsCorrectionsAndWithdrawals(t *testing.T) {
	st, _ := audittest.Store(t)
	id := "c-corr"
	stream := events.CraftsmanStream(id)
	evs := audittest.Career(id)
	sealedIDs := audittest.Seal(t, stream, evs)
	fixed := evs[6].Payload.(events.SkillLevelCertified)
	fixed.CertificateNumber = "S-FIXED-" + id
	rep, err := events.NewReplacement(fixed, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs = append(evs,
		audittest.Event{Payload: events.EventCorrected{CraftsmanID: id, SupersedesEventID: sealedIDs[6].ID, Reason: "number mistyped", Replacement: rep},
			Issuer: audittest.Evaluator, Occurred: audittest.Day(2018, 7, 1)},
		audittest.Event{Payload: events.HonourWithdrawn{CraftsmanID: id, HonourID: "h-" + id, Reason: "conferred in error"},
			Issuer: audittest.Union, Occurred: audittest.Day(2021, 1, 1)})
	sealed := audittest.Seal(t, stream, evs)
	audittest.Append(t, st, stream, sealed)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, c, err := credential.Issue(ctx, st, id, credential.IssueOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credential.Verify(b, key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	var senior *credential.AchievementCredential
	awards := 0
	for i, a := range c.CredentialSubject.VerifiableCredential {
		switch {
		case a.CredentialSubject.Achievement.Level == "senior":
			senior = &c.CredentialSubject.VerifiableCredential[i]
		case a.CredentialSubject.Achievement.AchievementType == "Award":
			awards++
		}
	}
	if senior == nil || senior.CredentialSubject.Achievement.CertificateNumber != "S-FIXED-"+id {
		t.Fatalf("corrected certificate: %+v", senior)
	}
	if ev := senior.Evidence[0]; ev.Revision != 9 || ev.Hash != sealed[9].Hash {
		t.Errorf("corrected certificate cites %+v, want the correction at revision 9", ev)
	}
	if awards != 1 {
		t.Errorf("%d awards, want the placement only (the honour was withdrawn)", awards)
	}
}

func TestContextsIsACopy(t *testing.T) {
	c := credential.Contexts()
	c[0] = "https://example.org/evil"
	if credential.Contexts()[0] != "https://www.w3.org/ns/credentials/v2" {
		t.Error("Contexts shares its backing array")
	}
}

// Online, a credential is checked against the ledger it cites: current
// when issued; once its senior certificate is corrected and its honour
// withdrawn, exactly those two claims are reported, while the signature
// still holds offline.
func TestCheckCurrentReportsCorrectedAndWithdrawnClaims(t *testing.T) {
	st, _ := audittest.Store(t)
	id := "c-live"
	stream := events.CraftsmanStream(id)
	evs := audittest.Career(id)
	honest := audittest.Seal(t, stream, evs)
	fixed := evs[6].Payload.(events.SkillLevelCertified)
	fixed.Trade.Name = "电工（维修）" // not the number: a correction keeps the fields identifying the fact (verify checks it)
	rep, err := events.NewReplacement(fixed, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs = append(evs,
		audittest.Event{Payload: events.EventCorrected{CraftsmanID: id, SupersedesEventID: honest[6].ID, Reason: "trade name mistyped", Replacement: rep},
			Issuer: audittest.Evaluator, Occurred: audittest.Day(2018, 7, 1)},
		audittest.Event{Payload: events.HonourWithdrawn{CraftsmanID: id, HonourID: "h-" + id, Reason: "conferred in error"},
			Issuer: audittest.Union, Occurred: audittest.Day(2021, 1, 1)})
	all := audittest.Seal(t, stream, evs)
	audittest.Append(t, st, events.CompetitionStream("city-sh-2019"), audittest.Seal(t, events.CompetitionStream("city-sh-2019"), audittest.Competition()))
	audittest.Append(t, st, stream, all[:9])
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, _, err := credential.Issue(ctx, st, id, credential.IssueOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	c, err := credential.Verify(b, pub)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := credential.CheckCurrent(ctx, st, c, time.Now())
	if err != nil || !cur.Current || len(cur.Problems) != 0 || cur.NewEvents != 0 {
		t.Fatalf("fresh credential: %+v, %v", cur, err)
	}

	later := make([]eventstore.EventData, 0, 2)
	for _, s := range all[9:] {
		later = append(later, s.EventData())
	}
	if _, err := st.Append(ctx, stream, eventstore.At(8), later...); err != nil {
		t.Fatal(err)
	}
	if _, err := credential.Verify(b, pub); err != nil {
		t.Fatalf("offline verification must still pass: %v", err)
	}
	cur, err = credential.CheckCurrent(ctx, st, c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Against a ledger without the stream (another deployment's, or the
	// stream deleted): every cited event is missing; not an error.
	other, _ := audittest.Store(t)
	elsewhere, err := credential.CheckCurrent(ctx, other, c, time.Now())
	if err != nil || elsewhere.Current || len(elsewhere.Problems) < len(c.CredentialSubject.VerifiableCredential) {
		t.Errorf("against another ledger: %+v, %v", elsewhere, err)
	}
	var got []string
	for _, p := range cur.Problems {
		got = append(got, p.Claim+" @"+strconv.FormatUint(p.Revision, 10))
	}
	want := []string{"urn:craftledger:event:" + honest[6].ID + " @6", "urn:craftledger:event:" + honest[8].ID + " @8"}
	if cur.Current || !slices.Equal(got, want) || cur.NewEvents != 2 || cur.Head.Revision != 10 {
		t.Errorf("after correction and withdrawal: current %v, problems %v (want %v), %d new events, head %d", cur.Current, cur.Problems, want, cur.NewEvents, cur.Head.Revision)
	}
}

// TestIssueOpensSealedNames: a worker registered with a sealed name (the
// registry's keyring, as make run records everyone) is named in their
// record when the issuer holds the keyring; without it, or once the
// craftsman is forgotten (key destroyed), the record names no one; a key
// that cannot be read stops the issuance rather than leave the name out.
func TestIssueOpensSealedNames(t *testing.T) {
	st, _ := audittest.Store(t)
	dir := t.TempDir()
	keys, err := keyring.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	career := audittest.Career("c-0007")
	reg := career[0].Payload.(events.CraftsmanRegistered)
	sealed, err := keys.Seal("c-0007", *reg.Personal)
	if err != nil {
		t.Fatal(err)
	}
	reg.Personal, reg.SealedPersonal = nil, sealed
	career[0].Payload = reg
	audittest.Append(t, st, "craftsman-c-0007", audittest.Seal(t, "craftsman-c-0007", career))
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	name := func(opts credential.IssueOptions) (string, error) {
		opts.Key = key
		b, _, err := credential.Issue(ctx, st, "c-0007", opts)
		if err != nil {
			return "", err
		}
		c, err := credential.Verify(b, key.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		return c.CredentialSubject.Name, nil
	}
	if got, err := name(credential.IssueOptions{Personal: keys}); err != nil || got != "测试工匠 c-0007" {
		t.Errorf("with the keyring: name %q, %v; want the opened name", got, err)
	}
	if got, err := name(credential.IssueOptions{}); err != nil || got != "" {
		t.Errorf("without a keyring: name %q, %v; want none", got, err)
	}

	// A key file that cannot be read (here a directory in its place).
	files, err := filepath.Glob(filepath.Join(dir, "*.key"))
	if err != nil || len(files) != 1 {
		t.Fatalf("key files %v, %v", files, err)
	}
	if err := os.Rename(files[0], files[0]+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(files[0], 0o700); err != nil {
		t.Fatal(err)
	}
	if got, err := name(credential.IssueOptions{Personal: keys}); !errors.Is(err, errs.Internal) {
		t.Errorf("unreadable key: name %q, err %v; want an internal error", got, err)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(files[0]+".moved", files[0]); err != nil {
		t.Fatal(err)
	}

	if err := keys.Forget("c-0007"); err != nil {
		t.Fatal(err)
	}
	if got, err := name(credential.IssueOptions{Personal: keys}); err != nil || got != "" {
		t.Errorf("forgotten: name %q, %v; want none", got, err)
	}
}

// TestCheckCurrentIgnoresAnotherEventsTradeName: a training back-filled
// after issuance, in the same trade code under another name (维修电工
// for 6-31-01-03) and dated before everything else, does not make the
// untouched claims "claimed differently": each claim is named from its own
// event, and the online check compares what a claim asserts (evidence,
// level, trade code, number, issuer), not its display name. Before, every
// certificate and the placement took the fold's first-seen name and were
// reported.
func TestCheckCurrentIgnoresAnotherEventsTradeName(t *testing.T) {
	st, _ := audittest.Store(t)
	id := "c-name"
	stream := events.CraftsmanStream(id)
	evs := audittest.Career(id)
	evs = append(evs, audittest.Event{Payload: events.TrainingCompleted{CraftsmanID: id, EnrolmentID: "enr-paper", AcademyID: audittest.Academy,
		CourseID: "wiring-1", Trade: events.Trade{Code: audittest.Trade().Code, Name: "维修电工"}, Hours: 16, Mode: "classroom", Passed: true},
		Issuer: audittest.Academy, Occurred: audittest.Day(2009, 9, 1)})
	all := audittest.Seal(t, stream, evs)
	audittest.Append(t, st, events.CompetitionStream("city-sh-2019"), audittest.Seal(t, events.CompetitionStream("city-sh-2019"), audittest.Competition()))
	audittest.Append(t, st, stream, all[:9])
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, _, err := credential.Issue(ctx, st, id, credential.IssueOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	c, err := credential.Verify(b, pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, stream, eventstore.At(8), all[9].EventData()); err != nil {
		t.Fatal(err)
	}
	cur, err := credential.CheckCurrent(ctx, st, c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !cur.Current || len(cur.Problems) != 0 || cur.NewEvents != 1 {
		t.Errorf("after a back-filled training naming the trade otherwise: current %v, problems %v, %d new events; want current, 1 new event", cur.Current, cur.Problems, cur.NewEvents)
	}
	// A claim worded otherwise (as by an older build, which named a trade
	// after the fold's first-seen name) is the same claim; a claim whose
	// number differs is not.
	for i := range c.CredentialSubject.VerifiableCredential {
		a := &c.CredentialSubject.VerifiableCredential[i]
		a.Name += " (维修电工)"
		a.CredentialSubject.Achievement.Name, a.CredentialSubject.Achievement.FieldOfStudy = a.Name, "维修电工"
	}
	if cur, err := credential.CheckCurrent(ctx, st, c, time.Now()); err != nil || !cur.Current {
		t.Errorf("claims worded otherwise: current %v, problems %v, %v", cur.Current, cur.Problems, err)
	}
	c.CredentialSubject.VerifiableCredential[0].CredentialSubject.Achievement.CertificateNumber = "J-OTHER"
	if cur, err := credential.CheckCurrent(ctx, st, c, time.Now()); err != nil || len(cur.Problems) != 1 || !strings.Contains(cur.Problems[0].Reason, "claimed differently") {
		t.Errorf("a claim with another certificate number: problems %v, %v; want it claimed differently", cur.Problems, err)
	}
	// Reissued now, each certificate still bears its own event's name.
	_, again, err := credential.Issue(ctx, st, id, credential.IssueOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again.CredentialSubject.VerifiableCredential {
		if a.CredentialSubject.Achievement.Level != "" && a.CredentialSubject.Achievement.FieldOfStudy != "电工" {
			t.Errorf("%s: field of study %q, want its own event's 电工", a.Name, a.CredentialSubject.Achievement.FieldOfStudy)
		}
	}
}

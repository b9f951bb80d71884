// Package sectest is the harness of the security and bad-input tests: it
// starts the all-in-one (embedded store over real gRPC on loopback, every
// service and GraphQL on one HTTP listener), mints a token per caller of the
// authorization matrix (valid and invalid ones), writes a small fixture
// through the real HTTP API, and reads the position of the end of $all so
// that a test can prove a refused request wrote nothing.
package sectest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// Organisations and ids of the fixture.
const (
	OrgA      = "employer-a" // an employer; its HR user is a caller
	AcademyB  = "academy-b"  // an academy; its issuer is a caller
	AcademyX  = "academy-x"  // another academy; its issuer is the "foreign issuer"
	CourseB   = "course-b1"
	Worker    = "c-1" // the worker caller's own record: employed by A, trained at B
	Stranger  = "c-2" // registered by the admin, linked to nobody
	Master    = "c-m" // a senior (level 3) master, for mentorships
	Apprentic = "c-p" // an apprentice of Master
	Spare     = "c-q" // registered by B, for back-filled pairings
	Trade     = "6-31-01-03"
	CompB     = "comp-b"
	Mentor1   = "ms-1" // active: sessions, completion
	Mentor2   = "ms-2" // active: early end
	HonourB   = "hon-b1"
	Employ1   = "emp-1"
)

// Caller is one column of the authorization matrix.
type Caller string

// The callers.
const (
	Anonymous Caller = "anonymous"
	Expired   Caller = "expired"
	Tampered  Caller = "tampered"
	WrongKey  Caller = "wrong-key"
	AlgNone   Caller = "alg-none"
	WorkerC   Caller = "worker"
	HRA       Caller = "hr-of-A"
	IssuerB   Caller = "issuer-of-B"
	IssuerX   Caller = "issuer-of-X"
	Auditor   Caller = "auditor"
	Admin     Caller = "admin"
)

// Callers lists every caller in a stable order.
func Callers() []Caller {
	return []Caller{Anonymous, Expired, Tampered, WrongKey, AlgNone, WorkerC, HRA, IssuerB, IssuerX, Auditor, Admin}
}

// Invalid reports whether c carries no usable token.
func (c Caller) Invalid() bool {
	switch c {
	case Anonymous, Expired, Tampered, WrongKey, AlgNone:
		return true
	}
	return false
}

// Env is a running all-in-one with its tokens.
type Env struct {
	T      testing.TB
	App    *app.App
	Base   string
	Tokens map[Caller]string
	Key    auth.Key
	// Entitlement is the worker's entitlement from competition B,
	// awaiting approval.
	Entitlement string
	// HonourEvent, PlacementEvent and MentorshipEvent are ids of events on
	// the worker's stream recorded by issuer B: the honour's conferral, the
	// placement in competition B, the start of mentorship 2.
	HonourEvent, PlacementEvent, MentorshipEvent string
	// EmploymentEvent (the start of Employ1) and TrainingEvent (the
	// completion at B) are also on the worker's stream, recorded by B.
	EmploymentEvent, TrainingEvent string
	// CredentialKey signs the deployment's credentials (/credentials/…,
	// GraphQL verifyCredential); generated for each Start.
	CredentialKey ed25519.PrivateKey
	client        *http.Client
}

// Options tune Start.
type Options struct {
	NoFixture bool
	// StoreURL, when set, is a store the all-in-one connects to instead of
	// embedding its own.
	StoreURL string
	// Logger receives the all-in-one's logs (nil discards).
	Logger *slog.Logger
	// RateLimit and RateBurst are the all-in-one's per-caller limit
	// (0 = none).
	RateLimit float64
	RateBurst int
}

// Start runs the all-in-one in-process on a temporary directory and, unless
// o.NoFixture, writes the fixture.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	key := auth.DevKey()
	_, credKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0", Key: key,
		NationalIDKey: []byte(registry.DevNationalIDKey), StoreURL: o.StoreURL, Logger: o.Logger,
		RateLimit: o.RateLimit, RateBurst: o.RateBurst,
		// Employer A's HR department is the fixture's approving authority
		// (the HRA caller approves in the matrix); any other organisation's
		// hr users are refused, as in a deployment with --approvers.
		Approvers:     []string{OrgA},
		CredentialKey: credKey})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		a.Close()
	})
	e := &Env{T: t, App: a, Base: a.BaseURL(), Key: key, Tokens: Tokens(t, key), CredentialKey: credKey,
		client: &http.Client{Timeout: 30 * time.Second}}
	if !o.NoFixture {
		e.Fixture()
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		if err := a.WaitCaughtUp(wctx); err != nil {
			t.Fatalf("projection did not catch up with the fixture: %v", err)
		}
	}
	return e
}

// Tokens mints one token per caller under key ("" for anonymous).
func Tokens(t testing.TB, key auth.Key) map[Caller]string {
	t.Helper()
	mint := func(k auth.Key, c auth.Claims, at time.Time, ttl time.Duration) string {
		s, err := auth.MintAt(k, c, at, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	admin := auth.Claims{Subject: "u-admin", Role: auth.RoleAdmin}
	toks := map[Caller]string{
		Anonymous: "",
		Expired:   mint(key, admin, now.Add(-3*time.Hour), time.Hour),
		WrongKey:  mint(auth.Key("another-key-of-at-least-thirty-two-bytes!!"), admin, now, time.Hour),
		WorkerC:   mint(key, auth.Claims{Subject: "u-worker", Role: auth.RoleWorker, CraftsmanID: Worker}, now, time.Hour),
		HRA:       mint(key, auth.Claims{Subject: "u-hr-a", Role: auth.RoleHR, OrgID: OrgA}, now, time.Hour),
		IssuerB:   mint(key, auth.Claims{Subject: "u-issuer-b", Role: auth.RoleIssuer, OrgID: AcademyB}, now, time.Hour),
		IssuerX:   mint(key, auth.Claims{Subject: "u-issuer-x", Role: auth.RoleIssuer, OrgID: AcademyX}, now, time.Hour),
		Auditor:   mint(key, auth.Claims{Subject: "u-auditor", Role: auth.RoleAuditor}, now, time.Hour),
		Admin:     mint(key, admin, now, time.Hour),
	}
	// Tampered: a worker's token whose payload now claims the admin role,
	// signature unchanged.
	parts := strings.Split(toks[WorkerC], ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	m["role"] = "admin"
	b, _ := json.Marshal(m)
	toks[Tampered] = parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	// alg:none: an admin's claims, header {"alg":"none"}, no signature.
	ap := strings.Split(toks[Admin], ".")
	toks[AlgNone] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + ap[1] + "."
	return toks
}

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Err decodes the error body ({} when the body is not one).
func (r Response) Err() kit.ErrorDetail {
	var eb kit.ErrorBody
	_ = json.Unmarshal(r.Body, &eb)
	return eb.Error
}

func (r Response) String() string { return fmt.Sprintf("%d %.400s", r.Status, r.Body) }

// Do sends method path (relative to the base URL) with a raw body as
// caller. contentType "" means application/json when body is not empty.
func (e *Env) Do(caller Caller, method, path, contentType, body string, headers ...string) Response {
	e.T.Helper()
	return e.DoToken(e.Tokens[caller], method, path, contentType, body, headers...)
}

// DoToken is Do with an explicit bearer token ("" for none).
func (e *Env) DoToken(token, method, path, contentType, body string, headers ...string) Response {
	e.T.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.Base+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if contentType == "" && body != "" {
		contentType = "application/json"
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// MustWrite sends a command as caller and fails the test unless it wrote
// (201) or was already recorded (200).
func (e *Env) MustWrite(caller Caller, method, path, body string) Response {
	e.T.Helper()
	r := e.Do(caller, method, path, "", body)
	if r.Status != 200 && r.Status != 201 {
		e.T.Fatalf("fixture %s %s as %s: %s", method, path, caller, r)
	}
	return r
}

// End is the position of the last event of $all, system events included
// (the zero position when the log is empty), read over real gRPC.
func (e *Env) End() eventstore.Position {
	e.T.Helper()
	evs, err := e.App.Store().ReadAll(context.Background(), eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1})
	if err != nil {
		e.T.Fatal(err)
	}
	if len(evs) == 0 {
		return eventstore.Position{}
	}
	return evs[0].Position
}

// NationalID is a valid 18-character national ID number (GB 11643 check
// character) derived from n.
func NationalID(n int) string {
	return generate.WithCheckChar(fmt.Sprintf("11010119900101%03d", n%1000))
}

// FixtureCraftsmen are the craftsmen Fixture registers, in order: the
// i-th has national ID number NationalID(100+i) and name PersonalName(c).
func FixtureCraftsmen() []string { return []string{Worker, Stranger, Master, Apprentic, Spare} }

// PersonalName is the name (personal data) Fixture registers craftsman c
// under.
func PersonalName(c string) string { return "工匠 " + c }

// Fixture writes, through the real HTTP API: academies B and X with a
// course each, the craftsmen (the worker employed by A and trained at B,
// a stranger, a senior master and an apprentice), competition B with a
// published placement of the worker whose entitlement awaits approval, a
// mentorship, an honour conferred by B, and an employment at B.
func (e *Env) Fixture() {
	e.T.Helper()
	for _, ac := range []string{AcademyB, AcademyX} {
		e.MustWrite(Admin, "POST", "/api/registry/v1/academies", `{"academyId":"`+ac+`","name":"学院 `+ac+`","kind":"college","region":"120000"}`)
		e.MustWrite(Admin, "POST", "/api/registry/v1/academies/"+ac+"/courses",
			`{"courseId":"course-`+ac[len(ac)-1:]+`1","title":"电工基础","trade":{"code":"`+Trade+`","name":"电工"},"hours":40,"mode":"classroom"}`)
	}
	for i, c := range FixtureCraftsmen() {
		caller := IssuerB
		if c == Stranger {
			caller = Admin
		}
		e.MustWrite(caller, "POST", "/api/registry/v1/craftsmen", `{"craftsmanId":"`+c+`","nationalId":"`+NationalID(100+i)+`","birthDate":"1990-01-01","region":"120000","personal":{"name":"`+PersonalName(c)+`"}}`)
	}
	e.MustWrite(Admin, "POST", "/api/registry/v1/craftsmen/"+Worker+"/employments",
		`{"employmentId":"emp-a","employerOrgId":"`+OrgA+`","trade":{"code":"`+Trade+`"},"occurredAt":"2020-01-01"}`)
	e.MustWrite(IssuerB, "POST", "/api/registry/v1/craftsmen/"+Worker+"/employments",
		`{"employmentId":"`+Employ1+`","employerOrgId":"`+AcademyB+`","trade":{"code":"`+Trade+`"},"occurredAt":"2021-01-01"}`)
	e.MustWrite(IssuerB, "POST", "/api/training/v1/craftsmen/"+Worker+"/completions",
		`{"academyId":"`+AcademyB+`","courseId":"`+CourseB+`","hours":40,"passed":true,"occurredAt":"2022-01-01"}`)
	e.MustWrite(IssuerB, "POST", "/api/training/v1/craftsmen/"+Master+"/certificates",
		`{"trade":{"code":"`+Trade+`"},"level":"senior","certificateNumber":"CERT-M-1","family":"skill_level","evaluatingOrgId":"`+AcademyB+`","issuingOrg":{"id":"`+AcademyB+`","kind":"third_party"},"route":"regular","occurredAt":"2015-01-01"}`)
	e.MustWrite(IssuerB, "POST", "/api/competition/v1/competitions", CompetitionDef(CompB, ""))
	pub := e.MustWrite(IssuerB, "POST", "/api/competition/v1/competitions/"+CompB+"/results",
		`{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"`+Worker+`","track":"employees","rank":1}]}`)
	var res struct {
		Placements []struct {
			Entitlement *struct {
				EntitlementID string `json:"entitlementId"`
			} `json:"entitlement"`
		} `json:"placements"`
	}
	if err := json.Unmarshal(pub.Body, &res); err != nil || len(res.Placements) != 1 || res.Placements[0].Entitlement == nil {
		e.T.Fatalf("publication granted no entitlement: %s (%v)", pub, err)
	}
	e.Entitlement = res.Placements[0].Entitlement.EntitlementID
	e.MustWrite(IssuerB, "POST", "/api/mentorship/v1/mentorships", MentorshipStart(Mentor1, Apprentic))
	e.MustWrite(IssuerB, "POST", "/api/mentorship/v1/mentorships", MentorshipStart(Mentor2, Worker))
	e.MustWrite(Admin, "POST", "/api/registry/v1/issuers", `{"issuerId":"`+AcademyB+`","name":"学院 B","kind":"academy"}`)
	hon := e.MustWrite(IssuerB, "POST", "/api/honour/v1/craftsmen/"+Worker+"/honours",
		`{"honourId":"`+HonourB+`","code":"academy_star","name":"学院之星","level":"enterprise","conferringBody":"`+AcademyB+`","occurredAt":"2023-05-01"}`)
	var hr struct {
		EventIDs []string `json:"eventIds"`
	}
	if err := json.Unmarshal(hon.Body, &hr); err != nil || len(hr.EventIDs) != 1 {
		e.T.Fatalf("honour conferral answer %s (%v)", hon, err)
	}
	e.HonourEvent = hr.EventIDs[0]
	evs, err := e.App.Store().ReadStream(context.Background(), "craftsman-"+Worker, eventstore.ReadOptions{})
	if err != nil {
		e.T.Fatal(err)
	}
	for _, ev := range evs {
		switch {
		case strings.HasPrefix(ev.Type, "CompetitionPlaced.") && e.PlacementEvent == "":
			e.PlacementEvent = ev.ID
		case strings.HasPrefix(ev.Type, "MentorshipStarted.") && e.MentorshipEvent == "":
			e.MentorshipEvent = ev.ID
		case strings.HasPrefix(ev.Type, "EmploymentStarted.") && strings.Contains(string(ev.Data), `"`+Employ1+`"`):
			e.EmploymentEvent = ev.ID
		case strings.HasPrefix(ev.Type, "TrainingCompleted.") && e.TrainingEvent == "":
			e.TrainingEvent = ev.ID
		}
	}
	if e.PlacementEvent == "" || e.MentorshipEvent == "" || e.EmploymentEvent == "" || e.TrainingEvent == "" {
		e.T.Fatalf("no placement (%q) or mentorship (%q) event on the worker's stream", e.PlacementEvent, e.MentorshipEvent)
	}
}

// CompetitionDef is a competition organised by organiser ("" = the
// caller's organisation) whose first five employees earn an entitlement
// that needs approval.
func CompetitionDef(id, organiser string) string {
	org := ""
	if organiser != "" {
		org = `"organiser":"` + organiser + `",`
	}
	return `{"competitionId":"` + id + `","name":"技能竞赛",` + org + `"tier":"national_class_1",
	"trades":[{"code":"` + Trade + `","name":"电工"}],"tracks":["employees"],"startsOn":"2025-09-01","endsOn":"2025-09-05",
	"rules":{"grants":[{"id":"emp-1-5","band":{"track":"employees","fromRank":1,"toRank":5},"level":"technician","raiseIfHeld":true}],
	"requiresApproval":true,"maxPromotionsPerYear":1}}`
}

// MentorshipStart starts a pairing of Master with apprentice at academy B.
func MentorshipStart(id, apprentice string) string {
	return `{"mentorshipId":"` + id + `","masterId":"` + Master + `","apprenticeId":"` + apprentice + `","trade":{"code":"` + Trade + `"},"academyId":"` + AcademyB + `","plannedMonths":24,"occurredAt":"2024-01-01"}`
}

package generate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// step is one command of a craftsman's history, run with an idempotency key
// derived from the craftsman and the step's name, so a rerun is a no-op.
type step struct {
	name string
	at   time.Time
	as   auth.Claims
	run  func(ctx context.Context, s Services) (command.Result, error)
}

// entry is a craftsman taking part in a competition; ranks are assigned once
// every entry of the competition is known.
type entry struct {
	comp    int
	track   string
	score   float64
	person  string
	trade   events.Trade
	persIdx int
}

type person struct {
	id      string
	idx     int
	steps   []step
	entries []entry
	sum     summary
}

// summary is what the mentorship phase needs to know of a craftsman.
type summary struct {
	idx        int
	trade      int
	province   int
	start      time.Time
	levels     []levelAt // primary trade, in order
	home       int       // home academy
	apprentice bool      // looks for a master at the start of the career
	draw       float64
}

type levelAt struct {
	level events.Level
	at    time.Time
}

// levelOn is the highest level of the primary trade held on day d (-1: none).
func (s summary) levelOn(d time.Time) events.Level {
	l := events.Level(-1)
	for _, x := range s.levels {
		if !x.at.After(d) {
			l = x.level
		}
	}
	return l
}

func issuerOf(org string) auth.Claims {
	return auth.Claims{Subject: "demo-issuer-" + org, Role: auth.RoleIssuer, OrgID: org}
}

func hrOf(org string) auth.Claims {
	return auth.Claims{Subject: "demo-hr-" + org, Role: auth.RoleHR, OrgID: org}
}

var adminClaims = auth.Claims{Subject: "demo-admin", Role: auth.RoleAdmin}

func date(t time.Time) string { return t.Format(time.DateOnly) }

func pickWeighted(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// CraftsmanID is the id of the i-th generated craftsman; the first is the
// development identity the demo worker token speaks for.
func CraftsmanID(i int) string {
	if i == 0 {
		return auth.DevCraftsmanID
	}
	return fmt.Sprintf("c%07d", i)
}

// nationalID builds a valid 18-character resident ID number (GB 11643),
// unique to craftsman i: the first thousand carry their province capital's
// real district code, later ones a district number derived from i (valid in
// shape, not a real district).
func nationalID(area string, birth time.Time, i int) string {
	if i >= 1000 {
		area = fmt.Sprintf("%s%04d", area[:2], (i/1000)%10000)
	}
	return WithCheckChar(fmt.Sprintf("%s%s%03d", area, birth.Format("20060102"), i%1000))
}

// WithCheckChar completes the first 17 digits of a resident ID number
// with its GB 11643 check character (the rule the registry checks).
func WithCheckChar(base string) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}

func randDate(r *rand.Rand, from time.Time, maxDays int) time.Time {
	return from.AddDate(0, 0, r.IntN(max(1, maxDays)))
}

var schoolKinds = []string{events.SchoolTechnical, events.SchoolSecondaryVocational, events.SchoolHigherVocational, events.SchoolTechnicianCollege, events.SchoolCollege}
var schoolWeights = []int{25, 25, 20, 15, 15}

// person plans the i-th craftsman's career: deterministic from the seed and
// i alone, whatever the order in which craftsmen are generated.
func (w *world) person(i int) *person {
	r := rand.New(rand.NewPCG(w.seed, uint64(i)+1))
	p := &person{id: CraftsmanID(i), idx: i}
	dev := i == 0

	pw := make([]int, len(provinces))
	for k, pr := range provinces {
		pw[k] = pr.weight
	}
	prov := pickWeighted(r, pw)
	tw := make([]int, len(trades))
	for k, t := range trades {
		tw[k] = t.weight
	}
	trade := pickWeighted(r, tw)
	birth := time.Date(1968+r.IntN(36), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	start := birth.AddDate(18+r.IntN(4), r.IntN(12), r.IntN(28))
	if latest := End.AddDate(-1, 0, 0); start.After(latest) {
		start = latest.AddDate(0, -r.IntN(12), 0)
	}
	school := ""
	if r.Float64() < 0.65 {
		school = schoolKinds[pickWeighted(r, schoolWeights)]
	}
	if dev {
		prov, trade, school = 0, 0, events.SchoolTechnicianCollege
		birth = time.Date(1989, 4, 12, 0, 0, 0, 0, time.UTC)
		start = time.Date(2008, 7, 15, 0, 0, 0, 0, time.UTC)
	}
	pv := provinces[prov]
	tr := trades[trade]

	// organisations: employers and a home academy of the trade, in the
	// province when there is one
	empLimit, acadLimit := employersFor(i+1), academiesFor(i+1)
	visible := func(cands []int, limit int) []int {
		out := make([]int, 0, len(cands))
		for _, c := range cands {
			if c < limit {
				out = append(out, c)
			}
		}
		return out
	}
	pickOrg := func(cands []int, inProv func(int) bool) int {
		var local []int
		for _, c := range cands {
			if inProv(c) {
				local = append(local, c)
			}
		}
		if len(local) > 0 {
			return local[r.IntN(len(local))]
		}
		return cands[r.IntN(len(cands))]
	}
	empOf := func() int {
		return pickOrg(visible(w.empByTrade[trade], empLimit), func(e int) bool { return w.employers[e].province == prov })
	}
	home := pickOrg(visible(w.acadByTrade[trade], acadLimit), func(a int) bool { return w.academies[a].region == pv.name })
	if dev {
		home = 0
	}
	acad := w.academies[home]

	name := surnames[r.IntN(len(surnames))] + string(givenChars[r.IntN(len(givenChars))])
	if r.IntN(3) > 0 {
		name += string(givenChars[r.IntN(len(givenChars))])
	}
	phone := fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))

	// employment: a first job at the start, then zero to two changes
	type job struct {
		id       string
		emp      int
		from, to time.Time
	}
	var jobs []job
	first := empOf()
	if dev {
		first = 0
	}
	jobs = append(jobs, job{id: "job-1", emp: first, from: start})
	for k := 0; k < 2 && !dev; k++ {
		if r.Float64() >= 0.35 {
			break
		}
		last := &jobs[len(jobs)-1]
		end := last.from.AddDate(3+r.IntN(8), r.IntN(12), 0)
		if end.After(End.AddDate(0, -6, 0)) {
			break
		}
		last.to = end
		next := empOf()
		jobs = append(jobs, job{id: fmt.Sprintf("job-%d", len(jobs)+1), emp: next, from: end.AddDate(0, 0, r.IntN(120))})
	}
	if !dev && r.Float64() < 0.05 { // retired or left the trade
		last := &jobs[len(jobs)-1]
		if end := last.from.AddDate(2+r.IntN(10), 0, 0); end.Before(End) {
			last.to = end
		}
	}
	employerClaims := issuerOf(w.employers[first].id)

	// graduation just before the first job
	var grad time.Time
	if school != "" {
		grad = time.Date(start.Year(), 6, 20+r.IntN(10), 0, 0, 0, 0, time.UTC)
		if grad.After(start) {
			grad = grad.AddDate(-1, 0, 0)
		}
	}
	registeredAt := start
	if school != "" && grad.Before(start) {
		registeredAt = grad
	}

	add := func(s step) { p.steps = append(p.steps, s) }
	add(step{name: "register", at: registeredAt, as: employerClaims, run: func(ctx context.Context, s Services) (command.Result, error) {
		return s.Registry.RegisterCraftsman(ctx, registry.RegisterCraftsmanRequest{
			CraftsmanID: p.id, NationalID: nationalID(pv.code, birth, i), BirthDate: date(birth), Region: pv.name,
			Personal: &events.Personal{Name: name, Phone: phone}, OccurredAt: date(registeredAt)})
	}})
	add(step{name: "trade-" + tr.slug, at: start, as: employerClaims, run: func(ctx context.Context, s Services) (command.Result, error) {
		return s.Registry.EnterTrade(ctx, registry.EnterTradeRequest{CraftsmanID: p.id, Trade: tr.Trade, OccurredAt: date(start)})
	}})
	if school != "" {
		var target *events.Level
		switch school {
		case events.SchoolSecondaryVocational:
			l := events.Intermediate
			target = &l
		case events.SchoolHigherVocational, events.SchoolCollege:
			l := events.Senior
			target = &l
		}
		prep := school == events.SchoolTechnicianCollege && r.Float64() < 0.3
		schoolName := pv.city + map[string]string{
			events.SchoolTechnical: "高级技工学校", events.SchoolSecondaryVocational: "职业中等专业学校",
			events.SchoolHigherVocational: "职业技术学院", events.SchoolTechnicianCollege: "技师学院", events.SchoolCollege: "工业职业技术学院",
		}[school]
		if school == events.SchoolTechnical {
			schoolName = pv.city + "技工学校"
		}
		at := grad
		// Recorded by the organisation that registered the craftsman:
		// only a linked issuer (registrar, current employer, enrolling
		// academy) may record a graduation, and at graduation the
		// craftsman has no job or enrolment yet.
		add(step{name: "graduation", at: at, as: employerClaims, run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Training.RecordGraduation(ctx, training.GraduationRequest{CraftsmanID: p.id, SchoolKind: school, SchoolName: schoolName,
				Speciality: tr.Name, Trade: tr.Trade, ProgrammeTarget: target, PreparatoryTechnician: prep, OccurredAt: date(at)})
		}})
	}
	for _, j := range jobs {
		e := w.employers[j.emp]
		add(step{name: j.id + "-start", at: j.from, as: issuerOf(e.id), run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Registry.StartEmployment(ctx, registry.StartEmploymentRequest{CraftsmanID: p.id, EmploymentID: j.id, EmployerOrgID: e.id,
				EmployerName: e.name, Trade: tr.Trade, Position: tr.position, OccurredAt: date(j.from)})
		}})
		if !j.to.IsZero() {
			reason := []string{"合同期满", "工作调动", "个人原因离职"}[r.IntN(3)]
			add(step{name: j.id + "-end", at: j.to, as: issuerOf(e.id), run: func(ctx context.Context, s Services) (command.Result, error) {
				return s.Registry.EndEmployment(ctx, registry.EndEmploymentRequest{CraftsmanID: p.id, EmploymentID: j.id, Reason: reason, OccurredAt: date(j.to)})
			}})
		}
	}

	// the ladder: a course, an assessment and a certificate per level
	certify := func(t int, a academy, l events.Level, at time.Time) {
		tt := trades[t]
		tag := tt.slug + "-" + l.String()
		enrolAt, doneAt, assessAt := at.AddDate(0, -4, 0), at.AddDate(0, 0, -40), at.AddDate(0, 0, -20)
		score := float64(70 + r.IntN(29))
		theory, practical := float64(60+r.IntN(40)), float64(60+r.IntN(40))
		passed := true
		issuerKind := events.IssuerThirdParty
		if a.kind == events.AcademyEnterprise {
			issuerKind = events.IssuerRegisteredEmployer
		}
		number := fmt.Sprintf("S%s%02d%07d%d", pv.code, at.Year()%100, i, l.Info().Grade)
		if t == trade {
			p.sum.levels = append(p.sum.levels, levelAt{l, at})
		}
		cl := issuerOf(a.id)
		cid := courseID(t, l)
		add(step{name: "enrol-" + tag, at: enrolAt, as: cl, run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Training.Enrol(ctx, training.EnrolRequest{CraftsmanID: p.id, EnrolmentID: "enr-" + tag, AcademyID: a.id, CourseID: cid, OccurredAt: date(enrolAt)})
		}})
		add(step{name: "complete-" + tag, at: doneAt, as: cl, run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Training.CompleteTraining(ctx, training.CompleteTrainingRequest{CraftsmanID: p.id, EnrolmentID: "enr-" + tag, AcademyID: a.id,
				CourseID: cid, Hours: tt.hours * float64(l), Score: &score, Passed: true, OccurredAt: date(doneAt)})
		}})
		add(step{name: "assess-" + tag, at: assessAt, as: cl, run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Training.RecordAssessment(ctx, training.AssessmentRequest{CraftsmanID: p.id, AssessmentID: "asm-" + tag, Trade: tt.Trade, Level: l,
				EvaluatingOrgID: a.id, TheoryScore: &theory, PracticalScore: &practical, Passed: &passed, OccurredAt: date(assessAt)})
		}})
		add(step{name: "cert-" + tag, at: at, as: cl, run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Training.CertifySkillLevel(ctx, training.CertifyRequest{CraftsmanID: p.id, Trade: tt.Trade, Level: l, CertificateNumber: number,
				Family: events.FamilySkillLevel, EvaluatingOrgID: a.id, IssuingOrg: events.Org{ID: a.id, Name: a.name, Kind: issuerKind},
				Route: events.RouteRegular, AssessmentID: "asm-" + tag, OccurredAt: date(at)})
		}})
	}
	level, at := events.Junior, start.AddDate(1, r.IntN(12), r.IntN(28))
	if school == events.SchoolTechnical || school == events.SchoolTechnicianCollege {
		level, at = events.Intermediate, start.AddDate(0, 3+r.IntN(9), 0)
	}
	gap := map[events.Level]int{events.Intermediate: 4, events.Senior: 5, events.Technician: 4, events.SeniorTechnician: 4}
	cont := map[events.Level]float64{events.Junior: 0.85, events.Intermediate: 0.7, events.Senior: 0.5, events.Technician: 0.35}
	if dev {
		cont = map[events.Level]float64{events.Junior: 1, events.Intermediate: 1, events.Senior: 1}
	}
	for !at.After(End) {
		certify(trade, acad, level, at)
		if level == events.SeniorTechnician || r.Float64() >= cont[level] {
			break
		}
		level++
		at = at.AddDate(gap[level], r.IntN(18), r.IntN(28))
	}

	// lifelong learning: short online and simulation courses most years
	corrected := false
	for y := max(start.Year()+1, 2016); y <= End.Year(); y++ {
		if r.Float64() >= 0.45 {
			continue
		}
		at := time.Date(y, time.Month(1+r.IntN(9)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		cid, hours := tr.Code+"-safety", 8.0
		if r.IntN(2) == 0 {
			cid, hours = tr.Code+"-sim", 16
		}
		name := fmt.Sprintf("micro-%d", y)
		add(step{name: name, at: at, as: issuerOf(acad.id), run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Training.CompleteTraining(ctx, training.CompleteTrainingRequest{CraftsmanID: p.id, AcademyID: acad.id, CourseID: cid,
				Hours: hours, Passed: true, OccurredAt: date(at)})
		}})
		// a few completions were recorded with the wrong hours and are
		// corrected a month later: both stay in the history
		if fixAt := at.AddDate(0, 1, 0); !corrected && r.Float64() < 0.03 && !fixAt.After(End) {
			corrected = true
			mode := events.ModeOnlineMicro
			if hours == 16 {
				mode = events.ModeVirtualSim
			}
			fixed := events.TrainingCompleted{CraftsmanID: p.id, AcademyID: acad.id, CourseID: cid, Trade: tr.Trade, Hours: hours / 2, Mode: mode, Passed: true}
			add(step{name: "correct-" + name, at: fixAt, as: issuerOf(acad.id), run: func(ctx context.Context, s Services) (command.Result, error) {
				if s.Store == nil {
					return command.Result{Replayed: true}, nil
				}
				return correct(ctx, s, p.id, "demo:"+p.id+":"+name, fixed, fmt.Sprintf("学时录入错误，实际为 %g 学时", fixed.Hours), fixAt)
			}})
		}
	}

	// a second trade for some
	if !dev && r.Float64() < 0.12 {
		t2 := (trade + 1 + r.IntN(len(trades)-1)) % len(trades)
		enter := start.AddDate(3+r.IntN(6), r.IntN(12), 0)
		if enter.Before(End.AddDate(-2, 0, 0)) {
			cands := visible(w.acadByTrade[t2], acadLimit)
			a2 := w.academies[cands[r.IntN(len(cands))]]
			tt := trades[t2]
			add(step{name: "trade-" + tt.slug, at: enter, as: employerClaims, run: func(ctx context.Context, s Services) (command.Result, error) {
				return s.Registry.EnterTrade(ctx, registry.EnterTradeRequest{CraftsmanID: p.id, Trade: tt.Trade, OccurredAt: date(enter)})
			}})
			certify(t2, a2, events.Junior, enter.AddDate(1, r.IntN(6), 0))
		}
	}

	// professional titles for college graduates
	if (school == events.SchoolHigherVocational || school == events.SchoolCollege) && r.Float64() < 0.3 {
		for k, t := range []struct{ tier, title string }{{events.TitleJunior, "助理工程师"}, {events.TitleIntermediate, "工程师"}} {
			at := start.AddDate(2+5*k+r.IntN(2), r.IntN(12), 0)
			if at.After(End) || (k == 1 && r.Float64() < 0.5) {
				break
			}
			add(step{name: "title-" + t.tier, at: at, as: employerClaims, run: func(ctx context.Context, s Services) (command.Result, error) {
				return s.Training.RecordTitle(ctx, training.TitleRequest{CraftsmanID: p.id, Tier: t.tier, Title: t.title, Series: "工程",
					Trade: tr.Trade, AwardingOrg: pv.name + "人力资源和社会保障厅", OccurredAt: date(at)})
			}})
		}
	}

	// a changed phone number for some
	if r.Float64() < 0.1 {
		at := randDate(r, start, int(End.Sub(start).Hours()/24))
		newPhone := fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
		add(step{name: "profile-phone", at: at, as: employerClaims, run: func(ctx context.Context, s Services) (command.Result, error) {
			return s.Registry.UpdateProfile(ctx, registry.UpdateProfileRequest{CraftsmanID: p.id, Personal: &events.Personal{Name: name, Phone: newPhone}, OccurredAt: date(at)})
		}})
	}

	// honours and innovations, for those whose careers went far
	top := events.Level(-1)
	var topAt time.Time
	if n := len(p.sum.levels); n > 0 {
		top, topAt = p.sum.levels[n-1].level, p.sum.levels[n-1].at
	}
	after := func(from time.Time) (time.Time, bool) {
		d := randDate(r, from.AddDate(0, 3, 0), 3*365)
		return d, !d.After(End)
	}
	hDraw, iDraw, wDraw := r.Float64(), r.Float64(), r.Float64()
	emp := w.employers[jobs[len(jobs)-1].emp]
	// linkedAt is the organisation recording an enterprise honour or an
	// innovation dated at: the employer on that date, else the one that
	// registered the worker (their first employer) — an organisation linked
	// to the worker, as the honour service requires (servicekit.Links).
	linkedAt := func(at time.Time) string {
		for k := len(jobs) - 1; k >= 0; k-- {
			if j := jobs[k]; !at.Before(j.from) && (j.to.IsZero() || !at.After(j.to)) {
				return w.employers[j.emp].id
			}
		}
		return w.employers[first].id
	}
	if top >= events.Senior {
		var code, hname, body, org string
		switch {
		case dev || (top >= events.Technician && hDraw < 0.02):
			code, hname, body, org = "provincial_craftsman", pv.name+"工匠", "", unionOf(pv)
		case top >= events.Technician && hDraw < 0.06:
			code, hname, body, org = "city_craftsman", pv.city+"市级工匠", "", unionOf(pv)
		case hDraw < 0.2:
			code, hname, body, org = "enterprise_craftsman", emp.name+"首席员工", "", ""
		}
		if at, ok := after(topAt); ok && code != "" {
			if org == "" {
				org = linkedAt(at)
			}
			hid := "h-" + code
			add(step{name: "honour-" + code, at: at, as: issuerOf(org), run: func(ctx context.Context, s Services) (command.Result, error) {
				if s.Honour == nil {
					return command.Result{Replayed: true}, nil
				}
				return s.Honour.ConferHonour(ctx, honour.ConferRequest{CraftsmanID: p.id, HonourID: hid, Code: code, Name: hname, ConferringBody: body,
					Trade: &tr.Trade, OccurredAt: date(at)})
			}})
			if wAt := at.AddDate(1, 0, 0); !dev && wDraw < 0.05 && !wAt.After(End) {
				add(step{name: "withdraw-" + code, at: wAt, as: issuerOf(org), run: func(ctx context.Context, s Services) (command.Result, error) {
					if s.Honour == nil {
						return command.Result{Replayed: true}, nil
					}
					return s.Honour.WithdrawHonour(ctx, honour.WithdrawRequest{CraftsmanID: p.id, HonourID: hid, Reason: "复核发现申报材料不实", OccurredAt: date(wAt)})
				}})
			}
		}
	}
	if top >= events.Intermediate && (dev || iDraw < 0.12) {
		req := honour.InnovationRequest{CraftsmanID: p.id, InnovationID: "i-1", Trade: &tr.Trade, Role: "member"}
		switch {
		case top >= events.Technician && iDraw < 0.02:
			req.Kind, req.Title, req.Level, req.InUse, req.PatentNumber = events.InnovationPatent, tr.Name+"专用工装夹具", events.LevelProvincial, true,
				fmt.Sprintf("ZL%d2%07d.%d", 2016+r.IntN(9), r.IntN(10_000_000), r.IntN(10))
		case top >= events.Technician && iDraw < 0.05:
			req.Kind, req.Title, req.Level, req.InUse, req.Role = events.InnovationBreakthrough, tr.Name+"关键工序质量攻关", events.LevelCity, true, "leader"
		default:
			cats := []string{"invention", "creation", "innovation", "design", "suggestion"}
			req.Kind, req.Category, req.Title, req.Level = events.InnovationFiveSmall, cats[r.IntN(len(cats))], tr.Name+"作业流程改进", events.LevelEnterprise
		}
		if at, ok := after(topAt); ok {
			req.OccurredAt = date(at)
			add(step{name: "innovation-1", at: at, as: issuerOf(linkedAt(at)), run: func(ctx context.Context, s Services) (command.Result, error) {
				if s.Honour == nil {
					return command.Result{Replayed: true}, nil
				}
				return s.Honour.RecogniseInnovation(ctx, req)
			}})
		}
	}
	p.sum = summary{idx: i, trade: trade, province: prov, start: start, levels: p.sum.levels, home: home,
		apprentice: !dev && start.After(LedgerDay) && r.Float64() < 0.3, draw: r.Float64()}

	// competitions: two draws per competition whatever happens, so one
	// competition's outcome never shifts another's
	for ci, c := range w.comps {
		take, score := r.Float64(), r.Float64()
		if !slices.ContainsFunc(c.def.Trades, func(t events.Trade) bool { return t.Code == tr.Code }) {
			continue
		}
		if c.province != "" && c.province != pv.name {
			continue
		}
		res := day(c.date)
		track := ""
		switch {
		case start.Before(res.AddDate(0, -6, 0)):
			track = events.TrackEmployees
		case school != "" && start.After(res) && start.Before(res.AddDate(1, 0, 0)) && slices.Contains(c.def.Tracks, events.TrackStudents):
			track = events.TrackStudents
		}
		if track == "" {
			continue
		}
		if dev && c.def.CompetitionID == "acftu-workers-2024" {
			take, score = 0, 10 // the demo worker wins: an entitlement, an approval and a medal
		}
		if take < c.rate {
			p.entries = append(p.entries, entry{comp: ci, track: track, score: score, person: p.id, trade: tr.Trade, persIdx: i})
		}
	}

	// register first, then in the order things happened
	sort.SliceStable(p.steps[1:], func(a, b int) bool { return p.steps[1+a].at.Before(p.steps[1+b].at) })
	return p
}

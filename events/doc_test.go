package events_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	ev "github.com/craftledger/craftledger/events"
)

// eventDocs says what each event records and on which streams it is appended.
var eventDocs = map[string][2]string{
	ev.TypeCraftsmanRegistered:          {"Opens a worker's lifelong ledger. The national ID is stored only as a keyed hash; name and contact are personal data (sealed under the worker's key whenever the registry has a keyring, `make run` included).", "`craftsman-<id>`"},
	ev.TypeCraftsmanProfileChanged:      {"Replaces the profile fields that are set.", "`craftsman-<id>`"},
	ev.TypeTradeEntered:                 {"The worker works, or is about to work, in a trade (counts for template B's \"working or about to work\").", "`craftsman-<id>`"},
	ev.TypeEmploymentStarted:            {"An employment period in a trade starts (occurredAt = first day). Years of work are the union of these periods, gaps excluded.", "`craftsman-<id>`"},
	ev.TypeEmploymentEnded:              {"An employment period ends (occurredAt = its end, exclusive).", "`craftsman-<id>`"},
	ev.TypeGraduated:                    {"Graduation from a school (occurredAt = graduation date); `finalYear` marks a final-year student, who counts as a graduate.", "`craftsman-<id>`"},
	ev.TypeProfessionalTitleObtained:    {"A professional title (职称) of tier junior / intermediate / senior.", "`craftsman-<id>`"},
	ev.TypeTrainingEnrolled:             {"Enrolment in an academy's course.", "`craftsman-<id>`"},
	ev.TypeTrainingCompleted:            {"Completed training hours (occurredAt = completion). Only `passed` records count towards hours.", "`craftsman-<id>`"},
	ev.TypeSkillLevelCertified:          {"A skill-level certificate or vocational qualification (the two count equally). The exceptional route names the approved entitlement it uses.", "`craftsman-<id>`"},
	ev.TypePromotionEntitlementGranted:  {"A right to be certified at a level outside the regular conditions (e.g. from a competition placement). Not a level yet: it needs approval, then a certificate.", "`craftsman-<id>`"},
	ev.TypePromotionEntitlementApproved: {"The human-resources department's approval (核准) of an entitlement.", "`craftsman-<id>`"},
	ev.TypeUpperGradeAppointed:          {"Appointment to principal or chief technician by an enterprise, with its approval reference.", "`craftsman-<id>`"},
	ev.TypeCompetitionDefined:           {"A competition with its own promotion and honour rules (see docs/policy.md).", "`competition-<id>`"},
	ev.TypeCompetitionResultsPublished:  {"A competition's results. Each placement is also appended to the worker's stream as CompetitionPlaced with a deterministic event id.", "`competition-<id>`"},
	ev.TypeCompetitionPlaced:            {"A worker's placement in a competition.", "`craftsman-<id>`"},
	ev.TypeMentorshipStarted:            {"A master–apprentice pairing starts. The same payload goes to the mentorship's stream and both workers' streams.", "`mentorship-<id>`, `craftsman-<master>`, `craftsman-<apprentice>`"},
	ev.TypeMentorshipSessionLogged:      {"A progress session of a pairing.", "`mentorship-<id>`, `craftsman-<master>`, `craftsman-<apprentice>`"},
	ev.TypeMentorshipCompleted:          {"A pairing completes, with the level the apprentice reached.", "`mentorship-<id>`, `craftsman-<master>`, `craftsman-<apprentice>`"},
	ev.TypeMentorshipEndedEarly:         {"A pairing ends before completion.", "`mentorship-<id>`, `craftsman-<master>`, `craftsman-<apprentice>`"},
	ev.TypeHonourConferred:              {"An honour conferred by its body; `placementId` links one triggered by a competition placement.", "`craftsman-<id>`"},
	ev.TypeHonourWithdrawn:              {"An honour is withdrawn; it stays in the history, marked withdrawn.", "`craftsman-<id>`"},
	ev.TypeInnovationRecognised:         {"An innovation result: five-small (with its category), technical breakthrough, patent, or innovation-studio project.", "`craftsman-<id>`"},
	ev.TypeEventCorrected:               {"Supersedes an earlier event of the same stream. With `replacement` the corrected fact (and optionally its corrected `occurredAt`) replaces the original; without, the original is retracted. Retracting a correction reverses it.", "the corrected event's stream"},
	ev.TypeAcademyRegistered:            {"An academy: enterprise training centre, college or trade-union school.", "`academy-<id>`"},
	ev.TypeCourseAdded:                  {"A course of an academy.", "`academy-<id>`"},
	ev.TypePolicyPublished:              {"A version of a promotion policy with its effective date; `document` is the policy in the format of docs/policy.md.", "`policy-<name>`"},
	ev.TypeIssuerRegistered:             {"An organisation that may record facts (academy, employer, union, HR authority, evaluation organisation); the registry service writes it.", "`issuer-<id>`"},
	ev.TypeIssuerUserAdded:              {"A user gets a role (`issuer` records facts, `hr` approves entitlements) in an issuer.", "`issuer-<id>`"},
	ev.TypeNationalIDReserved:           {"Claims a national ID hash for one craftsman before the registration is appended (the store has no multi-stream transaction); a later registration with the same number is refused.", "`nationalid-<hash>`"},
	ev.TypeAssessmentRecorded:           {"A skill assessment (theory and practical scores) at a level by an evaluating organisation (occurredAt = the assessment date). Not a level: the certificate is.", "`craftsman-<id>`"},
	ev.TypePersonalDataErased:           {"The worker's personal data was erased: their sealing key is destroyed, so the sealed fields in the log can no longer be opened. The career fold marks the worker erased and drops the personal fields from then on.", "`craftsman-<id>`"},
	ev.TypeTrainingCompletedV1:          {"Older version, upgraded on decode to TrainingCompleted.v2: whole hours, no mode (classroom), passes only.", "`craftsman-<id>`"},
	ev.TypeSkillLevelCertifiedV1:        {"Older version, upgraded on decode to SkillLevelCertified.v2: the national grade number (5..1), always a vocational qualification of a designated body.", "`craftsman-<id>`"},
}

func jsonType(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(ev.Level(0)):
		return "level"
	case reflect.TypeOf(ev.Trade{}):
		return "trade"
	case reflect.TypeOf(json.RawMessage{}):
		return "JSON"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonType(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array of " + jsonType(t.Elem())
	case reflect.Struct:
		return "object"
	}
	return t.String()
}

func fieldRows(t reflect.Type, b *strings.Builder) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			fieldRows(f.Type, b)
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || name == "" {
			continue
		}
		req := "required"
		if strings.Contains(opts, "omitempty") || f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Bool {
			req = "optional"
		}
		note := ""
		if f.Tag.Get("personal") == "true" {
			note = " personal"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s%s |\n", name, jsonType(f.Type), req, note)
	}
}

func catalogueDoc(t *testing.T) string {
	var b strings.Builder
	all := examples()
	for _, p := range all {
		typ := p.EventType()
		d, ok := eventDocs[typ]
		if !ok {
			t.Fatalf("no description of %s in eventDocs", typ)
		}
		fmt.Fprintf(&b, "### %s\n\n%s\n\nStream: %s.\n\n| field | type | |\n| --- | --- | --- |\n", typ, d[0], d[1])
		fieldRows(reflect.TypeOf(p), &b)
		fixture, err := os.ReadFile(fixturePath(typ))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n```json\n%s```\n\n", fixture)
	}
	for _, typ := range legacyTypes {
		fixture, err := os.ReadFile(fixturePath(typ))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "### %s\n\n%s\n\nStream: %s.\n\n```json\n%s```\n\n", typ, eventDocs[typ][0], eventDocs[typ][1], fixture)
	}
	return b.String()
}

const beginMark, endMark = "<!-- BEGIN CATALOGUE (generated by go test ./events -run TestEventsDoc -update) -->\n", "<!-- END CATALOGUE -->\n"

// TestEventsDoc keeps the catalogue section of docs/events.md equal to the
// code: every type, its fields and its golden JSON example.
func TestEventsDoc(t *testing.T) {
	path := "../docs/events.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(beginMark)), bytes.Index(doc, []byte(endMark))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the catalogue markers", path)
	}
	want := catalogueDoc(t)
	got := string(doc[i+len(beginMark) : j])
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("%s is out of date: run go test ./events -run TestEventsDoc -update", path)
	}
	out := append(append(append([]byte{}, doc[:i+len(beginMark)]...), want...), doc[j:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

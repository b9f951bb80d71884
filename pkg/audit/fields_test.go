package audit

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The hand-written scanner agrees with encoding/json on the fields the
// issuer rule reads, and refuses what encoding/json refuses.
func TestScanOrgFieldsAgreesWithEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{"academyId":"a1","issuingOrg":{"id":"o\u00e91","name":"x {}"},"evaluatingOrgId":"e","trade":{"code":"1-2"},"hours":32.5,"passed":true,"x":null}`,
		`{ "source" : { "kind":"competition", "competitionId":"c\"1" }, "list":[1,{"a":"]"}], "competitionId":"c2" }`,
		`{"employmentId":"emp-1","employerOrgId":"org","mentorshipId":"m","honourId":"h","organiser":"u","approvingOrgId":"hr","issuingOrgId":"v1"}`,
		`{}`,
		`{"hours":-12.5e+3,"rank":0,"passed":false}`,
	} {
		var want, got orgFields
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		if err := scanOrgFields([]byte(doc), &got); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-json +scan):\n%s", doc, diff)
		}
	}
	// Unlike encoding/json, a member of an unexpected shape is ignored.
	var f orgFields
	if err := scanOrgFields([]byte(`{"issuingOrg":"not an object","source":[1],"academyId":"a"}`), &f); err != nil || f.AcademyID != "a" || f.IssuingOrg.ID != "" {
		t.Errorf("odd shapes: %+v, %v", f, err)
	}
	for _, bad := range []string{``, `{`, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `{"a":"x}`, `[1]`, `{"a":1} x`, `{"a":tru}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`} {
		var f orgFields
		if err := scanOrgFields([]byte(bad), &f); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

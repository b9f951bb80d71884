package events

import (
	"encoding/json"
	"reflect"
	"testing"
)

var trainingCompletedSeeds = []string{
	`{"craftsmanId":"c-1001","enrolmentId":"enr-77","academyId":"acad-sh-electric","courseId":"plc-basics","trade":{"code":"6-31-01-03","name":"电工"},"module":"PLC wiring","hours":32,"mode":"classroom","score":91.5,"passed":true}`,
	`{"craftsmanId":"c-1","academyId":"a-1","courseId":"k-0","trade":{"code":"6-18-02-04"},"hours":8,"mode":"on_the_job","passed":false}`,
	`{"craftsmanId":"c-1","hours":1e2,"score":-0.5E-3,"passed":true,"trade":{}}`,
	`{}`,
	// Fall back to encoding/json: escapes, case-variant, unknown and
	// duplicate keys, nulls, whitespace, bad numbers, invalid UTF-8.
	`{"craftsmanId":"c\u002d1","hours":8}`,
	`{"CraftsmanID":"c-1","HOURS":8}`,
	`{"craftsmanId":"c-1","extra":[1,{"a":null}],"hours":8}`,
	`{"craftsmanId":"c-1","craftsmanId":"c-2","hours":8,"hours":9}`,
	`{"trade":{"code":"a","CODE":"b"}}`,
	`{"score":null,"hours":null,"craftsmanId":null,"trade":null}`,
	` {"craftsmanId" : "c-1" , "hours": 8 } `,
	`{"hours":01}`,
	`{"hours":1e999}`,
	`{"hours":"8"}`,
	`{"passed":1}`,
	"{\"craftsmanId\":\"\xff\xfe\"}",
	`{"craftsmanId":"c-1",}`,
	`{"craftsmanId":"c-1"`,
	`[]`,
	``,
}

func TestDecodeTrainingCompletedLikeJSON(t *testing.T) {
	fast := 0
	for _, s := range trainingCompletedSeeds {
		sameAsJSON(t, []byte(s), scanTrainingCompleted, decodeTrainingCompleted)
		if _, ok := scanTrainingCompleted([]byte(s)); ok {
			fast++
		}
	}
	// The canonical form json.Marshal writes takes the fast path.
	for _, s := range trainingCompletedSeeds[:4] {
		var v TrainingCompleted
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		if _, ok := scanTrainingCompleted(b); !ok {
			t.Errorf("canonical %s not taken by the scanner", b)
		}
		sameAsJSON(t, b, scanTrainingCompleted, decodeTrainingCompleted)
	}
	if fast != 4 {
		t.Errorf("%d seeds took the fast path, want the 4 canonical ones", fast)
	}
}

// FuzzDecodeTrainingCompleted is the differential fuzz test of the
// TrainingCompleted scanner against encoding/json (seeds also under
// testdata/fuzz/FuzzDecodeTrainingCompleted).
func FuzzDecodeTrainingCompleted(f *testing.F) {
	for _, s := range trainingCompletedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data, scanTrainingCompleted, decodeTrainingCompleted)
	})
}

var skillLevelCertifiedSeeds = []string{
	`{"craftsmanId":"c0000004","trade":{"code":"4-12-01-01","name":"汽车维修工"},"level":"intermediate","certificateNumber":"S3701022000000044","family":"skill_level","evaluatingOrgId":"acad-0001","issuingOrg":{"id":"acad-0001","name":"天津示范重工集团有限公司工匠学院","kind":"registered_employer"},"route":"regular"}`,
	`{"craftsmanId":"c-1","trade":{"code":"6-31-01-03"},"level":"senior","certificateNumber":"S1","family":"skill_level","evaluatingOrgId":"e","issuingOrg":{"id":"i"},"route":"exceptional","entitlementId":"ent-1"}`,
	`{"level":"3"}`,
	`{}`,
	// Fall back to encoding/json.
	`{"level":3}`,
	`{"level":"grandmaster"}`,
	`{"level":null}`,
	`{"Level":"junior","level":"senior"}`,
	`{"issuingOrg":{"id":"a","id":"b"}}`,
	`{"issuingOrg":{"ID":"a","Kind":"k"}}`,
	`{"issuingOrg":{"id":"a","other":1}}`,
	`{"route":"r\u00e9gular"}`,
	`{"level":"senior" }`,
}

func TestDecodeSkillLevelCertifiedLikeJSON(t *testing.T) {
	fast := 0
	for _, s := range skillLevelCertifiedSeeds {
		sameAsJSON(t, []byte(s), scanSkillLevelCertified, decodeSkillLevelCertified)
		if _, ok := scanSkillLevelCertified([]byte(s)); ok {
			fast++
		}
	}
	if fast != 4 {
		t.Errorf("%d seeds took the fast path, want the 4 canonical ones", fast)
	}
	for _, s := range skillLevelCertifiedSeeds[:4] {
		var v SkillLevelCertified
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := scanSkillLevelCertified(b); !ok {
			t.Errorf("canonical %s not taken by the scanner", b)
		}
	}
}

// FuzzDecodeSkillLevelCertified: the SkillLevelCertified scanner against
// encoding/json (seeds also under testdata/fuzz/FuzzDecodeSkillLevelCertified).
func FuzzDecodeSkillLevelCertified(f *testing.F) {
	for _, s := range skillLevelCertifiedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data, scanSkillLevelCertified, decodeSkillLevelCertified)
	})
}

// sameAsJSON: scan, when it takes data, gives what encoding/json gives;
// dec (fast path or fallback) always gives decodeAs's result, errors
// included.
func sameAsJSON[T Payload](t *testing.T, data []byte, scan func([]byte) (T, bool), dec Decoder) {
	t.Helper()
	var want T
	jerr := json.Unmarshal(data, &want)
	if got, ok := scan(data); ok {
		if jerr != nil {
			t.Fatalf("%q: scanner accepted what encoding/json rejects (%v)", data, jerr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: scanner %+v, encoding/json %+v", data, got, want)
		}
	}
	got, err := dec(data)
	ref, rerr := decodeAs[T](data)
	if (err == nil) != (rerr == nil) || (err != nil && err.Error() != rerr.Error()) || !reflect.DeepEqual(got, ref) {
		t.Fatalf("%q: decoder (%+v, %v), encoding/json (%+v, %v)", data, got, err, ref, rerr)
	}
}

var craftsmanStreamSeeds = []string{
	`{"craftsmanId":"c0000004","employmentId":"job-1","employerOrgId":"emp-0005","employerName":"济南动力汽车服务集团有限公司","trade":{"code":"4-12-01-01","name":"汽车维修工"},"position":"机电维修工"}`,
	`{"craftsmanId":"c0000004","trade":{"code":"4-12-01-01","name":"汽车维修工"}}`,
	`{"craftsmanId":"c-1","employmentId":"j","employerOrgId":"e","trade":{"code":"6-31-01-03"}}`,
	`{}`,
	`{"CraftsmanId":"a","craftsmanId":"b"}`,
	`{"craftsmanId":"a","craftsmanId":"b"}`,
	`{"trade":{"code":"x"},"trade":{"name":"y"}}`,
	`{"position":null,"trade":null}`,
	`{"employerName":"\u6d4e"}`,
	`{"craftsmanId":"c","unknown":{"nested":[true,false,null]}}`,
	`{"craftsmanId":1}`,
}

// TestDecodeCraftsmanStreamTypesLikeJSON: EmploymentStarted and
// TradeEntered decode exactly as with encoding/json, the canonical seeds
// through the scanner.
func TestDecodeCraftsmanStreamTypesLikeJSON(t *testing.T) {
	for i, s := range craftsmanStreamSeeds {
		sameAsJSON(t, []byte(s), scanEmploymentStarted, decodeEmploymentStarted)
		sameAsJSON(t, []byte(s), scanTradeEntered, decodeTradeEntered)
		_, okE := scanEmploymentStarted([]byte(s))
		_, okT := scanTradeEntered([]byte(s))
		if wantE := i == 0 || i == 1 || i == 2 || i == 3; okE != wantE {
			t.Errorf("seed %d: EmploymentStarted scanner took it: %v", i, okE)
		}
		if wantT := i == 1 || i == 3; okT != wantT {
			t.Errorf("seed %d: TradeEntered scanner took it: %v", i, okT)
		}
	}
}

// FuzzDecodeCraftsmanStreamTypes: the EmploymentStarted and TradeEntered
// scanners against encoding/json.
func FuzzDecodeCraftsmanStreamTypes(f *testing.F) {
	for _, s := range craftsmanStreamSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data, scanEmploymentStarted, decodeEmploymentStarted)
		sameAsJSON(t, data, scanTradeEntered, decodeTradeEntered)
	})
}

package policy_test

import (
	"testing"

	"github.com/craftledger/craftledger/events/policy"
)

// FuzzParse: the loader never panics, and whatever it accepts validates.
// `go test` runs the seeds; `go test -fuzz FuzzParse` explores.
func FuzzParse(f *testing.F) {
	for _, name := range []string{policy.TemplateA, policy.TemplateB, policy.UpperGrades} {
		b, err := policy.TemplateJSON(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(goodPolicy))
	f.Add([]byte(`{"levels":[{"target":"junior","routes":[{"id":"r","label":"l","criteria":[{"kind":"n_of","n":1,"of":[{"kind":"n_of","n":1,"of":[]}]}]}]}]}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Parse(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted a policy that does not validate: %v", err)
		}
	})
}

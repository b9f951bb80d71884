package security_test

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// TestGraphQLDataScoping: beyond whether a field answers, what it lists.
// HR of A sees exactly the craftsmen A employs, the issuer of B exactly
// those linked to B, the foreign issuer none, auditor and admin all — in
// the craftsmen list and in the population count alike.
func TestGraphQLDataScoping(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	all := []string{sectest.Worker, sectest.Stranger, sectest.Master, sectest.Apprentic, sectest.Spare}
	sort.Strings(all)
	linkedB := []string{sectest.Worker, sectest.Master, sectest.Apprentic, sectest.Spare} // registered by B
	sort.Strings(linkedB)
	want := map[sectest.Caller][]string{
		sectest.HRA:     {sectest.Worker},
		sectest.IssuerB: linkedB,
		sectest.IssuerX: {},
		sectest.Auditor: all,
		sectest.Admin:   all,
	}
	for caller, ids := range want {
		resp, a := gqlQuery(e, caller, `{ craftsmen(first: 100) { edges { node { id } } } populationStats { total } }`)
		if resp.Status != 200 || len(a.Errors) > 0 {
			t.Errorf("%s: %s", caller, resp)
			continue
		}
		var list struct {
			Edges []struct {
				Node struct{ ID string } `json:"node"`
			} `json:"edges"`
		}
		var stats struct{ Total int }
		if err := json.Unmarshal(a.Data["craftsmen"], &list); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(a.Data["populationStats"], &stats); err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, ed := range list.Edges {
			got = append(got, ed.Node.ID)
		}
		sort.Strings(got)
		if !slices.Equal(got, ids) {
			t.Errorf("%s lists %v, want %v", caller, got, ids)
		}
		if stats.Total != len(ids) {
			t.Errorf("%s counts %d craftsmen, want %d", caller, stats.Total, len(ids))
		}
	}
}

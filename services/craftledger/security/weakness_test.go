package security_test

import (
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// TestUnlinkedWriters: writers with no link to the worker. What the
// matrix allows by design is checked here against what it should not
// allow. Refused, 403 and nothing written: HR of an organisation that is
// not an approving authority (the all-in-one's --approvers; the fixture's
// is employer A) approving (核准) a worker's promotion entitlement, and an
// issuer recording a non-catalogue national honour (only an admin may).
// An issuer with no link to the worker recording an innovation about them
// is refused too: the all-in-one runs the honour service with CheckWriters
// (its demo generator records each honour as its conferring body and each
// innovation as an organisation linked to the worker).
func TestUnlinkedWriters(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	hrZZ, err := auth.Mint(e.Key, auth.Claims{Subject: "u-hr-zz", Role: auth.RoleHR, OrgID: "employer-zz"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, path, body string
	}{
		{"HR of an unrelated employer approves an entitlement", hrZZ,
			"/api/competition/v1/craftsmen/" + sectest.Worker + "/entitlements/" + e.Entitlement + "/approve", `{"approvalRef":"zz-1"}`},
		{"an unlinked issuer confers a national honour", e.Tokens[sectest.IssuerX],
			"/api/honour/v1/craftsmen/" + sectest.Worker + "/honours", `{"code":"fake_star","name":"假荣誉","level":"national","conferringBody":"国务院","occurredAt":"2023-06-01"}`},
		{"an unlinked issuer recognises an innovation", e.Tokens[sectest.IssuerX],
			"/api/honour/v1/craftsmen/" + sectest.Worker + "/innovations", `{"kind":"breakthrough","title":"假成果","level":"enterprise","role":"leader","occurredAt":"2022-01-01"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.End()
			r := e.DoToken(c.token, "POST", c.path, "", c.body)
			if r.Status != 403 || r.Err().Code != "PERMISSION_DENIED" {
				t.Errorf("%s: %s, want 403 PERMISSION_DENIED", c.name, r)
			}
			if e.End() != before {
				t.Error("the refused command wrote")
			}
		})
	}
}

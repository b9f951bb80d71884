package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The variable bin/competition reads its approvers from. Without it, or
// naming nobody, the binary does not start; "*" lets any hr user approve.
const approversVar = "CRAFTLEDGER_APPROVERS"

// approversProblem says what is wrong with the CRAFTLEDGER_APPROVERS a
// manifest gives bin/competition ("" when nothing): it must be set and
// name at least one organisation (else the binary does not start), and
// must not be "*", which lets the hr user of any employer approve (核准)
// promotion entitlements, where POLICY.md makes approval the HR
// authority's act.
func approversProblem(value string, set bool) string {
	var orgs []string
	for _, o := range strings.Split(value, ",") {
		if o = strings.TrimSpace(o); o != "" {
			orgs = append(orgs, o)
		}
	}
	switch {
	case !set:
		return approversVar + " is not set: bin/competition does not start without it"
	case len(orgs) == 0:
		return fmt.Sprintf("%s=%q names no organisation: bin/competition does not start", approversVar, value)
	case slices.Contains(orgs, "*"):
		return fmt.Sprintf("%s=%q: * lets the hr user of any employer approve entitlements", approversVar, value)
	}
	return ""
}

func TestApproversProblem(t *testing.T) {
	for _, c := range []struct {
		value string
		set   bool
		ok    bool
	}{
		{"", false, false},
		{"", true, false},
		{" , ,", true, false},
		{"*", true, false},
		{"mohrss, *", true, false},
		{"mohrss", true, true},
		{"mohrss, tj-hrss", true, true},
	} {
		if p := approversProblem(c.value, c.set); (p == "") != c.ok {
			t.Errorf("approversProblem(%q, set %v) = %q, want ok %v", c.value, c.set, p, c.ok)
		}
	}
}

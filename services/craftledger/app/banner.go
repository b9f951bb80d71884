package app

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
)

// TokenTTL is how long the demo tokens printed at start are valid.
const TokenTTL = 30 * 24 * time.Hour

// ExampleQuery is the GraphQL query the banner's curl example sends: the
// demo worker's levels, training totals and latest timeline entries.
const ExampleQuery = `{ craftsman(id: "` + auth.DevCraftsmanID + `") { name region trades { trade { code name } level { api zh } } training { totalHours count } timeline(first: 5) { edges { node { date kind title } } } } }`

// Banner writes what a newcomer needs after start: the URLs, the demo
// tokens (one per role) and an example query with curl. tokens is empty
// unless the key is the public development key (devKey); under a real key
// the banner says how to mint tokens instead.
func (a *App) Banner(w io.Writer, tokens []auth.DevToken, devKey bool) {
	base := a.BaseURL()
	store := "embedded"
	if !a.Embedded() {
		store = "external"
	}
	fmt.Fprintf(w, "\ncraftledger is running (data in %s, %s store)\n\n", a.cfg.DataDir, store)
	row := func(k, v string) { fmt.Fprintf(w, "  %-18s %s\n", k, v) }
	row("GraphQL explorer", base+"/explorer")
	row("GraphQL endpoint", base+"/graphql")
	row("web page", base+"/")
	row("health, readiness", base+"/healthz  "+base+"/readyz")
	row("metrics", base+"/metrics")
	for _, name := range a.apis {
		row(name+" API", base+"/api/"+name+"/v1/…")
	}
	if len(a.cfg.CredentialKey) > 0 {
		row("credentials", base+"/credentials/{craftsmanId}  POST "+base+"/credentials/verify")
	}
	row("event store", redactURL(a.storeURL))
	if a.TLS() {
		row("HTTPS certificate", a.cfg.TLSCertFile+"  (curl: add --cacert <its CA> unless a public CA signed it)")
	}
	if len(tokens) > 0 {
		key := "the key of --jwt-key-file"
		if devKey {
			key = "the public development key — never use it in production"
		}
		fmt.Fprintf(w, "\nDemo tokens (valid until %s, signed with %s):\n", tokens[0].Claims.ExpiresAt.UTC().Format(time.DateOnly), key)
		for _, t := range tokens {
			who := t.Claims.OrgID
			if t.Claims.CraftsmanID != "" {
				who = t.Claims.CraftsmanID
			}
			if who == "" {
				who = "everyone"
			}
			fmt.Fprintf(w, "  %-8s %-16s %s\n", t.Claims.Role, "("+who+")", t.Token)
		}
		var issuer, worker string
		for _, t := range tokens {
			switch t.Claims.Role {
			case auth.RoleIssuer:
				issuer = t.Token
			case auth.RoleWorker:
				worker = t.Token
			}
		}
		body := strings.ReplaceAll(`{"query":`+quote(ExampleQuery)+`}`, `'`, `'\''`)
		fmt.Fprintf(w, "\nExample — the demo worker's record through GraphQL:\n")
		fmt.Fprintf(w, "  curl -s %s/graphql -H 'Authorization: Bearer %s' \\\n    -H 'Content-Type: application/json' -d '%s'\n", base, worker, body)
		if len(a.cfg.CredentialKey) > 0 && worker != "" {
			fmt.Fprintf(w, "\nThe demo worker's signed credential (portable record), then its check (no token needed):\n")
			fmt.Fprintf(w, "  curl -s %s/credentials/%s -H 'Authorization: Bearer %s' -o record.vc.json\n", base, auth.DevCraftsmanID, worker)
			fmt.Fprintf(w, "  curl -s %s/credentials/verify --data-binary @record.vc.json\n", base)
		}
		if issuer != "" {
			fmt.Fprintf(w, "\nRecord a training completion as the demo academy's issuer (docs/run.md has the tour):\n")
			fmt.Fprintf(w, "  curl -s %s/api/training/v1/craftsmen/%s/completions -H 'Authorization: Bearer %s' \\\n"+
				"    -H 'Content-Type: application/json' -H 'Idempotency-Key: tour-1' \\\n"+
				"    -d '{\"academyId\":\"%s\",\"courseId\":\"6-31-01-03-safety\",\"hours\":8,\"passed\":true}'\n",
				base, auth.DevCraftsmanID, issuer, auth.DevAcademyID)
		}
	}
	if len(tokens) == 0 && !devKey {
		fmt.Fprintf(w, "\nNo demo tokens: the token key is not the public development key, so none are printed\n"+
			"or offered on the web page. Mint tokens under your key with\n"+
			"  bin/ledgerctl token --jwt-key-file <key file> --role worker --subject … --craftsman …\n")
	}
	fmt.Fprintln(w, "\nStop with Ctrl-C; the next start reuses the data.")
}

// quote renders s as a JSON string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

package server

import (
	"encoding/json"
	"net/http"
	"strings"
)

type example struct{ Title, Query string }

// examples are the explorer's example queries, by title (tested to
// validate against the schema).
func examples() []example {
	return []example{
		{"Who am I", "{ viewer { role organisationId craftsmanId canAudit } }"},
		{"Trades, levels, policies", "{ trades { code name } levels { rank api zh en } policies { name version effectiveFrom builtIn } }"},
		{"A craftsman", "query($id: ID!) {\n  craftsman(id: $id) {\n    id name region employers\n    trades { trade { code name } level { api zh } since }\n    certificates { number level { api } trade { code } issuedOn }\n    training { totalHours byYear { year hours } }\n  }\n}"},
		{"Pathway and eligibility", "query($id: ID!, $trade: String!) {\n  craftsman(id: $id) {\n    pathway(trade: $trade) {\n      current { api }\n      reached { level { api } since certificateNumber }\n      next { target { api } eligible earliestDate policy policyVersion\n        routes { id label met missing criteria { kind required actual met evidence { stream revision } } } }\n    }\n  }\n}"},
		{"Timeline", "query($id: ID!) {\n  craftsman(id: $id) {\n    timeline(first: 20) { totalCount edges { cursor node { date kind title supersededBy } } pageInfo { hasNextPage endCursor } }\n  }\n}"},
		{"HR: eligible for technician", "{\n  craftsmen(trade: \"6-18-02-04\", eligibleFor: \"technician\", first: 20) {\n    totalCount nodes { id level { api } region eligibility { earliestDate policyVersion } }\n  }\n  populationStats(trade: \"6-18-02-04\") { total byLevel { key count } byRegion { key count } }\n}"},
		{"Audit", "{ audit(first: 20) { totalCount edges { node { stream revision type position recordedAt issuer chain } } pageInfo { hasNextPage endCursor } } }"},
		{"Projection", "{ projection { position caughtUp eventsApplied lastEventRecordedAt } }"},
	}
}

// serveExplorer serves a small self-contained query explorer: a query and
// variables editor, a token field, example queries and the answer. It
// loads nothing from elsewhere (the deployment may be offline).
func serveExplorer(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(explorerPage()))
}

// explorerPage is explorerHTML with the examples filled in.
func explorerPage() string {
	ex := examples()
	m := make(map[string]string, len(ex))
	order := make([]string, 0, len(ex))
	for _, e := range ex {
		m[e.Title] = e.Query
		order = append(order, e.Title)
	}
	b, _ := json.Marshal(m)
	o, _ := json.Marshal(order)
	// encoding/json escapes <, > and &, so nothing can close the script.
	return strings.Replace(strings.Replace(explorerHTML, "EXAMPLES", string(b), 1), "ORDER", string(o), 1)
}

const explorerHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>craftledger GraphQL explorer</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#111}
 header{background:#1f3a5f;color:#fff;padding:.6em 1em}
 header h1{font-size:1.1em;margin:0}
 main{display:grid;grid-template-columns:1fr 1fr;gap:1em;padding:1em}
 @media (max-width:800px){main{grid-template-columns:1fr}}
 label{display:block;font-weight:600;margin:.5em 0 .2em}
 textarea,input,select{width:100%;box-sizing:border-box;font:13px ui-monospace,monospace;padding:.4em;border:1px solid #889;border-radius:4px}
 textarea#q{height:22em} textarea#v{height:6em}
 pre{background:#fff;border:1px solid #889;border-radius:4px;padding:.6em;min-height:30em;overflow:auto;white-space:pre-wrap}
 button{background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.5em 1.2em;font-weight:600;margin-top:.6em;cursor:pointer}
 button:focus,textarea:focus,input:focus{outline:3px solid #f0a500}
 .row{display:flex;gap:.5em;align-items:center}
</style>
</head>
<body>
<header><h1>craftledger · GraphQL explorer</h1></header>
<main>
<section aria-label="request">
 <label for="ex">Example</label>
 <select id="ex"></select>
 <label for="q">Query</label>
 <textarea id="q" spellcheck="false"></textarea>
 <label for="v">Variables (JSON)</label>
 <textarea id="v" spellcheck="false">{}</textarea>
 <label for="t">Bearer token</label>
 <input id="t" type="password" autocomplete="off" placeholder="eyJ... (ledgerctl token)">
 <label for="p">Minimum $all position (read-your-writes, optional)</label>
 <input id="p" placeholder="commit or commit/prepare">
 <div class="row"><button id="run" type="button">Run (Ctrl+Enter)</button><span id="st" role="status"></span></div>
</section>
<section aria-label="answer">
 <label for="out">Answer</label>
 <pre id="out" tabindex="0"></pre>
</section>
</main>
<script>
const examples = EXAMPLES;
const ex = document.getElementById("ex"), q = document.getElementById("q"), v = document.getElementById("v");
const order = ORDER;
for (const k of order) { const o = document.createElement("option"); o.textContent = k; ex.appendChild(o); }
ex.onchange = () => { q.value = examples[ex.value]; };
q.value = examples[order[0]];
const t = document.getElementById("t"); t.value = sessionStorage.getItem("token") || "";
async function run() {
 const st = document.getElementById("st"), out = document.getElementById("out");
 let vars = {};
 try { vars = JSON.parse(v.value || "{}"); } catch (e) { out.textContent = "variables: " + e.message; return; }
 sessionStorage.setItem("token", t.value);
 const h = {"Content-Type": "application/json"};
 if (t.value) h["Authorization"] = "Bearer " + t.value.trim();
 const p = document.getElementById("p").value.trim(); if (p) h["X-Min-Position"] = p;
 st.textContent = "…"; const t0 = performance.now();
 try {
  const r = await fetch("graphql", {method: "POST", headers: h, body: JSON.stringify({query: q.value, variables: vars})});
  out.textContent = JSON.stringify(await r.json(), null, 2);
  st.textContent = r.status + " · " + Math.round(performance.now() - t0) + " ms";
 } catch (e) { out.textContent = String(e); st.textContent = "error"; }
}
document.getElementById("run").onclick = run;
document.addEventListener("keydown", e => { if (e.ctrlKey && e.key === "Enter") run(); });
</script>
</body>
</html>
`

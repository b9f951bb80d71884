package events_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	ev "github.com/craftledger/craftledger/events"
)

// FuzzDecode: decoding stored data of any type never panics, and a
// successful decode yields a payload of the type's current version.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(strings.TrimSuffix(filepath.Base(file), ".json"), b)
	}
	f.Add(ev.TypeEventCorrected, []byte(`{"replacement":{"type":"EventCorrected.v1","data":{"replacement":{"type":"X"}}}}`))
	reg := ev.NewRegistry()
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		p, err := reg.Decode(typ, data)
		if err != nil {
			return
		}
		if p.EventType() != ev.CurrentType(typ) {
			t.Fatalf("%s decoded to %s", typ, p.EventType())
		}
		_ = p.Validate()
	})
}

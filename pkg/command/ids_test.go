package command

import "testing"

func TestEventIDDeterministic(t *testing.T) {
	a := EventID("craftsman-1", "k", 0)
	if a != EventID("craftsman-1", "k", 0) {
		t.Fatal("same inputs gave different ids")
	}
	seen := map[string]string{}
	for name, id := range map[string]string{
		"base":         a,
		"index":        EventID("craftsman-1", "k", 1),
		"key":          EventID("craftsman-1", "k2", 0),
		"stream":       EventID("craftsman-2", "k", 0),
		"no-ambiguity": EventID("craftsman-1\nk", "", 0),
	} {
		if prev, ok := seen[id]; ok {
			t.Fatalf("%s and %s share id %s", name, prev, id)
		}
		seen[id] = name
		if len(id) != 36 || id[14] != '5' {
			t.Fatalf("%s: %q is not a v5 UUID", name, id)
		}
	}
}

package events

import "encoding/json"

// TypePolicyPublished is the event type of a policy version.
const TypePolicyPublished = "PolicyPublished.v1"

// PolicyPublished publishes a version of a promotion policy on
// policy-<name>. Document is the policy in the format of docs/policy.md;
// events/policy parses and checks it (policy.Parse) — services publishing a
// policy call it as well as Validate.
type PolicyPublished struct {
	Name          string          `json:"name"`
	Version       int             `json:"version"`
	EffectiveFrom string          `json:"effectiveFrom"` // YYYY-MM-DD
	Document      json.RawMessage `json:"document"`
}

func (PolicyPublished) EventType() string { return TypePolicyPublished }

func (e PolicyPublished) Validate() error {
	if err := first(ValidID("name", e.Name), validDate("effectiveFrom", e.EffectiveFrom, true)); err != nil {
		return err
	}
	if e.Version < 1 {
		return fieldErr("version", "must be at least 1")
	}
	if len(e.Document) == 0 {
		return fieldErr("document", "is required")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(e.Document, &probe); err != nil {
		return fieldErr("document", "is not a JSON object: %v", err)
	}
	if n, ok := probe["name"]; ok {
		var name string
		if json.Unmarshal(n, &name) == nil && name != e.Name {
			return fieldErr("document.name", "%q differs from the event's name %q", name, e.Name)
		}
	}
	if v, ok := probe["version"]; ok {
		var ver int
		if json.Unmarshal(v, &ver) == nil && ver != e.Version {
			return fieldErr("document.version", "%d differs from the event's version %d", ver, e.Version)
		}
	}
	return nil
}

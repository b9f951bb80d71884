package deploy

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// newerFields are fields the manifests use that are newer than the
// Kubernetes OpenAPI schema built into kyaml (v1.21): path suffix -> since.
var newerFields = map[string]string{
	"topologySpreadConstraints.[].matchLabelKeys": "Kubernetes 1.27",
}

// TestKustomizeKnownFields checks every field of every rendered object
// against the Kubernetes OpenAPI schema built into kustomize, so a misspelt
// field (readinesProbe, securityContex) fails here instead of being dropped
// silently by the API server.
func TestKustomizeKnownFields(t *testing.T) {
	for _, ov := range overlays {
		t.Run(ov.name, func(t *testing.T) {
			r := render(t, ov.dir)
			for _, o := range r.objects {
				rs := openapi.SchemaForResourceType(kyaml.TypeMeta{APIVersion: o.APIVersion, Kind: o.Kind})
				if rs == nil {
					t.Errorf("%s %s/%s: no schema for this kind", o.APIVersion, o.Kind, o.Metadata.Name)
					continue
				}
				doc := o.node
				if doc.Kind == yaml.DocumentNode {
					doc = doc.Content[0]
				}
				for _, bad := range unknownFields(rs, doc, nil) {
					t.Errorf("%s/%s: unknown field %s", o.Kind, o.Metadata.Name, bad)
				}
			}
		})
	}
}

// unknownFields walks n alongside its schema and returns the paths of
// fields the schema does not define.
func unknownFields(rs *openapi.ResourceSchema, n *yaml.Node, path []string) []string {
	var bad []string
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			p := append(slices.Clone(path), key)
			fs := rs.Field(key)
			if fs == nil {
				if !isNewerField(p) {
					bad = append(bad, strings.Join(p, "."))
				}
				continue
			}
			bad = append(bad, unknownFields(fs, val, p)...)
		}
	case yaml.SequenceNode:
		es := rs.Elements()
		if es == nil {
			return nil // not described as an array of objects (e.g. int-or-string lists)
		}
		for _, item := range n.Content {
			bad = append(bad, unknownFields(es, item, append(slices.Clone(path), "[]"))...)
		}
	}
	return bad
}

func isNewerField(path []string) bool {
	p := strings.Join(path, ".")
	for suffix := range newerFields {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	return false
}

package deploy

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The Deployments every environment runs, with their expected replicas in
// production. The dev overlay runs one of each.
var productionReplicas = map[string]int{
	"registry":    3,
	"training":    3,
	"competition": 3,
	"mentorship":  3,
	"honour":      3,
	"graphql":     2,
}

// minKeyLen is the shortest key the services accept: pkg/auth.MinKeyLen for
// the JWT key, the registry's minimum for the national-ID key.
const minKeyLen = 32

// Secrets the production overlay expects the operator to create (never committed).
var externalSecrets = []string{"craftledger-secrets", "craftledger-store-ca", "craftledger-tls"}

// object is the part of a rendered Kubernetes object the tests look at.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		// Service: its spec.selector is a plain map, filled from raw by render.
		ServiceSelector map[string]string `yaml:"-"`
		Ports           []servicePort     `yaml:"ports"`
		// PodDisruptionBudget
		MaxUnavailable any `yaml:"maxUnavailable"`
		MinAvailable   any `yaml:"minAvailable"`
		Template       struct {
			Metadata struct {
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
	raw  map[string]any
	node *yaml.Node // the document, for schema checks
}

type servicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort any    `yaml:"targetPort"`
}

// keyItem is one key of a Secret projected into a volume.
type keyItem struct {
	Key  string `yaml:"key"`
	Path string `yaml:"path"`
}

type podSpec struct {
	SecurityContext *struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    *int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName string    `yaml:"secretName"`
			Optional   *bool     `yaml:"optional"`
			Items      []keyItem `yaml:"items"`
		} `yaml:"secret"`
		EmptyDir              any `yaml:"emptyDir"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
	TopologySpreadConstraints []any `yaml:"topologySpreadConstraints"`
}

type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	StartupProbe    *probe `yaml:"startupProbe"`
	SecurityContext *struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type probe struct {
	HTTPGet *struct {
		Path   string `yaml:"path"`
		Port   any    `yaml:"port"`
		Scheme string `yaml:"scheme"`
	} `yaml:"httpGet"`
	TCPSocket *struct {
		Port any `yaml:"port"`
	} `yaml:"tcpSocket"`
}

// rendered is the output of one kustomization, indexed by kind and name.
type rendered struct {
	objects []object
}

func (r rendered) kind(k string) []object {
	var out []object
	for _, o := range r.objects {
		if o.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

func (r rendered) get(kind, name string) (object, bool) {
	for _, o := range r.objects {
		if o.Kind == kind && o.Metadata.Name == name {
			return o, true
		}
	}
	return object{}, false
}

// workloads are the objects that run pods.
func (r rendered) workloads() []object {
	return append(r.kind("Deployment"), r.kind("StatefulSet")...)
}

// render builds a kustomization directory with the kustomize Go API, exactly
// as `kubectl apply -k` would.
func render(t *testing.T, dir string) rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var r rendered
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode %s output: %v", dir, err)
		}
		var o object
		if err := node.Decode(&o); err != nil {
			t.Fatalf("decode %s output: %v", dir, err)
		}
		if err := node.Decode(&o.raw); err != nil {
			t.Fatalf("decode %s output: %v", dir, err)
		}
		o.node = &node
		if o.Kind == "Service" {
			if spec, ok := o.raw["spec"].(map[string]any); ok {
				o.Spec.ServiceSelector = toStringMap(spec["selector"])
			}
		}
		r.objects = append(r.objects, o)
	}
	if len(r.objects) == 0 {
		t.Fatalf("kustomize build %s: no objects", dir)
	}
	return r
}

func toStringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

// replicas is a workload's replica count; Kubernetes defaults a missing one to 1.
func replicas(w object) int {
	if w.Spec.Replicas == nil {
		return 1
	}
	return *w.Spec.Replicas
}

// selects reports whether a label selector (all pairs must match) picks labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// overlays: what each renders. external: the Secrets are created by the
// operator, not rendered; strict: a missing Secret must stop the pod.
var overlays = []struct {
	name, dir        string
	external, strict bool
}{
	{"base", "k8s/base", true, false},
	{"dev", "k8s/overlays/dev", false, false},
	{"production", "k8s/overlays/production", true, true},
}

// TestKustomizeStructure checks, for the base and every overlay, what any
// environment needs: probes, resources, non-root pods, Services and
// PodDisruptionBudgets that select real pods, and configuration that resolves.
func TestKustomizeStructure(t *testing.T) {
	base := render(t, "k8s/base")
	for _, ov := range overlays {
		t.Run(ov.name, func(t *testing.T) {
			r := render(t, ov.dir)
			if problem := k8sApprovers(t, ov.name, r, base); problem != "" {
				t.Errorf("competition: %s", problem)
			}

			var names []string
			for _, d := range r.kind("Deployment") {
				names = append(names, d.Metadata.Name)
			}
			slices.Sort(names)
			var want []string
			for n := range productionReplicas {
				want = append(want, n)
			}
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("Deployments = %v, want %v", names, want)
			}

			for _, w := range r.workloads() {
				checkWorkload(t, r, w, ov.external, ov.strict)
			}
			checkPDBs(t, r)
			checkServices(t, r)
			checkKeysAndData(t, r)
			checkPersonalKeys(t, r, ov.name)
		})
	}
}

// competitionApprovers is the CRAFTLEDGER_APPROVERS the rendered
// competition Deployment's container gets: from its envFrom ConfigMaps,
// then its env entries, which win (as in the kubelet).
func competitionApprovers(t *testing.T, r rendered) (value string, set bool) {
	t.Helper()
	d, ok := r.get("Deployment", "competition")
	if !ok || len(d.Spec.Template.Spec.Containers) == 0 {
		t.Fatal("no competition Deployment with a container")
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		if cm, ok := r.get("ConfigMap", ef.ConfigMapRef.Name); ok {
			if v, ok := cm.Data[approversVar]; ok {
				value, set = v, true
			}
		}
	}
	for _, e := range c.Env {
		if e.Name == approversVar {
			value, set = e.Value, e.ValueFrom == nil
		}
	}
	return value, set
}

// k8sApprovers checks what competition gets in one rendering. The
// production overlay must set its own value (the demo's authorities of the
// base are not a production's): empty as committed, so competition does not
// start until the operator names the authorities (approvers.yaml), or the
// operator's list.
func k8sApprovers(t *testing.T, overlay string, r, base rendered) string {
	t.Helper()
	v, set := competitionApprovers(t, r)
	if overlay != "production" {
		return approversProblem(v, set)
	}
	if bv, _ := competitionApprovers(t, base); set && v == bv {
		return fmt.Sprintf("%s=%q is the base's (the demo's authorities); production's operator sets it (approvers.yaml)", approversVar, v)
	}
	if set && strings.TrimSpace(v) == "" {
		return "" // the operator's to fill in; competition refuses to start until then
	}
	return approversProblem(v, set)
}

// TestKustomizeWithoutApproversFails: the check of TestKustomizeStructure
// refuses an overlay without its CRAFTLEDGER_APPROVERS: no key at all, or
// in production the base's list.
func TestKustomizeWithoutApproversFails(t *testing.T) {
	base := render(t, "k8s/base")
	bv, _ := competitionApprovers(t, base)
	for _, ov := range overlays {
		t.Run(ov.name, func(t *testing.T) {
			r := render(t, ov.dir)
			cm, ok := r.get("ConfigMap", "craftledger-config")
			if !ok {
				t.Fatal("no ConfigMap craftledger-config")
			}
			if ov.name == "production" {
				cm.Data[approversVar] = bv
			} else {
				delete(cm.Data, approversVar)
			}
			if k8sApprovers(t, ov.name, r, base) == "" {
				t.Errorf("%s without its %s passes the check", ov.dir, approversVar)
			}
		})
	}
}

func checkWorkload(t *testing.T, r rendered, w object, external, strict bool) {
	t.Helper()
	id := w.Kind + "/" + w.Metadata.Name
	tmpl := w.Spec.Template
	if !selects(w.Spec.Selector.MatchLabels, tmpl.Metadata.Labels) {
		t.Errorf("%s: selector %v does not select its own pods %v", id, w.Spec.Selector.MatchLabels, tmpl.Metadata.Labels)
	}
	sc := tmpl.Spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: pod securityContext must set runAsNonRoot: true and a non-zero runAsUser", id)
	}
	if len(tmpl.Spec.Containers) == 0 {
		t.Fatalf("%s: no containers", id)
	}
	for _, c := range tmpl.Spec.Containers {
		cid := id + " container " + c.Name
		if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation ||
			c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("%s: securityContext must forbid privilege escalation and make the root filesystem read-only", cid)
		}
		for _, res := range []string{"cpu", "memory"} {
			if c.Resources.Requests[res] == "" || c.Resources.Limits[res] == "" {
				t.Errorf("%s: resources.requests and .limits need %s", cid, res)
			}
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			t.Errorf("%s: needs liveness and readiness probes", cid)
			continue
		}
		if w.Kind == "Deployment" {
			checkHTTPProbe(t, cid, "liveness", c.LivenessProbe, "/healthz", c)
			checkHTTPProbe(t, cid, "readiness", c.ReadinessProbe, "/readyz", c)
			if c.StartupProbe != nil {
				checkHTTPProbe(t, cid, "startup", c.StartupProbe, "/healthz", c)
			}
			checkEnv(t, r, cid, c, external)
			checkTLS(t, cid, w, c)
		}
		checkMounts(t, r, cid, c, tmpl.Spec, external, strict)
	}
}

// envValue is the literal value of c's variable name ("" when unset).
func envValue(c container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// checkTLS: a container serves HTTPS when it has both TLS variables, or
// neither and plain HTTP; its probes and Prometheus' scrape annotation
// speak what it serves (an HTTP probe of an HTTPS server fails, and an
// HTTPS probe of an HTTP one too).
func checkTLS(t *testing.T, id string, w object, c container) {
	t.Helper()
	cert, key := envValue(c, "CRAFTLEDGER_TLS_CERT_FILE"), envValue(c, "CRAFTLEDGER_TLS_KEY_FILE")
	if (cert == "") != (key == "") {
		t.Errorf("%s: CRAFTLEDGER_TLS_CERT_FILE=%q CRAFTLEDGER_TLS_KEY_FILE=%q: both or neither (one alone stops start-up)", id, cert, key)
	}
	scheme, annotation := "HTTP", "http"
	if cert != "" {
		scheme, annotation = "HTTPS", "https"
	}
	for which, p := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		got := p.HTTPGet.Scheme
		if got == "" {
			got = "HTTP"
		}
		if got != scheme {
			t.Errorf("%s: %s probe scheme %s, want %s (TLS cert %q)", id, which, got, scheme, cert)
		}
	}
	ann := w.Spec.Template.Metadata.Annotations
	if ann["prometheus.io/scrape"] == "true" {
		got := ann["prometheus.io/scheme"]
		if got == "" {
			got = "http"
		}
		if got != annotation {
			t.Errorf("%s: prometheus.io/scheme %q, want %s", id, got, annotation)
		}
	}
}

func checkHTTPProbe(t *testing.T, id, which string, p *probe, path string, c container) {
	t.Helper()
	if p.HTTPGet == nil || p.HTTPGet.Path != path {
		t.Errorf("%s: %s probe must GET %s", id, which, path)
		return
	}
	if !hasPort(c, p.HTTPGet.Port) {
		t.Errorf("%s: %s probe port %v is not a container port", id, which, p.HTTPGet.Port)
	}
}

// hasPort reports whether port (a name or a number) is one of c's ports.
func hasPort(c container, port any) bool {
	for _, p := range c.Ports {
		switch v := port.(type) {
		case string:
			if p.Name == v {
				return true
			}
		case int:
			if p.ContainerPort == v {
				return true
			}
		}
	}
	return false
}

var varRef = regexp.MustCompile(`\$\(([A-Z0-9_]+)\)`)

// checkEnv resolves CRAFTLEDGER_STORE the way the kubelet does (references to
// variables from envFrom ConfigMaps and earlier env entries) and checks it is a
// KurrentDB connection string, and that every Secret and ConfigMap referenced exists.
func checkEnv(t *testing.T, r rendered, id string, c container, external bool) {
	t.Helper()
	vars := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		cm, ok := r.get("ConfigMap", ef.ConfigMapRef.Name)
		if !ok {
			t.Errorf("%s: envFrom ConfigMap %q is not in the output", id, ef.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			vars[k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			vars[e.Name] = secretValue(t, r, id, ref.Name, ref.Key, external)
		default:
			v := varRef.ReplaceAllStringFunc(e.Value, func(m string) string {
				name := varRef.FindStringSubmatch(m)[1]
				val, ok := vars[name]
				if !ok {
					t.Errorf("%s: env %s refers to $(%s), which is not defined before it", id, e.Name, name)
				}
				return val
			})
			vars[e.Name] = v
		}
	}
	for _, k := range []string{"CRAFTLEDGER_STORE", "CRAFTLEDGER_ADDR", "CRAFTLEDGER_JWT_KEY_FILE"} {
		if vars[k] == "" {
			t.Errorf("%s: %s is not set", id, k)
		}
	}
	checkRate(t, id, vars["CRAFTLEDGER_RATE"])
	u, err := url.Parse(vars["CRAFTLEDGER_STORE"])
	if err != nil || u.Scheme != "esdb" || u.Host == "" || u.User == nil {
		t.Errorf("%s: CRAFTLEDGER_STORE = %q, want esdb://user:password@hosts?options", id, vars["CRAFTLEDGER_STORE"])
	}
	for k, v := range vars {
		if strings.HasSuffix(k, "_FILE") && !mounted(c, v) {
			t.Errorf("%s: %s=%s is not under a volume mount", id, k, v)
		}
		// Listen addresses must match a declared container port, which the probes use.
		if strings.HasSuffix(k, "_ADDR") {
			_, port, _ := strings.Cut(v, ":")
			if n, err := strconv.Atoi(port); err != nil || !hasPort(c, n) {
				t.Errorf("%s: %s=%s does not listen on a container port", id, k, v)
			}
		}
	}
	if err == nil {
		if ca := u.Query().Get("tlsCAFile"); ca != "" && !mounted(c, ca) {
			t.Errorf("%s: tlsCAFile %s is not under a volume mount", id, ca)
		}
	}
}

// secretValue returns the value of a Secret's key when the Secret is in the
// output, and a placeholder when it is one the operator creates.
func secretValue(t *testing.T, r rendered, id, name, key string, external bool) string {
	t.Helper()
	s, ok := r.get("Secret", name)
	if !ok {
		if !external || !slices.Contains(externalSecrets, name) {
			t.Errorf("%s: Secret %q is neither in the output nor one the operator creates", id, name)
		}
		return "from-" + name
	}
	data, _ := s.raw["data"].(map[string]any)
	if _, ok := data[key]; !ok {
		t.Errorf("%s: Secret %s has no key %q", id, name, key)
	}
	return "from-" + name
}

func mounted(c container, path string) bool {
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}

func checkMounts(t *testing.T, r rendered, id string, c container, spec podSpec, external, strict bool) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		found := false
		for _, v := range spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			found = true
			if v.Secret == nil {
				continue
			}
			if s, ok := r.get("Secret", v.Secret.SecretName); ok {
				data, _ := s.raw["data"].(map[string]any)
				for _, it := range v.Secret.Items {
					if _, ok := data[it.Key]; !ok {
						t.Errorf("%s: volume %s wants key %q of Secret %s, which it does not have", id, v.Name, it.Key, v.Secret.SecretName)
					}
				}
				continue
			}
			optional := v.Secret.Optional != nil && *v.Secret.Optional
			switch {
			case external && !slices.Contains(externalSecrets, v.Secret.SecretName):
				t.Errorf("%s: volume %s uses Secret %q, which nobody creates", id, v.Name, v.Secret.SecretName)
			case strict && optional:
				t.Errorf("%s: volume %s: Secret %q must not be optional here", id, v.Name, v.Secret.SecretName)
			case !external && !optional:
				t.Errorf("%s: volume %s uses Secret %q, which is not in the output", id, v.Name, v.Secret.SecretName)
			}
		}
		if !found && !isClaimTemplate(r, m.Name) {
			t.Errorf("%s: volumeMount %s has no volume", id, m.Name)
		}
	}
}

// isClaimTemplate reports whether name is a StatefulSet's volumeClaimTemplate.
func isClaimTemplate(r rendered, name string) bool {
	for _, s := range r.kind("StatefulSet") {
		spec, _ := s.raw["spec"].(map[string]any)
		tmpls, _ := spec["volumeClaimTemplates"].([]any)
		for _, tm := range tmpls {
			md, _ := tm.(map[string]any)["metadata"].(map[string]any)
			if md["name"] == name {
				return true
			}
		}
	}
	return false
}

// checkKeysAndData: only the registry holds the national-ID hashing key,
// and GraphQL keeps its snapshots on a writable volume.
func checkKeysAndData(t *testing.T, r rendered) {
	t.Helper()
	for _, d := range r.kind("Deployment") {
		c := d.Spec.Template.Spec.Containers[0]
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		holdsNationalID := false
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil && slices.ContainsFunc(v.Secret.Items, func(it keyItem) bool { return it.Key == "national-id.key" }) {
				holdsNationalID = true
			}
		}
		switch d.Metadata.Name {
		case "registry":
			if env["CRAFTLEDGER_NATIONAL_ID_KEY_FILE"] == "" || !holdsNationalID {
				t.Errorf("registry: needs the national-ID key mounted and CRAFTLEDGER_NATIONAL_ID_KEY_FILE set")
			}
		case "graphql":
			dir := env["CRAFTLEDGER_GRAPHQL_DATA"]
			var mount string
			for _, m := range c.VolumeMounts {
				if m.MountPath == dir {
					mount = m.Name
				}
			}
			writable := false
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == mount && v.EmptyDir != nil {
					writable = true
				}
			}
			if dir == "" || !writable {
				t.Errorf("graphql: CRAFTLEDGER_GRAPHQL_DATA=%q must be a writable volume (emptyDir) for snapshots", dir)
			}
		}
		if d.Metadata.Name != "registry" && holdsNationalID {
			t.Errorf("%s: mounts the national-ID key; only the registry may", d.Metadata.Name)
		}
	}
}

// checkPersonalKeys: the registry (sealing, forgetting) and GraphQL
// (showing names) mount the same keyring volume at
// CRAFTLEDGER_PERSONAL_KEYS_DIR, nothing else mounts it, and once the
// registry and GraphQL run more than two pods between them (more than the
// one-node dev overlay's one each) the claim is ReadWriteMany (pods on
// several nodes must see one directory).
func checkPersonalKeys(t *testing.T, r rendered, overlay string) {
	t.Helper()
	pods := 0
	for _, d := range r.kind("Deployment") {
		c := d.Spec.Template.Spec.Containers[0]
		dir := ""
		for _, e := range c.Env {
			if e.Name == "CRAFTLEDGER_PERSONAL_KEYS_DIR" {
				dir = e.Value
			}
		}
		claim := ""
		for _, m := range c.VolumeMounts {
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == m.Name && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "craftledger-personal-keys" {
					if m.MountPath != dir {
						t.Errorf("%s: the keyring is mounted at %s, CRAFTLEDGER_PERSONAL_KEYS_DIR=%q", d.Metadata.Name, m.MountPath, dir)
					}
					claim = v.PersistentVolumeClaim.ClaimName
				}
			}
		}
		switch d.Metadata.Name {
		case "registry", "graphql":
			if dir == "" || claim == "" {
				t.Errorf("%s: needs the personal-keys volume and CRAFTLEDGER_PERSONAL_KEYS_DIR (names are otherwise stored in clear or not shown)", d.Metadata.Name)
			}
			pods += replicas(d)
		default:
			if dir != "" || claim != "" {
				t.Errorf("%s: mounts the personal-data keyring; only the registry and GraphQL may", d.Metadata.Name)
			}
		}
	}
	pvc, ok := r.get("PersistentVolumeClaim", "craftledger-personal-keys")
	if !ok {
		t.Fatalf("no PersistentVolumeClaim craftledger-personal-keys")
	}
	spec, _ := pvc.raw["spec"].(map[string]any)
	modes, _ := spec["accessModes"].([]any)
	rwx := slices.Contains(modes, any("ReadWriteMany"))
	if pods > 2 && !rwx {
		t.Errorf("%s: %d registry and GraphQL pods share the keyring on a %v volume; pods on several nodes need ReadWriteMany", overlay, pods, modes)
	}
	if overlay == "dev" && rwx {
		t.Errorf("dev: the keyring claim asks for ReadWriteMany, which one-node development clusters do not provision")
	}
}

// checkPDBs: every PodDisruptionBudget selects the pods of exactly one
// workload, every Deployment has one, and none blocks all evictions.
func checkPDBs(t *testing.T, r rendered) {
	t.Helper()
	covered := map[string]int{}
	pdbs := r.kind("PodDisruptionBudget")
	if len(pdbs) == 0 {
		t.Fatal("no PodDisruptionBudget")
	}
	for _, p := range pdbs {
		var hits []string
		for _, w := range r.workloads() {
			if selects(p.Spec.Selector.MatchLabels, w.Spec.Template.Metadata.Labels) {
				hits = append(hits, w.Metadata.Name)
				covered[w.Metadata.Name]++
			}
		}
		if len(hits) != 1 {
			t.Errorf("PodDisruptionBudget %s selects the pods of %v, want exactly one workload", p.Metadata.Name, hits)
		}
		if (p.Spec.MaxUnavailable == nil) == (p.Spec.MinAvailable == nil) {
			t.Errorf("PodDisruptionBudget %s: set exactly one of maxUnavailable and minAvailable", p.Metadata.Name)
		}
		if v, ok := p.Spec.MaxUnavailable.(int); ok && v < 1 {
			t.Errorf("PodDisruptionBudget %s: maxUnavailable %d blocks every eviction", p.Metadata.Name, v)
		}
	}
	for _, d := range r.kind("Deployment") {
		if covered[d.Metadata.Name] != 1 {
			t.Errorf("Deployment %s is covered by %d PodDisruptionBudgets, want 1", d.Metadata.Name, covered[d.Metadata.Name])
		}
	}
}

// checkServices: every workload is reachable through a Service whose
// selector picks its pods and whose target port is one of theirs.
func checkServices(t *testing.T, r rendered) {
	t.Helper()
	for _, w := range r.workloads() {
		found := false
		for _, s := range r.kind("Service") {
			if !selects(s.Spec.ServiceSelector, w.Spec.Template.Metadata.Labels) {
				continue
			}
			found = true
			for _, p := range s.Spec.Ports {
				if !hasPort(w.Spec.Template.Spec.Containers[0], p.TargetPort) {
					t.Errorf("Service %s port %s targets %v, not a port of %s", s.Metadata.Name, p.Name, p.TargetPort, w.Metadata.Name)
				}
			}
		}
		if !found {
			t.Errorf("%s/%s: no Service selects its pods", w.Kind, w.Metadata.Name)
		}
	}
}

// storeConfig returns the store's hosts and options from the rendered ConfigMap.
func storeConfig(t *testing.T, r rendered) (hosts []string, params url.Values) {
	t.Helper()
	cm, ok := r.get("ConfigMap", "craftledger-config")
	if !ok {
		t.Fatal("ConfigMap craftledger-config missing")
	}
	params, err := url.ParseQuery(cm.Data["CRAFTLEDGER_STORE_PARAMS"])
	if err != nil {
		t.Fatalf("CRAFTLEDGER_STORE_PARAMS: %v", err)
	}
	return strings.Split(cm.Data["CRAFTLEDGER_STORE_HOSTS"], ","), params
}

func TestKustomizeDevOverlay(t *testing.T) {
	r := render(t, "k8s/overlays/dev")
	for _, o := range r.objects {
		if o.Metadata.Namespace != "craftledger-dev" {
			t.Errorf("%s/%s: namespace %q, want craftledger-dev", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
		}
	}
	for _, w := range r.workloads() {
		if got := replicas(w); got != 1 {
			t.Errorf("%s/%s: dev runs one replica, got %d", w.Kind, w.Metadata.Name, got)
		}
		for _, c := range w.Spec.Template.Spec.Containers {
			if want := "craftledger/" + w.Metadata.Name + ":dev"; c.Image != want {
				t.Errorf("%s/%s: image %q, want %q", w.Kind, w.Metadata.Name, c.Image, want)
			}
		}
	}
	// The store is the in-cluster embedded eventstore, without TLS.
	hosts, params := storeConfig(t, r)
	if len(hosts) != 1 {
		t.Fatalf("dev store hosts = %v, want the one embedded eventstore", hosts)
	}
	svc, port, _ := strings.Cut(hosts[0], ":")
	s, ok := r.get("Service", svc)
	if !ok {
		t.Fatalf("dev store host %s: no such Service", svc)
	}
	if st, ok := r.get("StatefulSet", svc); !ok || !selects(s.Spec.ServiceSelector, st.Spec.Template.Metadata.Labels) {
		t.Errorf("Service %s does not select the eventstore StatefulSet", svc)
	}
	if !slices.ContainsFunc(s.Spec.Ports, func(p servicePort) bool { return port == strconv.Itoa(p.Port) }) {
		t.Errorf("Service %s does not expose port %s", svc, port)
	}
	if params.Get("tls") != "false" {
		t.Errorf("dev store params %v, want tls=false for the insecure embedded store", params)
	}
	if _, ok := r.get("Secret", "craftledger-secrets"); ok {
		t.Error("dev secret should carry kustomize's content hash suffix so pods restart when it changes")
	}
	secrets := r.kind("Secret")
	if len(secrets) != 1 {
		t.Fatalf("dev overlay renders %d Secrets, want the one generated", len(secrets))
	}
	data, _ := secrets[0].raw["data"].(map[string]any)
	for _, name := range []string{"jwt.key", "national-id.key"} {
		key, err := base64.StdEncoding.DecodeString(fmt.Sprint(data[name]))
		if err != nil {
			t.Fatalf("dev %s: %v", name, err)
		}
		if len(bytes.TrimSpace(key)) < minKeyLen {
			t.Errorf("dev %s is %d bytes; the services refuse keys shorter than %d", name, len(key), minKeyLen)
		}
	}
}

func TestKustomizeProductionOverlay(t *testing.T) {
	r := render(t, "k8s/overlays/production")
	for _, o := range r.objects {
		if o.Metadata.Namespace != "craftledger" {
			t.Errorf("%s/%s: namespace %q, want craftledger", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
		}
	}
	if s := r.kind("Secret"); len(s) != 0 {
		t.Errorf("production renders %d Secrets; credentials must not be committed", len(s))
	}
	if st := r.kind("StatefulSet"); len(st) != 0 {
		t.Errorf("production runs the embedded store (%d StatefulSets); it must use a KurrentDB cluster", len(st))
	}
	for _, d := range r.kind("Deployment") {
		want := productionReplicas[d.Metadata.Name]
		if got := replicas(d); got != want {
			t.Errorf("Deployment %s: replicas %d, want %d", d.Metadata.Name, got, want)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			repo, tag, ok := strings.Cut(c.Image, ":")
			if !ok || tag == "" || tag == "latest" || tag == "dev" || !strings.HasSuffix(repo, "/"+d.Metadata.Name) || !strings.Contains(repo, ".") {
				t.Errorf("Deployment %s: image %q, want a released tag in a registry", d.Metadata.Name, c.Image)
			}
		}
		if len(d.Spec.Template.Spec.TopologySpreadConstraints) == 0 {
			t.Errorf("Deployment %s: replicas are not spread over nodes", d.Metadata.Name)
		}
		checkProductionTLS(t, d)
	}
	hosts, params := storeConfig(t, r)
	if len(hosts) != 3 {
		t.Errorf("production store hosts = %v, want the three KurrentDB nodes as gossip seeds", hosts)
	}
	for _, h := range hosts {
		if _, port, ok := strings.Cut(h, ":"); !ok || port == "" {
			t.Errorf("store host %q has no port", h)
		}
	}
	if params.Get("tls") != "true" || params.Get("tlsCAFile") == "" {
		t.Errorf("production store params %v, want tls=true with tlsCAFile", params)
	}
	base := render(t, "k8s/base")
	for _, d := range base.kind("Deployment") {
		if got := replicas(d); got >= productionReplicas[d.Metadata.Name] {
			t.Errorf("base Deployment %s already has %d replicas; the production overlay should be what raises it", d.Metadata.Name, got)
		}
	}
}

// checkProductionTLS: in production every Deployment serves HTTPS with the
// certificate and key of the operator's Secret craftledger-tls, mounted
// (not optionally) where its two variables point, probes over HTTPS.
func checkProductionTLS(t *testing.T, d object) {
	t.Helper()
	id := "Deployment " + d.Metadata.Name
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	cert, key := envValue(c, "CRAFTLEDGER_TLS_CERT_FILE"), envValue(c, "CRAFTLEDGER_TLS_KEY_FILE")
	if cert == "" || key == "" {
		t.Errorf("%s: does not serve HTTPS (CRAFTLEDGER_TLS_CERT_FILE=%q, CRAFTLEDGER_TLS_KEY_FILE=%q)", id, cert, key)
		return
	}
	// The file each variable names must be the Secret's tls.crt / tls.key,
	// projected by a volume mounted at the file's directory.
	files := map[string]string{}
	for _, m := range c.VolumeMounts {
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.Secret == nil || v.Secret.SecretName != "craftledger-tls" {
				continue
			}
			if v.Secret.Optional == nil || *v.Secret.Optional {
				t.Errorf("%s: the craftledger-tls volume must not be optional (a pod without it would serve plain HTTP or not at all)", id)
			}
			for _, it := range v.Secret.Items {
				files[strings.TrimSuffix(m.MountPath, "/")+"/"+it.Path] = it.Key
			}
		}
	}
	if files[cert] != "tls.crt" || files[key] != "tls.key" {
		t.Errorf("%s: TLS cert %s and key %s are not craftledger-tls's tls.crt and tls.key (mounted: %v)", id, cert, key, files)
	}
	for which, p := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme != "HTTPS" {
			t.Errorf("%s: %s probe is not over HTTPS", id, which)
		}
	}
}

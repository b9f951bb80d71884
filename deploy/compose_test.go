package deploy

import (
	"bytes"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const composeFile = "compose/compose.yaml"

// composeService is the part of a Compose service the tests look at.
// Environment is a mapping in our file (a list would fail to decode: on purpose).
type composeService struct {
	Image       string            `yaml:"image"`
	Hostname    string            `yaml:"hostname"`
	User        string            `yaml:"user"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Build *struct {
		Context    string            `yaml:"context"`
		Dockerfile string            `yaml:"dockerfile"`
		Args       map[string]string `yaml:"args"`
	} `yaml:"build"`
}

type composeProject struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

func loadCompose(t *testing.T) composeProject {
	t.Helper()
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var p composeProject
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	checkComposeKeys(t, b)
	if len(p.Services) == 0 {
		t.Fatalf("%s: no services", composeFile)
	}
	return p
}

var interpolation = regexp.MustCompile(`\$\{([A-Z0-9_]+)(:-([^}]*))?\}`)

// defaults resolves Compose's ${VAR:-default} the way `docker compose` does
// with none of the variables set; a variable without a default is an error.
func defaults(t *testing.T, s string) string {
	t.Helper()
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		sub := interpolation.FindStringSubmatch(m)
		if sub[2] == "" {
			t.Errorf("%s: ${%s} has no default; `docker compose up` would need it set", composeFile, sub[1])
		}
		return sub[3]
	})
}

// mount is one "source:target[:mode]" volume entry.
type mount struct{ source, target string }

func mounts(t *testing.T, svc composeService) []mount {
	t.Helper()
	var out []mount
	for _, v := range svc.Volumes {
		parts := strings.Split(defaults(t, v), ":")
		if len(parts) < 2 {
			t.Errorf("volume %q: want source:target", v)
			continue
		}
		out = append(out, mount{parts[0], parts[1]})
	}
	return out
}

// mountOf returns the mount a container path lies under.
func mountOf(ms []mount, p string) (mount, bool) {
	for _, m := range ms {
		if p == m.target || strings.HasPrefix(p, strings.TrimSuffix(m.target, "/")+"/") {
			return m, true
		}
	}
	return mount{}, false
}

// kurrentNodes returns the names of the KurrentDB services.
func kurrentNodes(p composeProject) []string {
	var nodes []string
	for name, s := range p.Services {
		if strings.Contains(s.Image, "kurrentdb") || strings.Contains(s.Image, "eventstore/eventstore") {
			nodes = append(nodes, name)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// craftledgerServices returns the services built from this repository.
func craftledgerServices(p composeProject) []string {
	var names []string
	for name, s := range p.Services {
		if s.Build != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestComposeKurrentDBCluster: three secure nodes that find each other.
func TestComposeKurrentDBCluster(t *testing.T) {
	p := loadCompose(t)
	nodes := kurrentNodes(p)
	if len(nodes) != 3 {
		t.Fatalf("KurrentDB services = %v, want three nodes", nodes)
	}
	setup, ok := p.Services["setup"]
	if !ok || !strings.Contains(setup.Image, "es-gencert-cli") {
		t.Fatalf("no `setup` service running the official es-gencert-cli image")
	}
	certNames := setupNodeNames(t, setup)

	for _, name := range nodes {
		s := p.Services[name]
		env := s.Environment
		t.Run(name, func(t *testing.T) {
			if env["KURRENTDB_CLUSTER_SIZE"] != "3" {
				t.Errorf("KURRENTDB_CLUSTER_SIZE = %q, want 3", env["KURRENTDB_CLUSTER_SIZE"])
			}
			if v, ok := env["KURRENTDB_INSECURE"]; ok && v != "false" {
				t.Errorf("KURRENTDB_INSECURE = %q; the cluster must run with TLS", v)
			}
			// Gossip seeds name exactly the other two nodes.
			var seeds []string
			for _, seed := range strings.Split(env["KURRENTDB_GOSSIP_SEED"], ",") {
				host, port, _ := strings.Cut(strings.TrimSpace(seed), ":")
				if port != "2113" {
					t.Errorf("gossip seed %q: want port 2113", seed)
				}
				seeds = append(seeds, host)
			}
			slices.Sort(seeds)
			others := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n == name })
			if !slices.Equal(seeds, others) {
				t.Errorf("gossip seeds %v, want the other nodes %v", seeds, others)
			}
			if s.Hostname != name || env["KURRENTDB_NODE_HOST_ADVERTISE_AS"] != name {
				t.Errorf("node must be reachable and advertised as %q (hostname %q, advertised %q)", name, s.Hostname, env["KURRENTDB_NODE_HOST_ADVERTISE_AS"])
			}
			// Certificates: this node's own, from the volume the setup service fills.
			ms := mounts(t, s)
			for _, k := range []string{"KURRENTDB_CERTIFICATE_FILE", "KURRENTDB_CERTIFICATE_PRIVATE_KEY_FILE", "KURRENTDB_TRUSTED_ROOT_CERTIFICATES_PATH"} {
				f := env[k]
				if f == "" {
					t.Errorf("%s is not set", k)
					continue
				}
				m, ok := mountOf(ms, f)
				if !ok {
					t.Errorf("%s=%s is not under a mounted volume", k, f)
					continue
				}
				if src := setupTarget(t, setup, m.source); src == "" {
					t.Errorf("%s=%s: volume %q is not one the setup service writes", k, f, m.source)
				}
			}
			for _, k := range []string{"KURRENTDB_CERTIFICATE_FILE", "KURRENTDB_CERTIFICATE_PRIVATE_KEY_FILE"} {
				if dir := path.Base(path.Dir(env[k])); dir != name {
					t.Errorf("%s=%s: want this node's own certificate (directory %q)", k, env[k], name)
				}
			}
			if !slices.Contains(certNames, name) {
				t.Errorf("setup.sh creates certificates for %v, not for %s", certNames, name)
			}
			if s.Healthcheck == nil || !strings.Contains(strings.Join(s.Healthcheck.Test, " "), "/health/live") {
				t.Errorf("healthcheck must call /health/live")
			}
			if d, ok := s.DependsOn["setup"]; !ok || d.Condition != "service_completed_successfully" {
				t.Errorf("must wait for setup to complete (depends_on setup: service_completed_successfully)")
			}
		})
	}
}

var nodesLine = regexp.MustCompile(`(?m)^nodes=\(([^)]*)\)`)

// setupNodeNames reads the node names setup.sh makes certificates for.
func setupNodeNames(t *testing.T, setup composeService) []string {
	t.Helper()
	var script string
	for _, m := range mounts(t, setup) {
		if strings.HasSuffix(m.source, ".sh") {
			script = filepath.Join(filepath.Dir(composeFile), m.source)
		}
	}
	if script == "" || !slices.Contains(setup.Entrypoint, "/setup.sh") {
		t.Fatalf("setup service does not run a mounted setup.sh")
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	m := nodesLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no nodes=(...) line", script)
	}
	names := strings.Fields(string(m[1]))
	slices.Sort(names)
	return names
}

// setupTarget returns where the setup service mounts a named volume ("" if it does not).
func setupTarget(t *testing.T, setup composeService, volume string) string {
	t.Helper()
	for _, m := range mounts(t, setup) {
		if m.source == volume {
			return m.target
		}
	}
	return ""
}

// TestComposeServices: every craftledger service talks to the cluster over
// TLS, can read its CA and JWT key, and reports its health.
func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	nodes := kurrentNodes(p)
	setup := p.Services["setup"]
	names := craftledgerServices(p)
	want := []string{"competition", "graphql", "honour", "mentorship", "registry", "training"}
	if !slices.Equal(names, want) {
		t.Errorf("services built from the repo = %v, want %v", names, want)
	}
	published := map[string]string{}
	for _, name := range names {
		s := p.Services[name]
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range s.Environment {
				env[k] = defaults(t, v)
			}
			u, err := url.Parse(env["CRAFTLEDGER_STORE"])
			if err != nil || u.Scheme != "esdb" {
				t.Fatalf("CRAFTLEDGER_STORE = %q, want an esdb:// connection string (%v)", env["CRAFTLEDGER_STORE"], err)
			}
			var hosts []string
			for _, h := range strings.Split(u.Host, ",") {
				host, port, _ := strings.Cut(h, ":")
				if port != "2113" {
					t.Errorf("store host %q: want port 2113", h)
				}
				hosts = append(hosts, host)
			}
			slices.Sort(hosts)
			if !slices.Equal(hosts, nodes) {
				t.Errorf("CRAFTLEDGER_STORE hosts %v, want every KurrentDB node %v", hosts, nodes)
			}
			q := u.Query()
			if q.Get("tls") != "true" {
				t.Errorf("CRAFTLEDGER_STORE must use tls=true, got %q", q.Get("tls"))
			}
			if u.User == nil || u.User.Username() == "" {
				t.Errorf("CRAFTLEDGER_STORE has no credentials; a secure cluster needs them")
			}
			ms := mounts(t, s)
			files := map[string]string{"tlsCAFile": q.Get("tlsCAFile")}
			for k, v := range env {
				if strings.HasSuffix(k, "_FILE") {
					files[k] = v
				}
			}
			for what, f := range files {
				m, ok := mountOf(ms, f)
				if f == "" || !ok {
					t.Errorf("%s %q is not under a mounted volume", what, f)
					continue
				}
				if setupTarget(t, setup, m.source) == "" {
					t.Errorf("%s %q: volume %q is not filled by the setup service", what, f, m.source)
				}
			}
			if name == "graphql" {
				dir := env["CRAFTLEDGER_GRAPHQL_DATA"]
				writable := slices.ContainsFunc(s.Volumes, func(v string) bool {
					parts := strings.Split(v, ":")
					return len(parts) == 2 && parts[1] == dir
				})
				if dir == "" || !writable {
					t.Errorf("CRAFTLEDGER_GRAPHQL_DATA=%q must be a writable volume for snapshots", dir)
				}
			}
			checkRate(t, name, env["CRAFTLEDGER_RATE"])
			if env["CRAFTLEDGER_JWT_KEY_FILE"] == "" {
				t.Errorf("CRAFTLEDGER_JWT_KEY_FILE is not set")
			}
			// Who approves promotion entitlements: competition's alone.
			if _, ok := s.Environment[approversVar]; ok && name != "competition" {
				t.Errorf("sets %s; only competition reads it", approversVar)
			}
			if name == "competition" {
				if problem := composeApprovers(t, p); problem != "" {
					t.Error(problem)
				}
			}
			// Only the registry holds the key that hashes national ID numbers.
			_, hasNID := env["CRAFTLEDGER_NATIONAL_ID_KEY_FILE"]
			mountsNID := slices.ContainsFunc(ms, func(m mount) bool { return m.source == "national-id" })
			switch {
			case name == "registry" && !(hasNID && mountsNID):
				t.Errorf("the registry needs CRAFTLEDGER_NATIONAL_ID_KEY_FILE and the national-id volume")
			case name != "registry" && (hasNID || mountsNID):
				t.Errorf("has the national-ID key; only the registry may")
			}
			// The registry seals personal data in the keyring volume and
			// GraphQL opens it there (the same volume); nobody else has it.
			keys := env["CRAFTLEDGER_PERSONAL_KEYS_DIR"]
			km, mountsKeys := mountOf(ms, keys)
			mountsKeys = mountsKeys && keys != "" && km.source == "personal-keys" && km.target == keys
			writableKeys := mountsKeys && !slices.Contains(s.Volumes, "personal-keys:"+keys+":ro")
			switch {
			case name == "registry" && !writableKeys:
				t.Errorf("the registry needs CRAFTLEDGER_PERSONAL_KEYS_DIR=%q on the writable personal-keys volume", keys)
			case name == "graphql" && !mountsKeys:
				t.Errorf("GraphQL needs CRAFTLEDGER_PERSONAL_KEYS_DIR=%q on the personal-keys volume to show sealed names", keys)
			case name != "registry" && name != "graphql" && (keys != "" || slices.ContainsFunc(ms, func(m mount) bool { return m.source == "personal-keys" })):
				t.Errorf("has the personal-data keyring; only the registry and GraphQL may")
			}
			if (name == "registry" || name == "graphql") && setupTarget(t, setup, "personal-keys") == "" {
				t.Errorf("the personal-keys volume is not prepared (owner, mode) by the setup service")
			}
			if env["CRAFTLEDGER_ADDR"] != ":8080" {
				t.Errorf("CRAFTLEDGER_ADDR = %q; the healthcheck, ports and Prometheus assume :8080", env["CRAFTLEDGER_ADDR"])
			}
			if a, ok := env["CRAFTLEDGER_GRAPHQL_ADDR"]; ok && a != ":8080" {
				t.Errorf("CRAFTLEDGER_GRAPHQL_ADDR = %q; the healthcheck, ports and Prometheus assume :8080", a)
			}
			if s.Healthcheck == nil || !slices.Equal(s.Healthcheck.Test, []string{"CMD", "/healthprobe", "http://127.0.0.1:8080/readyz"}) {
				t.Errorf("healthcheck must run /healthprobe on /readyz (the image has no shell)")
			}
			for _, n := range nodes {
				if d, ok := s.DependsOn[n]; !ok || d.Condition != "service_healthy" {
					t.Errorf("must wait for %s to be healthy", n)
				}
			}
			for _, port := range s.Ports {
				host, _, _ := strings.Cut(defaults(t, port), ":")
				if other, dup := published[host]; dup {
					t.Errorf("host port %s is published by %s too", host, other)
				}
				published[host] = name
			}
		})
	}
}

// composeApprovers checks the Compose competition service's approvers with
// none of the file's variables set (their defaults).
func composeApprovers(t *testing.T, p composeProject) string {
	t.Helper()
	v, set := p.Services["competition"].Environment[approversVar]
	return approversProblem(defaults(t, v), set)
}

// TestComposeWithoutApproversFails: the check above refuses a Compose file
// whose competition service lacks CRAFTLEDGER_APPROVERS.
func TestComposeWithoutApproversFails(t *testing.T) {
	p := loadCompose(t)
	delete(p.Services["competition"].Environment, approversVar)
	if composeApprovers(t, p) == "" {
		t.Errorf("a Compose file without %s passes the check", approversVar)
	}
}

// TestComposePrometheus: Prometheus scrapes /metrics of every craftledger service.
func TestComposePrometheus(t *testing.T) {
	p := loadCompose(t)
	prom, ok := p.Services["prometheus"]
	if !ok {
		t.Fatal("no prometheus service")
	}
	var configPath string
	for _, c := range prom.Command {
		if v, ok := strings.CutPrefix(c, "--config.file="); ok {
			configPath = v
		}
	}
	m, ok := mountOf(mounts(t, prom), configPath)
	if configPath == "" || !ok {
		t.Fatalf("prometheus --config.file %q is not mounted", configPath)
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(composeFile), m.source))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", m.source, err)
	}
	scraped := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				scraped[target] = true
			}
		}
	}
	for _, name := range craftledgerServices(p) {
		if !scraped[name+":8080"] {
			t.Errorf("prometheus does not scrape %s:8080/metrics", name)
		}
	}
	for _, n := range kurrentNodes(p) {
		if !scraped[n+":2113"] {
			t.Errorf("prometheus does not scrape KurrentDB node %s", n)
		}
	}
	for target := range scraped {
		host, _, _ := strings.Cut(target, ":")
		if _, ok := p.Services[host]; !ok {
			t.Errorf("prometheus scrapes %s, which is not a service", target)
		}
	}
}

// knownService lists the Compose service keys this file may use; decoding
// with KnownFields makes a misspelt key (heathcheck, depends-on) an error
// rather than something Docker Compose would reject only at `up`. Add a
// key here, from the Compose specification, when the file needs one more.
type knownService struct {
	Image       string         `yaml:"image"`
	Build       *knownBuild    `yaml:"build"`
	Hostname    string         `yaml:"hostname"`
	User        string         `yaml:"user"`
	Entrypoint  []string       `yaml:"entrypoint"`
	Command     []string       `yaml:"command"`
	Environment map[string]any `yaml:"environment"`
	Volumes     []string       `yaml:"volumes"`
	Ports       []string       `yaml:"ports"`
	Networks    []string       `yaml:"networks"`
	NetworkMode string         `yaml:"network_mode"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
		Restart   bool   `yaml:"restart"`
		Required  *bool  `yaml:"required"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test          []string `yaml:"test"`
		Interval      string   `yaml:"interval"`
		Timeout       string   `yaml:"timeout"`
		Retries       int      `yaml:"retries"`
		StartPeriod   string   `yaml:"start_period"`
		StartInterval string   `yaml:"start_interval"`
	} `yaml:"healthcheck"`
	Restart     string   `yaml:"restart"`
	ReadOnly    bool     `yaml:"read_only"`
	Tmpfs       []string `yaml:"tmpfs"`
	SecurityOpt []string `yaml:"security_opt"`
	CapDrop     []string `yaml:"cap_drop"`
}

type knownBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
	Target     string            `yaml:"target"`
}

func checkComposeKeys(t *testing.T, b []byte) {
	t.Helper()
	var strict struct {
		Name       string                  `yaml:"name"`
		Services   map[string]knownService `yaml:"services"`
		Networks   map[string]any          `yaml:"networks"`
		Volumes    map[string]any          `yaml:"volumes"`
		Extensions map[string]any          `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&strict); err != nil {
		t.Errorf("%s: %v", composeFile, err)
	}
	for k := range strict.Extensions {
		if !strings.HasPrefix(k, "x-") {
			t.Errorf("%s: unknown top-level key %q (extensions start with x-)", composeFile, k)
		}
	}
}

// checkRate: a shipped deployment limits each caller (the services' --rate
// defaults to 0, unlimited), to a rate a person or a script at work stays
// under.
func checkRate(t *testing.T, id, v string) {
	t.Helper()
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r <= 0 || r > 1000 {
		t.Errorf("%s: CRAFTLEDGER_RATE = %q, want a per-caller limit between 0 and 1000 requests/s (unset or 0 is unlimited)", id, v)
	}
}

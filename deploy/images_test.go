package deploy

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The container images craftledger ships, one per binary. Each is built by
// deploy/docker/Dockerfile with --build-arg CMD=<path>; the list of paths
// lives once, in the Makefile's IMAGES, and this test checks it against the
// repository, the Compose file and the Kubernetes manifests.
var wantImages = []string{
	"competition", "craftledger", "eventstore", "graphql",
	"honour", "mentorship", "registry", "training",
}

const repoRoot = ".."

var imagesVar = regexp.MustCompile(`(?ms)^IMAGES := (.*?[^\\])\n`)

// makefileImages reads IMAGES from the Makefile: name -> cmd directory.
func makefileImages(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := imagesVar.FindSubmatch(b)
	if m == nil {
		t.Fatal("Makefile: no IMAGES := ... variable")
	}
	images := map[string]string{}
	for _, f := range strings.Fields(strings.ReplaceAll(string(m[1]), "\\", " ")) {
		name, cmd, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("Makefile IMAGES entry %q: want name=module/cmd/name", f)
		}
		images[name] = cmd
	}
	return images
}

// cmdDirs lists the main packages of the repository: every directory
// <module>/cmd/<name> or <dir>/<module>/cmd/<name> holding a main.go.
func cmdDirs(t *testing.T) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	for _, pattern := range []string{"*/cmd/*/main.go", "*/*/cmd/*/main.go"} {
		matches, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			rel, err := filepath.Rel(repoRoot, filepath.Dir(m))
			if err != nil {
				t.Fatal(err)
			}
			found[filepath.ToSlash(rel)] = true
		}
	}
	return found
}

// TestImagesBuildExistingCommands: every image's CMD is a main package of
// the repository, named like the binary `make build` produces.
func TestImagesBuildExistingCommands(t *testing.T) {
	images := makefileImages(t)
	var names []string
	for n := range images {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, wantImages) {
		t.Errorf("Makefile IMAGES = %v, want %v", names, wantImages)
	}
	found := cmdDirs(t)
	for _, name := range names {
		cmd := images[name]
		t.Run(name, func(t *testing.T) {
			if filepath.Base(cmd) != name || filepath.Base(filepath.Dir(cmd)) != "cmd" {
				t.Fatalf("image %s builds %s; want <module>/cmd/%s so that the image and bin/%s are the same program", name, cmd, name, name)
			}
			if !found[cmd] {
				t.Errorf("image %s builds %s, but %s/main.go does not exist", name, cmd, cmd)
			}
		})
	}
	var other []string
	for dir := range found {
		if !slices.Contains(slices.Collect(maps.Values(images)), dir) {
			other = append(other, dir)
		}
	}
	slices.Sort(other)
	t.Logf("main packages without an image of their own (tools): %v", other)
}

// TestDockerfile: one recipe, static, non-root, with the health probe.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages [][]string // instructions per stage, continuation lines joined
	var line string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(text, "\\"); ok {
			line += cont + " "
			continue
		}
		line += text
		if strings.HasPrefix(line, "FROM ") || len(stages) == 0 {
			stages = append(stages, nil)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
		line = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stages) < 3 { // ARGs before the first FROM, the build stage, the runtime stage
		t.Fatalf("Dockerfile has %d stages, want a build stage and a runtime stage", len(stages)-1)
	}
	build := strings.Join(stages[1], "\n")
	final := stages[len(stages)-1]
	for _, want := range []string{"ARG CMD", "CGO_ENABLED=0", "./${CMD}", "./deploy/cmd/healthprobe"} {
		if !strings.Contains(build, want) {
			t.Errorf("build stage lacks %q", want)
		}
	}
	args := strings.Join(stages[0], "\n")
	if !strings.Contains(args, "distroless/static") {
		t.Errorf("runtime image is not distroless static: %s", args)
	}
	var user, entrypoint string
	for _, ins := range final {
		if v, ok := strings.CutPrefix(ins, "USER "); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(ins, "ENTRYPOINT "); ok {
			entrypoint = v
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("runtime stage USER = %q, want a non-root uid", user)
	}
	if entrypoint != `["/app"]` {
		t.Errorf("ENTRYPOINT = %s, want [\"/app\"]", entrypoint)
	}
	if _, err := os.Stat("cmd/healthprobe/main.go"); err != nil {
		t.Errorf("the health probe copied into every image: %v", err)
	}
}

// TestImagesAgree: Compose builds and Kubernetes runs the images the Makefile names.
func TestImagesAgree(t *testing.T) {
	images := makefileImages(t)
	p := loadCompose(t)
	for _, name := range craftledgerServices(p) {
		b := p.Services[name].Build
		if want := images[name]; b.Args["CMD"] != want {
			t.Errorf("compose %s builds CMD=%q, Makefile IMAGES says %q", name, b.Args["CMD"], want)
		}
		df := filepath.Join(filepath.Dir(composeFile), b.Context, b.Dockerfile)
		if _, err := os.Stat(df); err != nil {
			t.Errorf("compose %s: dockerfile %s: %v", name, df, err)
		}
		if !strings.HasPrefix(defaults(t, p.Services[name].Image), "craftledger/"+name+":") {
			t.Errorf("compose %s: image %q, want craftledger/%s:<tag>", name, p.Services[name].Image, name)
		}
	}
	for _, ov := range overlays {
		r := render(t, ov.dir)
		for _, w := range r.workloads() {
			if _, ok := images[w.Metadata.Name]; !ok {
				t.Errorf("%s: %s/%s runs no image of ours", ov.name, w.Kind, w.Metadata.Name)
			}
			for _, c := range w.Spec.Template.Spec.Containers {
				repo, _, _ := strings.Cut(c.Image, ":")
				if !strings.HasSuffix(repo, "craftledger/"+w.Metadata.Name) {
					t.Errorf("%s: %s/%s runs image %q, want craftledger/%s", ov.name, w.Kind, w.Metadata.Name, c.Image, w.Metadata.Name)
				}
			}
		}
	}
}

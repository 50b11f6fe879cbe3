// Package deploy_test checks deploy/: Docker cannot run here, so the test
// parses the compose file and the Dockerfile and checks them against
// evcrm's own configuration.
package deploy_test

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/internal/config"
	"go.yaml.in/yaml/v3"
)

type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]any    `yaml:"depends_on"`
		Build       map[string]string `yaml:"build"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// configNames are the EVCRM_* variables internal/config reads.
func configNames(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../internal/config/config.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`"(EVCRM_[A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	if len(names) < 5 {
		t.Fatalf("found only %v in internal/config", names)
	}
	return names
}

func TestCompose(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.yaml does not parse: %v", err)
	}
	for _, want := range []string{"postgres", "kurrentdb", "nats", "migrate"} {
		if _, ok := c.Services[want]; !ok {
			t.Fatalf("no %s service", want)
		}
	}
	if !strings.Contains(c.Services["kurrentdb"].Image, "kurrentdb") {
		t.Fatalf("kurrentdb image %q", c.Services["kurrentdb"].Image)
	}
	known := configNames(t)
	pg := c.Services["postgres"].Environment
	var servers []string
	ports := map[string]string{}
	for name, s := range c.Services {
		if s.Image != "evcrm:latest" {
			continue
		}
		for k := range s.Environment {
			if !slices.Contains(known, k) {
				t.Errorf("%s: %s is not a variable internal/config reads (%v)", name, k, known)
			}
		}
		env := s.Environment
		if env["EVCRM_EVENTSTORE"] != "esdb" || env["EVCRM_BUS"] != "nats" {
			t.Errorf("%s: event store %q, bus %q; want esdb and nats", name, env["EVCRM_EVENTSTORE"], env["EVCRM_BUS"])
		}
		db, err := url.Parse(env["EVCRM_DATABASE_URL"])
		if err != nil || db.Hostname() != "postgres" || db.User.Username() != pg["POSTGRES_USER"] || strings.TrimPrefix(db.Path, "/") != pg["POSTGRES_DB"] {
			t.Errorf("%s: database URL %q does not match the postgres service %v", name, env["EVCRM_DATABASE_URL"], pg)
		}
		if p, _ := db.User.Password(); p != pg["POSTGRES_PASSWORD"] {
			t.Errorf("%s: database password does not match the postgres service", name)
		}
		for key, service := range map[string]string{"EVCRM_ESDB_URL": "kurrentdb", "EVCRM_BUS_URL": "nats"} {
			u, err := url.Parse(env[key])
			if err != nil || u.Hostname() != service {
				t.Errorf("%s: %s = %q, want a URL of the %s service", name, key, env[key], service)
			}
		}
		// The configuration evcrm would read validates.
		for _, k := range known {
			t.Setenv(k, "")
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		if err := config.FromEnv().Validate(); err != nil {
			t.Errorf("%s: evcrm would refuse its configuration: %v", name, err)
		}
		if slices.Equal(s.Command, []string{"serve"}) {
			servers = append(servers, name)
			for _, p := range s.Ports {
				host, _, _ := strings.Cut(p, ":")
				if other, dup := ports[host]; dup {
					t.Errorf("%s and %s both publish port %s", name, other, host)
				}
				ports[host] = name
			}
			if _, ok := s.DependsOn["migrate"]; !ok {
				t.Errorf("%s does not wait for the migration", name)
			}
		}
	}
	if len(servers) < 2 {
		t.Fatalf("evcrm serve runs in %v, want two instances", servers)
	}
	if b := c.Services["migrate"].Build; b["dockerfile"] != "deploy/Dockerfile" || b["context"] != ".." {
		t.Fatalf("migrate builds %v", b)
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("not a multi-stage build: %v", froms)
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))[1]
	if !strings.HasPrefix(froms[0][1], "golang:"+goVersion) {
		t.Errorf("builder %s, go.mod wants Go %s", froms[0][1], goVersion)
	}
	if !strings.Contains(df, "CGO_ENABLED=0") || !strings.Contains(df, "./cmd/evcrm") {
		t.Error("the binary is not built static from ./cmd/evcrm")
	}
	if _, err := os.Stat("../cmd/evcrm/main.go"); err != nil {
		t.Error(err)
	}
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 {
		t.Fatal("no USER: the image would run as root")
	}
	if u := users[len(users)-1][1]; strings.HasPrefix(u, "root") || strings.HasPrefix(u, "0:") || u == "0" {
		t.Fatalf("runs as %s", u)
	}
}

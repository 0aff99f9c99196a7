package cluster

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/buybutton/checkout/workflows"
)

type service struct {
	Image       string            `yaml:"image"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     any               `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   any               `yaml:"depends_on"`
	Deploy      struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

// compose is the part of docker-compose.yml the checks read.
type compose struct {
	Services map[string]service `yaml:"services"`
}

func readCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// makeVar reads NAME := value from the Makefile.
func makeVar(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `\s*:=\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("Makefile has no %s", name)
	}
	return string(m[1])
}

// TestComposeMatchesCluster: docker-compose.yml runs what `make cluster` runs
// — the same server and UI versions, the same Temporal config file and
// schema script with the same values, the same namespace, task queue,
// search attributes, replica counts and load balancer config.
func TestComposeMatchesCluster(t *testing.T) {
	c := readCompose(t)
	svc := func(name string) service {
		t.Helper()
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("docker-compose.yml has no service %s", name)
		}
		return s
	}
	server := strings.TrimPrefix(makeVar(t, "TEMPORAL_SERVER_VERSION"), "v")
	ui := strings.TrimPrefix(makeVar(t, "TEMPORAL_UI_VERSION"), "v")
	for name, want := range map[string]string{
		"temporal": "temporalio/server:" + server, "temporal-schema": "temporalio/admin-tools:" + server,
		"temporal-setup": "temporalio/admin-tools:" + server, "temporal-ui": "temporalio/ui:" + ui,
	} {
		if got := svc(name).Image; got != want {
			t.Errorf("%s runs %s; make cluster runs %s", name, got, want)
		}
	}

	spec := Spec{DBPrefix: DefaultDBPrefix, Ports: DefaultPorts()}
	cl := &Cluster{Spec: spec}
	setByCluster := envMap(cl.temporalEnv())
	config, err := os.ReadFile(filepath.Join("temporal", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]string{} // variable -> default in cluster.yaml
	for _, m := range regexp.MustCompile(`env "([A-Z_]+)"(?: \| default "([^"]*)")?`).FindAllStringSubmatch(string(config), -1) {
		read[m[1]] = m[2]
	}
	// The values that decide which data the server sees.
	temporal := svc("temporal")
	for key, want := range map[string]string{
		"DBNAME": spec.TemporalDB(), "VISIBILITY_DBNAME": spec.VisibilityDB(), "NUM_HISTORY_SHARDS": NumHistoryShards,
	} {
		if _, ok := read[key]; !ok {
			t.Errorf("cluster.yaml does not read %s", key)
		}
		if read[key] != want {
			t.Errorf("cluster.yaml defaults %s to %q; make cluster uses %q", key, read[key], want)
		}
		if setByCluster[key] != want {
			t.Errorf("make cluster sets %s=%q, want %q", key, setByCluster[key], want)
		}
		if got := temporal.Environment[key]; got != want {
			t.Errorf("compose temporal sets %s=%q; make cluster %q", key, got, want)
		}
		if key != "NUM_HISTORY_SHARDS" && svc("temporal-schema").Environment[key] != want {
			t.Errorf("compose temporal-schema sets %s=%q; make cluster %q", key, svc("temporal-schema").Environment[key], want)
		}
	}
	// Every variable compose gives the server is one the config file reads
	// and one make cluster sets (or a compose-only address).
	for key := range temporal.Environment {
		if _, ok := read[key]; !ok {
			t.Errorf("compose sets %s for the server, which cluster.yaml does not read", key)
		}
	}
	for key := range setByCluster {
		if _, ok := read[key]; !ok {
			t.Errorf("make cluster sets %s, which cluster.yaml does not read", key)
		}
	}
	mounts := func(s []string, src string) bool {
		for _, v := range s {
			if strings.HasPrefix(v, src+":") {
				return true
			}
		}
		return false
	}
	if !mounts(temporal.Volumes, "./cluster/temporal") || !strings.Contains(strings.Join(temporal.Entrypoint, " "), "--env "+TemporalConfigEnv) {
		t.Errorf("compose temporal does not run cluster/temporal/%s.yaml: %v %v", TemporalConfigEnv, temporal.Volumes, temporal.Entrypoint)
	}
	schema := svc("temporal-schema")
	if !mounts(schema.Volumes, "./cluster/temporal") || !strings.HasSuffix(strings.Join(schema.Entrypoint, " "), "/schema.sh") {
		t.Errorf("compose temporal-schema does not run cluster/temporal/schema.sh: %v", schema.Entrypoint)
	}

	setup, _ := svc("temporal-setup").Command.([]any)
	var declared []string
	for _, m := range regexp.MustCompile(`--name (\w+) --type (\w+)`).FindAllStringSubmatch(stringsOf(setup), -1) {
		declared = append(declared, m[1]+"="+m[2])
	}
	var want []string
	for _, sa := range workflows.SearchAttributes {
		want = append(want, sa.Name+"="+sa.Type)
	}
	sort.Strings(declared)
	sort.Strings(want)
	if strings.Join(declared, ",") != strings.Join(want, ",") {
		t.Errorf("compose registers search attributes %v; the workflows (and make cluster) use %v", declared, want)
	}
	if !strings.Contains(stringsOf(setup), "--namespace "+DefaultNamespace) {
		t.Errorf("compose temporal-setup does not register namespace %s", DefaultNamespace)
	}

	for _, name := range []string{"api-1", "api-2", "worker"} {
		env := svc(name).Environment
		if env["TEMPORAL_NAMESPACE"] != DefaultNamespace || env["TASK_QUEUE"] != DefaultTaskQueue {
			t.Errorf("%s uses namespace %q task queue %q; make cluster %q %q", name, env["TEMPORAL_NAMESPACE"], env["TASK_QUEUE"], DefaultNamespace, DefaultTaskQueue)
		}
		if !strings.Contains(env["DATABASE_URL"], "/"+DefaultDBPrefix+"?") {
			t.Errorf("%s stores in %q; make cluster in database %s", name, env["DATABASE_URL"], DefaultDBPrefix)
		}
	}
	if got := svc("worker").Deploy.Replicas; got != Workers {
		t.Errorf("compose runs %d workers; make cluster %d", got, Workers)
	}
	lb := svc("lb")
	if !mounts(lb.Volumes, "./cluster/haproxy.cfg") {
		t.Errorf("compose lb does not use cluster/haproxy.cfg: %v", lb.Volumes)
	}
	haproxy, err := os.ReadFile("haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(string(haproxy), -1) {
		if lb.Environment[m[1]] == "" {
			t.Errorf("haproxy.cfg reads %s, which compose lb does not set", m[1])
		}
	}
	if n := strings.Count(string(haproxy), "\n  server api"); n != APIReplicas {
		t.Errorf("haproxy.cfg names %d api servers, want %d", n, APIReplicas)
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func stringsOf(list []any) string {
	var b strings.Builder
	for _, v := range list {
		s, _ := v.(string)
		b.WriteString(s)
		b.WriteString(" ")
	}
	return b.String()
}

// TestComposeMigratesBeforeReplicas: as `make cluster` runs `checkout
// migrate` before any replica (migrateStore), compose runs it as a one-shot
// service that api and workers wait for.
func TestComposeMigratesBeforeReplicas(t *testing.T) {
	c := readCompose(t)
	m, ok := c.Services["migrate"]
	if !ok {
		t.Fatal("docker-compose.yml has no migrate service")
	}
	if cmd, _ := m.Command.([]any); len(cmd) != 1 || cmd[0] != "migrate" {
		t.Errorf("migrate service runs %v, want [migrate]", m.Command)
	}
	for _, name := range []string{"api-1", "api-2", "worker"} {
		deps, _ := c.Services[name].DependsOn.(map[string]any)
		dep, _ := deps["migrate"].(map[string]any)
		if dep["condition"] != "service_completed_successfully" {
			t.Errorf("%s does not wait for migrate to complete (depends_on %v)", name, c.Services[name].DependsOn)
		}
	}
}

// Package cluster runs the production shape on one machine without Docker:
// the Temporal server (go.temporal.io/server) on Postgres with SQL
// visibility, Temporal UI, the Stripe sandbox, two api replicas behind
// haproxy and two workers, every store on the local Postgres. `checkout
// cluster` (make cluster) and the cluster tests both start it from here.
package cluster

import (
	"fmt"
	mrand "math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
)

// Ports are where each process listens, on 127.0.0.1. The defaults keep
// clear of a dev server (7233, 8233, 8080, 9090, 12111).
type Ports struct {
	Frontend, FrontendHTTP, FrontendMembership int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
	TemporalMetrics                            int
	UI                                         int
	LoadBalancer                               int
	Sandbox                                    int
	API, APIMetrics                            []int
	WorkerMetrics                              []int
}

// DefaultPorts are the ports of `make cluster`.
func DefaultPorts() Ports {
	return Ports{
		Frontend: 7333, FrontendHTTP: 7343, FrontendMembership: 6333,
		History: 7334, HistoryMembership: 6334,
		Matching: 7335, MatchingMembership: 6335,
		Worker: 7339, WorkerMembership: 6339,
		TemporalMetrics: 8300,
		UI:              8333,
		LoadBalancer:    8380,
		Sandbox:         12311,
		API:             []int{8381, 8382},
		APIMetrics:      []int{9381, 9382},
		WorkerMetrics:   []int{9391, 9392},
	}
}

// FreePorts picks unused ports for every process, for tests that run next to
// `make cluster` or each other. They are below 32768: Temporal keeps
// membership ports in a smallint column.
func FreePorts() (Ports, error) {
	n := 16
	ps := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for tries := 0; len(ps) < n; tries++ {
		if tries > 1000 {
			return Ports{}, fmt.Errorf("cluster: no free ports in %d..%d", minTestPort, maxTestPort)
		}
		port := minTestPort + mrand.IntN(maxTestPort-minTestPort)
		l, err := net.Listen("tcp", addr(port))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ps = append(ps, port)
	}
	return Ports{
		Frontend: ps[0], FrontendHTTP: ps[1], FrontendMembership: ps[2],
		History: ps[3], HistoryMembership: ps[4],
		Matching: ps[5], MatchingMembership: ps[6],
		Worker: ps[7], WorkerMembership: ps[8],
		TemporalMetrics: ps[9], UI: ps[10], LoadBalancer: ps[11], Sandbox: ps[12],
		API: []int{ps[13], ps[14]}, APIMetrics: []int{0, 0}, WorkerMetrics: []int{0, 0},
		// ps[15] is spare: metrics listeners of tests stay off.
	}, nil
}

// Tests pick ports here: below the kernel's ephemeral range (32768+), so no
// outgoing connection holds one, and within Temporal's smallint.
const minTestPort, maxTestPort = 20000, 32000

// Postgres is the server every database of the cluster lives on.
type Postgres struct {
	Host     string
	Port     int
	User     string
	Password string
}

// URL is a connection URL for database db.
func (p Postgres) URL(db string) string {
	auth := p.User
	if p.Password != "" {
		auth += ":" + p.Password
	}
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", auth, net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), db)
}

// Tools are the programs the cluster runs besides checkout itself.
type Tools struct {
	TemporalServer string // go.temporal.io/server/cmd/server
	SQLTool        string // go.temporal.io/server/cmd/tools/sql
	SchemaDir      string // the server module's schema/postgresql/v12
	UIServer       string // github.com/temporalio/ui-server/v2/cmd/server
	HAProxy        string
}

// Spec is one cluster: where its programs, state and databases are.
type Spec struct {
	// Root is the repository root: cluster/temporal and cluster/haproxy.cfg
	// are read from it.
	Root string
	// Dir keeps generated secrets, the UI's config and every process's log.
	Dir string
	// Checkout is the checkout binary the api, worker and sandbox run.
	Checkout string
	Tools    Tools
	Postgres Postgres
	// DBPrefix names the databases: <prefix> for the store,
	// <prefix>_temporal and <prefix>_visibility for Temporal.
	DBPrefix  string
	Namespace string
	TaskQueue string
	Ports     Ports
	// Env is added to every api and worker (e.g. shorter timeouts in tests).
	Env []string
	// Deployment and BuildID put every worker under Worker Versioning
	// (WORKER_DEPLOYMENT_NAME, WORKER_BUILD_ID); Up makes BuildID the
	// deployment's current version. Empty: unversioned workers.
	Deployment, BuildID string
	// WorkerEnv is added to the workers only, one list per worker (e.g. a
	// build id per worker); nil for none.
	WorkerEnv [][]string
}

// Replicas of the api and workers: haproxy.cfg names two api servers.
const (
	APIReplicas = 2
	Workers     = 2
)

// Values shared with docker-compose.yml (compose_test.go checks them).
const (
	DefaultNamespace  = "default"
	DefaultDBPrefix   = "checkout"
	DefaultDeployment = "checkout"
	DefaultTaskQueue  = "checkout"
	NumHistoryShards  = "4"
	TemporalConfigEnv = "cluster"
)

// TemporalDB and VisibilityDB are Temporal's databases.
func (s Spec) TemporalDB() string   { return s.DBPrefix + "_temporal" }
func (s Spec) VisibilityDB() string { return s.DBPrefix + "_visibility" }

// StoreURL is the checkout store's database.
func (s Spec) StoreURL() string { return s.Postgres.URL(s.DBPrefix) }

// FrontendAddr is Temporal's gRPC address.
func (s Spec) FrontendAddr() string { return addr(s.Ports.Frontend) }

// LoadBalancerURL is where clients reach the api.
func (s Spec) LoadBalancerURL() string { return "http://" + addr(s.Ports.LoadBalancer) }

// UIURL is Temporal UI.
func (s Spec) UIURL() string { return "http://" + addr(s.Ports.UI) }

// SandboxURL is the Stripe sandbox.
func (s Spec) SandboxURL() string { return "http://" + addr(s.Ports.Sandbox) }

// APIURL is replica i's own address, behind the load balancer.
func (s Spec) APIURL(i int) string { return "http://" + addr(s.Ports.API[i]) }

func (s Spec) temporalConfigDir() string { return filepath.Join(s.Root, "cluster", "temporal") }

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func optAddr(port int) string {
	if port == 0 {
		return ""
	}
	return addr(port)
}

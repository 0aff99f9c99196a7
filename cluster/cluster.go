package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/buybutton/checkout/workflows"
)

// Cluster is a running production shape. Its processes can be killed,
// stopped and started again one by one.
type Cluster struct {
	Spec    Spec
	Secrets Secrets

	Temporal *Process
	UI       *Process
	Sandbox  *Process
	APIs     []*Process
	Workers  []*Process
	LB       *Process
}

// namespaceRetention is how long Temporal keeps a closed order's history.
const namespaceRetention = 30 * 24 * time.Hour

// Up creates the databases and schemas (a rerun keeps what exists), starts
// every process and returns once the load balancer serves a ready api. On
// error what was started is stopped again.
func Up(ctx context.Context, s Spec) (_ *Cluster, err error) {
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	if s.TaskQueue == "" {
		s.TaskQueue = DefaultTaskQueue
	}
	if len(s.Ports.API) != APIReplicas {
		return nil, fmt.Errorf("cluster: %d api ports, want %d", len(s.Ports.API), APIReplicas)
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "logs"), 0o700); err != nil {
		return nil, err
	}
	sec, err := loadSecrets(s.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Spec: s, Secrets: sec}
	defer func() {
		if err != nil {
			c.Down()
		}
	}()
	if err := c.createSchemas(ctx); err != nil {
		return nil, err
	}
	c.Temporal = c.process("temporal", s.Tools.TemporalServer, c.temporalEnv(),
		"--root", s.Root, "--config", filepath.Join("cluster", "temporal"), "--env", TemporalConfigEnv, "--allow-no-auth", "start")
	if err := c.Temporal.Start(); err != nil {
		return nil, err
	}
	if err := c.WaitTemporal(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := c.registerNamespace(ctx); err != nil {
		return nil, err
	}
	if err := c.startUI(); err != nil {
		return nil, err
	}
	if err := c.migrateStore(ctx); err != nil {
		return nil, err
	}
	c.Sandbox = c.process("sandbox", s.Checkout, append(c.checkoutEnv(),
		"SANDBOX_ADDR="+addr(s.Ports.Sandbox),
		"SANDBOX_WEBHOOK_URL="+s.LoadBalancerURL()+"/v1/webhooks/stripe",
		"SANDBOX_CONNECT_WEBHOOK_URL="+s.LoadBalancerURL()+"/v1/webhooks/stripe/connect"), "sandbox")
	if err := c.Sandbox.Start(); err != nil {
		return nil, err
	}
	for i := 0; i < Workers; i++ {
		env := []string{"METRICS_ADDR=" + optAddr(s.Ports.WorkerMetrics[i])}
		if s.BuildID != "" {
			env = append(env, "WORKER_DEPLOYMENT_NAME="+s.Deployment, "WORKER_BUILD_ID="+s.BuildID)
		}
		if i < len(s.WorkerEnv) {
			env = append(env, s.WorkerEnv[i]...)
		}
		if _, err := c.StartWorker(fmt.Sprintf("worker-%d", i+1), s.Checkout, env); err != nil {
			return nil, err
		}
	}
	if s.BuildID != "" {
		if err := c.SetCurrentBuild(ctx, s.BuildID, time.Minute); err != nil {
			return nil, err
		}
	}
	for i := 0; i < APIReplicas; i++ {
		a := c.process(fmt.Sprintf("api-%d", i+1), s.Checkout, append(c.checkoutEnv(),
			"HTTP_ADDR="+addr(s.Ports.API[i]), "METRICS_ADDR="+optAddr(s.Ports.APIMetrics[i])), "api")
		if err := a.Start(); err != nil {
			return nil, err
		}
		c.APIs = append(c.APIs, a)
	}
	for i := range c.APIs {
		if err := waitHTTP(ctx, s.APIURL(i)+"/readyz", time.Minute, c.APIs[i]); err != nil {
			return nil, err
		}
	}
	c.LB = c.process("haproxy", s.Tools.HAProxy, []string{
		"LB_ADDR=" + addr(s.Ports.LoadBalancer),
		"API_1=" + addr(s.Ports.API[0]),
		"API_2=" + addr(s.Ports.API[1]),
	}, "-db", "-f", filepath.Join(s.Root, "cluster", "haproxy.cfg"))
	if err := c.LB.Start(); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, s.LoadBalancerURL()+"/readyz", 30*time.Second, c.LB); err != nil {
		return nil, err
	}
	return c, nil
}

// StartWorker starts one more worker from binary (a new build, say) with
// the cluster's settings and env added.
func (c *Cluster) StartWorker(name, binary string, env []string) (*Process, error) {
	w := c.process(name, binary, append(c.checkoutEnv(), env...), "worker")
	if err := w.Start(); err != nil {
		return nil, err
	}
	c.Workers = append(c.Workers, w)
	return w, nil
}

// SetCurrentBuild makes buildID the current version of the cluster's
// Worker Deployment (what `temporal worker deployment set-current-version`
// does), waiting up to limit for its workers to have polled: Temporal only
// knows a version once a worker of it asked for tasks.
func (c *Cluster) SetCurrentBuild(ctx context.Context, buildID string, limit time.Duration) error {
	tc, err := client.DialContext(ctx, client.Options{HostPort: c.Spec.FrontendAddr(), Namespace: c.Spec.Namespace, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer tc.Close()
	h := tc.WorkerDeploymentClient().GetHandle(c.Spec.Deployment)
	deadline := time.Now().Add(limit)
	for {
		_, err := h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: buildID})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("set %s/%s current: %w", c.Spec.Deployment, buildID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Down stops every process, the load balancer first and Temporal last.
func (c *Cluster) Down() {
	stop := func(p *Process) {
		if p != nil {
			_, _ = p.Stop(30 * time.Second)
		}
	}
	stop(c.LB)
	for _, p := range c.APIs {
		stop(p)
	}
	for _, p := range c.Workers {
		stop(p)
	}
	stop(c.Sandbox)
	stop(c.UI)
	stop(c.Temporal)
}

// Logs is the folder of every process's log.
func (c *Cluster) Logs() string { return filepath.Join(c.Spec.Dir, "logs") }

func (c *Cluster) process(name, path string, env []string, args ...string) *Process {
	return &Process{Name: name, path: path, args: args, env: env, dir: c.Spec.Root,
		log: filepath.Join(c.Spec.Dir, "logs", name+".log")}
}

// temporalEnv sets the variables cluster/temporal/cluster.yaml reads.
func (c *Cluster) temporalEnv() []string {
	s := c.Spec
	p := s.Ports
	pg := s.Postgres
	return []string{
		"DBNAME=" + s.TemporalDB(), "VISIBILITY_DBNAME=" + s.VisibilityDB(),
		"POSTGRES_SEEDS=" + pg.Host, "DB_PORT=" + strconv.Itoa(pg.Port),
		"POSTGRES_USER=" + pg.User, "POSTGRES_PWD=" + pg.Password,
		"NUM_HISTORY_SHARDS=" + NumHistoryShards,
		"BIND_ON_IP=127.0.0.1", "BROADCAST_ADDRESS=127.0.0.1",
		"FRONTEND_GRPC_PORT=" + strconv.Itoa(p.Frontend), "FRONTEND_HTTP_PORT=" + strconv.Itoa(p.FrontendHTTP),
		"FRONTEND_MEMBERSHIP_PORT=" + strconv.Itoa(p.FrontendMembership),
		"HISTORY_GRPC_PORT=" + strconv.Itoa(p.History), "HISTORY_MEMBERSHIP_PORT=" + strconv.Itoa(p.HistoryMembership),
		"MATCHING_GRPC_PORT=" + strconv.Itoa(p.Matching), "MATCHING_MEMBERSHIP_PORT=" + strconv.Itoa(p.MatchingMembership),
		"WORKER_GRPC_PORT=" + strconv.Itoa(p.Worker), "WORKER_MEMBERSHIP_PORT=" + strconv.Itoa(p.WorkerMembership),
		"PROMETHEUS_PORT=" + strconv.Itoa(p.TemporalMetrics),
		"DYNAMIC_CONFIG_FILE_PATH=" + filepath.Join(s.temporalConfigDir(), "dynamicconfig.yaml"),
	}
}

// checkoutEnv is what every api, worker and the sandbox read.
func (c *Cluster) checkoutEnv() []string {
	s := c.Spec
	env := append(c.Secrets.env(),
		"DATABASE_URL="+s.StoreURL(),
		"TEMPORAL_ADDRESS="+s.FrontendAddr(),
		"TEMPORAL_NAMESPACE="+s.Namespace,
		"TASK_QUEUE="+s.TaskQueue,
		"SANDBOX_ADDR="+addr(s.Ports.Sandbox),
		"TEMPORAL_UI_ORIGIN="+s.UIURL(),
		// Merchants of the demo and the tests listen on loopback.
		"WEBHOOK_ALLOW_PRIVATE_NETWORKS=true",
		// haproxy runs here: its X-Forwarded-For names the client.
		"TRUSTED_PROXIES=127.0.0.1",
	)
	return append(env, s.Env...)
}

// createSchemas creates Temporal's two databases with cluster/temporal/schema.sh
// (the steps docker-compose.yml runs too) and the store's database.
func (c *Cluster) createSchemas(ctx context.Context) error {
	s := c.Spec
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(s.temporalConfigDir(), "schema.sh"))
	cmd.Env = append(os.Environ(), "SQL_TOOL="+s.Tools.SQLTool, "SCHEMA_DIR="+s.Tools.SchemaDir,
		"POSTGRES_SEEDS="+s.Postgres.Host, "DB_PORT="+strconv.Itoa(s.Postgres.Port),
		"POSTGRES_USER="+s.Postgres.User, "POSTGRES_PWD="+s.Postgres.Password,
		"DBNAME="+s.TemporalDB(), "VISIBILITY_DBNAME="+s.VisibilityDB())
	log := filepath.Join(c.Logs(), "schema.log")
	out, err := os.Create(log)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("temporal schema: %w (see %s)", err, log)
	}
	return CreateDatabase(ctx, s.Postgres, s.DBPrefix)
}

// CreateDatabase creates db on the server unless it exists.
func CreateDatabase(ctx context.Context, pg Postgres, db string) error {
	return adminExec(ctx, pg, func(g *gorm.DB) error {
		var n int64
		if err := g.Raw("SELECT count(*) FROM pg_database WHERE datname = ?", db).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return g.Exec("CREATE DATABASE " + quoteIdent(db)).Error
	})
}

// DropDatabases removes the cluster's three databases (tests clean up).
func DropDatabases(ctx context.Context, s Spec) error {
	return adminExec(ctx, s.Postgres, func(g *gorm.DB) error {
		for _, db := range []string{s.DBPrefix, s.TemporalDB(), s.VisibilityDB()} {
			if err := g.Exec("DROP DATABASE IF EXISTS " + quoteIdent(db) + " WITH (FORCE)").Error; err != nil {
				return err
			}
		}
		return nil
	})
}

func adminExec(ctx context.Context, pg Postgres, f func(*gorm.DB) error) error {
	g, err := gorm.Open(postgres.Open(pg.URL("postgres")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return fmt.Errorf("connect to Postgres: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	return f(g.WithContext(ctx))
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// migrateStore runs `checkout migrate` once, before any replica starts.
func (c *Cluster) migrateStore(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, c.Spec.Checkout, "migrate")
	cmd.Env = append(os.Environ(), c.checkoutEnv()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("checkout migrate: %w: %s", err, out)
	}
	return nil
}

// WaitTemporal waits until the frontend answers health checks.
func (c *Cluster) WaitTemporal(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := func() error {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			tc, err := client.DialContext(cctx, client.Options{HostPort: c.Spec.FrontendAddr(), Logger: quietLogger{}})
			if err != nil {
				return err
			}
			defer tc.Close()
			_, err = tc.CheckHealth(cctx, &client.CheckHealthRequest{})
			return err
		}()
		if err == nil {
			return nil
		}
		if !c.Temporal.Running() {
			return fmt.Errorf("temporal server exited (see %s)", c.Temporal.log)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal server not healthy after %s: %w (see %s)", limit, err, c.Temporal.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// registerNamespace creates the namespace and the search attributes the
// workflows upsert, then waits until a visibility query on them works.
func (c *Cluster) registerNamespace(ctx context.Context) error {
	s := c.Spec
	nc, err := client.NewNamespaceClient(client.Options{HostPort: s.FrontendAddr(), Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer nc.Close()
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        s.Namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(namespaceRetention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", s.Namespace, err)
	}
	tc, err := client.DialContext(ctx, client.Options{HostPort: s.FrontendAddr(), Namespace: s.Namespace, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer tc.Close()
	attrs := map[string]enumspb.IndexedValueType{}
	for _, sa := range workflows.SearchAttributes {
		t, ok := enumspb.IndexedValueType_value["INDEXED_VALUE_TYPE_"+strings.ToUpper(sa.Type)]
		if !ok {
			return fmt.Errorf("search attribute %s: unknown type %s", sa.Name, sa.Type)
		}
		attrs[sa.Name] = enumspb.IndexedValueType(t)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err = tc.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: s.Namespace, SearchAttributes: attrs,
		})
		var already *serviceerror.AlreadyExists
		if err == nil || errors.As(err, &already) {
			// The frontend learns new namespaces and attributes from a cache
			// it refreshes every few seconds: wait until a query uses them.
			_, err = tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: s.Namespace, Query: workflows.OrderStatusKey.GetName() + " = 'none'", PageSize: 1,
			})
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s not usable: %w", s.Namespace, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// startUI writes Temporal UI's config (its ports and the codec endpoint of
// the load balancer) and starts it.
func (c *Cluster) startUI() error {
	s := c.Spec
	if s.Tools.UIServer == "" {
		return nil
	}
	dir := filepath.Join(s.Dir, "ui")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	conf := fmt.Sprintf(`temporalGrpcAddress: %s
host: 127.0.0.1
port: %d
enableUi: true
defaultNamespace: %s
cors:
  allowOrigins:
    - %s
codec:
  endpoint: %s/codec/%s
`, s.FrontendAddr(), s.Ports.UI, s.Namespace, s.UIURL(), s.LoadBalancerURL(), c.Secrets.CodecToken)
	if err := os.WriteFile(filepath.Join(dir, TemporalConfigEnv+".yaml"), []byte(conf), 0o600); err != nil {
		return err
	}
	c.UI = c.process("temporal-ui", s.Tools.UIServer, nil, "--root", s.Dir, "--config", "ui", "--env", TemporalConfigEnv, "start")
	return c.UI.Start()
}

// waitHTTP polls url until it answers 200, while p keeps running.
func waitHTTP(ctx context.Context, url string, limit time.Duration, p *Process) error {
	deadline := time.Now().Add(limit)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		res, err := hc.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		if p != nil && !p.Running() {
			return fmt.Errorf("%s exited (see %s)", p.Name, p.log)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v", url, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// quietLogger drops the SDK's logs of the cluster's own admin calls.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

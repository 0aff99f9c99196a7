package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/cluster"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/store"
)

// clusterDir keeps the cluster's secrets, logs and demo shop.
var clusterDir = filepath.Join(dataDir, "cluster")

// runCluster runs the production shape on this machine (make cluster): the
// Temporal server on Postgres with Temporal UI, two api replicas behind
// haproxy, two workers, the Stripe sandbox.
func runCluster(ctx context.Context, cfg config.Config, _ []string) error {
	started := time.Now()
	spec, err := clusterSpec()
	if err != nil {
		return err
	}
	slog.Info("cluster starting", "logs", filepath.Join(spec.Dir, "logs"))
	c, err := cluster.Up(ctx, spec)
	if err != nil {
		return err
	}
	defer c.Down()

	ring, err := keyring.Parse(c.Secrets.EncryptionKeys)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, spec.StoreURL(), ring)
	if err != nil {
		return err
	}
	seed, err := seedDemoShop(ctx, st, filepath.Join(spec.Dir, devSeedFile))
	var accountID, link string
	if err == nil {
		// The sandbox's accounts live in memory: the demo shop is onboarded
		// (again) at every start, through the load balancer.
		accountID, link, err = onboardDemoMerchant(ctx, cfg, st, seed, spec.LoadBalancerURL(), spec.SandboxURL())
	}
	st.Close()
	if err != nil {
		return err
	}
	token, err := api.MintBuyerTokenWith([]byte(c.Secrets.BuyerTokenSecret), api.BuyerTokenClaims{BuyerID: demoBuyerID,
		TTL: api.DefaultBuyerTokenMaxLifetime, MaxLifetime: api.DefaultBuyerTokenMaxLifetime,
		Issuer: cfg.BuyerTokenIssuer, Audience: cfg.BuyerTokenAud})
	if err != nil {
		return err
	}
	printBanner(banner{
		Opening:    fmt.Sprintf("Production shape: Temporal server on Postgres (%s), 2 api replicas behind haproxy, 2 workers", spec.FrontendAddr()),
		API:        spec.LoadBalancerURL(),
		TemporalUI: spec.UIURL(),
		Stripe:     "sandbox " + spec.SandboxURL(),
		Metrics: fmt.Sprintf("api http://127.0.0.1:%d/metrics http://127.0.0.1:%d/metrics, workers :%d :%d",
			spec.Ports.APIMetrics[0], spec.Ports.APIMetrics[1], spec.Ports.WorkerMetrics[0], spec.Ports.WorkerMetrics[1]),
		MerchantKey: seed.MerchantKey, BuyerToken: token, ProductID: seed.ProductID, Took: time.Since(started),
		Footer: fmt.Sprintf("Admin token in %s/secrets.env, logs in %s/.\nStop with Ctrl-C; state is kept in Postgres (databases %s, %s, %s).",
			spec.Dir, c.Logs(), spec.DBPrefix, spec.TemporalDB(), spec.VisibilityDB()),
	})
	printConnectBanner(accountID, link)
	<-ctx.Done()
	slog.Info("cluster stopping")
	return nil
}

// clusterSpec is `make cluster`'s cluster: default ports, databases
// checkout*, tools from the Makefile's variables.
func clusterSpec() (cluster.Spec, error) {
	root, err := os.Getwd()
	if err != nil {
		return cluster.Spec{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return cluster.Spec{}, err
	}
	tools, err := cluster.FindTools()
	if err != nil {
		return cluster.Spec{}, err
	}
	return cluster.Spec{
		Root:      root,
		Dir:       filepath.Join(root, clusterDir),
		Checkout:  self,
		Tools:     tools,
		Postgres:  cluster.Postgres{Host: "127.0.0.1", Port: 5432, User: envOr("CLUSTER_POSTGRES_USER", "postgres")},
		DBPrefix:  cluster.DefaultDBPrefix,
		Namespace: cluster.DefaultNamespace,
		TaskQueue: cluster.DefaultTaskQueue,
		Ports:     cluster.DefaultPorts(),
		// Workers are versioned as in production; CLUSTER_BUILD_ID names
		// the build `make cluster` makes current.
		Deployment: cluster.DefaultDeployment,
		BuildID:    envOr("CLUSTER_BUILD_ID", "local"),
		// The demo buyer is in the rollout whatever ROLLOUT_PERCENT says.
		Env: []string{"ROLLOUT_ALLOW=" + strings.Trim(os.Getenv("ROLLOUT_ALLOW")+","+demoBuyerID, ",")},
	}, nil
}

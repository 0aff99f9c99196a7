// Package e2e tests the purchase path over the real parts: the Temporal dev
// server binary, Postgres, the Stripe-protocol sandbox spoken to by
// stripe-go over HTTP, the worker and the HTTP API.
package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/buybutton/checkout/toolpath"
	"github.com/buybutton/checkout/workflows"
)

// devServer is shared by every test of the package; each test gets its own
// task queue, database, sandbox and API, so tests never see each other. Tests
// use fixed buyer ids and Idempotency-Keys, so order (and workflow) ids repeat
// between runs: run the package with -count=1, which starts a fresh dev
// server, rather than repeating tests inside one process.
var devServer *testsuite.DevServer

func TestMain(m *testing.M) {
	cli, err := toolpath.Find("TEMPORAL_CLI", "temporal")
	if err != nil {
		msg := "e2e: " + err.Error()
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "FAIL:", msg)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "\n!!! SKIPPING ALL END-TO-END TESTS !!!", msg)
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	devServer, err = testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		LogLevel:         "error",
		SearchAttributes: workflows.SearchAttributesSchema(),
		Stdout:           io.Discard,
		Stderr:           os.Stderr,
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start temporal dev server:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = devServer.Stop()
	os.Exit(code)
}

//go:build cluster

package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// v2Change is the workflow change build v2 makes: a memo written behind a
// GetVersion, so new orders show it and replay of old histories is kept.
const (
	v2Anchor = "\tp := newPurchase(ctx, in)\n\tp.timing = t\n"
	v2Change = "\tif workflow.GetVersion(ctx, \"cluster-test-build-v2\", workflow.DefaultVersion, 1) == 1 {\n" +
		"\t\tif err := workflow.UpsertMemo(ctx, map[string]any{\"build\": \"v2\"}); err != nil {\n" +
		"\t\t\treturn models.Order{}, err\n\t\t}\n\t}\n"
)

// buildV2 copies the source tree into dir, changes the purchase workflow,
// builds checkout from it and runs the replay corpus on it. It returns the
// binary. It runs beside the cluster's start, so it reports errors rather
// than failing the test itself.
func buildV2(dir string) (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	cp := exec.Command("sh", "-c", `tar --exclude=./bin --exclude=./data --exclude=./.git -cf - . | tar -xf - -C "$0"`, dir)
	cp.Dir = root
	if out, err := cp.CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy source: %v %s", err, out)
	}
	path := filepath.Join(dir, "workflows", "purchase.go")
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if !strings.Contains(string(src), v2Anchor) {
		return "", fmt.Errorf("workflows/purchase.go no longer has the lines build v2 patches before:\n%s", v2Anchor)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), v2Anchor, v2Change+v2Anchor, 1)), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "checkout-v2")
	for _, args := range [][]string{
		{"build", "-o", bin, "./cmd/checkout"},
		// The committed histories must replay on the new build.
		{"test", "-count=1", "-run", "TestRecordedHistoriesReplay|TestRecordedHistoriesAreThere", "./worker/"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %s on build v2: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return bin, nil
}

// taskBuilds lists the build ids that completed the workflow's tasks.
func taskBuilds(t *testing.T, tc client.Client, workflowID string) map[string]int {
	t.Helper()
	builds := map[string]int{}
	it := tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowTaskCompletedEventAttributes(); a != nil {
			builds[buildOf(a)]++
		}
	}
	return builds
}

func buildOf(a *historypb.WorkflowTaskCompletedEventAttributes) string {
	return a.GetDeploymentVersion().GetBuildId()
}

// TestClusterWorkerVersioning: orders started on build v1 stay pinned to
// v1 after workers of build v2 (a changed purchase workflow) come up and v2
// is made current; they finish on v1 workers while new orders run v2's
// code; the replay corpus passes on v2.
func TestClusterWorkerVersioning(t *testing.T) {
	var (
		v2      string
		v2Err   error
		built   sync.WaitGroup
		v2Build = t.TempDir()
	)
	built.Add(1)
	go func() { defer built.Done(); v2, v2Err = buildV2(v2Build) }()

	c := startCluster(t, clusterOptions{buildID: "v1"})
	tc := c.temporalClient()
	s := c.newShop(100)
	old := c.runPurchases(s, "buyer-v1", 6, 3, nil)
	for _, o := range old {
		if o.Status != string(models.StatusAuthorized) {
			t.Fatalf("v1 purchase answered %q (%v)", o.Status, o.Failures)
		}
	}
	built.Wait()
	if v2Err != nil {
		t.Fatal(v2Err)
	}
	t.Logf("build v2 built; the replay corpus passes on it")
	for i := 1; i <= 2; i++ {
		if _, err := c.StartWorker(fmt.Sprintf("worker-v2-%d", i), v2,
			[]string{"WORKER_DEPLOYMENT_NAME=" + DefaultDeployment, "WORKER_BUILD_ID=v2"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetCurrentBuild(context.Background(), "v2", time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("v2 is current; v1 workers keep running for the pinned orders")
	fresh := c.runPurchases(s, "buyer-v2", 6, 3, nil)

	// The v1 orders are still pinned to v1 while v2 is current.
	for _, o := range old {
		d, err := tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(o.OrderID), "")
		if err != nil {
			t.Fatal(err)
		}
		vi := d.GetWorkflowExecutionInfo().GetVersioningInfo()
		if vi.GetBehavior() != enumspb.VERSIONING_BEHAVIOR_PINNED || vi.GetDeploymentVersion().GetBuildId() != "v1" {
			t.Errorf("order %s: versioning %v on %q, want pinned to v1", o.OrderID, vi.GetBehavior(), vi.GetDeploymentVersion().GetBuildId())
		}
	}
	all := append(append([]purchaseOutcome{}, old...), fresh...)
	for _, o := range all {
		if o.Status != string(models.StatusAuthorized) {
			t.Fatalf("purchase answered %q (%v)", o.Status, o.Failures)
		}
		c.merchant(s, o.OrderID, "accept", nil).expect(http.StatusOK)
		c.merchant(s, o.OrderID, "ship", map[string]any{"carrier": "ups", "tracking_number": "1Z999"}).expect(http.StatusOK)
		c.merchant(s, o.OrderID, "deliver", nil).expect(http.StatusOK)
	}
	for i, o := range all {
		c.waitOrder(o.OrderID, models.StatusDelivered, time.Minute)
		want := "v1"
		if i >= len(old) {
			want = "v2"
		}
		builds := taskBuilds(t, tc, workflows.WorkflowID(o.OrderID))
		if len(builds) != 1 || builds[want] == 0 {
			t.Errorf("order %s (started on %s): workflow tasks completed by builds %v, want %s only", o.OrderID, want, builds, want)
		}
		d, err := tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(o.OrderID), "")
		if err != nil {
			t.Fatal(err)
		}
		_, hasMemo := d.GetWorkflowExecutionInfo().GetMemo().GetFields()["build"]
		if hasMemo != (want == "v2") {
			t.Errorf("order %s (build %s): v2's memo present = %v", o.OrderID, want, hasMemo)
		}
	}
	fmt.Printf("cluster versioning test: %d orders started on v1 finished on v1 (pinned), %d new orders ran v2's changed workflow\n",
		len(old), len(fresh))
}

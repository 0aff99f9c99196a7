package workflows

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// keyvalsLogger records each line's key-value pairs.
type keyvalsLogger struct {
	mu    sync.Mutex
	lines []map[string]string
}

func (l *keyvalsLogger) record(msg string, kv []any) {
	line := map[string]string{"msg": msg}
	for i := 0; i+1 < len(kv); i += 2 {
		line[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *keyvalsLogger) Debug(msg string, kv ...any) { l.record(msg, kv) }
func (l *keyvalsLogger) Info(msg string, kv ...any)  { l.record(msg, kv) }
func (l *keyvalsLogger) Warn(msg string, kv ...any)  { l.record(msg, kv) }
func (l *keyvalsLogger) Error(msg string, kv ...any) { l.record(msg, kv) }

func TestOrderLoggerCarriesOrderAndWorkflow(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	logger := &keyvalsLogger{}
	suite.SetLogger(logger)
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "purchase-ord_1"})
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		orderLogger(ctx, "ord_1").Warn("about the order")
		return nil
	})
	require.NoError(t, env.GetWorkflowError())
	logger.mu.Lock()
	defer logger.mu.Unlock()
	for _, line := range logger.lines {
		if line["msg"] == "about the order" {
			assert.Equal(t, "ord_1", line["order_id"])
			assert.Equal(t, "purchase-ord_1", line["workflow_id"])
			return
		}
	}
	t.Fatalf("line not logged: %v", logger.lines)
}

package worker

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/buybutton/checkout/workflows"
	"go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
)

// historiesDir holds workflow histories recorded from the real stack
// (`go test ./e2e -run TestRecordedHistories -record-histories`), and in
// its subdirectories those recorded by earlier code whose orders may still
// be running (before-lean-history: purchases started before that change).
// Every one must replay against today's workflow code: a change that would
// break orders in flight fails here, before it is deployed.
const historiesDir = "testdata/histories"

func TestRecordedHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	older, err := filepath.Glob(filepath.Join(historiesDir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, older...)
	if len(files) == 0 {
		t.Fatalf("no recorded histories in %s", historiesDir)
	}
	for _, f := range files {
		name, _ := filepath.Rel(historiesDir, f)
		t.Run(name, func(t *testing.T) {
			r := sdkworker.NewWorkflowReplayer()
			RegisterWorkflows(r, workflows.Timing{})
			if err := r.ReplayWorkflowHistoryFromJSONFile(quietLogger(), f); err != nil {
				t.Fatalf("replaying %s: %v", f, err)
			}
		})
	}
}

// The replay test is only as good as its histories: each must exist and be
// non-trivial.
func TestRecordedHistoriesAreThere(t *testing.T) {
	for _, name := range RecordedHistories {
		fi, err := os.Stat(filepath.Join(historiesDir, name+".json"))
		if err != nil {
			t.Fatalf("history %s: %v", name, err)
		}
		if fi.Size() < 1024 {
			t.Fatalf("history %s is only %d bytes", name, fi.Size())
		}
	}
}

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

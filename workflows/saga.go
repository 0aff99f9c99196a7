package workflows

import (
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// compensation undoes one step that succeeded.
type compensation struct {
	step string
	undo func(ctx workflow.Context) error
}

// saga keeps the compensations of the steps done so far, registered right
// after each step succeeds.
type saga struct {
	steps []compensation
}

func (s *saga) add(step string, undo func(workflow.Context) error) {
	s.steps = append(s.steps, compensation{step: step, undo: undo})
}

// replace swaps the compensation of a step whose effect changed (a captured
// payment is refunded, no longer voided), keeping its place in the order.
func (s *saga) replace(step string, undo func(workflow.Context) error) {
	for i := range s.steps {
		if s.steps[i].step == step {
			s.steps[i].undo = undo
			return
		}
	}
	s.add(step, undo)
}

// compensate runs the compensations in reverse order in a disconnected
// context, so it also completes while the workflow is being cancelled. A
// failed compensation is logged and the others still run: giving the stock
// back must not wait on a refund that cannot be made.
func (s *saga) compensate(ctx workflow.Context, logger log.Logger) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	for i := len(s.steps) - 1; i >= 0; i-- {
		if err := s.steps[i].undo(dctx); err != nil {
			logger.Error("Compensation failed", "step", s.steps[i].step, "error", err)
		}
	}
	s.steps = nil
}

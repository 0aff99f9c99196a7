package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// The purchase's steps that have a compensation.
const (
	stepStock  = "stock"  // reserved stock: released
	stepVoid   = "void"   // the authorization: voided
	stepRefund = "refund" // the captured money: refunded
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
func (s *saga) replace(old, step string, undo func(workflow.Context) error) {
	for i := range s.steps {
		if s.steps[i].step == old {
			s.steps[i] = compensation{step: step, undo: undo}
			return
		}
	}
	s.add(step, undo)
}

// take hands over the compensations registered so far, in the order their
// steps ran, and forgets them: each runs once.
func (s *saga) take() []compensation {
	steps := s.steps
	s.steps = nil
	return steps
}

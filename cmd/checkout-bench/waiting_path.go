package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/workflows"
)

// orderRequests remembers when the sandbox received each Stripe request
// that names an order in its idempotency key (order:<id>:<step>…), so that
// once an order's history says when its pay answer was recorded, its
// requests split into those the buyer's answer waited behind and those
// made after it.
var orderRequests = struct {
	mu sync.Mutex
	m  map[string][]stripeRequest
}{m: map[string][]stripeRequest{}}

type stripeRequest struct {
	at    time.Time
	route string
}

func recordOrderRequest(r *http.Request, route string) {
	id := keyOrder(r.Header.Get("Idempotency-Key"))
	if id == "" {
		return
	}
	orderRequests.mu.Lock()
	orderRequests.m[id] = append(orderRequests.m[id], stripeRequest{at: time.Now(), route: route})
	orderRequests.mu.Unlock()
}

// keyOrder is the order id of an idempotency key made by
// payments.IdempotencyKey or AttemptKey, "" for any other key.
func keyOrder(key string) string {
	rest, ok := strings.CutPrefix(key, "order:")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	return id
}

// payAnsweredAt is when the server recorded the order's first completed
// update (the pay answer): a Stripe request received before it was on the
// buyer's waiting path; one received after it was started by a workflow task
// or activity scheduled once the answer had been given.
func payAnsweredAt(ctx context.Context, tc client.Client, orderID string) (time.Time, error) {
	it := tc.GetWorkflowHistory(ctx, workflows.WorkflowID(orderID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return time.Time{}, err
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED {
			return ev.GetEventTime().AsTime(), nil
		}
	}
	return time.Time{}, fmt.Errorf("order %s: no pay answer in its history", orderID)
}

// printWaitingPath prints, per purchase of orders, the Stripe requests made
// before and after each one's pay answer, by route.
func printWaitingPath(w io.Writer, tc client.Client, orders []string) error {
	if len(orders) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before, after := map[string]int{}, map[string]int{}
	for _, id := range orders {
		answered, err := payAnsweredAt(ctx, tc, id)
		if err != nil {
			return err
		}
		orderRequests.mu.Lock()
		reqs := slices.Clone(orderRequests.m[id])
		orderRequests.mu.Unlock()
		for _, r := range reqs {
			if r.at.Before(answered) {
				before[r.route]++
			} else {
				after[r.route]++
			}
		}
	}
	n := float64(len(orders))
	for _, side := range []struct {
		name   string
		routes map[string]int
	}{{"before the pay answer (the buyer waits)", before}, {"after the pay answer", after}} {
		var sum int
		var parts []string
		for route, c := range side.routes {
			sum += c
			parts = append(parts, fmt.Sprintf("%s %.2f", route, float64(c)/n))
		}
		slices.Sort(parts)
		line := fmt.Sprintf("  stripe requests  %s: %.2f", side.name, float64(sum)/n)
		if len(parts) > 0 {
			line += "  (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

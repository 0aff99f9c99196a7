package workflows

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// harness runs PurchaseWorkflow in the time-skipping test environment with
// every activity replaced by an in-memory fake that records its calls and
// keeps an order row the way the store would, state machine included.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu             sync.Mutex
	order          models.Order
	calls          []string // activity calls but notifications, in order
	notified       []string // notification event types, once each
	notifyAttempts int
	notifyFailures int                      // the first that many attempts fail
	delivered      []activities.NotifyInput // events the merchant received, in arrival order
	reserved       bool

	// Behaviour of the fakes; set before run.
	validateErr error
	reserveErr  error
	// reserveFailures, when set, makes only the first that many
	// reservations fail with reserveErr.
	reserveFailures int
	intent          payments.Intent
	authorizeErr    error
	// authorizeFailures and captureFailures limit authorizeErr and
	// captureErr to the first tries (0: every try fails).
	authorizeFailures, captureFailures int
	stripeTries                        []stripeTry
	sequenceSaves                      int // SaveEventSequence calls
	captureErr                         error
	// voidErr fails voids: all of them, or only the first voidFailures.
	voidErr      error
	voidFailures int
	voids        int
	notifyErr    error
	kept         int      // events kept in the merchant outbox
	versioned    bool     // run VersionedPurchaseWorkflow, whose branches the test picks with OnGetVersion
	folded       int      // of them, kept with a status change in one store step
	supersedes   []string // "event>superseded type" of each event kept that supersedes another
	// remote is the intent as Stripe has it now, what a re-read returns;
	// nil means as AuthorizePayment answered.
	remote   *payments.Intent
	reads    int // RetrievePaymentIntent calls
	refunds  []models.NewRefund
	refundFn func(models.NewRefund) (activities.RefundResult, error) // optional override
	// lost is the intent Stripe's search finds for the order when the
	// authorize outcome is unknown; nil: none. searches counts the searches.
	lost              *payments.Intent
	searchVisibleFrom int
	searches          int

	pay *updateOutcome

	// The refund ledger as the store keeps it, and Stripe's refunds.
	ledger       []models.Refund
	stripeRefund func(payments.RefundRequest) (payments.Refund, error) // nil: succeeded at once
	stripeCalls  []payments.RefundRequest
	savedSeq     int
}

// updateOutcome is what one update's caller saw.
type updateOutcome struct {
	accepted  bool
	rejected  error
	completed bool
	result    any
	err       error
	at        time.Time // workflow time of the answer
}

// startedBeforeLeanHistory makes the workflow take the branches of one
// started before changeLeanHistory, where each earlier change is asked for.
func (h *harness) startedBeforeLeanHistory() {
	h.versioned = true
	h.env.OnGetVersion(changeLeanHistory, workflow.DefaultVersion, leanStoreOutbox).Return(workflow.DefaultVersion)
}

// startedWithActivityOutbox makes the workflow take the branches of one
// started before leanStoreOutbox: a notification activity per event.
func (h *harness) startedWithActivityOutbox() {
	h.versioned = true
	h.env.OnGetVersion(changeLeanHistory, workflow.DefaultVersion, leanStoreOutbox).Return(leanActivityOutbox)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	h := &harness{
		t:      t,
		env:    env,
		intent: payments.Intent{ID: "pi_1", Status: payments.IntentRequiresCapture, Amount: 2000, AmountCapturable: 2000, Currency: "usd"},
	}
	env.OnActivity(acts.ValidateOrder, mock.Anything, mock.Anything).Return(h.validateOrder)
	env.OnActivity(acts.ReserveStock, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(h.reserveStock)
	env.OnActivity(acts.ValidateAndReserve, mock.Anything, mock.Anything).Return(h.validateAndReserve)
	env.OnActivity(acts.AuthorizeAndRecord, mock.Anything, mock.Anything).Return(h.authorizeAndRecord)
	env.OnActivity(acts.AuthorizeRecordAndAnnounce, mock.Anything, mock.Anything, mock.Anything).Return(h.authorizeRecordAndAnnounce)
	env.OnActivity(acts.CaptureAndRecord, mock.Anything, mock.Anything).Return(h.captureAndRecord)
	env.OnActivity(acts.ReleaseStock, mock.Anything, mock.Anything).Return(h.releaseStock)
	env.OnActivity(acts.AuthorizePayment, mock.Anything, mock.Anything).Return(h.authorizePayment)
	env.OnActivity(acts.CapturePayment, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(h.capturePayment)
	env.OnActivity(acts.VoidAuthorization, mock.Anything, mock.Anything, mock.Anything).Return(h.voidAuthorization)
	env.OnActivity(acts.RefundOrder, mock.Anything, mock.Anything).Return(h.refundOrder)
	env.OnActivity(acts.CountRefund, mock.Anything, mock.Anything).Return(h.countRefund)
	env.OnActivity(acts.CreateRefund, mock.Anything, mock.Anything).Return(h.createRefund)
	env.OnActivity(acts.RecordRefund, mock.Anything, mock.Anything).Return(h.recordRefund)
	env.OnActivity(acts.RecordDispute, mock.Anything, mock.Anything).Return(h.recordDispute)
	env.OnActivity(acts.SaveEventSequence, mock.Anything, mock.Anything, mock.Anything).Return(h.saveEventSequence)
	env.OnActivity(acts.RetrievePaymentIntent, mock.Anything, mock.Anything).Return(h.retrievePaymentIntent)
	env.OnActivity(acts.FindAndVoidAuthorization, mock.Anything, mock.Anything).Return(h.findAndVoidAuthorization)
	env.OnActivity(acts.RecordStatus, mock.Anything, mock.Anything).Return(h.recordStatus)
	env.OnActivity(acts.NotifyMerchant, mock.Anything, mock.Anything).Return(h.notifyMerchant)
	env.OnActivity(acts.EnqueueMerchantEvent, mock.Anything, mock.Anything, mock.Anything).Return(h.enqueueMerchantEvent)
	env.OnActivity(acts.RecordStatusAndNotify, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(h.recordStatusAndNotify)
	return h
}

func testInput() PurchaseInput {
	return PurchaseInput{
		OrderID:   "ord_test1",
		BuyerID:   "buyer_1",
		ProductID: "prod_1",
		Quantity:  2,
		Shipping: models.Address{Name: "Ada Lovelace", Line1: "1 Analytical St", City: "London",
			PostalCode: "N1 1AA", Country: "GB"},
		PaymentMethod: "pm_card_visa",
	}
}

// run starts the workflow with the pay update delivered in its first task,
// as update-with-start does, and runs it to its end.
func (h *harness) run(in PurchaseInput) {
	h.pay = h.updateAt(0, UpdatePay, PayUpdateID)
	if h.versioned {
		h.env.ExecuteWorkflow(VersionedPurchaseWorkflow, in)
	} else {
		h.env.ExecuteWorkflow(PurchaseWorkflow, in)
	}
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
}

// runToDelivered runs a purchase the merchant accepts, ships and delivers,
// an hour apart.
func (h *harness) runToDelivered() {
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.updateAt(2*time.Hour, UpdateShip, "", ship)
	h.updateAt(3*time.Hour, UpdateDeliver, "", deliver)
	h.run(testInput())
}

// updateAt sends an update after d of workflow time.
func (h *harness) updateAt(d time.Duration, name, id string, args ...any) *updateOutcome {
	out := &updateOutcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept: func() { out.accepted = true },
			OnReject: func(err error) { out.rejected = err },
			OnComplete: func(v any, err error) {
				out.completed, out.result, out.err, out.at = true, v, err, h.env.Now()
			},
		}, args...)
	}, d)
	return out
}

func (h *harness) result() (models.Order, error) {
	var o models.Order
	err := h.env.GetWorkflowResult(&o)
	return o, err
}

func (h *harness) call(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, name)
}

func (h *harness) snapshot() (calls, notified []string, order models.Order) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...), append([]string(nil), h.notified...), h.order
}

func (h *harness) validateOrder(_ context.Context, in activities.ValidateInput) (models.Order, error) {
	h.call("ValidateOrder")
	if h.validateErr != nil {
		return models.Order{}, h.validateErr
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.order = models.Order{
		ID: in.OrderID, BuyerID: in.BuyerID, MerchantID: "mer_1", ProductID: in.ProductID, ProductTitle: "Mug",
		Quantity: in.Quantity, UnitPriceMinor: 1000, AmountMinor: 1000 * int64(in.Quantity), Currency: "usd",
		Status: models.StatusPending, Shipping: in.Shipping,
	}
	return h.order, nil
}

func (h *harness) reserveStock(_ context.Context, orderID, productID string, qty int) error {
	h.call("ReserveStock")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reserveErr != nil && (h.reserveFailures == 0 || countOf(h.calls, "ReserveStock") <= h.reserveFailures) {
		return h.reserveErr
	}
	h.reserved = true
	return nil
}

// validateAndReserve is the two steps above as one, as the activity does
// them: a final refusal to reserve is in the result.
func (h *harness) validateAndReserve(ctx context.Context, in activities.ValidateInput) (activities.Reservation, error) {
	o, err := h.validateOrder(ctx, in)
	if err != nil {
		return activities.Reservation{}, err
	}
	err = h.reserveStock(ctx, o.ID, o.ProductID, o.Quantity)
	if e := domainError(err); e != nil {
		return activities.Reservation{Order: o, Refused: &activities.StockRefusal{Kind: e.Kind, Code: e.Code, Message: e.Message}}, nil
	}
	if err != nil {
		return activities.Reservation{}, err
	}
	return activities.Reservation{Order: o}, nil
}

func (h *harness) releaseStock(_ context.Context, orderID string) error {
	h.call("ReleaseStock")
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reserved = false
	return nil
}

func (h *harness) authorizePayment(ctx context.Context, req payments.AuthorizeRequest) (payments.Intent, error) {
	h.call("AuthorizePayment")
	if req.OrderID == "" || req.Amount.Amount != 2000 || req.PaymentMethod != "pm_card_visa" {
		h.t.Errorf("AuthorizePayment got %+v", req)
	}
	if h.failTry(ctx, "AuthorizePayment", req.AttemptsBefore, h.authorizeFailures) {
		return h.intent, h.authorizeErr
	}
	return h.intent, nil
}

// authorizeAndRecord is authorizePayment then, when the money is held,
// recordStatus, as the activity does them.
func (h *harness) authorizeAndRecord(ctx context.Context, req payments.AuthorizeRequest) (activities.Authorization, error) {
	in, err := h.authorizePayment(ctx, req)
	if err != nil || in.Status != payments.IntentRequiresCapture {
		return activities.Authorization{Intent: in}, err
	}
	return activities.Authorization{Intent: in, Order: h.recordAfterStripe(ctx, activities.AuthorizedChange(req.OrderID, in.ID))}, nil
}

// authorizeRecordAndAnnounce is authorizeAndRecord whose record keeps the
// merchant's event, as the store's one transaction does.
func (h *harness) authorizeRecordAndAnnounce(ctx context.Context, req payments.AuthorizeRequest, ev activities.NotifyInput) (activities.Authorization, error) {
	in, err := h.authorizePayment(ctx, req)
	if err != nil || in.Status != payments.IntentRequiresCapture {
		return activities.Authorization{Intent: in}, err
	}
	o, err := h.recordStatusAndNotify(ctx, activities.AuthorizedChange(req.OrderID, in.ID), ev, "")
	if err != nil {
		return activities.Authorization{Intent: in}, nil
	}
	return activities.Authorization{Intent: in, Order: &o, Announced: true}, nil
}

// captureAndRecord is capturePayment then recordStatus, as the activity
// does them.
func (h *harness) captureAndRecord(ctx context.Context, in activities.CaptureInput) (activities.Capture, error) {
	intent, err := h.capturePayment(ctx, in.OrderID, in.IntentID, in.AttemptsBefore)
	if err != nil {
		return activities.Capture{Intent: intent}, err
	}
	return activities.Capture{Intent: intent, Order: h.recordAfterStripe(ctx, activities.AcceptedChange(in, intent))}, nil
}

func (h *harness) recordAfterStripe(ctx context.Context, c models.StatusChange) *models.Order {
	o, err := h.recordStatus(ctx, c)
	if err != nil {
		return nil
	}
	return &o
}

// stripeTry is one try at a Stripe step, as the activity saw it.
type stripeTry struct {
	step   string
	local  bool  // run as a local activity
	before int32 // the attempts the workflow said came before
}

// failTry records a try at step and reports whether it fails: every try
// while failures is 0, else the first failures tries.
func (h *harness) failTry(ctx context.Context, step string, before int32, failures int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stripeTries = append(h.stripeTries, stripeTry{step: step, local: activity.GetInfo(ctx).IsLocalActivity, before: before})
	n := 0
	for _, t := range h.stripeTries {
		if t.step == step {
			n++
		}
	}
	return failures == 0 || n <= failures
}

func (h *harness) capturePayment(ctx context.Context, orderID, intentID string, before int32) (payments.Intent, error) {
	h.call("CapturePayment")
	if h.captureErr != nil && h.failTry(ctx, "CapturePayment", before, h.captureFailures) {
		return payments.Intent{}, h.captureErr
	}
	in := h.intent
	in.Status, in.AmountReceived, in.AmountCapturable = payments.IntentSucceeded, in.Amount, 0
	return in, nil
}

func (h *harness) voidAuthorization(_ context.Context, orderID, intentID string) (payments.Intent, error) {
	h.call("VoidAuthorization")
	h.mu.Lock()
	h.voids++
	failing := h.voidErr != nil && (h.voidFailures == 0 || h.voids <= h.voidFailures)
	h.mu.Unlock()
	if failing {
		return payments.Intent{}, h.voidErr
	}
	if intentID != h.intent.ID {
		h.t.Errorf("VoidAuthorization of intent %q, want %q", intentID, h.intent.ID)
	}
	in := h.intent
	in.Status = payments.IntentCanceled
	return in, nil
}

// refundOrder refunds like the ledger: the buyer's cancel (amount zero)
// takes whatever captured money is left.
func (h *harness) refundOrder(_ context.Context, r models.NewRefund) (activities.RefundResult, error) {
	h.call("RefundOrder")
	h.mu.Lock()
	h.refunds = append(h.refunds, r)
	fn := h.refundFn
	h.mu.Unlock()
	if fn != nil {
		return fn(r)
	}
	if r.Key != activities.RefundKeyCancel || r.AmountMinor != 0 {
		h.t.Errorf("RefundOrder got %+v", r)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	amount := h.order.CapturedMinor - h.order.RefundedMinor
	h.order.RefundedMinor = h.order.CapturedMinor
	return activities.RefundResult{
		Refund: models.Refund{OrderID: r.OrderID, Key: r.Key, AmountMinor: amount, Status: models.RefundSucceeded},
		Order:  h.order,
	}, nil
}

// setRemote changes the intent at Stripe, as the buyer's 3-D Secure would.
func (h *harness) setRemote(status string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	in := h.intent
	in.Status = status
	h.remote = &in
}

func (h *harness) retrievePaymentIntent(_ context.Context, intentID string) (payments.Intent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reads++
	if intentID != h.intent.ID {
		h.t.Errorf("RetrievePaymentIntent of %q, want %q", intentID, h.intent.ID)
	}
	if h.remote != nil {
		return *h.remote, nil
	}
	return h.intent, nil
}

// recordStatus applies a change like the store does: the same status again
// is a no-op, anything else must be an allowed transition.
func (h *harness) recordStatus(_ context.Context, c models.StatusChange) (models.Order, error) {
	h.call("RecordStatus:" + string(c.To))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.order.Status != c.To {
		if err := models.CheckTransition(h.order.Status, c.To); err != nil {
			h.t.Errorf("workflow recorded an illegal transition: %v", err)
			return models.Order{}, failures.ToTemporal(err)
		}
	}
	h.order = applyChange(h.order, c)
	// The store keeps a change's event sequence as SaveEventSequence does.
	h.savedSeq = max(h.savedSeq, c.EventSequence)
	return h.order, nil
}

func (h *harness) notifyMerchant(_ context.Context, in activities.NotifyInput) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notifyAttempts++
	if !slices.Contains(h.notified, in.EventType) {
		h.notified = append(h.notified, in.EventType)
	}
	if h.notifyFailures > 0 && h.notifyAttempts <= h.notifyFailures {
		return temporal.NewApplicationError("merchant endpoint answered 503", "webhook_failed")
	}
	if h.notifyErr == nil {
		h.delivered = append(h.delivered, in)
	}
	return h.notifyErr
}

// enqueueMerchantEvent keeps an event in the merchant outbox: the harness
// takes it as delivered (the dispatcher's own retries are tested in
// activities), noting what it supersedes.
func (h *harness) enqueueMerchantEvent(_ context.Context, in activities.NotifyInput, supersedes string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kept++
	if !slices.Contains(h.notified, in.EventType) {
		h.notified = append(h.notified, in.EventType)
	}
	h.delivered = append(h.delivered, in)
	if supersedes != "" {
		h.supersedes = append(h.supersedes, in.EventType+">"+supersedes)
	}
	return nil
}

// recordStatusAndNotify records c and keeps the event with the order as c
// left it, as the store's one transaction does.
func (h *harness) recordStatusAndNotify(ctx context.Context, c models.StatusChange, in activities.NotifyInput, supersedes string) (models.Order, error) {
	o, err := h.recordStatus(ctx, c)
	if err != nil {
		return o, err
	}
	in.Order = &o
	h.mu.Lock()
	h.folded++
	h.mu.Unlock()
	return o, h.enqueueMerchantEvent(ctx, in, supersedes)
}

// endingOrder makes a call list comparable across runs: the calls after the
// stock release (the ending's status record and the money given back in the
// background) run concurrently, so they are compared as a sorted tail.
func endingOrder(calls []string) []string {
	out := slices.Clone(calls)
	if i := slices.Index(out, "ReleaseStock"); i >= 0 {
		slices.Sort(out[i+1:])
	}
	return out
}

// currentOrder is the order as the workflow's status query answers it now.
func (h *harness) currentOrder() models.Order {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryStatus)
	if err != nil {
		h.t.Fatalf("query status: %v", err)
	}
	var o models.Order
	if err := v.Get(&o); err != nil {
		h.t.Fatal(err)
	}
	return o
}

// countRefund counts like the store's ledger: idempotent by key, never
// beyond the capture; amount zero takes whatever is left.
func (h *harness) countRefund(_ context.Context, r models.NewRefund) (activities.RefundResult, error) {
	h.call("CountRefund")
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, rf := range h.ledger {
		if rf.Key == r.Key {
			return activities.RefundResult{Refund: rf, Order: h.order}, nil
		}
	}
	amount := r.AmountMinor
	if amount == 0 {
		amount = h.order.CapturedMinor - h.order.RefundedMinor
		if amount <= 0 {
			return activities.RefundResult{}, failures.ToTemporal(models.Conflict(codeAlreadyRefunded, "nothing left"))
		}
	}
	if err := models.CheckRefund(h.order, amount); err != nil {
		return activities.RefundResult{}, failures.ToTemporal(err)
	}
	rf := models.Refund{OrderID: r.OrderID, Key: r.Key, AmountMinor: amount, Currency: "usd", Reason: r.Reason,
		Actor: r.Actor, Status: models.RefundPending}
	h.ledger = append(h.ledger, rf)
	h.order.RefundedMinor += amount
	return activities.RefundResult{Refund: rf, Order: h.order}, nil
}

func (h *harness) createRefund(_ context.Context, r payments.RefundRequest) (payments.Refund, error) {
	h.call("CreateRefund")
	h.mu.Lock()
	h.stripeCalls = append(h.stripeCalls, r)
	fn, n := h.stripeRefund, len(h.stripeCalls)
	h.mu.Unlock()
	if fn != nil {
		return fn(r)
	}
	return payments.Refund{ID: fmt.Sprintf("re_%d", n), Status: payments.RefundSucceeded, Amount: r.Amount}, nil
}

var refundRanks = map[models.RefundStatus]int{models.RefundPending: 0, models.RefundSucceeded: 1, models.RefundFailed: 2}

func (h *harness) recordRefund(_ context.Context, c activities.RefundChange) (activities.RecordedRefund, error) {
	h.call("RecordRefund:" + string(c.Status))
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, rf := range h.ledger {
		if c.Key != "" && rf.Key != c.Key || c.Key == "" && rf.StripeRefundID != c.StripeRefundID {
			continue
		}
		before := rf.Status
		if refundRanks[c.Status] > refundRanks[rf.Status] {
			if c.Status == models.RefundFailed {
				h.order.RefundedMinor -= rf.AmountMinor
			}
			rf.Status = c.Status
		}
		if rf.StripeRefundID == "" {
			rf.StripeRefundID = c.StripeRefundID
		}
		h.ledger[i] = rf
		return activities.RecordedRefund{RefundResult: activities.RefundResult{Refund: rf, Order: h.order}, Key: rf.Key, Before: before}, nil
	}
	return activities.RecordedRefund{}, failures.ToTemporal(models.NotFound("refund"))
}

func (h *harness) recordDispute(_ context.Context, c activities.DisputeChange) (models.Order, error) {
	h.call("RecordDispute:" + c.Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !models.DisputeClosed(h.order.DisputeStatus) {
		h.order.DisputeStatus, h.order.Disputed = c.Status, models.DisputeHoldsMoney(c.Status)
	}
	return h.order, nil
}

func (h *harness) saveEventSequence(_ context.Context, orderID string, last int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sequenceSaves++
	h.savedSeq = max(h.savedSeq, last)
	return nil
}

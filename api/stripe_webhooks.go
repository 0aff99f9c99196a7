package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/workflows"
)

// StripeEventStore is what the Stripe webhook endpoint needs of the store;
// *store.Store satisfies it.
type StripeEventStore interface {
	ClaimStripeEvent(ctx context.Context, id, typ, orderID string, at time.Time, lease time.Duration) (store.StripeEventClaim, error)
	MarkStripeEventHandled(ctx context.Context, id string, at time.Time) error
	ReleaseStripeEvent(ctx context.Context, id string) error
	OrderIDByPaymentIntent(ctx context.Context, intentID string) (string, error)
	AddOrderNote(ctx context.Context, orderID, actor, detail string) error
}

// stripeEvents is Config.StripeEvents, or else the Store.
func (a *app) stripeEvents() StripeEventStore {
	if a.cfg.StripeEvents != nil {
		return a.cfg.StripeEvents
	}
	return a.cfg.Store
}

// webhookNow is the clock signatures are checked against and event claims
// are dated by.
var webhookNow = time.Now

// stripeEventLease is how long a claimed, unfinished event belongs to the
// delivery that claimed it. Past it a redelivery takes the event over: the
// claimer most likely died before acting. It is longer than a request may
// run (defaultRequestTimeout), so a live handler is rarely overtaken, and
// far shorter than Stripe's retry backoff, so the first retry after a crash
// acts.
const stripeEventLease = time.Minute

// codeStripeEventInProgress answers a delivery of an event another delivery
// is acting on right now; Stripe retries anything but a 2xx.
const codeStripeEventInProgress = "stripe_event_in_progress"

// stripeWebhook receives Stripe's events. The signature is checked on the raw
// body before anything else, so a forged or replayed delivery leaves no
// trace. Each event id is claimed, acted on, then marked handled: a
// redelivery of a handled event answers 200 and does nothing; one arriving
// while another delivery holds a fresh claim answers 409 so Stripe retries;
// one finding a claim older than stripeEventLease (the API died between
// claim and mark) takes it over and acts. Events about an order are relayed
// to its workflow, which re-reads the PaymentIntent instead of trusting the
// event's order or age.
func (a *app) stripeWebhook(c *gin.Context) {
	events := a.stripeEvents()
	payload, err := readRawBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ev, err := payments.ParseWebhook(payload, c.GetHeader("Stripe-Signature"), a.cfg.StripeWebhookSecret, webhookNow())
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	log := loggerFrom(c).With(slog.String("event_id", ev.ID), slog.String("event_type", ev.Type))

	orderID, err := a.eventOrder(ctx, events, ev)
	if err != nil {
		writeError(c, err)
		return
	}
	// Acting twice is possible, in the rare case of a takeover while the
	// first handler is alive but slower than the lease, and harmless: the
	// signal only makes the workflow re-read the PaymentIntent, refunds and
	// disputes only move forward in the store, and merchant events keep
	// their ids.
	if !claimEvent(c, events, ev, orderID) {
		return
	}
	if orderID == "" {
		// Not one of ours (another integration on the account): acknowledged,
		// or Stripe would keep redelivering it.
		a.markHandled(ctx, log, events, ev.ID)
		c.JSON(http.StatusOK, gin.H{"received": true, "ignored": true})
		return
	}
	if err := a.actOnEvent(ctx, log, events, ev, orderID); err != nil {
		releaseEvent(ctx, log, events, ev.ID)
		writeError(c, err)
		return
	}
	a.markHandled(ctx, log, events, ev.ID)
	log.InfoContext(ctx, "Stripe event handled", slog.String("order_id", orderID))
	c.JSON(http.StatusOK, gin.H{"received": true})
}

// markHandled closes an event's claim once its effects are done. A failure
// is logged, not answered: the effects happened, and should the event come
// again the stale claim is taken over and the idempotent effects repeated.
// claimEvent claims a Stripe event for this delivery and answers the
// deliveries that must not handle it: one already handled (200, duplicate)
// and one another delivery is handling (409, retried by Stripe). It reports
// whether this delivery goes on to handle the event.
func claimEvent(c *gin.Context, events StripeEventStore, ev payments.WebhookEvent, orderID string) bool {
	claim, err := events.ClaimStripeEvent(c.Request.Context(), ev.ID, ev.Type, orderID, webhookNow(), stripeEventLease)
	if err != nil {
		writeError(c, err)
		return false
	}
	switch claim {
	case store.StripeEventHandled:
		c.JSON(http.StatusOK, gin.H{"received": true, "duplicate": true})
		return false
	case store.StripeEventBusy:
		writeError(c, models.Conflict(codeStripeEventInProgress, "another delivery of this event is being handled; retry later"))
		return false
	}
	return true
}

// releaseEvent forgets a claim whose handling failed, so Stripe's
// redelivery gets another chance.
func releaseEvent(ctx context.Context, log *slog.Logger, events StripeEventStore, id string) {
	if err := events.ReleaseStripeEvent(context.WithoutCancel(ctx), id); err != nil {
		log.ErrorContext(ctx, "releasing a Stripe event failed", slog.String("error", err.Error()))
	}
}

func (a *app) markHandled(ctx context.Context, log *slog.Logger, events StripeEventStore, id string) {
	// Without the request's cancellation: a client that hung up after the
	// effects must not leave the claim open.
	if err := events.MarkStripeEventHandled(context.WithoutCancel(ctx), id, webhookNow()); err != nil {
		log.ErrorContext(ctx, "marking a Stripe event handled failed", slog.String("error", err.Error()))
	}
}

// eventOrder finds the order an event is about: metadata.order_id, or the
// order holding the event's PaymentIntent. "" means none of ours.
func (a *app) eventOrder(ctx context.Context, events StripeEventStore, ev payments.WebhookEvent) (string, error) {
	if ev.OrderID != "" {
		if !models.ValidID(ev.OrderID) {
			return "", nil
		}
		return ev.OrderID, nil
	}
	if ev.IntentID == "" {
		return "", nil
	}
	id, err := events.OrderIDByPaymentIntent(ctx, ev.IntentID)
	if errors.Is(err, models.ErrNotFound) {
		return "", nil
	}
	return id, err
}

func (a *app) actOnEvent(ctx context.Context, log *slog.Logger, events StripeEventStore, ev payments.WebhookEvent, orderID string) error {
	switch ev.Type {
	case payments.EventIntentAmountCapturableUpdated, payments.EventIntentPaymentFailed, payments.EventIntentSucceeded,
		payments.EventIntentCanceled, payments.EventIntentRequiresAction, payments.EventIntentProcessing:
		if !a.awaitsPayment(ctx, orderID) {
			return nil
		}
		return a.signalPurchase(ctx, orderID, workflows.SignalPaymentIntent,
			workflows.PaymentIntentSignal{IntentID: ev.IntentID, Status: ev.Status})
	case payments.EventChargeRefunded:
		// Refunds are made and counted by the checkout itself (the ledger);
		// Stripe's confirmation goes to the audit trail.
		err := events.AddOrderNote(ctx, orderID, "stripe", fmt.Sprintf("Stripe reports %d refunded in total", ev.Refunded))
		if errors.Is(err, models.ErrNotFound) {
			return nil
		}
		return err
	case payments.EventChargeDisputeCreated:
		reason := ev.Reason
		if reason == "" {
			reason = "unspecified"
		}
		return a.tellOrder(ctx, orderID, workflows.StripeMoneyEvent{EventID: ev.ID, Kind: workflows.MoneyEventDispute,
			ObjectID: disputeID(ev), Status: models.DisputeNeedsResponse, Amount: ev.Amount, Reason: ev.Reason,
			Detail: fmt.Sprintf("dispute opened (%s) for %d", reason, ev.Amount)})
	case payments.EventChargeDisputeUpdated, payments.EventChargeDisputeClosed:
		if ev.Status == "" {
			return nil
		}
		return a.tellOrder(ctx, orderID, workflows.StripeMoneyEvent{EventID: ev.ID, Kind: workflows.MoneyEventDispute,
			ObjectID: disputeID(ev), Status: ev.Status, Amount: ev.Amount, Reason: ev.Reason, Detail: disputeDetail(ev)})
	case payments.EventChargeRefundUpdated, payments.EventRefundUpdated:
		return a.tellOrder(ctx, orderID, workflows.StripeMoneyEvent{EventID: ev.ID, Kind: workflows.MoneyEventRefund,
			ObjectID: ev.ObjectID, Status: ev.Status, Amount: ev.Amount, FailureReason: ev.FailureReason,
			Ours: ev.RefundRequest != ""})
	}
	return nil
}

// awaitsPayment reports whether the order's workflow may still want Stripe's
// word on its PaymentIntent: it reads the intent on that word only while the
// payment is unsettled (pending, or waiting for 3-D Secure) and drops it
// after, so the authorization's, capture's and void's own events need not
// cost the workflow a signal and a workflow task each. The order row shows
// only statuses the workflow has reached or is bound to reach; when it
// cannot be read, the answer is yes.
func (a *app) awaitsPayment(ctx context.Context, orderID string) bool {
	o, err := a.cfg.Store.Order(ctx, orderID)
	return err != nil || o.Status == models.StatusPending || o.Status == models.StatusRequiresAction
}

// disputeDetail is the audit line of a dispute's new status.
func disputeDetail(ev payments.WebhookEvent) string {
	switch ev.Status {
	case models.DisputeWon:
		return fmt.Sprintf("dispute won: the %d stays with the merchant", ev.Amount)
	case models.DisputeLost:
		return fmt.Sprintf("dispute lost: the buyer's bank keeps the %d", ev.Amount)
	}
	return fmt.Sprintf("dispute %s", strings.ReplaceAll(ev.Status, "_", " "))
}

// tellOrder hands Stripe's news of a refund or a dispute to the order's
// workflow, the one writer of its money; once that workflow has ended, a
// short workflow named after the order and the event handles it, and a
// redelivery of the event joins that run.
func (a *app) tellOrder(ctx context.Context, orderID string, news workflows.StripeMoneyEvent) error {
	err := a.cfg.Temporal.SignalWorkflow(ctx, workflows.WorkflowID(orderID), "", workflows.SignalStripeMoney, news)
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return fromTemporal(err)
	}
	_, err = a.cfg.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.EndedOrderWorkflowID(orderID, "stripe-"+news.EventID),
		TaskQueue:                                a.cfg.TaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowExecutionErrorWhenAlreadyStarted: false,
	}, workflows.EndedOrderWorkflowName, workflows.EndedOrderInput{OrderID: orderID, News: &news})
	return fromTemporal(err)
}

// disputeID names the dispute an event is about: the dispute object's id,
// or the event's own when the object has none.
func disputeID(ev payments.WebhookEvent) string {
	if ev.ObjectID != "" {
		return ev.ObjectID
	}
	return ev.ID
}

// signalPurchase relays an event to the order's workflow. A workflow that
// has ended no longer needs it.
func (a *app) signalPurchase(ctx context.Context, orderID, name string, arg any) error {
	err := a.cfg.Temporal.SignalWorkflow(ctx, workflows.WorkflowID(orderID), "", name, arg)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	return fromTemporal(err)
}

// readRawBody reads the body exactly as sent: the signature covers its bytes.
func readRawBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, models.Invalid(codeBodyTooLarge, "request body must be at most %d bytes", tooLarge.Limit)
		}
		return nil, models.Invalid(codeMalformedJSON, "request body could not be read")
	}
	return raw, nil
}

package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func TestDisputeSendsChargeDisputeCreated(t *testing.T) {
	rc := newReceiver(t, 0)
	e := newEnv(t, sandbox.Options{WebhookURL: rc.srv.URL, WebhookSecret: whsec})
	pi := e.authorize(t, "ord_d", "pm_card_visa", 1000)
	if _, err := e.sb.Dispute(pi.ID, ""); err == nil {
		t.Fatal("an uncaptured payment was disputed")
	}
	if err := capture(e, pi.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Dispute(pi.ID, "not_a_reason"); err == nil {
		t.Fatal("an unknown reason was accepted")
	}
	// Through the control route, as a test or the demo would.
	res, err := http.Post(e.srv.URL+"/_sandbox/payment_intents/"+pi.ID+"/dispute", "application/json", strings.NewReader(`{"reason":"product_not_received"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("dispute answered %d", res.StatusCode)
	}

	var got map[string]any
	for range 3 { // amount_capturable_updated, succeeded, then the dispute
		ev := rc.next()
		if ev.Type == "charge.dispute.created" {
			got = ev.Data.Object
		}
	}
	if got == nil {
		t.Fatal("no charge.dispute.created delivered")
	}
	if got["payment_intent"] != pi.ID || got["reason"] != "product_not_received" || got["amount"] != float64(1000) {
		t.Fatalf("dispute %v", got)
	}
}

// A dispute is created, updated and closed won or lost, each step a signed
// event; while it is open, and once lost, the charge cannot be refunded.
func TestDisputeLifecycle(t *testing.T) {
	for _, won := range []bool{true, false} {
		outcome := map[bool]string{true: "won", false: "lost"}[won]
		t.Run(outcome, func(t *testing.T) {
			rc := newReceiver(t, 0)
			e := newEnv(t, sandbox.Options{WebhookURL: rc.srv.URL, WebhookSecret: whsec})
			pi := e.authorize(t, "ord_dl", "pm_card_visa", 1000)
			if err := capture(e, pi.ID); err != nil {
				t.Fatal(err)
			}
			id, err := e.sb.Dispute(pi.ID, "product_not_received")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sb.Dispute(pi.ID, ""); err == nil {
				t.Fatal("a charge was disputed twice")
			}
			refund := func() error {
				_, err := e.sc.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(100)})
				return err
			}
			wantStripeErr(t, refund(), http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeChargeDisputed)
			if err := e.sb.UpdateDispute(id, "won"); err == nil {
				t.Fatal("update decided a dispute")
			}
			if err := e.sb.UpdateDispute(id, "under_review"); err != nil {
				t.Fatal(err)
			}
			// Through the control route, as a test or the demo would.
			res, err := http.Post(e.srv.URL+"/_sandbox/disputes/"+id+"/close", "application/json", strings.NewReader(`{"outcome":"`+outcome+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("close answered %d", res.StatusCode)
			}
			if err := e.sb.CloseDispute(id, !won); err == nil {
				t.Fatal("a closed dispute was closed again")
			}

			want := []struct {
				typ    stripe.EventType
				status string
			}{
				{"charge.dispute.created", "needs_response"}, {"charge.dispute.funds_withdrawn", "needs_response"},
				{"charge.dispute.updated", "under_review"}, {"charge.dispute.closed", outcome},
			}
			if won {
				want = append(want, struct {
					typ    stripe.EventType
					status string
				}{"charge.dispute.funds_reinstated", "won"})
			}
			rc.next() // amount_capturable_updated
			rc.next() // succeeded
			for _, w := range want {
				ev := rc.next()
				if ev.Type != w.typ || ev.Data.Object["id"] != id || ev.Data.Object["status"] != w.status || ev.Data.Object["payment_intent"] != pi.ID {
					t.Fatalf("event %s %v, want %s %s", ev.Type, ev.Data.Object, w.typ, w.status)
				}
			}
			d, err := e.sc.Disputes.Get(id, nil)
			if err != nil || string(d.Status) != outcome {
				t.Fatalf("dispute %v %v", d, err)
			}
			if won {
				if err := refund(); err != nil {
					t.Fatalf("a charge whose dispute was won could not be refunded: %v", err)
				}
			} else {
				wantStripeErr(t, refund(), http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeChargeDisputed)
			}
		})
	}
}

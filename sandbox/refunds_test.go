package sandbox_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func TestRefundsNeverExceedWhatWasCaptured(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi := e.authorize(t, "ord_r", "pm_card_visa", 1000)

	_, err := e.sc.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(pi.ID)})
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeChargeNotRefundable)

	if _, err := e.sc.PaymentIntents.Capture(pi.ID, &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(800)}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		amount   int64 // 0 = the rest
		wantCode stripe.ErrorCode
		wantLeft int64
	}{
		{300, "", 500},
		{600, stripe.ErrorCodeAmountTooLarge, 500},
		{0, "", 0},
		{1, stripe.ErrorCodeChargeAlreadyRefunded, 0},
	}
	for i, st := range steps {
		p := &stripe.RefundParams{PaymentIntent: stripe.String(pi.ID), Reason: stripe.String("requested_by_customer")}
		if st.amount > 0 {
			p.Amount = stripe.Int64(st.amount)
		}
		re, err := e.sc.Refunds.New(p)
		if st.wantCode != "" {
			wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, st.wantCode)
		} else if err != nil {
			t.Fatalf("step %d: %v", i, err)
		} else {
			got, err := e.sc.Refunds.Get(re.ID, nil)
			if err != nil || got.Status != "succeeded" || got.PaymentIntent.ID != pi.ID || got.Amount != re.Amount {
				t.Fatalf("step %d: refund %+v err %v", i, got, err)
			}
		}
		rec := e.sb.Intents()[0]
		if left := rec.AmountReceived - rec.AmountRefunded; left != st.wantLeft {
			t.Fatalf("step %d: %d left to refund, want %d", i, left, st.wantLeft)
		}
	}
	_, err = e.sc.Refunds.Get("re_missing", nil)
	wantStripeErr(t, err, http.StatusNotFound, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)
}

// Stripe's asynchronous refund cards: pm_card_pendingRefund begins pending
// and later succeeds; pm_card_refundFail begins succeeded and later fails,
// giving the money back to the charge. Each change is told by
// charge.refund.updated and refund.updated.
func TestRefundLifecycle(t *testing.T) {
	cases := []struct {
		name        string
		pm          string
		start, end  string
		wantLeftEnd int64 // refundable once settled
	}{
		{"pending then succeeded", "pm_card_pendingRefund", "pending", "succeeded", 600},
		{"succeeded then failed", "pm_card_refundFail", "succeeded", "failed", 1000},
		{"an ordinary card's refund is final", "pm_card_visa", "succeeded", "", 600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, 0)
			e := newEnv(t, sandbox.Options{WebhookURL: rc.srv.URL, WebhookSecret: whsec})
			pi := e.authorize(t, "ord_rl", tc.pm, 1000)
			if err := capture(e, pi.ID); err != nil {
				t.Fatal(err)
			}
			p := &stripe.RefundParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(400)}
			p.AddMetadata("order_id", "ord_rl")
			re, err := e.sc.Refunds.New(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(re.Status) != tc.start {
				t.Fatalf("refund begins %s, want %s", re.Status, tc.start)
			}
			for range 4 { // capturable, succeeded, charge.refunded, refund.created
				rc.next()
			}
			err = e.sb.SettleRefund(re.ID, "", "")
			if tc.end == "" {
				if err == nil {
					t.Fatal("a final refund was settled again")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []stripe.EventType{"charge.refund.updated", "refund.updated"} {
				ev := rc.next()
				if ev.Type != want || ev.Data.Object["id"] != re.ID || ev.Data.Object["status"] != tc.end ||
					ev.Data.Object["metadata"].(map[string]any)["order_id"] != "ord_rl" {
					t.Fatalf("event %s %v, want %s with the refund %s", ev.Type, ev.Data.Object, want, tc.end)
				}
			}
			got, err := e.sc.Refunds.Get(re.ID, nil)
			if err != nil || string(got.Status) != tc.end {
				t.Fatalf("refund %v %v, want %s", got, err, tc.end)
			}
			if tc.end == "failed" && got.FailureReason != "lost_or_stolen_card" {
				t.Fatalf("failure_reason %q", got.FailureReason)
			}
			rec := e.sb.Intents()[0]
			if left := rec.AmountReceived - rec.AmountRefunded; left != tc.wantLeftEnd {
				t.Fatalf("%d left to refund, want %d", left, tc.wantLeftEnd)
			}
			if err := e.sb.SettleRefund(re.ID, "succeeded", ""); err == nil {
				t.Fatalf("a %s refund moved again", tc.end)
			}
		})
	}
}

func TestSettleRefundRoute(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi := e.authorize(t, "ord_sr", "pm_card_pendingRefund", 1000)
	if err := capture(e, pi.ID); err != nil {
		t.Fatal(err)
	}
	re, err := e.sc.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(pi.ID)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"status":"canceled"}`, http.StatusBadRequest},
		{`{"status":"failed","failure_reason":"expired_or_canceled_card"}`, http.StatusOK},
		{`{"status":"succeeded"}`, http.StatusBadRequest},
	} {
		res, err := http.Post(e.srv.URL+"/_sandbox/refunds/"+re.ID+"/settle", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Fatalf("%s answered %d, want %d", tc.body, res.StatusCode, tc.want)
		}
	}
	if got := e.sb.Refunds(pi.ID); len(got) != 1 || got[0].Status != "failed" || got[0].FailureReason != "expired_or_canceled_card" {
		t.Fatalf("refunds %+v", got)
	}
}

func TestListRefundsByPaymentIntent(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	mine := e.authorize(t, "ord_l1", "pm_card_visa", 1000)
	other := e.authorize(t, "ord_l2", "pm_card_visa", 1000)
	for _, id := range []string{mine.ID, other.ID} {
		if err := capture(e, id); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range 3 {
		p := &stripe.RefundParams{PaymentIntent: stripe.String(mine.ID), Amount: stripe.Int64(100)}
		p.AddMetadata("refund_request", strings.Repeat("x", i+1))
		re, err := e.sc.Refunds.New(p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, re.ID)
	}
	if _, err := e.sc.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(other.ID)}); err != nil {
		t.Fatal(err)
	}
	lp := &stripe.RefundListParams{PaymentIntent: stripe.String(mine.ID)}
	lp.Limit = stripe.Int64(2) // two pages
	it := e.sc.Refunds.List(lp)
	var got []string
	for it.Next() {
		got = append(got, it.Refund().ID)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("listed %v, want the intent's 3 refunds", got)
	}
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Fatalf("listed %v, missing %s", got, id)
		}
	}
	missing := e.sc.Refunds.List(&stripe.RefundListParams{PaymentIntent: stripe.String("pi_missing")})
	if missing.Next() || missing.Err() == nil {
		t.Fatal("refunds of an unknown intent were listed")
	}
}

package sandbox_test

import (
	"net/http"
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

package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func searchIntents(t *testing.T, e *env, query string) ([]*stripe.PaymentIntent, error) {
	t.Helper()
	params := &stripe.PaymentIntentSearchParams{}
	params.Query = query
	params.Single = true
	it := e.sc.PaymentIntents.Search(params)
	var out []*stripe.PaymentIntent
	for it.Next() {
		out = append(out, it.PaymentIntent())
	}
	return out, it.Err()
}

func TestSearchIntentsByOrderMetadata(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	held := e.authorize(t, "ord_s1", "pm_card_visa", 1000)
	e.authorize(t, "ord_s10", "pm_card_visa", 1000) // a prefix of the other id must not match
	apostrophe := e.authorize(t, "it's", "pm_card_visa", 1000)

	cases := []struct {
		name, query string
		want        []string
	}{
		{"exact match", "metadata['order_id']:'ord_s1'", []string{held.ID}},
		{"double quotes", `metadata["order_id"]:"ord_s1"`, []string{held.ID}},
		{"no prefix match", "metadata['order_id']:'ord_s'", nil},
		{"unknown order", "metadata['order_id']:'ord_none'", nil},
		{"other key", "metadata['cart']:'ord_s1'", nil},
		{"escaped quote", `metadata['order_id']:'it\'s'`, []string{apostrophe.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := searchIntents(t, e, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, pi := range got {
				ids = append(ids, pi.ID)
			}
			if len(ids) != len(tc.want) || len(ids) > 0 && ids[0] != tc.want[0] {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
			for _, pi := range got {
				if pi.Status != stripe.PaymentIntentStatusRequiresCapture || pi.Amount != 1000 {
					t.Errorf("intent decoded as %s %d", pi.Status, pi.Amount)
				}
			}
		})
	}
}

func TestSearchSeesCancel(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi := e.authorize(t, "ord_sc", "pm_card_visa", 1000)
	if _, err := e.sc.PaymentIntents.Cancel(pi.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, err := searchIntents(t, e, "metadata['order_id']:'ord_sc'")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Status != stripe.PaymentIntentStatusCanceled {
		t.Fatalf("got %+v, want the canceled intent", got)
	}
}

func TestSearchLag(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, sandbox.Options{Now: func() time.Time { return now }})
	e.sb.SetFaults(sandbox.Faults{SearchLag: time.Minute})
	e.authorize(t, "ord_lag", "pm_card_visa", 1000)
	const q = "metadata['order_id']:'ord_lag'"

	if got, err := searchIntents(t, e, q); err != nil || len(got) != 0 {
		t.Fatalf("fresh intent: got %d results, err %v; want none yet", len(got), err)
	}
	now = now.Add(time.Minute)
	if got, err := searchIntents(t, e, q); err != nil || len(got) != 1 {
		t.Fatalf("after the lag: got %d results, err %v; want 1", len(got), err)
	}
}

func TestSearchRefusesOtherQueries(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	for _, q := range []string{
		"status:'requires_capture'",
		"metadata['order_id']:'a' AND status:'canceled'",
		"metadata['order_id']:'unterminated",
		"metadata[order_id]:'a'",
	} {
		_, err := searchIntents(t, e, q)
		wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")
	}
}

func TestOnlyLimitsFaultsToOnePath(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi := e.authorize(t, "ord_only", "pm_card_visa", 1000)
	e.sb.SetFaults(sandbox.Faults{FailNext: 5, Only: "/v1/payment_intents"})

	_, err := e.sc.PaymentIntents.New(authorizeParams("ord_only2", "pm_card_visa", 1000))
	wantStripeErr(t, err, http.StatusInternalServerError, stripe.ErrorTypeAPI, "")
	if _, err := e.sc.PaymentIntents.Cancel(pi.ID, nil); err != nil {
		t.Fatalf("cancel on another path met the fault: %v", err)
	}
	if f := e.sb.Faults(); f.FailNext != 4 {
		t.Fatalf("FailNext %d, want 4: only the create consumes it", f.FailNext)
	}
}

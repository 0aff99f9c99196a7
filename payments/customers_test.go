package payments

import (
	"context"
	"net/http"
	"testing"

	"github.com/buybutton/checkout/models"
)

const (
	customerJSON   = `{"id":"cus_1","object":"customer"}`
	attachedPMJSON = `{"id":"pm_9","object":"payment_method","customer":"cus_1","card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034}}`
)

var savedVisa = Card{ID: "pm_9", Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034}

// SaveOrderCard creates the customer under the order's key and attaches the
// card under the attempt's.
func TestSaveOrderCard(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("POST /v1/customers", ok(customerJSON))
	f.on("POST /v1/payment_methods/pm_9/attach", ok(attachedPMJSON))
	cus, card, err := g.SaveOrderCard(context.Background(), "o1", "pm_9", 1)
	if err != nil || cus != "cus_1" || card != savedVisa {
		t.Fatalf("got %q %+v %v", cus, card, err)
	}
	created := f.requests("POST /v1/customers")[0]
	if created.key != "order:o1:customer" || created.form.Get("metadata[order_id]") != "o1" || created.form.Get("email") != "" {
		t.Fatalf("customer request %+v", created)
	}
	attach := f.requests("POST /v1/payment_methods/pm_9/attach")[0]
	if attach.key != "order:o1:attach:a1" || attach.form.Get("customer") != "cus_1" {
		t.Fatalf("attach request %+v", attach)
	}
}

// A retry finds the attach an earlier try made (its answer lost) and
// attaches nothing again.
func TestSaveOrderCardRetryFindsTheAttach(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("POST /v1/customers", ok(customerJSON))
	f.on("GET /v1/payment_methods/pm_9", ok(attachedPMJSON))
	cus, card, err := g.SaveOrderCard(context.Background(), "o1", "pm_9", 2)
	if err != nil || cus != "cus_1" || card != savedVisa {
		t.Fatalf("got %q %+v %v", cus, card, err)
	}
	if n := len(f.requests("POST /v1/payment_methods/pm_9/attach")); n != 0 {
		t.Fatalf("%d attach requests", n)
	}
}

// A card Stripe refuses to attach (used without setup_future_usage, or
// attached elsewhere) leaves no customer behind; Stripe being unavailable
// leaves the customer for the next try.
func TestSaveOrderCardRefused(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attach     reply
		wantKind   models.Kind
		wantDelete bool
	}{
		{"refused", reply{status: http.StatusBadRequest, body: stripeErrJSON("invalid_request_error", "payment_method_unexpected_state", "")},
			models.KindInvalid, true},
		{"declined on attach", reply{status: http.StatusPaymentRequired, body: stripeErrJSON("card_error", "card_declined", "generic_decline")},
			models.KindPaymentDeclined, true},
		{"stripe unavailable", reply{status: http.StatusInternalServerError, body: stripeErrJSON("api_error", "", "")},
			models.KindUnavailable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, g := newFakeStripe(t)
			f.on("POST /v1/customers", ok(customerJSON))
			f.on("POST /v1/payment_methods/pm_9/attach", tc.attach)
			f.on("DELETE /v1/customers/cus_1", ok(`{"id":"cus_1","object":"customer","deleted":true}`))
			cus, _, err := g.SaveOrderCard(context.Background(), "o1", "pm_9", 1)
			if cus != "" || models.ErrorKind(err) != tc.wantKind {
				t.Fatalf("got %q %v, want kind %s", cus, err, tc.wantKind)
			}
			deletes := f.requests("DELETE /v1/customers/cus_1")
			if (len(deletes) == 1) != tc.wantDelete {
				t.Fatalf("%d deletes, want one: %v", len(deletes), tc.wantDelete)
			}
			if tc.wantDelete && deletes[0].key != "order:o1:customer-delete" {
				t.Fatalf("delete key %q", deletes[0].key)
			}
		})
	}
}

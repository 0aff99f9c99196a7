package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/buybutton/checkout/sandbox"
)

func TestControlRoutes(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.authorize(t, "ord_a", "pm_card_visa", 1000)
	e.authorize(t, "ord_b", "pm_card_visa", 2000)
	if _, err := e.sc.PaymentIntents.New(authorizeParams("ord_c", "pm_card_chargeDeclined", 3000)); err == nil {
		t.Fatal("decline card authorized")
	}

	status, body := controlCall(t, e, http.MethodGet, "/_sandbox/payment_intents?order_id=ord_b", "")
	var recs []sandbox.IntentRecord
	if err := json.Unmarshal([]byte(body), &recs); err != nil || status != http.StatusOK {
		t.Fatalf("%d %s %v", status, body, err)
	}
	if len(recs) != 1 || recs[0].OrderID != "ord_b" || recs[0].Amount != 2000 || recs[0].Status != "requires_capture" || recs[0].CreatedAt.IsZero() {
		t.Fatalf("records %+v", recs)
	}
	status, body = controlCall(t, e, http.MethodGet, "/_sandbox/payment_intents", "")
	if err := json.Unmarshal([]byte(body), &recs); err != nil || status != http.StatusOK || len(recs) != 3 {
		t.Fatalf("%d %d records %v", status, len(recs), err)
	}

	for order, want := range map[string]int{"ord_a": 1, "ord_c": 0, "ord_none": 0} {
		status, body := controlCall(t, e, http.MethodGet, "/_sandbox/orders/"+order+"/authorizations", "")
		var got struct {
			OrderID        string `json:"order_id"`
			Authorizations int    `json:"authorizations"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK || got.OrderID != order || got.Authorizations != want {
			t.Fatalf("%s: %d %s", order, status, body)
		}
	}

	cases := []struct {
		name, path, body string
		want             int
	}{
		{"bad outcome", "/_sandbox/payment_intents/" + recs[0].ID + "/authenticate", `{"outcome":"maybe"}`, http.StatusBadRequest},
		{"not in requires_action", "/_sandbox/payment_intents/" + recs[0].ID + "/authenticate", `{"outcome":"succeed"}`, http.StatusBadRequest},
		{"unknown intent", "/_sandbox/payment_intents/pi_missing/authenticate", `{"outcome":"succeed"}`, http.StatusNotFound},
		{"unknown route", "/_sandbox/nothing", ``, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := controlCall(t, e, http.MethodPost, tc.path, tc.body); status != tc.want {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
}

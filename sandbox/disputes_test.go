package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

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

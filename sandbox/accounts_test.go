package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

// Connected accounts' events go to the Connect endpoint, signed, naming the
// account; the platform's endpoint gets the platform's events only.
func TestAccountEventsReachTheConnectEndpoint(t *testing.T) {
	platform, connect := newReceiver(t, 0), newReceiver(t, 1)
	e := newEnv(t, sandbox.Options{WebhookURL: platform.srv.URL, WebhookSecret: whsec,
		ConnectWebhookURL: connect.srv.URL, ConnectWebhookSecret: whsec})

	p := &stripe.AccountParams{Type: stripe.String("express"), Capabilities: &stripe.AccountCapabilitiesParams{
		CardPayments: &stripe.AccountCapabilitiesCardPaymentsParams{Requested: stripe.Bool(true)},
		Transfers:    &stripe.AccountCapabilitiesTransfersParams{Requested: stripe.Bool(true)},
	}}
	a, err := e.sc.Accounts.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if a.ChargesEnabled || a.Requirements == nil || len(a.Requirements.CurrentlyDue) == 0 {
		t.Fatalf("new account %+v", a)
	}
	if err := e.sb.SetAccountState(a.ID, sandbox.AccountState{ChargesEnabled: true, PayoutsEnabled: true}); err != nil {
		t.Fatal(err)
	}
	ev := connect.next() // after one failed attempt: retried
	if ev.Type != "account.updated" || ev.Account != a.ID || ev.Data.Object["charges_enabled"] != true {
		t.Fatalf("connect endpoint got %s for %q: %v", ev.Type, ev.Account, ev.Data.Object)
	}
	e.authorize(t, "ord_acct", "pm_card_visa", 1000)
	if got := platform.next(); got.Type != "payment_intent.amount_capturable_updated" || got.Account != "" {
		t.Fatalf("platform endpoint got %s (%q)", got.Type, got.Account)
	}
	select {
	case extra := <-connect.events:
		t.Fatalf("the Connect endpoint also got %s", extra.Type)
	case <-time.After(200 * time.Millisecond):
	}

	// type and controller properties do not mix; a controller without
	// transfers for an express-like account is refused.
	_, err = e.sc.Accounts.New(&stripe.AccountParams{Type: stripe.String("express"),
		Controller: &stripe.AccountControllerParams{Fees: &stripe.AccountControllerFeesParams{Payer: stripe.String("application")}}})
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")
	_, err = e.sc.Accounts.New(&stripe.AccountParams{Controller: &stripe.AccountControllerParams{
		Fees:            &stripe.AccountControllerFeesParams{Payer: stripe.String("application")},
		Losses:          &stripe.AccountControllerLossesParams{Payments: stripe.String("application")},
		StripeDashboard: &stripe.AccountControllerStripeDashboardParams{Type: stripe.String("express")},
	}})
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")
}

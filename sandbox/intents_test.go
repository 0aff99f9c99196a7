package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func TestAuthorizeThenCapture(t *testing.T) {
	cases := []struct {
		name      string
		pm        string // a pm_card_… token, or a card number to create a PaymentMethod from
		capture   int64  // 0 = capture everything
		wantBrand string
	}{
		{"visa token", "pm_card_visa", 0, "visa"},
		{"mastercard token", "pm_card_mastercard", 0, "mastercard"},
		{"amex token", "pm_card_amex", 0, "amex"},
		{"created visa", "4242424242424242", 0, "visa"},
		{"created mastercard", "5555555555554444", 0, "mastercard"},
		{"partial capture", "pm_card_visa", 1200, "visa"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			pm := tc.pm
			if !strings.HasPrefix(pm, "pm_") {
				pm = createCard(t, e, pm).ID
			}
			pi := e.authorize(t, "ord_1", pm, 2500)
			if pi.Status != stripe.PaymentIntentStatusRequiresCapture || pi.AmountCapturable != 2500 || pi.AmountReceived != 0 {
				t.Fatalf("after authorize: status %s capturable %d received %d", pi.Status, pi.AmountCapturable, pi.AmountReceived)
			}
			if !strings.HasPrefix(pi.ClientSecret, pi.ID+"_secret_") || pi.LatestCharge == nil || !strings.HasPrefix(pi.LatestCharge.ID, "ch_") {
				t.Fatalf("client_secret %q latest_charge %+v", pi.ClientSecret, pi.LatestCharge)
			}
			if pi.Metadata["order_id"] != "ord_1" || pi.CaptureMethod != stripe.PaymentIntentCaptureMethodManual || pi.Currency != "usd" {
				t.Fatalf("metadata %v capture_method %s currency %s", pi.Metadata, pi.CaptureMethod, pi.Currency)
			}
			if pi.LastResponse.RequestID == "" {
				t.Error("no Request-Id header")
			}

			params := &stripe.PaymentIntentCaptureParams{}
			want := int64(2500)
			if tc.capture > 0 {
				params.AmountToCapture, want = stripe.Int64(tc.capture), tc.capture
			}
			params.AddExpand("latest_charge")
			params.AddExpand("payment_method")
			pi, err := e.sc.PaymentIntents.Capture(pi.ID, params)
			if err != nil {
				t.Fatal(err)
			}
			if pi.Status != stripe.PaymentIntentStatusSucceeded || pi.AmountReceived != want || pi.AmountCapturable != 0 {
				t.Fatalf("after capture: status %s received %d capturable %d", pi.Status, pi.AmountReceived, pi.AmountCapturable)
			}
			if ch := pi.LatestCharge; !ch.Captured || ch.AmountCaptured != want || ch.AmountRefunded != 2500-want {
				t.Fatalf("expanded charge: captured %v amount_captured %d amount_refunded %d", ch.Captured, ch.AmountCaptured, ch.AmountRefunded)
			}
			if pi.PaymentMethod.Card == nil || string(pi.PaymentMethod.Card.Brand) != tc.wantBrand {
				t.Fatalf("expanded payment method %+v", pi.PaymentMethod)
			}
			if n := e.sb.AuthorizationsFor("ord_1"); n != 1 {
				t.Fatalf("AuthorizationsFor = %d, want 1", n)
			}
			recs := e.sb.Intents()
			if len(recs) != 1 || recs[0].Status != "succeeded" || recs[0].AmountReceived != want || recs[0].OrderID != "ord_1" || recs[0].PaymentMethod != pi.PaymentMethod.ID {
				t.Fatalf("Intents() = %+v", recs)
			}
		})
	}
}

func TestAutomaticCaptureSucceedsAtOnce(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	p := authorizeParams("ord_auto", "pm_card_visa", 999)
	p.CaptureMethod = nil
	pi, err := e.sc.PaymentIntents.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if pi.Status != stripe.PaymentIntentStatusSucceeded || pi.AmountReceived != 999 || pi.CaptureMethod != "automatic" {
		t.Fatalf("status %s received %d capture_method %s", pi.Status, pi.AmountReceived, pi.CaptureMethod)
	}
}

func TestCreateThenConfirm(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi, err := e.sc.PaymentIntents.New(&stripe.PaymentIntentParams{
		Amount: stripe.Int64(700), Currency: stripe.String("EUR"), CaptureMethod: stripe.String("manual"),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if pi.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || pi.Currency != "eur" {
		t.Fatalf("status %s currency %s", pi.Status, pi.Currency)
	}
	_, err = e.sc.PaymentIntents.Confirm(pi.ID, &stripe.PaymentIntentConfirmParams{})
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodePaymentIntentUnexpectedState)

	pi, err = e.sc.PaymentIntents.Confirm(pi.ID, &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String("pm_card_visa")})
	if err != nil {
		t.Fatal(err)
	}
	if pi.Status != stripe.PaymentIntentStatusRequiresCapture {
		t.Fatalf("status %s", pi.Status)
	}
}

func TestDeclines(t *testing.T) {
	cases := []struct {
		name        string
		pm          string
		wantCode    stripe.ErrorCode
		wantDecline stripe.DeclineCode
	}{
		{"generic decline", "pm_card_chargeDeclined", stripe.ErrorCodeCardDeclined, "generic_decline"},
		{"insufficient funds", "pm_card_chargeDeclinedInsufficientFunds", stripe.ErrorCodeCardDeclined, "insufficient_funds"},
		{"customer fail", "pm_card_chargeCustomerFail", stripe.ErrorCodeCardDeclined, "generic_decline"},
		{"expired", "pm_card_chargeDeclinedExpiredCard", stripe.ErrorCodeExpiredCard, "expired_card"},
		{"created declining card", "4000000000000002", stripe.ErrorCodeCardDeclined, "generic_decline"},
		{"created card without funds", "4000000000009995", stripe.ErrorCodeCardDeclined, "insufficient_funds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			pm := tc.pm
			if !strings.HasPrefix(pm, "pm_") {
				pm = createCard(t, e, pm).ID
			}
			_, err := e.sc.PaymentIntents.New(authorizeParams("ord_d", pm, 1500))
			se := wantStripeErr(t, err, http.StatusPaymentRequired, stripe.ErrorTypeCard, tc.wantCode)
			if se.DeclineCode != tc.wantDecline {
				t.Fatalf("decline_code %q, want %q", se.DeclineCode, tc.wantDecline)
			}
			if se.PaymentIntent == nil || se.PaymentIntent.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || se.ChargeID == "" {
				t.Fatalf("error body payment_intent %+v charge %q", se.PaymentIntent, se.ChargeID)
			}
			pi, err := e.sc.PaymentIntents.Get(se.PaymentIntent.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if pi.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || pi.LastPaymentError == nil ||
				pi.LastPaymentError.Code != tc.wantCode || pi.LastPaymentError.DeclineCode != tc.wantDecline {
				t.Fatalf("retrieved: status %s last_payment_error %+v", pi.Status, pi.LastPaymentError)
			}
			if n := e.sb.AuthorizationsFor("ord_d"); n != 0 {
				t.Fatalf("AuthorizationsFor = %d after a decline", n)
			}
		})
	}
}

func TestThreeDSecure(t *testing.T) {
	cases := []struct {
		name       string
		succeed    bool
		overHTTP   bool
		wantStatus stripe.PaymentIntentStatus
	}{
		{"succeeds", true, false, stripe.PaymentIntentStatusRequiresCapture},
		{"fails", false, false, stripe.PaymentIntentStatusRequiresPaymentMethod},
		{"succeeds over control route", true, true, stripe.PaymentIntentStatusRequiresCapture},
		{"fails over control route", false, true, stripe.PaymentIntentStatusRequiresPaymentMethod},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			pi := e.authorize(t, "ord_3ds", "pm_card_authenticationRequired", 4200)
			if pi.Status != stripe.PaymentIntentStatusRequiresAction || pi.NextAction == nil || pi.NextAction.Type != "use_stripe_sdk" {
				t.Fatalf("status %s next_action %+v", pi.Status, pi.NextAction)
			}
			if e.sb.AuthorizationsFor("ord_3ds") != 0 {
				t.Fatal("requires_action already counted as an authorization")
			}
			if tc.overHTTP {
				outcome := map[bool]string{true: "succeed", false: "fail"}[tc.succeed]
				status, body := controlCall(t, e, http.MethodPost, "/_sandbox/payment_intents/"+pi.ID+"/authenticate", `{"outcome":"`+outcome+`"}`)
				if status != http.StatusOK || !strings.Contains(body, string(tc.wantStatus)) {
					t.Fatalf("authenticate: %d %s", status, body)
				}
			} else if err := e.sb.Authenticate(pi.ID, tc.succeed); err != nil {
				t.Fatal(err)
			}
			pi, err := e.sc.PaymentIntents.Get(pi.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if pi.Status != tc.wantStatus || pi.NextAction != nil {
				t.Fatalf("status %s next_action %+v, want %s", pi.Status, pi.NextAction, tc.wantStatus)
			}
			wantAuth := 0
			if tc.succeed {
				wantAuth = 1
			} else if pi.LastPaymentError == nil || pi.LastPaymentError.Code != stripe.ErrorCodeAuthenticationRequired {
				t.Fatalf("last_payment_error %+v", pi.LastPaymentError)
			}
			if n := e.sb.AuthorizationsFor("ord_3ds"); n != wantAuth {
				t.Fatalf("AuthorizationsFor = %d, want %d", n, wantAuth)
			}
			if err := e.sb.Authenticate(pi.ID, true); err == nil {
				t.Fatal("authenticating twice was accepted")
			}
		})
	}
}

func TestOffSessionPaymentNeedingAuthenticationIsDeclined(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	p := authorizeParams("ord_off", "pm_card_authenticationRequired", 1000)
	p.OffSession = stripe.Bool(true)
	_, err := e.sc.PaymentIntents.New(p)
	se := wantStripeErr(t, err, http.StatusPaymentRequired, stripe.ErrorTypeCard, stripe.ErrorCodeAuthenticationRequired)
	if se.PaymentIntent == nil || se.PaymentIntent.Status != stripe.PaymentIntentStatusRequiresPaymentMethod {
		t.Fatalf("payment_intent %+v", se.PaymentIntent)
	}
}

func TestWrongStateIsRefused(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, e *env) string // returns an intent id in some state
		act   func(e *env, id string) error
	}{
		{"capture before confirm", unconfirmed, capture},
		{"capture twice", captured, capture},
		{"capture canceled", canceled, capture},
		{"cancel succeeded", captured, cancel},
		{"cancel canceled", canceled, cancel},
		{"confirm succeeded", captured, confirm},
		{"confirm canceled", canceled, confirm},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			id := tc.setup(t, e)
			before, err := e.sc.PaymentIntents.Get(id, nil)
			if err != nil {
				t.Fatal(err)
			}
			se := wantStripeErr(t, tc.act(e, id), http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodePaymentIntentUnexpectedState)
			if se.PaymentIntent == nil || se.PaymentIntent.ID != id {
				t.Fatalf("error carries payment_intent %+v", se.PaymentIntent)
			}
			after, err := e.sc.PaymentIntents.Get(id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if after.Status != before.Status || after.AmountReceived != before.AmountReceived {
				t.Fatalf("refused call changed the intent: %s/%d → %s/%d", before.Status, before.AmountReceived, after.Status, after.AmountReceived)
			}
		})
	}
}

func unconfirmed(t *testing.T, e *env) string {
	pi, err := e.sc.PaymentIntents.New(&stripe.PaymentIntentParams{
		Amount: stripe.Int64(500), Currency: stripe.String("usd"), CaptureMethod: stripe.String("manual"),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return pi.ID
}

func captured(t *testing.T, e *env) string {
	pi := e.authorize(t, "ord_w", "pm_card_visa", 500)
	if err := capture(e, pi.ID); err != nil {
		t.Fatal(err)
	}
	return pi.ID
}

func canceled(t *testing.T, e *env) string {
	pi := e.authorize(t, "ord_w", "pm_card_visa", 500)
	if err := cancel(e, pi.ID); err != nil {
		t.Fatal(err)
	}
	return pi.ID
}

func capture(e *env, id string) error {
	_, err := e.sc.PaymentIntents.Capture(id, nil)
	return err
}

func cancel(e *env, id string) error {
	_, err := e.sc.PaymentIntents.Cancel(id, &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("requested_by_customer")})
	return err
}

func confirm(e *env, id string) error {
	_, err := e.sc.PaymentIntents.Confirm(id, &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String("pm_card_visa")})
	return err
}

func TestCancelReleasesTheHold(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi := e.authorize(t, "ord_c", "pm_card_visa", 3000)
	params := &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("abandoned")}
	params.AddExpand("latest_charge")
	pi, err := e.sc.PaymentIntents.Cancel(pi.ID, params)
	if err != nil {
		t.Fatal(err)
	}
	if pi.Status != stripe.PaymentIntentStatusCanceled || pi.AmountCapturable != 0 || pi.CanceledAt == 0 || pi.CancellationReason != "abandoned" {
		t.Fatalf("status %s capturable %d canceled_at %d reason %s", pi.Status, pi.AmountCapturable, pi.CanceledAt, pi.CancellationReason)
	}
	if !pi.LatestCharge.Refunded || pi.LatestCharge.AmountRefunded != 3000 {
		t.Fatalf("charge after cancel: refunded %v amount_refunded %d", pi.LatestCharge.Refunded, pi.LatestCharge.AmountRefunded)
	}
	_, err = e.sc.PaymentIntents.Cancel(unconfirmed(t, e), &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("because")})
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")
}

func TestCreateIsValidated(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(p *stripe.PaymentIntentParams)
		wantCode stripe.ErrorCode
		status   int
	}{
		{"no amount", func(p *stripe.PaymentIntentParams) { p.Amount = nil }, stripe.ErrorCodeParameterMissing, 400},
		{"too small", func(p *stripe.PaymentIntentParams) { p.Amount = stripe.Int64(10) }, stripe.ErrorCodeAmountTooSmall, 400},
		{"no currency", func(p *stripe.PaymentIntentParams) { p.Currency = nil }, stripe.ErrorCodeParameterMissing, 400},
		{"unknown payment method", func(p *stripe.PaymentIntentParams) { p.PaymentMethod = stripe.String("pm_nope") }, stripe.ErrorCodeResourceMissing, 400},
		{"unknown customer", func(p *stripe.PaymentIntentParams) { p.Customer = stripe.String("cus_nope") }, stripe.ErrorCodeResourceMissing, 400},
		{"unknown parameter", func(p *stripe.PaymentIntentParams) { p.AddExtra("colour", "blue") }, stripe.ErrorCodeParameterUnknown, 400},
		// API 2023-10-16 turns automatic payment methods on by default; a
		// server-side confirm must then opt out of redirects or give return_url.
		{"redirects allowed without return_url", func(p *stripe.PaymentIntentParams) { p.PaymentMethodTypes = nil }, "", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			p := authorizeParams("ord_v", "pm_card_visa", 1000)
			tc.mutate(p)
			_, err := e.sc.PaymentIntents.New(p)
			wantStripeErr(t, err, tc.status, stripe.ErrorTypeInvalidRequest, tc.wantCode)
		})
	}

	t.Run("redirects off", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{})
		p := authorizeParams("ord_v", "pm_card_visa", 1000)
		p.PaymentMethodTypes = nil
		p.AutomaticPaymentMethods = &stripe.PaymentIntentAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true), AllowRedirects: stripe.String("never")}
		if _, err := e.sc.PaymentIntents.New(p); err != nil {
			t.Fatal(err)
		}
	})
}

package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func createCard(t *testing.T, e *env, number string) *stripe.PaymentMethod {
	t.Helper()
	pm, err := e.sc.PaymentMethods.New(cardParams(number))
	if err != nil {
		t.Fatalf("create card %s: %v", number, err)
	}
	return pm
}

func cardParams(number string) *stripe.PaymentMethodParams {
	return &stripe.PaymentMethodParams{
		Type: stripe.String("card"),
		Card: &stripe.PaymentMethodCardParams{
			Number: stripe.String(number), ExpMonth: stripe.Int64(12), ExpYear: stripe.Int64(2099), CVC: stripe.String("123"),
		},
	}
}

func TestCreatePaymentMethod(t *testing.T) {
	cases := []struct {
		number    string
		wantBrand string
		wantCode  stripe.ErrorCode // "" = created
	}{
		{"4242424242424242", "visa", ""},
		{"5555555555554444", "mastercard", ""},
		{"378282246310005", "amex", ""},
		{"4000002760003184", "visa", ""},
		{"4242424242424241", "", stripe.ErrorCodeIncorrectNumber},
	}
	for _, tc := range cases {
		t.Run(tc.number, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			created, err := e.sc.PaymentMethods.New(cardParams(tc.number))
			if tc.wantCode != "" {
				wantStripeErr(t, err, http.StatusPaymentRequired, stripe.ErrorTypeCard, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.sc.PaymentMethods.Get(created.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := got.Card
			if got.Type != "card" || string(c.Brand) != tc.wantBrand || c.Last4 != tc.number[len(tc.number)-4:] || c.ExpMonth != 12 || c.ExpYear != 2099 {
				t.Fatalf("got %s %+v", got.Type, c)
			}
			if c.Fingerprint == "" || got.Customer != nil {
				t.Fatalf("fingerprint %q customer %+v", c.Fingerprint, got.Customer)
			}
		})
	}
}

func TestAttachAndDetach(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cus, err := e.sc.Customers.New(&stripe.CustomerParams{Email: stripe.String("a@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	pm := createCard(t, e, "4242424242424242")
	attached, err := e.sc.PaymentMethods.Attach(pm.ID, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cus.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if attached.Customer == nil || attached.Customer.ID != cus.ID {
		t.Fatalf("customer after attach %+v", attached.Customer)
	}

	saved := func() []string {
		var ids []string
		it := e.sc.PaymentMethods.List(&stripe.PaymentMethodListParams{Customer: stripe.String(cus.ID), Type: stripe.String("card")})
		for it.Next() {
			ids = append(ids, it.PaymentMethod().ID)
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		var viaCustomer []string
		cit := e.sc.Customers.ListPaymentMethods(&stripe.CustomerListPaymentMethodsParams{Customer: stripe.String(cus.ID)})
		for cit.Next() {
			viaCustomer = append(viaCustomer, cit.PaymentMethod().ID)
		}
		if err := cit.Err(); err != nil {
			t.Fatal(err)
		}
		if len(ids) != len(viaCustomer) {
			t.Fatalf("the two list routes disagree: %v vs %v", ids, viaCustomer)
		}
		return ids
	}
	if ids := saved(); len(ids) != 1 || ids[0] != pm.ID {
		t.Fatalf("saved methods %v, want [%s]", ids, pm.ID)
	}

	// A saved method pays again and again, for its customer only.
	for i := range 2 {
		p := authorizeParams("ord_saved", pm.ID, 1000)
		p.Customer = stripe.String(cus.ID)
		p.OffSession = stripe.Bool(true)
		p.SetIdempotencyKey("saved-" + string(rune('a'+i)))
		if _, err := e.sc.PaymentIntents.New(p); err != nil {
			t.Fatalf("payment %d with saved method: %v", i+1, err)
		}
	}
	p := authorizeParams("ord_nocus", pm.ID, 1000)
	_, err = e.sc.PaymentIntents.New(p)
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")

	detached, err := e.sc.PaymentMethods.Detach(pm.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if detached.Customer != nil {
		t.Fatalf("customer after detach %+v", detached.Customer)
	}
	if ids := saved(); len(ids) != 0 {
		t.Fatalf("saved methods after detach %v", ids)
	}
	_, err = e.sc.PaymentMethods.Detach(pm.ID, nil)
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodePaymentMethodUnexpectedState)
	_, err = e.sc.PaymentIntents.New(authorizeParams("ord_after_detach", pm.ID, 1000))
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")
}

func TestAttachIsRefused(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cus, err := e.sc.Customers.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		pm       string
		customer string
		status   int
		typ      stripe.ErrorType
		code     stripe.ErrorCode
	}{
		{"unknown method", "pm_missing", cus.ID, http.StatusNotFound, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing},
		{"unknown customer", "pm_card_visa", "cus_missing", http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing},
		{"declining card", "pm_card_chargeDeclined", cus.ID, http.StatusPaymentRequired, stripe.ErrorTypeCard, stripe.ErrorCodeCardDeclined},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sc.PaymentMethods.Attach(tc.pm, &stripe.PaymentMethodAttachParams{Customer: stripe.String(tc.customer)})
			wantStripeErr(t, err, tc.status, tc.typ, tc.code)
		})
	}
}

func TestChargeCustomerFailAttachesThenDeclines(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cus, err := e.sc.Customers.New(&stripe.CustomerParams{PaymentMethod: stripe.String("pm_card_chargeCustomerFail")})
	if err != nil {
		t.Fatal(err)
	}
	if cus.InvoiceSettings.DefaultPaymentMethod != nil {
		t.Fatal("default payment method set without asking")
	}
	pm, err := e.sc.PaymentMethods.Attach("pm_card_chargeCustomerFail", &stripe.PaymentMethodAttachParams{Customer: stripe.String(cus.ID)})
	if err != nil {
		t.Fatal(err)
	}
	p := authorizeParams("ord_cf", pm.ID, 1000)
	p.Customer = stripe.String(cus.ID)
	_, err = e.sc.PaymentIntents.New(p)
	wantStripeErr(t, err, http.StatusPaymentRequired, stripe.ErrorTypeCard, stripe.ErrorCodeCardDeclined)
}

func TestUnsavedMethodPaysOnce(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pm := createCard(t, e, "4242424242424242")
	e.authorize(t, "ord_once_1", pm.ID, 1000)
	_, err := e.sc.PaymentIntents.New(authorizeParams("ord_once_2", pm.ID, 1000))
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")
}

func TestSetupFutureUsageSavesTheMethod(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cus, err := e.sc.Customers.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	pm := createCard(t, e, "5555555555554444")
	p := authorizeParams("ord_sfu", pm.ID, 1000)
	p.Customer = stripe.String(cus.ID)
	p.SetupFutureUsage = stripe.String("off_session")
	if _, err := e.sc.PaymentIntents.New(p); err != nil {
		t.Fatal(err)
	}
	got, err := e.sc.PaymentMethods.Get(pm.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Customer == nil || got.Customer.ID != cus.ID {
		t.Fatalf("method not saved on the customer: %+v", got.Customer)
	}
}

// setup_future_usage=on_session with a customer saves the card on the
// customer once the intent authorizes, 3-D Secure included; a declined
// intent saves nothing.
func TestSetupFutureUsageOnSession(t *testing.T) {
	cases := []struct {
		name, pm  string
		authorize func(e *env, id string) error
		wantSaved bool
	}{
		{"authorized", "4242424242424242", nil, true},
		{"after 3-D Secure", "4000002760003184", func(e *env, id string) error { return e.sb.Authenticate(id, true) }, true},
		{"declined", "4000000000000341", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			cus, err := e.sc.Customers.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			pm := createCard(t, e, tc.pm)
			p := authorizeParams("ord_sfu_on", pm.ID, 1000)
			p.Customer = stripe.String(cus.ID)
			p.SetupFutureUsage = stripe.String("on_session")
			pi, err := e.sc.PaymentIntents.New(p)
			if err == nil && tc.authorize != nil {
				if saved := e.pmCustomer(t, pm.ID); saved != "" {
					t.Fatal("saved before the buyer authenticated")
				}
				err = tc.authorize(e, pi.ID)
			}
			if (err == nil) != tc.wantSaved {
				t.Fatalf("authorize: %v", err)
			}
			saved := e.pmCustomer(t, pm.ID)
			if tc.wantSaved && saved != cus.ID || !tc.wantSaved && saved != "" {
				t.Fatalf("method customer %q, want saved=%v on %s", saved, tc.wantSaved, cus.ID)
			}
			if !tc.wantSaved {
				return
			}
			// Saved: the same card pays again for that customer.
			again := authorizeParams("ord_sfu_on_2", pm.ID, 1000)
			again.Customer = stripe.String(cus.ID)
			if _, err := e.sc.PaymentIntents.New(again); err != nil {
				t.Fatalf("the saved card did not pay again: %v", err)
			}
		})
	}
}

func (e *env) pmCustomer(t *testing.T, id string) string {
	t.Helper()
	got, err := e.sc.PaymentMethods.Get(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Customer == nil {
		return ""
	}
	return got.Customer.ID
}

// A method that paid with setup_future_usage and no customer may be attached
// to a customer afterwards, as Stripe allows, and pays again only once
// attached; one that paid without setup_future_usage, or is attached
// elsewhere, is refused as Stripe refuses it.
func TestAttachAfterThePayment(t *testing.T) {
	cases := []struct {
		name string
		sfu  string
		// prepare runs between the payment and the attach.
		prepare    func(t *testing.T, e *env, pm string)
		wantAttach bool
	}{
		{name: "set up off_session", sfu: "off_session", wantAttach: true},
		{name: "set up on_session", sfu: "on_session", wantAttach: true},
		{name: "after 3-D Secure", sfu: "off_session", wantAttach: true},
		{name: "paid without setup_future_usage"},
		{name: "attached to another customer", sfu: "off_session", prepare: func(t *testing.T, e *env, pm string) {
			other, err := e.sc.Customers.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sc.PaymentMethods.Attach(pm, &stripe.PaymentMethodAttachParams{Customer: stripe.String(other.ID)}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			number := "4242424242424242"
			if tc.name == "after 3-D Secure" {
				number = "4000002760003184"
			}
			pm := createCard(t, e, number).ID
			p := authorizeParams("ord_later", pm, 1000)
			if tc.sfu != "" {
				p.SetupFutureUsage = stripe.String(tc.sfu)
			}
			pi, err := e.sc.PaymentIntents.New(p)
			if err != nil {
				t.Fatal(err)
			}
			if pi.Status == stripe.PaymentIntentStatusRequiresAction {
				if err := e.sb.Authenticate(pi.ID, true); err != nil {
					t.Fatal(err)
				}
			}
			if got := e.pmCustomer(t, pm); got != "" {
				t.Fatalf("attached to %s by a payment with no customer", got)
			}
			if tc.sfu != "" {
				// Set up, not saved: it pays no second time unattached.
				_, err := e.sc.PaymentIntents.New(authorizeParams("ord_later_again", pm, 1000))
				wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "")
			}
			if tc.prepare != nil {
				tc.prepare(t, e, pm)
			}
			cus, err := e.sc.Customers.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.sc.PaymentMethods.Attach(pm, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cus.ID)})
			if !tc.wantAttach {
				wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "payment_method_unexpected_state")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			again := authorizeParams("ord_later_2", pm, 1000)
			again.Customer = stripe.String(cus.ID)
			if _, err := e.sc.PaymentIntents.New(again); err != nil {
				t.Fatalf("the attached card did not pay for its customer: %v", err)
			}
		})
	}
}

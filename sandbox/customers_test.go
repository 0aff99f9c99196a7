package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func TestCustomerLifecycle(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	params := &stripe.CustomerParams{
		Name: stripe.String("Ada"), Email: stripe.String("ada@example.com"), Phone: stripe.String("+441234"),
		PaymentMethod:   stripe.String("pm_card_visa"),
		InvoiceSettings: &stripe.CustomerInvoiceSettingsParams{DefaultPaymentMethod: stripe.String("pm_card_visa")},
	}
	params.AddMetadata("buyer_id", "b_1")
	cus, err := e.sc.Customers.New(params)
	if err != nil {
		t.Fatal(err)
	}
	if cus.Name != "Ada" || cus.Email != "ada@example.com" || cus.Metadata["buyer_id"] != "b_1" || cus.InvoiceSettings.DefaultPaymentMethod == nil {
		t.Fatalf("created %+v", cus)
	}
	defaultPM := cus.InvoiceSettings.DefaultPaymentMethod.ID
	pm, err := e.sc.PaymentMethods.Get(defaultPM, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Customer == nil || pm.Customer.ID != cus.ID {
		t.Fatalf("default method %s not attached: %+v", defaultPM, pm.Customer)
	}

	up := &stripe.CustomerParams{Name: stripe.String("Ada L.")}
	up.AddMetadata("buyer_id", "")
	up.AddMetadata("tier", "gold")
	cus, err = e.sc.Customers.Update(cus.ID, up)
	if err != nil {
		t.Fatal(err)
	}
	if cus.Name != "Ada L." || cus.Email != "ada@example.com" || len(cus.Metadata) != 1 || cus.Metadata["tier"] != "gold" {
		t.Fatalf("updated %+v metadata %v", cus, cus.Metadata)
	}
	_, err = e.sc.Customers.Update(cus.ID, &stripe.CustomerParams{
		InvoiceSettings: &stripe.CustomerInvoiceSettingsParams{DefaultPaymentMethod: stripe.String("pm_not_attached")},
	})
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)

	got, err := e.sc.Customers.Get(cus.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ada L." || got.InvoiceSettings.DefaultPaymentMethod.ID != defaultPM {
		t.Fatalf("refused update changed the customer: %+v", got)
	}

	deleted, err := e.sc.Customers.Del(cus.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !deleted.Deleted {
		t.Fatal("delete did not say deleted")
	}
	got, err = e.sc.Customers.Get(cus.ID, nil)
	if err != nil || !got.Deleted {
		t.Fatalf("get after delete: %+v %v", got, err)
	}
	_, err = e.sc.Customers.Del(cus.ID, nil)
	wantStripeErr(t, err, http.StatusNotFound, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)
	p := authorizeParams("ord_gone", "pm_card_visa", 1000)
	p.Customer = stripe.String(cus.ID)
	_, err = e.sc.PaymentIntents.New(p)
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)
	_, err = e.sc.Customers.Get("cus_missing", nil)
	wantStripeErr(t, err, http.StatusNotFound, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)
}

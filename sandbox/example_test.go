package sandbox_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/buybutton/checkout/sandbox"
)

// Point stripe-go at the sandbox with a per-client backend, then use it as
// Stripe. Control routes under /_sandbox/ (or the Server's methods) steer it.
func Example() {
	sb := sandbox.New(sandbox.Options{})
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()

	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(srv.URL),
		MaxNetworkRetries: stripe.Int64(0), // let the caller (Temporal) retry
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	sc := &client.API{}
	sc.Init("sk_test_anything", &stripe.Backends{API: backend, Connect: backend, Uploads: backend})

	params := &stripe.PaymentIntentParams{
		Amount:             stripe.Int64(2500),
		Currency:           stripe.String("usd"),
		PaymentMethod:      stripe.String("pm_card_visa"),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		CaptureMethod:      stripe.String("manual"),
		Confirm:            stripe.Bool(true),
	}
	params.AddMetadata("order_id", "ord_42")
	params.SetIdempotencyKey("order:ord_42:authorize")
	pi, err := sc.PaymentIntents.New(params)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pi.Status, pi.AmountCapturable)

	sb.SetFaults(sandbox.Faults{FailNext: 1})
	_, err = sc.PaymentIntents.Capture(pi.ID, nil)
	fmt.Println(err.(*stripe.Error).HTTPStatusCode)

	pi, _ = sc.PaymentIntents.Capture(pi.ID, nil)
	fmt.Println(pi.Status, sb.AuthorizationsFor("ord_42"))
	// Output:
	// requires_capture 2500
	// 500
	// succeeded 1
}

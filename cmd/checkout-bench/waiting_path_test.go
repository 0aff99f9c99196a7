package main

import (
	"testing"

	"github.com/buybutton/checkout/payments"
)

// Requests are attributed to orders by the keys the gateway makes.
func TestKeyOrder(t *testing.T) {
	for key, want := range map[string]string{
		payments.IdempotencyKey("ord_1", "customer"): "ord_1",
		payments.AttemptKey("ord_2", "authorize", 3): "ord_2",
		"profile:prof_1:detach:pm_1":                 "",
		"order:ord_3":                                "",
		"":                                           "",
	} {
		if got := keyOrder(key); got != want {
			t.Errorf("keyOrder(%q) = %q, want %q", key, got, want)
		}
	}
}

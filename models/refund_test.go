package models

import "testing"

func TestCheckRefund(t *testing.T) {
	captured := Order{ID: "ord_1", CapturedMinor: 2500, RefundedMinor: 1000}
	tests := []struct {
		name   string
		order  Order
		amount int64
		code   string // "" = allowed
	}{
		{"within what is left", captured, 1500, ""},
		{"one unit too many", captured, 1501, "refund_exceeds_captured"},
		{"nothing captured", Order{ID: "ord_2", AmountMinor: 2500}, 1, "not_captured"},
		{"negative", captured, -1, "invalid_amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRefund(tt.order, tt.amount)
			var code string
			if e, ok := err.(*Error); ok {
				code = e.Code
			} else if err != nil {
				t.Fatalf("not a domain error: %v", err)
			}
			if code != tt.code {
				t.Fatalf("CheckRefund = %v, want code %q", err, tt.code)
			}
		})
	}
}

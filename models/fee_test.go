package models

import (
	"errors"
	"testing"
)

func TestFeeFor(t *testing.T) {
	cases := []struct {
		name   string
		policy FeePolicy
		amount int64
		want   int64
	}{
		{"no fee", FeePolicy{}, 1000, 0},
		{"rate exact", FeePolicy{BPS: 500}, 2000, 100},
		{"rate rounds half up", FeePolicy{BPS: 250}, 500, 13},         // 12.5
		{"rate rounds down below half", FeePolicy{BPS: 290}, 430, 12}, // 12.47
		{"rate rounds up above half", FeePolicy{BPS: 290}, 450, 13},   // 13.05
		{"fixed part added after rounding", FeePolicy{BPS: 290, FixedMinor: 30}, 1000, 59},
		{"fixed only", FeePolicy{FixedMinor: 25}, 1000, 25},
		{"capped at the amount", FeePolicy{BPS: 5000, FixedMinor: 100}, 60, 60},
		{"zero amount", FeePolicy{BPS: 500, FixedMinor: 30}, 0, 0},
		{"negative amount", FeePolicy{BPS: 500}, -5, 0},
		{"one cent at a small rate rounds to zero", FeePolicy{BPS: 1}, 1, 0},
		{"largest rate on one unit", FeePolicy{BPS: 5000}, 1, 1}, // 0.5 rounds up
		{"huge amount does not overflow", FeePolicy{BPS: 5000}, 1 << 62, 1 << 61},
		{"jpy has no minor unit, same rule", FeePolicy{BPS: 360}, 1999, 72}, // 71.964
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.policy.FeeFor(c.amount); got != c.want {
				t.Fatalf("FeeFor(%d) under %s = %d, want %d", c.amount, c.policy, got, c.want)
			}
		})
	}
}

func TestFeePolicyCheck(t *testing.T) {
	cases := []struct {
		policy FeePolicy
		ok     bool
	}{
		{FeePolicy{}, true},
		{FeePolicy{BPS: MaxFeeBPS, FixedMinor: MaxFeeFixedMinor}, true},
		{FeePolicy{BPS: -1}, false},
		{FeePolicy{BPS: MaxFeeBPS + 1}, false},
		{FeePolicy{FixedMinor: -1}, false},
		{FeePolicy{FixedMinor: MaxFeeFixedMinor + 1}, false},
	}
	for _, c := range cases {
		err := c.policy.Check("PLATFORM_FEE_BPS")
		if (err == nil) != c.ok {
			t.Errorf("Check(%s) = %v, want ok=%v", c.policy, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%s) = %v, want an Invalid error", c.policy, err)
		}
	}
}

func TestMerchantFeeOverride(t *testing.T) {
	platform := FeePolicy{BPS: 290, FixedMinor: 30}
	if got := MerchantFee(platform, nil); got != platform {
		t.Fatalf("no override: %s", got)
	}
	own := FeePolicy{BPS: 100}
	if got := MerchantFee(platform, &own); got != own {
		t.Fatalf("override: %s", got)
	}
}

func TestProportionalShareAddsUpToTheWhole(t *testing.T) {
	cases := []struct {
		name            string
		total, captured int64
		refunds         []int64
		want            []int64
	}{
		{"40 % then the rest", 100, 2000, []int64{800, 1200}, []int64{40, 60}},
		{"rounded down, last one takes the rest", 59, 1000, []int64{333, 333, 334}, []int64{19, 20, 20}},
		{"one cent refunds of a small fee", 3, 10, []int64{1, 1, 1, 7}, []int64{0, 0, 0, 3}},
		{"full refund at once", 59, 1000, []int64{1000}, []int64{59}},
		{"nothing to share", 0, 1000, []int64{500, 500}, []int64{0, 0}},
		{"refunds past captured are capped", 50, 1000, []int64{900, 500}, []int64{45, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, sum int64
			for i, r := range c.refunds {
				got := ProportionalShare(c.total, c.captured, before, r)
				if got != c.want[i] {
					t.Fatalf("refund %d of %d: share %d, want %d", i, r, got, c.want[i])
				}
				before += r
				sum += got
			}
			if before >= c.captured && sum != c.total {
				t.Fatalf("fully refunded but shares add to %d, not %d", sum, c.total)
			}
		})
	}
}

func TestRefundFeePolicy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want RefundFeePolicy
		ok   bool
	}{{"", RefundFeeProportional, true}, {"proportional", RefundFeeProportional, true}, {"keep", RefundFeeKeep, true}, {"half", "", false}} {
		got, err := ParseRefundFeePolicy(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseRefundFeePolicy(%q) = %q, %v", c.in, got, err)
		}
	}
	if got := RefundFeeKeep.FeeReturned(59, 1000, 0, 400); got != 0 {
		t.Fatalf("keep returned %d", got)
	}
	if got := RefundFeeProportional.FeeReturned(59, 1000, 0, 400); got != 23 { // 23.6 rounded down
		t.Fatalf("proportional returned %d", got)
	}
}

func TestOrderFeeAtCaptureScalesToTheCapturedAmount(t *testing.T) {
	f := OrderFee{Policy: FeePolicy{BPS: 1000, FixedMinor: 0}, FeeMinor: 200}
	if got := f.AtCapture(2000); got != 200 {
		t.Fatalf("full capture fee %d", got)
	}
	if got := f.AtCapture(1500); got != 150 {
		t.Fatalf("partial capture fee %d", got)
	}
}

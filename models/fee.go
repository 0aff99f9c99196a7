package models

import (
	"fmt"
	"math/bits"
)

// FeePolicy is the platform's cut of a sale: a rate in basis points (1 bp =
// 0.01 %) plus an optional fixed part in minor units.
//
// Rounding rule: the rate part is rounded half up to a whole minor unit
// (12.5 → 13, 12.4 → 12), then the fixed part is added, and the fee is
// capped at the amount (Stripe refuses an application fee above the charge).
type FeePolicy struct {
	BPS        int64 `json:"fee_bps"`
	FixedMinor int64 `json:"fee_fixed"`
}

// Bounds of a fee policy: at most half the sale, and a fixed part of at most
// 1000.00 in any currency's major unit.
const (
	MaxFeeBPS        = 5000
	MaxFeeFixedMinor = 100_000
)

// Check refuses a policy out of range; what names the setting in the message.
func (f FeePolicy) Check(what string) error {
	switch {
	case f.BPS < 0 || f.BPS > MaxFeeBPS:
		return Invalid("invalid_fee", "%s: the fee rate must be between 0 and %d basis points, not %d", what, MaxFeeBPS, f.BPS)
	case f.FixedMinor < 0 || f.FixedMinor > MaxFeeFixedMinor:
		return Invalid("invalid_fee", "%s: the fixed fee must be between 0 and %d minor units, not %d", what, MaxFeeFixedMinor, f.FixedMinor)
	}
	return nil
}

// FeeFor is the fee on amount (minor units) under the rounding rule above.
// A non-positive amount has no fee.
func (f FeePolicy) FeeFor(amount int64) int64 {
	if amount <= 0 {
		return 0
	}
	// amount·bps + 5000 cannot overflow: bps ≤ 10⁴ and mulDiv works in 128 bits.
	fee := mulDivHalfUp(amount, f.BPS, 10_000) + f.FixedMinor
	return min(max(fee, 0), amount)
}

func (f FeePolicy) String() string { return fmt.Sprintf("%d bps + %d", f.BPS, f.FixedMinor) }

// MerchantFee is the policy a merchant pays: its own override, if it has
// one, else the platform's.
func MerchantFee(platform FeePolicy, override *FeePolicy) FeePolicy {
	if override != nil {
		return *override
	}
	return platform
}

// RefundFeePolicy says what happens to the platform fee when a sale is
// refunded.
type RefundFeePolicy string

const (
	// RefundFeeProportional returns the fee in proportion to the refunded
	// share of the captured amount: a full refund returns all of it.
	RefundFeeProportional RefundFeePolicy = "proportional"
	// RefundFeeKeep keeps the whole fee whatever is refunded.
	RefundFeeKeep RefundFeePolicy = "keep"
)

// ParseRefundFeePolicy reads the REFUND_FEE_POLICY setting ("" = proportional).
func ParseRefundFeePolicy(s string) (RefundFeePolicy, error) {
	switch RefundFeePolicy(s) {
	case "", RefundFeeProportional:
		return RefundFeeProportional, nil
	case RefundFeeKeep:
		return RefundFeeKeep, nil
	}
	return "", Invalid("invalid_refund_fee_policy", "REFUND_FEE_POLICY must be %q or %q, not %q", RefundFeeProportional, RefundFeeKeep, s)
}

// ReturnsFee reports whether refunds give the fee back (Stripe's
// refund_application_fee).
func (p RefundFeePolicy) ReturnsFee() bool { return p != RefundFeeKeep }

// ProportionalShare is the part of total that a refund of refund minor units
// moves, when refundedBefore of captured was refunded already. The
// cumulative share is rounded down, so partial refunds never return more
// than their proportion and the refund that reaches captured returns exactly
// what is left: the parts always add up to total.
func ProportionalShare(total, captured, refundedBefore, refund int64) int64 {
	if total <= 0 || captured <= 0 || refund <= 0 {
		return 0
	}
	after := min(refundedBefore+refund, captured)
	before := min(max(refundedBefore, 0), captured)
	return mulDivDown(total, after, captured) - mulDivDown(total, before, captured)
}

// FeeReturned is what one refund gives back of the fee under policy p.
func (p RefundFeePolicy) FeeReturned(fee, captured, refundedBefore, refund int64) int64 {
	if !p.ReturnsFee() {
		return 0
	}
	return ProportionalShare(fee, captured, refundedBefore, refund)
}

// OrderFee is the fee snapshot taken when an order is placed: where the
// money goes and what the platform keeps of it. A later change of the
// setting or of the merchant's override never alters an order in flight.
type OrderFee struct {
	OrderID string `json:"order_id"`
	// Destination is the merchant's connected account (acct_…).
	Destination string    `json:"destination"`
	Policy      FeePolicy `json:"policy"`
	// FeeMinor is the policy applied to the order's amount.
	FeeMinor int64 `json:"fee"`
	// CapturedFeeMinor is the application fee sent at capture, the policy
	// applied to the captured amount; 0 until captured.
	CapturedFeeMinor int64 `json:"captured_fee"`
}

// AtCapture is the application fee for a capture of captured minor units.
func (f OrderFee) AtCapture(captured int64) int64 { return f.Policy.FeeFor(captured) }

// mulDivDown is ⌊a·b/c⌋ for non-negative a, b and positive c, exact in 128 bits.
func mulDivDown(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 1<<63 - 1 // the quotient would not fit; amounts never get here
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// mulDivHalfUp is a·b/c rounded half up, for non-negative a, b and positive c.
func mulDivHalfUp(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	lo2, carry := bits.Add64(lo, uint64(c/2), 0)
	hi += carry
	if hi >= uint64(c) {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo2, uint64(c))
	return int64(q)
}

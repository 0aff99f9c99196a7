package models

// BalanceAmounts are the money fields of a balance, in minor units: Gross
// captured, the platform Fee at capture, Refunded to the buyer, Reversed from
// the merchant's transfer, FeeReturned of the fee, and Net, what the merchant
// keeps: Gross − Fee − Reversed + FeeReturned.
type BalanceAmounts struct {
	Gross       int64 `json:"gross"`
	Fee         int64 `json:"fee"`
	Refunded    int64 `json:"refunded"`
	Reversed    int64 `json:"reversed"`
	FeeReturned int64 `json:"fee_returned"`
	Net         int64 `json:"net"`
}

func (a *BalanceAmounts) add(b BalanceAmounts) {
	a.Gross += b.Gross
	a.Fee += b.Fee
	a.Refunded += b.Refunded
	a.Reversed += b.Reversed
	a.FeeReturned += b.FeeReturned
	a.Net += b.Net
}

// OrderBalance is what one order brought the merchant.
type OrderBalance struct {
	OrderID  string `json:"order_id"`
	Currency string `json:"currency"`
	BalanceAmounts
	Disputed bool `json:"disputed"`
}

// NewOrderBalance adds up an order's capture and refund splits.
func NewOrderBalance(o Order, fee OrderFee, splits []RefundSplit) OrderBalance {
	b := OrderBalance{OrderID: o.ID, Currency: o.Currency, Disputed: o.Disputed,
		BalanceAmounts: BalanceAmounts{Gross: o.CapturedMinor, Fee: fee.CapturedFeeMinor, Refunded: o.RefundedMinor}}
	for _, s := range splits {
		b.Reversed += s.ReversedMinor
		b.FeeReturned += s.FeeReturnedMinor
	}
	b.Net = b.Gross - b.Fee - b.Reversed + b.FeeReturned
	return b
}

// BalanceTotals sums order balances per currency.
type BalanceTotals struct {
	Currency string `json:"currency"`
	Orders   int    `json:"orders"`
	BalanceAmounts
}

// SumBalances totals balances by currency, in the order currencies first appear.
func SumBalances(list []OrderBalance) []BalanceTotals {
	out := []BalanceTotals{}
	idx := map[string]int{}
	for _, b := range list {
		i, ok := idx[b.Currency]
		if !ok {
			i = len(out)
			idx[b.Currency] = i
			out = append(out, BalanceTotals{Currency: b.Currency})
		}
		out[i].Orders++
		out[i].add(b.BalanceAmounts)
	}
	return out
}

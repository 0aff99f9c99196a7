package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

const (
	defaultBalanceDays = 30
	maxBalanceOrders   = 500
)

// balanceOrder is one order of GET /v1/merchant/balance: our ledger's
// figures and, when Stripe answered, its transfer for the order.
type balanceOrder struct {
	models.OrderBalance
	PaymentIntentID string      `json:"payment_intent_id"`
	CreatedAt       time.Time   `json:"created_at"`
	Stripe          *stripeSide `json:"stripe,omitempty"`
}

type stripeSide struct {
	Transfer       string `json:"transfer"`
	Amount         int64  `json:"amount"`
	AmountReversed int64  `json:"amount_reversed"`
	Matches        bool   `json:"matches"`
}

// getBalance is GET /v1/merchant/balance?from=&to=: per order with captured
// money, gross, fee, refunded, reversed, fee returned and net, with totals,
// from our own ledger; each order is reconciled against Stripe's transfer
// to the merchant's account when Stripe answers (reconciled false when it
// does not: the ledger figures stand alone).
func (a *app) getBalance(c *gin.Context) {
	ctx := c.Request.Context()
	m, _ := merchant(c)
	cs, ok := a.connectStore()
	if !ok {
		writeError(c, errConnectUnavailable)
		return
	}
	to := time.Now().UTC()
	from := to.AddDate(0, 0, -defaultBalanceDays)
	var err error
	if from, err = timeParam(c, "from", from); err != nil {
		writeError(c, err)
		return
	}
	if to, err = timeParam(c, "to", to); err != nil {
		writeError(c, err)
		return
	}
	if !from.Before(to) {
		writeError(c, models.Invalid("invalid_range", "from must be before to"))
		return
	}
	orders, err := cs.MerchantOrdersBetween(ctx, m.ID, from, to, maxBalanceOrders)
	if err != nil {
		writeError(c, err)
		return
	}
	list := make([]balanceOrder, 0, len(orders))
	var balances []models.OrderBalance
	for _, o := range orders {
		fee, _, err := cs.OrderFee(ctx, o.ID)
		if err != nil {
			writeError(c, err)
			return
		}
		splits, err := cs.RefundSplits(ctx, o.ID)
		if err != nil {
			writeError(c, err)
			return
		}
		b := models.NewOrderBalance(o, fee, splits)
		balances = append(balances, b)
		list = append(list, balanceOrder{OrderBalance: b, PaymentIntentID: o.PaymentIntentID, CreatedAt: o.CreatedAt})
	}
	reconciled := a.reconcileTransfers(c, m.ID, from, list)
	c.JSON(http.StatusOK, gin.H{
		"from": from, "to": to, "orders": list, "totals": models.SumBalances(balances),
		"reconciled": reconciled,
	})
}

// reconcileTransfers sets each order's Stripe side from the transfers to
// the merchant's account since from; false when Stripe could not be read.
func (a *app) reconcileTransfers(c *gin.Context, merchantID string, from time.Time, list []balanceOrder) bool {
	cs, _ := a.connectStore()
	gw := a.cfg.Connect.Gateway
	if gw == nil || len(list) == 0 {
		return gw != nil
	}
	ms, found, err := cs.MerchantStripe(c.Request.Context(), merchantID)
	if err != nil || !found {
		return false
	}
	// Transfers are made at capture, after the order was created.
	transfers, err := gw.Transfers(c.Request.Context(), ms.AccountID, from.Unix(), 0, 10*maxBalanceOrders)
	if err != nil {
		loggerFrom(c).WarnContext(c.Request.Context(), "reading Stripe transfers failed", "kind", string(models.ErrorKind(err)))
		return false
	}
	byGroup := map[string]payments.Transfer{}
	for _, t := range transfers {
		byGroup[t.TransferGroup] = t
	}
	for i := range list {
		t, ok := byGroup["group_"+list[i].PaymentIntentID]
		if !ok {
			list[i].Stripe = &stripeSide{}
			continue
		}
		list[i].Stripe = &stripeSide{Transfer: t.ID, Amount: t.Amount, AmountReversed: t.AmountReversed,
			Matches: t.Amount == list[i].Gross && t.AmountReversed == list[i].Reversed}
	}
	return true
}

// timeParam reads a query time as RFC 3339 or a date (YYYY-MM-DD, UTC).
func timeParam(c *gin.Context, name string, def time.Time) (time.Time, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, models.Invalid("invalid_"+name, "%s must be a date (2006-01-02) or an RFC 3339 time", name)
}

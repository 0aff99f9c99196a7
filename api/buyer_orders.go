package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
)

// BuyerOrders is the part of the store that lists a buyer's own orders;
// *store.Store satisfies it.
type BuyerOrders interface {
	BuyerOrdersPage(ctx context.Context, buyerID string, p store.OrderPage) ([]models.Order, bool, error)
}

var _ BuyerOrders = (*store.Store)(nil)

// buyerOrderView is one line of "Your orders": the order and whether the
// buyer may still cancel it.
type buyerOrderView struct {
	models.Order
	Cancellable bool `json:"cancellable"`
}

// listBuyerOrders answers GET /v1/me/orders: the caller's orders only,
// newest first, with the same opaque cursor as the merchant's list.
func (a *app) listBuyerOrders(c *gin.Context) {
	buyer, _ := buyerID(c)
	limit, err := listLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	p := store.OrderPage{Limit: limit}
	if raw := c.Query("cursor"); raw != "" {
		if p.AfterCreatedAt, p.AfterID, err = decodeCursor(raw); err != nil {
			writeError(c, err)
			return
		}
	}
	orders, more, err := a.cfg.Store.BuyerOrdersPage(c.Request.Context(), buyer, p)
	if err != nil {
		writeError(c, err)
		return
	}
	views := make([]buyerOrderView, 0, len(orders))
	for _, o := range orders {
		views = append(views, buyerOrderView{Order: o, Cancellable: models.CanTransition(o.Status, models.StatusCancelled)})
	}
	body := gin.H{"orders": views}
	if more && len(orders) > 0 {
		last := orders[len(orders)-1]
		body["next_cursor"] = encodeCursor(last.CreatedAt, last.ID)
	}
	c.JSON(http.StatusOK, body)
}

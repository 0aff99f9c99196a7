package api

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

const defaultListLimit = 50

// listLimit reads ?limit=, 1 to maxListLimit, default defaultListLimit.
func listLimit(c *gin.Context) (int, error) {
	raw, ok := c.GetQuery("limit")
	if !ok {
		return defaultListLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxListLimit {
		return 0, models.Invalid("invalid_limit", "limit must be an integer between 1 and %d", maxListLimit)
	}
	return n, nil
}

func (a *app) listMerchantOrders(c *gin.Context) {
	m, _ := merchant(c)
	status := models.OrderStatus(c.Query("status"))
	if status != "" && !status.Valid() {
		writeError(c, models.Invalid("invalid_status", "status is not a known order status"))
		return
	}
	limit, err := listLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	a.listMerchantOrdersPage(c, a.cfg.Store, m.ID, status, limit)
}

// merchantOrder loads an order of the calling merchant (else 404).
func (a *app) merchantOrder(c *gin.Context) (models.Order, models.Merchant, bool) {
	m, _ := merchant(c)
	o, err := a.visibleOrder(c)
	if err != nil {
		writeError(c, err)
		return models.Order{}, m, false
	}
	return o, m, true
}

type rejectRequest struct {
	Reason string `json:"reason"`
}

type shipRequest struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
	TrackingURL    string `json:"tracking_url,omitempty"`
}

func (r *shipRequest) validate() error {
	r.Carrier = strings.TrimSpace(r.Carrier)
	r.TrackingNumber = strings.TrimSpace(r.TrackingNumber)
	r.TrackingURL = strings.TrimSpace(r.TrackingURL)
	if r.Carrier == "" || len(r.Carrier) > 100 {
		return models.Invalid("invalid_carrier", "carrier must be 1 to 100 characters")
	}
	if r.TrackingNumber == "" || len(r.TrackingNumber) > 100 {
		return models.Invalid("invalid_tracking_number", "tracking_number must be 1 to 100 characters")
	}
	if r.TrackingURL != "" {
		u, err := url.Parse(r.TrackingURL)
		// Only https: the URL is shown to buyers as a link.
		if err != nil || u.Scheme != "https" || u.Host == "" || len(r.TrackingURL) > 2000 {
			return models.Invalid("invalid_tracking_url", "tracking_url must be an https URL")
		}
	}
	return nil
}

func (a *app) acceptOrder(c *gin.Context) {
	o, m, ok := a.merchantOrder(c)
	if !ok {
		return
	}
	if err := decodeOptionalJSON(c, &struct{}{}); err != nil {
		writeError(c, err)
		return
	}
	a.runUpdate(c, o.ID, workflows.UpdateAccept, workflows.AcceptInput{Actor: models.MerchantActor(m.ID)})
}

func (a *app) rejectOrder(c *gin.Context) {
	o, m, ok := a.merchantOrder(c)
	if !ok {
		return
	}
	var req rejectRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := checkReason(req.Reason); err != nil {
		writeError(c, err)
		return
	}
	a.runUpdate(c, o.ID, workflows.UpdateReject, workflows.RejectInput{Actor: models.MerchantActor(m.ID), Reason: req.Reason})
}

func (a *app) shipOrder(c *gin.Context) {
	o, m, ok := a.merchantOrder(c)
	if !ok {
		return
	}
	var req shipRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := req.validate(); err != nil {
		writeError(c, err)
		return
	}
	a.runUpdate(c, o.ID, workflows.UpdateShip, workflows.ShipInput{
		Actor: models.MerchantActor(m.ID), Carrier: req.Carrier, TrackingNumber: req.TrackingNumber, TrackingURL: req.TrackingURL,
	})
}

func (a *app) deliverOrder(c *gin.Context) {
	o, m, ok := a.merchantOrder(c)
	if !ok {
		return
	}
	if err := decodeOptionalJSON(c, &struct{}{}); err != nil {
		writeError(c, err)
		return
	}
	a.runUpdate(c, o.ID, workflows.UpdateDeliver, workflows.DeliverInput{Actor: models.MerchantActor(m.ID)})
}

package api

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/workflows"
)

// merchantAccounts is what the merchant account and delivery endpoints need
// of the store; part of Store.
type merchantAccounts interface {
	CreateMerchant(ctx context.Context, name, webhookURL string) (models.Merchant, string, error)
	AuthenticateMerchantKey(ctx context.Context, apiKey string) (models.Merchant, models.MerchantKey, error)
	RotateMerchantKey(ctx context.Context, merchantID, callerKeyID string, grace time.Duration) (string, time.Time, error)
	RevokeMerchantKey(ctx context.Context, merchantID, callerKeyID, keyID string) ([]string, error)
	ResetMerchantKeys(ctx context.Context, merchantID string) (string, error)
	MerchantKeys(ctx context.Context, merchantID string) ([]models.MerchantKey, error)
	MerchantAuditEvents(ctx context.Context, merchantID string) ([]models.MerchantAuditEvent, error)
	SetMerchantWebhook(ctx context.Context, merchantID, actorKeyID, webhookURL string) (models.Merchant, string, error)
	MerchantOrdersPage(ctx context.Context, p store.OrderPage) ([]models.Order, bool, error)
	WebhookDeliveries(ctx context.Context, orderID string) ([]models.WebhookDelivery, error)
	WebhookDelivery(ctx context.Context, orderID, deliveryID string) (models.WebhookDelivery, error)
}

var _ merchantAccounts = (*store.Store)(nil)

type createMerchantRequest struct {
	Name string `json:"name"`
}

// createMerchant (operator) registers a merchant and shows its API key once.
func (a *app) createMerchant(c *gin.Context) {
	acc := a.cfg.Store
	var req createMerchantRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		writeError(c, models.Invalid("invalid_name", "name must be 1 to 200 characters"))
		return
	}
	m, key, err := acc.CreateMerchant(c.Request.Context(), req.Name, "")
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"merchant": m, "api_key": key})
}

type webhookRequest struct {
	URL string `json:"url"`
}

// setMerchantWebhook sets where order events go and returns a new signing
// secret, shown this once (stored encrypted). Each call issues a new secret.
func (a *app) setMerchantWebhook(c *gin.Context) {
	acc := a.cfg.Store
	m, _ := merchant(c)
	var req webhookRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	req.URL = strings.TrimSpace(req.URL)
	if err := notify.CheckWebhookURL(req.URL, a.cfg.WebhookURLs); err != nil {
		// Well-formed, but not a URL we deliver to: 422.
		var e *models.Error
		if errors.As(err, &e) && (e.Code == notify.CodeAddressForbidden || e.Code == notify.CodeWebhookHTTPS) {
			err = asUnprocessable(e)
		}
		writeError(c, err)
		return
	}
	m, secret, err := acc.SetMerchantWebhook(c.Request.Context(), m.ID, merchantKey(c).ID, req.URL)
	if err != nil {
		writeError(c, err)
		return
	}
	a.announceAccountChange(c.Request.Context(), m.ID)
	c.JSON(http.StatusOK, gin.H{"webhook_url": m.WebhookURL, "signing_secret": secret})
}

// listMerchantOrdersPage answers GET /v1/merchant/orders with time filters
// and an opaque cursor (keyset on created_at, id: stable while orders arrive).
func (a *app) listMerchantOrdersPage(c *gin.Context, acc merchantAccounts, merchantID string, status models.OrderStatus, limit int) {
	p := store.OrderPage{MerchantID: merchantID, Status: status, Limit: limit}
	var err error
	if p.CreatedAfter, err = queryTime(c, "created_after"); err != nil {
		writeError(c, err)
		return
	}
	if p.CreatedBefore, err = queryTime(c, "created_before"); err != nil {
		writeError(c, err)
		return
	}
	if raw := c.Query("cursor"); raw != "" {
		if p.AfterCreatedAt, p.AfterID, err = decodeCursor(raw); err != nil {
			writeError(c, err)
			return
		}
	}
	orders, more, err := acc.MerchantOrdersPage(c.Request.Context(), p)
	if err != nil {
		writeError(c, err)
		return
	}
	body := gin.H{"orders": orders}
	if more && len(orders) > 0 {
		last := orders[len(orders)-1]
		body["next_cursor"] = encodeCursor(last.CreatedAt, last.ID)
	}
	c.JSON(http.StatusOK, body)
}

func queryTime(c *gin.Context, name string) (time.Time, error) {
	raw := c.Query(name)
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, models.Invalid("invalid_"+name, "%s must be an RFC 3339 time, e.g. 2024-05-01T00:00:00Z", name)
	}
	return t, nil
}

// encodeCursor hides the keyset so clients treat it as opaque and the shape
// can change.
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + ":" + id))
}

func decodeCursor(s string) (time.Time, string, error) {
	bad := models.Invalid("invalid_cursor", "cursor is not one this API issued")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", bad
	}
	ts, id, ok := strings.Cut(string(b), ":")
	micros, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || !models.ValidID(id) {
		return time.Time{}, "", bad
	}
	return time.UnixMicro(micros).UTC(), id, nil
}

// listDeliveries shows the webhook delivery log of one of the merchant's orders.
func (a *app) listDeliveries(c *gin.Context) {
	acc := a.cfg.Store
	o, _, ok := a.merchantOrder(c)
	if !ok {
		return
	}
	ds, err := acc.WebhookDeliveries(c.Request.Context(), o.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	if ds == nil {
		ds = []models.WebhookDelivery{}
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": ds})
}

// replayDelivery sends one event again through a Temporal workflow, so the
// replay retries like the original, outlives this request and is logged
// attempt by attempt.
func (a *app) replayDelivery(c *gin.Context) {
	acc := a.cfg.Store
	o, _, ok := a.merchantOrder(c)
	if !ok {
		return
	}
	if err := decodeOptionalJSON(c, &struct{}{}); err != nil {
		writeError(c, err)
		return
	}
	d, err := acc.WebhookDelivery(c.Request.Context(), o.ID, c.Param("delivery_id"))
	if err != nil {
		writeError(c, err)
		return
	}
	id := workflows.WebhookReplayWorkflowID(d.ID)
	run, err := a.cfg.Temporal.ExecuteWorkflow(c.Request.Context(), client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: a.cfg.TaskQueue,
		// A replay already running is joined; a finished one may run again.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                     map[string]any{"order_id": o.ID, "event_type": d.EventType},
	}, workflows.WebhookReplayWorkflowName, workflows.WebhookReplayInput{
		OrderID: o.ID, EventType: d.EventType, DeliveryID: d.ID, RetryInterval: a.cfg.NotifyRetryInterval,
	})
	if err != nil {
		writeError(c, fromTemporal(err))
		return
	}
	a.cfg.Logger.InfoContext(c.Request.Context(), "webhook replay started",
		"order_id", o.ID, "workflow_id", run.GetID(), "delivery_id", d.ID)
	c.JSON(http.StatusAccepted, gin.H{"delivery_id": d.ID, "event_type": d.EventType, "workflow_id": run.GetID()})
}

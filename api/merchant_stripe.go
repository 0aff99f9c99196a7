package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// ConnectGateway is what the API asks of Stripe Connect; *payments.Gateway
// satisfies it.
type ConnectGateway interface {
	CreateAccount(ctx context.Context, merchantID, email string) (models.AccountState, error)
	RetrieveAccount(ctx context.Context, accountID string) (models.AccountState, error)
	OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL, requestKey string) (string, int64, error)
	Transfers(ctx context.Context, destination string, from, to int64, max int) ([]payments.Transfer, error)
}

// ConnectStore keeps merchants' connected accounts and orders' fees;
// *store.Store satisfies it. It is looked up on Store, so the API's unit
// fakes need not implement it; the real store always does, and then no
// purchase passes without a merchant that can take charges.
type ConnectStore interface {
	MerchantStripe(ctx context.Context, merchantID string) (models.MerchantStripe, bool, error)
	AttachStripeAccount(ctx context.Context, merchantID string, st models.AccountState) (models.MerchantStripe, error)
	ApplyAccountState(ctx context.Context, st models.AccountState, eventCreated int64) (string, bool, error)
	OrderFee(ctx context.Context, orderID string) (models.OrderFee, bool, error)
	RefundSplits(ctx context.Context, orderID string) ([]models.RefundSplit, error)
	MerchantOrdersBetween(ctx context.Context, merchantID string, from, to time.Time, limit int) ([]models.Order, error)
}

// Connect configures merchants' connected accounts.
type Connect struct {
	// Gateway reaches Stripe; nil answers 503 on the onboarding and Connect
	// webhook endpoints.
	Gateway ConnectGateway
	// RefreshURL and ReturnURL are the Account Links' refresh_url and
	// return_url; "" points both at the API's GET /v1/merchant/stripe.
	RefreshURL, ReturnURL string
	// WebhookSecret verifies POST /v1/webhooks/stripe/connect; "" refuses
	// every delivery with 503.
	WebhookSecret string
}

func (a *app) connectStore() (ConnectStore, bool) {
	cs, ok := a.cfg.Store.(ConnectStore)
	return cs, ok
}

var errConnectUnavailable = models.Errorf(models.KindUnavailable, "connect_not_configured", "Stripe Connect is not configured")

// merchantStripeView is GET /v1/merchant/stripe.
type merchantStripeView struct {
	Onboarded bool `json:"onboarded"`
	models.MerchantStripe
}

// startOnboarding is POST /v1/merchant/stripe/onboarding: the merchant's
// connected account is created the first time (Stripe's key is derived from
// the merchant, so a retry makes no second account) and a fresh single-use
// onboarding link is answered.
func (a *app) startOnboarding(c *gin.Context) {
	ctx := c.Request.Context()
	m, _ := merchant(c)
	cs, ok := a.connectStore()
	gw := a.cfg.Connect.Gateway
	if !ok || gw == nil {
		writeError(c, errConnectUnavailable)
		return
	}
	ms, found, err := cs.MerchantStripe(ctx, m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	if !found {
		st, err := gw.CreateAccount(ctx, m.ID, "")
		if err != nil {
			writeError(c, err)
			return
		}
		if ms, err = cs.AttachStripeAccount(ctx, m.ID, st); err != nil {
			writeError(c, err)
			return
		}
	}
	refresh, ret := a.cfg.Connect.RefreshURL, a.cfg.Connect.ReturnURL
	if refresh == "" || ret == "" {
		self := requestScheme(c) + "://" + c.Request.Host + "/v1/merchant/stripe"
		refresh, ret = self, self
	}
	url, expires, err := gw.OnboardingLink(ctx, ms.AccountID, refresh, ret, requestIDOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"account_id": ms.AccountID, "url": url, "expires_at": time.Unix(expires, 0).UTC()})
}

func requestScheme(c *gin.Context) string {
	if c.Request.TLS != nil {
		return "https"
	}
	return "http"
}

func requestIDOf(c *gin.Context) string {
	if id := c.Writer.Header().Get(headerRequestID); id != "" {
		return id
	}
	return time.Now().UTC().Format("20060102T150405.000000000")
}

// getMerchantStripe is GET /v1/merchant/stripe: the account as Stripe last
// reported it.
func (a *app) getMerchantStripe(c *gin.Context) {
	m, _ := merchant(c)
	cs, ok := a.connectStore()
	if !ok {
		writeError(c, errConnectUnavailable)
		return
	}
	ms, found, err := cs.MerchantStripe(c.Request.Context(), m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	ms.MerchantID = m.ID
	c.JSON(http.StatusOK, merchantStripeView{Onboarded: found, MerchantStripe: ms})
}

// checkAcceptsPayments refuses a purchase from a merchant whose connected
// account is missing or cannot take charges, before any key is claimed,
// stock taken or workflow started. A retry of an order that exists passes,
// so its outcome stays reachable.
//
// A merchant found able to take charges is not read again for
// acceptingRecheck (see acceptingMerchants): a disconnected or restricted
// merchant stops taking new payments at once all the same, since the
// workflow's authorization checks the account again before it asks Stripe
// (store.SnapshotOrderFee), and this check refuses it up front at most
// acceptingRecheck (2 s) after the change reached the store, on every
// replica; the replica that applied Stripe's event forgets the merchant at
// once.
func (a *app) checkAcceptsPayments(ctx context.Context, merchantID, orderID string) error {
	cs, ok := a.connectStore()
	if !ok || merchantID == "" {
		return nil
	}
	if a.accepting.recent(merchantID, time.Now()) {
		return nil
	}
	ms, found, err := cs.MerchantStripe(ctx, merchantID)
	if err != nil {
		return err
	}
	if err := models.CheckAcceptsPayments(ms, found); err != nil {
		if _, oerr := a.cfg.Store.Order(ctx, orderID); oerr == nil {
			return nil
		}
		return err
	}
	a.accepting.remember(merchantID, time.Now())
	return nil
}

// merchantAcceptsPayments is the product card's half of the same rule.
func (a *app) merchantAcceptsPayments(ctx context.Context, merchantID string) bool {
	cs, ok := a.connectStore()
	if !ok {
		return true
	}
	ms, found, err := cs.MerchantStripe(ctx, merchantID)
	return err == nil && models.CheckAcceptsPayments(ms, found) == nil
}

// connectWebhook is POST /v1/webhooks/stripe/connect, Stripe's Connect
// endpoint: signed like the platform's, each event claimed then handled
// once. account.updated only prompts a read of the account at Stripe, and
// the store applies it only when the event is not older than the last one
// applied, so late, repeated or out-of-order events never bring an older
// state back.
func (a *app) connectWebhook(c *gin.Context) {
	events := a.stripeEvents()
	payload, err := readRawBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ev, err := payments.ParseWebhook(payload, c.GetHeader("Stripe-Signature"), a.cfg.Connect.WebhookSecret, webhookNow())
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	log := loggerFrom(c).With(slog.String("event_id", ev.ID), slog.String("event_type", ev.Type))
	if !claimEvent(c, events, ev, "") {
		return
	}
	applied, err := a.actOnAccountEvent(ctx, ev)
	if err != nil {
		releaseEvent(ctx, log, events, ev.ID)
		writeError(c, err)
		return
	}
	a.markHandled(ctx, log, events, ev.ID)
	log.InfoContext(ctx, "Connect event handled", slog.String("account_id", ev.Account), slog.Bool("applied", applied))
	c.JSON(http.StatusOK, gin.H{"received": true, "applied": applied})
}

func (a *app) actOnAccountEvent(ctx context.Context, ev payments.WebhookEvent) (bool, error) {
	if ev.Type != payments.EventAccountUpdated {
		return false, nil
	}
	id := ev.Account
	if id == "" {
		id = ev.ObjectID
	}
	cs, ok := a.connectStore()
	if !ok || a.cfg.Connect.Gateway == nil {
		return false, errConnectUnavailable
	}
	if !payments.ValidAccountID(id) {
		return false, nil
	}
	st, err := a.cfg.Connect.Gateway.RetrieveAccount(ctx, id)
	if payments.IsMissing(err) {
		return false, nil // not an account Stripe knows for us
	}
	if err != nil {
		return false, err
	}
	merchantID, applied, err := cs.ApplyAccountState(ctx, st, ev.Created)
	if merchantID != "" {
		a.accepting.forget(merchantID)
	}
	return applied, err
}

// merchantPayout is the order's fee and net for its merchant; nil for a
// buyer, or an order without a fee snapshot.
func (a *app) merchantPayout(c *gin.Context, o models.Order) (*models.OrderBalance, error) {
	if _, ok := merchant(c); !ok {
		return nil, nil
	}
	cs, ok := a.connectStore()
	if !ok {
		return nil, nil
	}
	fee, found, err := cs.OrderFee(c.Request.Context(), o.ID)
	if err != nil || !found {
		return nil, err
	}
	splits, err := cs.RefundSplits(c.Request.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	b := models.NewOrderBalance(o, fee, splits)
	if o.CapturedMinor == 0 {
		// Not captured yet: the fee the order will pay at capture.
		b.Fee, b.Net = fee.FeeMinor, o.AmountMinor-fee.FeeMinor
	}
	return &b, nil
}

// merchantFees sets a merchant's own platform fee; *store.Store satisfies it.
type merchantFees interface {
	SetMerchantFee(ctx context.Context, merchantID string, fee *models.FeePolicy) error
}

// setMerchantFee is PUT /v1/admin/merchants/{id}/fee ({"fee_bps","fee_fixed"})
// and DELETE (back to the platform's fee). Orders already placed keep the
// fee they were placed with.
func (a *app) setMerchantFee(c *gin.Context) {
	id := c.Param("id")
	if !models.ValidID(id) {
		writeError(c, models.NotFound("merchant"))
		return
	}
	fees, ok := a.cfg.Store.(merchantFees)
	if !ok {
		writeError(c, errConnectUnavailable)
		return
	}
	var fee *models.FeePolicy
	if c.Request.Method == http.MethodPut {
		fee = &models.FeePolicy{}
		if err := decodeJSON(c, fee); err != nil {
			writeError(c, err)
			return
		}
	}
	if err := fees.SetMerchantFee(c.Request.Context(), id, fee); err != nil {
		writeError(c, err)
		return
	}
	a.cfg.Logger.InfoContext(c.Request.Context(), "merchant fee set by an operator", "merchant_id", id)
	c.JSON(http.StatusOK, gin.H{"merchant_id": id, "fee_override": fee})
}

package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// purchaseRequest is the body of POST /v1/purchases.
type purchaseRequest struct {
	ProductID       string         `json:"product_id"`
	Quantity        int            `json:"quantity"`
	ShippingAddress models.Address `json:"shipping_address"`
	PaymentMethod   string         `json:"payment_method"`
	// SaveDetails (default true) remembers a first purchase's details for
	// one-tap purchases; false opts out.
	SaveDetails *bool  `json:"save_details,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	// VariantID (or Options) names the variant, QuoteID the quote the
	// buyer saw, ShippingRate the rate chosen (see quotes.go).
	VariantID    string            `json:"variant_id,omitempty"`
	Options      map[string]string `json:"options,omitempty"`
	QuoteID      string            `json:"quote_id,omitempty"`
	ShippingRate string            `json:"shipping_rate,omitempty"`
}

// validate checks what can be checked without I/O and normalises the address.
func (r *purchaseRequest) validate() error {
	if !models.ValidID(r.ProductID) {
		return models.Invalid("invalid_product_id", "product_id is not a valid id")
	}
	if r.Quantity < 1 || r.Quantity > models.MaxQuantityPerOrder {
		return models.Invalid("invalid_quantity", "quantity must be between 1 and %d", models.MaxQuantityPerOrder)
	}
	r.Email, r.Phone = strings.TrimSpace(r.Email), strings.TrimSpace(r.Phone)
	if err := models.CheckContact(r.Email, r.Phone); err != nil {
		return err
	}
	if r.oneTap() {
		return nil
	}
	r.ShippingAddress.Normalize()
	if err := r.ShippingAddress.Validate(); err != nil {
		return err
	}
	return models.CheckPaymentMethod(r.PaymentMethod)
}

// hash fingerprints the validated request, so a reused Idempotency-Key with
// another body is told apart from a retry. Field order is fixed by the
// struct, so the encoding is canonical.
func (r *purchaseRequest) hash() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (a *app) createPurchase(c *gin.Context) {
	ctx := c.Request.Context()
	buyer, _ := buyerID(c)
	key, err := requireIdempotencyKey(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req purchaseRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := req.validate(); err != nil {
		writeError(c, err)
		return
	}
	// Admission comes before any store read or write: under overload a
	// refusal costs nothing but the request, and starts nothing.
	admitted, err := a.admission.acquire(ctx)
	if err != nil {
		writeBusy(c, err)
		return
	}
	timedOut := false
	defer func() { admitted.done(timedOut) }()
	orderID := models.OrderIDFromIdempotencyKey(buyer, key)
	logOrder(c, orderID)
	// Read once: the rollout, the purchasable checks and the pricing need it.
	product, productErr := a.readProduct(ctx, req.ProductID)
	if err := a.checkRollout(ctx, buyerIdentity{ID: buyer, Country: buyerCountry(c)}, product.MerchantID, orderID); err != nil {
		writeError(c, err)
		return
	}
	productTitle, err := a.checkPurchasable(ctx, product.Product, productErr, req, orderID)
	if err != nil {
		writeError(c, err)
		return
	}
	if err := a.checkAcceptsPayments(ctx, product.MerchantID, orderID); err != nil {
		writeError(c, err)
		return
	}
	hash := req.hash()
	rec, created, err := a.cfg.Store.ClaimIdempotencyKey(ctx, idempotencyScope(buyer), key, hash, orderID)
	if err != nil {
		writeError(c, err)
		return
	}
	if !created && rec.RequestHash != hash {
		writeError(c, models.Invalid(codeIdempotencyKeyReused, "this Idempotency-Key was used with a different request"))
		return
	}
	if rec.OrderID != "" && rec.OrderID != orderID {
		orderID = rec.OrderID
		logOrder(c, orderID)
	}
	in := workflows.PurchaseInput{
		OrderID:              orderID,
		BuyerID:              buyer,
		ProductID:            req.ProductID,
		Quantity:             req.Quantity,
		Shipping:             req.ShippingAddress,
		PaymentMethod:        req.PaymentMethod,
		AcceptTimeout:        a.cfg.AcceptTimeout,
		ShipBy:               a.cfg.ShipBy,
		AutoCompleteAfter:    a.cfg.AutoCompleteAfter,
		PaymentActionTimeout: a.cfg.PaymentActionTimeout,
	}
	if err := a.applyProfile(ctx, &in, req); err != nil {
		writeError(c, err)
		return
	}
	// A key created just now has no order yet: order ids come from the key
	// (OrderIDFromIdempotencyKey), only a request that claimed the key
	// starts the order's workflow, and keys are never deleted.
	pricing, err := a.priceBeforePaying(ctx, &in, req, product, !created)
	if err != nil {
		var expired *quoteExpired
		if errors.As(err, &expired) {
			writeQuoteExpired(c, expired)
			return
		}
		writeError(c, err)
		return
	}
	attrs := workflows.PendingOrderAttributes(product.MerchantID, pricing.Total, pricing.Currency)
	in.Attributes = &attrs
	res, err := a.pay(ctx, productTitle, in)
	timedOut = err == nil && res.Status == models.StatusPending
	if err != nil {
		writeError(c, err)
		return
	}
	if res.Status == models.StatusInvalid && res.FailureCode == models.CodeQuoteExpired {
		a.requote(c, in)
		return
	}
	writePayResult(c, res)
}

// writeBusy refuses a purchase the admission could not place in time (see
// admission.go), with a Retry-After of when a place is expected. It is an
// answer, not a failure: nothing is logged beyond the access log. Nothing
// was read or started, so the client's retry with the same Idempotency-Key
// is a first try.
func writeBusy(c *gin.Context, err error) {
	wait := time.Second
	var busy *busyError
	if errors.As(err, &busy) {
		wait = busy.RetryAfter
	}
	setRetryAfter(c.Writer, wait)
	c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": errorBody{Code: "busy",
		Message: "too many purchases in progress; retry with the same Idempotency-Key"}})
}

// readProduct reads the requested product with its variants when there is
// a catalogue (pricing then needs no second read), else the product alone.
func (a *app) readProduct(ctx context.Context, productID string) (models.ProductDetail, error) {
	if cat := a.catalogue(); cat != nil {
		return cat.ProductDetail(ctx, productID)
	}
	p, err := a.cfg.Store.Product(ctx, productID)
	return models.ProductDetail{Product: p}, err
}

// checkPurchasable fails fast from the read model so that obviously doomed
// purchases start no workflow. A retry of a purchase whose order already
// exists skips it: the product may have changed since, the answer must not.
// p and err are the result of reading the requested product.
func (a *app) checkPurchasable(ctx context.Context, p models.Product, err error, req purchaseRequest, orderID string) (productTitle string, _ error) {
	if err == nil && p.Active {
		err = p.CheckQuantity(req.Quantity)
	} else if err == nil {
		err = models.Conflict(codeProductUnavailable, "product is not available")
	} else if errors.Is(err, models.ErrNotFound) {
		err = models.NotFound("product")
	}
	if err == nil {
		return p.Title, nil
	}
	if o, oerr := a.cfg.Store.Order(ctx, orderID); oerr == nil {
		return o.ProductTitle, nil
	}
	return "", err
}

// pay starts the order's workflow if needed and waits, at most PayWait, for
// the answer of its pay update. Concurrent and repeated calls for one order
// reach the same workflow and the same update, so they get the same answer.
// attrs are the search attributes a workflow started here begins with.
func (a *app) pay(ctx context.Context, productTitle string, in workflows.PurchaseInput) (workflows.PayResult, error) {
	var attrs temporal.SearchAttributes
	if in.Attributes != nil {
		attrs = in.Attributes.SearchAttributes()
	}
	waitCtx, cancel := context.WithTimeout(ctx, a.cfg.PayWait)
	defer cancel()

	op := a.cfg.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(in.OrderID),
		TaskQueue:                a.cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowTaskTimeout:      workflows.PurchaseTaskTimeout,
		Memo:                     purchaseMemo(in, productTitle),
		TypedSearchAttributes:    attrs,
	}, workflows.PurchaseWorkflowName, in)
	var res workflows.PayResult
	h, err := a.cfg.Temporal.UpdateWithStartWorkflow(waitCtx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     workflows.PayUpdateID,
			UpdateName:   workflows.UpdatePay,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		err = h.Get(waitCtx, &res)
	}
	switch {
	case err == nil:
		if res.OrderID == "" {
			res.OrderID = in.OrderID
		}
		return res, nil
	case waitedTooLong(waitCtx, err):
		return workflows.PayResult{OrderID: in.OrderID, Status: models.StatusPending}, nil
	case workflowClosed(err):
		return a.closedPayResult(ctx, in.OrderID)
	default:
		return workflows.PayResult{}, fromTemporal(err)
	}
}

// waitedTooLong reports whether the pay wait ran out. The workflow goes on;
// the client polls the order.
func waitedTooLong(waitCtx context.Context, err error) bool {
	var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	return errors.As(err, &timeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(waitCtx.Err(), context.DeadlineExceeded)
}

// workflowClosed reports whether the order's workflow has already finished:
// a retry long after the purchase.
func workflowClosed(err error) bool {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	var nf *serviceerror.NotFound
	return errors.As(err, &started) || errors.As(err, &nf)
}

// closedPayResult answers a retry whose workflow has closed: first from the
// pay update's recorded outcome (Temporal keeps it with the closed
// workflow), else from the stored order.
func (a *app) closedPayResult(ctx context.Context, orderID string) (workflows.PayResult, error) {
	waitCtx, cancel := context.WithTimeout(ctx, a.cfg.PayWait)
	defer cancel()
	h, err := a.cfg.Temporal.UpdateWorkflow(waitCtx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(orderID),
		UpdateID:     workflows.PayUpdateID,
		UpdateName:   workflows.UpdatePay,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.PayResult
	if err == nil && h != nil && h.Get(waitCtx, &res) == nil && res.Status != "" {
		if res.OrderID == "" {
			res.OrderID = orderID
		}
		return res, nil
	}
	o, err := a.cfg.Store.Order(ctx, orderID)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return workflows.PayResult{}, models.Conflict(codeOrderClosed, "the order for this Idempotency-Key is closed")
		}
		return workflows.PayResult{}, err
	}
	return workflows.PayResult{OrderID: o.ID, Status: o.Status, Amount: o.AmountMinor, Currency: o.Currency,
		FailureCode: o.FailureCode}, nil
}

// writePayResult answers a purchase. Failed payments carry the error object
// and the order, so the client can show the reason and still find the order.
func writePayResult(c *gin.Context, res workflows.PayResult) {
	body := gin.H{"order_id": res.OrderID, "status": res.Status}
	if res.Status != models.StatusPending {
		body["amount"] = res.Amount
		body["currency"] = res.Currency
	}
	c.Header("Location", "/v1/orders/"+res.OrderID)
	var failure error
	switch res.Status {
	case models.StatusPending:
		c.JSON(http.StatusAccepted, body)
		return
	case models.StatusRequiresAction:
		body["client_secret"] = res.ClientSecret
		// Shaped like Stripe's next_action, so Stripe.js-style clients can
		// branch on its type.
		body["next_action"] = gin.H{"type": orDefault(res.NextActionType, "use_stripe_sdk")}
	case models.StatusPaymentFailed:
		failure = models.Errorf(models.KindPaymentDeclined, orDefault(res.FailureCode, "payment_declined"),
			"%s", orDefault(res.Message, "the payment was declined"))
	case models.StatusSoldOut:
		failure = models.Errorf(models.KindSoldOut, "sold_out", "%s", orDefault(res.Message, "the product is sold out"))
	case models.StatusInvalid:
		failure = asUnprocessable(models.Invalid(orDefault(res.FailureCode, "invalid_order"),
			"%s", orDefault(res.Message, "the order cannot be placed")))
	}
	if failure != nil {
		status, eb := publicError(failure)
		body["error"] = eb
		c.JSON(status, body)
		return
	}
	c.JSON(http.StatusCreated, body)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// idempotencyScope keeps buyers' keys apart from each other and from any
// future merchant keys.
func idempotencyScope(buyerID string) string { return models.BuyerActor(buyerID) }

package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/workflows"
)

// codeProfileRequired tells a client that sent a one-tap purchase to collect
// a shipping address and a card: the buyer has no saved details.
const codeProfileRequired = "profile_required"

// ProfileStore is the saved-profile part of the store; *store.Store satisfies it.
type ProfileStore interface {
	Profile(ctx context.Context, buyerID string) (models.Profile, error)
	// ProfileForPurchase is Profile for a one-tap purchase: it also records
	// that the order takes its address from the profile, so an erasure
	// racing the purchase does not leave the address on the order.
	ProfileForPurchase(ctx context.Context, buyerID, orderID string) (models.Profile, error)
	UpdateProfile(ctx context.Context, p models.Profile) (models.Profile, error)
	EraseProfile(ctx context.Context, buyerID string) (store.ErasedProfile, error)
}

var _ ProfileStore = (*store.Store)(nil)

// profiles is Config.Profiles, or else the Store.
func (a *app) profiles() ProfileStore {
	if a.cfg.Profiles != nil {
		return a.cfg.Profiles
	}
	return a.cfg.Store
}

// oneTap reports whether a purchase relies on the saved profile: it names
// neither an address nor a card.
func (r *purchaseRequest) oneTap() bool {
	return r.ShippingAddress == (models.Address{}) && r.PaymentMethod == ""
}

// applyProfile completes a purchase's workflow input with the buyer's saved
// details (one tap), or asks a first purchase to save them (the default).
func (a *app) applyProfile(ctx context.Context, in *workflows.PurchaseInput, req purchaseRequest) error {
	profiles := a.profiles()
	if !req.oneTap() {
		in.SaveDetails = req.SaveDetails == nil || *req.SaveDetails
		in.Email, in.Phone = req.Email, req.Phone
		if in.SaveDetails {
			// A buyer who has a profile keeps it; PUT /v1/me/profile changes it.
			if _, err := profiles.Profile(ctx, in.BuyerID); err == nil {
				in.SaveDetails = false
			} else if !errors.Is(err, models.ErrNotFound) {
				return err
			}
		}
		return nil
	}
	p, err := profiles.ProfileForPurchase(ctx, in.BuyerID, in.OrderID)
	switch {
	case err == nil:
		in.Shipping, in.PaymentMethod, in.Customer = p.Shipping, p.PaymentMethodID, p.StripeCustomerID
		return nil
	case !errors.Is(err, models.ErrNotFound):
		return err
	}
	// A retry of a purchase that was placed before the profile went away
	// continues its order, whose workflow already has its details.
	if _, oerr := a.cfg.Store.Order(ctx, in.OrderID); oerr == nil {
		return nil
	}
	return asUnprocessable(models.Invalid(codeProfileRequired,
		"no saved details: send shipping_address and payment_method"))
}

// profileView is the masked profile a buyer sees: enough to recognise their
// details, never the full address or contact data.
type profileView struct {
	Shipping struct {
		City    string `json:"city"`
		Country string `json:"country"`
	} `json:"shipping_address"`
	Card     models.CardSummary `json:"card"`
	HasEmail bool               `json:"has_email"`
	HasPhone bool               `json:"has_phone"`
}

func maskProfile(p models.Profile) profileView {
	var v profileView
	v.Shipping.City, v.Shipping.Country = p.Shipping.City, p.Shipping.Country
	v.Card = p.Card
	v.HasEmail, v.HasPhone = p.Email != "", p.Phone != ""
	return v
}

func (a *app) getProfile(c *gin.Context) {
	profiles := a.profiles()
	buyer, _ := buyerID(c)
	p, err := profiles.Profile(c.Request.Context(), buyer)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, maskProfile(p))
}

// profileUpdate is the body of PUT /v1/me/profile: the fields given replace
// the saved ones; an empty email or phone string removes it.
type profileUpdate struct {
	ShippingAddress *models.Address `json:"shipping_address"`
	Email           *string         `json:"email"`
	Phone           *string         `json:"phone"`
	PaymentMethod   string          `json:"payment_method"`
}

func (a *app) putProfile(c *gin.Context) {
	ctx := c.Request.Context()
	profiles := a.profiles()
	buyer, _ := buyerID(c)
	var req profileUpdate
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.ShippingAddress != nil {
		req.ShippingAddress.Normalize()
		if err := req.ShippingAddress.Validate(); err != nil {
			writeError(c, err)
			return
		}
	}
	var requestKey string
	if req.PaymentMethod != "" {
		var err error
		if err = models.CheckPaymentMethod(req.PaymentMethod); err == nil {
			requestKey, err = cardRequestKey(c, req.PaymentMethod)
		}
		if err != nil {
			writeError(c, err)
			return
		}
	}
	p, err := profiles.Profile(ctx, buyer)
	if err != nil {
		writeError(c, err)
		return
	}
	merged := req.apply(p)
	if err := models.CheckContact(merged.Email, merged.Phone); err != nil {
		writeError(c, err)
		return
	}
	if req.PaymentMethod != "" {
		// The card goes first: if it is refused nothing else changes, and
		// the details below are applied to the profile as the change left it.
		if err := a.replaceCard(ctx, p, requestKey, req.PaymentMethod); err != nil {
			writeError(c, err)
			return
		}
		if p, err = profiles.Profile(ctx, buyer); err != nil {
			writeError(c, err)
			return
		}
	}
	if req.changesDetails() {
		if p, err = profiles.UpdateProfile(ctx, req.apply(p)); err != nil {
			writeError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, maskProfile(p))
}

// apply returns p with the update's address and contact fields; the card is
// replaced by its own workflow, not here.
func (u profileUpdate) apply(p models.Profile) models.Profile {
	if u.ShippingAddress != nil {
		p.Shipping = *u.ShippingAddress
	}
	if u.Email != nil {
		p.Email = strings.TrimSpace(*u.Email)
	}
	if u.Phone != nil {
		p.Phone = strings.TrimSpace(*u.Phone)
	}
	return p
}

func (u profileUpdate) changesDetails() bool {
	return u.ShippingAddress != nil || u.Email != nil || u.Phone != nil
}

// deleteProfile erases the buyer's saved details. The card is detached at
// Stripe by a workflow started before anything is forgotten, so the ids it
// needs are never lost, and it completes even while Stripe is down. Erasing
// again, or without a profile, still redacts ended orders and answers 204.
func (a *app) deleteProfile(c *gin.Context) {
	ctx := c.Request.Context()
	profiles := a.profiles()
	buyer, _ := buyerID(c)
	p, err := profiles.Profile(ctx, buyer)
	switch {
	case err == nil:
		if err := a.startErasure(ctx, p); err != nil {
			writeError(c, err)
			return
		}
	case !errors.Is(err, models.ErrNotFound):
		writeError(c, err)
		return
	}
	if _, err := profiles.EraseProfile(ctx, buyer); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *app) startErasure(ctx context.Context, p models.Profile) error {
	_, err := a.cfg.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.ProfileErasureWorkflowID(p.ID),
		TaskQueue:                a.cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.ProfileErasureWorkflowName, workflows.ProfileErasureInput{
		ProfileID: p.ID, PaymentMethodID: p.PaymentMethodID,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil // an earlier DELETE already erased this profile at Stripe
	}
	if err != nil {
		return fromTemporal(err)
	}
	return nil
}

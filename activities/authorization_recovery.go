package activities

import (
	"context"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// IntentFinder finds an order's PaymentIntent without knowing its id;
// *payments.Gateway satisfies it. It is looked up on Payments rather than
// added to it, so payment fakes that never search need not implement it.
type IntentFinder interface {
	FindIntentByOrder(ctx context.Context, orderID string) (payments.Intent, bool, error)
}

// CodeAuthorizationNotFound is the retryable failure FindAndVoidAuthorization
// returns while Stripe's search shows no intent for the order: the index
// lags writes, so only the retry policy running out means there is none.
const CodeAuthorizationNotFound = "authorization_not_found"

// AuthorizationRecovery is what FindAndVoidAuthorization found and did.
type AuthorizationRecovery struct {
	IntentID string `json:"intent_id"`
	Status   string `json:"status"` // the intent's status after the step
	Voided   bool   `json:"voided"` // this step canceled it
}

// FindAndVoidAuthorization looks for the PaymentIntent of an order whose
// authorize outcome is unknown (every attempt failed without an answer, yet
// one may have gone through at Stripe) and voids it, so no hold is left on
// the buyer's card. An intent already canceled is left alone. The cancel uses
// the order's cancel idempotency key of this attempt, like every void of the
// order.
func (a *Activities) FindAndVoidAuthorization(ctx context.Context, orderID string) (AuthorizationRecovery, error) {
	rec, err := a.findAndVoidAuthorization(ctx, orderID)
	return rec, failures.ToTemporal(err)
}

func (a *Activities) findAndVoidAuthorization(ctx context.Context, orderID string) (AuthorizationRecovery, error) {
	finder, ok := a.Payments.(IntentFinder)
	if !ok {
		return AuthorizationRecovery{}, models.Errorf(models.KindInternal, "intent_search_unsupported",
			"the payment gateway cannot search intents")
	}
	in, found, err := finder.FindIntentByOrder(ctx, orderID)
	if err != nil {
		return AuthorizationRecovery{}, err
	}
	if !found {
		return AuthorizationRecovery{}, models.Errorf(models.KindUnavailable, CodeAuthorizationNotFound,
			"no payment intent found for the order yet")
	}
	rec := AuthorizationRecovery{IntentID: in.ID, Status: in.Status}
	if in.Status == payments.IntentCanceled {
		return rec, nil
	}
	voided, err := a.Payments.Cancel(ctx, orderID, in.ID, attempt(ctx))
	if err != nil {
		return rec, err
	}
	rec.Status, rec.Voided = voided.Status, true
	a.orderLog(ctx, orderID).InfoContext(ctx, "Voided an authorization whose answer was lost", "intent_id", in.ID)
	return rec, nil
}

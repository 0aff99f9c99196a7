package payments

import (
	"context"
	"errors"
	"strings"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// Account is what the checkout needs to know of a merchant's connected
// account.
type Account = models.AccountState

// EventAccountUpdated is Stripe's news of a connected account's change.
const EventAccountUpdated = "account.updated"

// MetadataMerchantID tags a connected account with the merchant it pays.
const MetadataMerchantID = "merchant_id"

// CreateAccount creates the merchant's connected account with controller
// properties equivalent to an Express account: the platform pays Stripe's
// fees and is liable for negative balances (it makes destination charges),
// Stripe collects the requirements through hosted onboarding, and the
// merchant gets the Express dashboard. card_payments and transfers are
// requested: on_behalf_of needs the first, transfer_data the second.
// The key is derived from the merchant, so a retried onboarding request
// never creates a second account.
func (g *Gateway) CreateAccount(ctx context.Context, merchantID, email string) (Account, error) {
	params := &stripe.AccountParams{
		Controller: &stripe.AccountControllerParams{
			Fees:                  &stripe.AccountControllerFeesParams{Payer: stripe.String(string(stripe.AccountControllerFeesPayerApplication))},
			Losses:                &stripe.AccountControllerLossesParams{Payments: stripe.String(string(stripe.AccountControllerLossesPaymentsApplication))},
			RequirementCollection: stripe.String(string(stripe.AccountControllerRequirementCollectionStripe)),
			StripeDashboard:       &stripe.AccountControllerStripeDashboardParams{Type: stripe.String(string(stripe.AccountControllerStripeDashboardTypeExpress))},
		},
		Capabilities: &stripe.AccountCapabilitiesParams{
			CardPayments: &stripe.AccountCapabilitiesCardPaymentsParams{Requested: stripe.Bool(true)},
			Transfers:    &stripe.AccountCapabilitiesTransfersParams{Requested: stripe.Bool(true)},
		},
	}
	if email != "" {
		params.Email = stripe.String(email)
	}
	params.AddMetadata(MetadataMerchantID, merchantID)
	params.IdempotencyKey = stripe.String("merchant:" + merchantID + ":account")
	params.Context = ctx
	a, err := g.sc.Accounts.New(params)
	if err != nil {
		return Account{}, classify(err)
	}
	return toAccount(a), nil
}

// RetrieveAccount reads a connected account's current state.
func (g *Gateway) RetrieveAccount(ctx context.Context, accountID string) (Account, error) {
	params := &stripe.AccountParams{}
	params.Context = ctx
	a, err := g.sc.Accounts.GetByID(accountID, params)
	if err != nil {
		return Account{}, classify(err)
	}
	return toAccount(a), nil
}

// OnboardingLink is a single-use Account Link for the merchant to finish
// (or update) onboarding at Stripe. requestKey names the request that asked
// for it, so stripe-go's own retries reuse one link.
func (g *Gateway) OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL, requestKey string) (url string, expiresAt int64, err error) {
	params := &stripe.AccountLinkParams{
		Account:    stripe.String(accountID),
		RefreshURL: stripe.String(refreshURL),
		ReturnURL:  stripe.String(returnURL),
		Type:       stripe.String(string(stripe.AccountLinkTypeAccountOnboarding)),
	}
	params.IdempotencyKey = stripe.String("account:" + accountID + ":link:" + requestKey)
	params.Context = ctx
	l, err := g.sc.AccountLinks.New(params)
	if err != nil {
		return "", 0, classify(err)
	}
	return l.URL, l.ExpiresAt, nil
}

// Transfer is a transfer to a connected account, as Stripe has it.
type Transfer struct {
	ID             string `json:"id"`
	Destination    string `json:"destination"`
	Charge         string `json:"charge"`
	TransferGroup  string `json:"transfer_group"`
	Amount         int64  `json:"amount"`
	AmountReversed int64  `json:"amount_reversed"`
	Created        int64  `json:"created"`
}

// Transfers lists the transfers made to a connected account created in
// [from, to) (Unix seconds; 0 = unbounded), newest first, up to max.
func (g *Gateway) Transfers(ctx context.Context, destination string, from, to int64, max int) ([]Transfer, error) {
	params := &stripe.TransferListParams{Destination: stripe.String(destination)}
	if from > 0 || to > 0 {
		params.CreatedRange = &stripe.RangeQueryParams{}
		if from > 0 {
			params.CreatedRange.GreaterThanOrEqual = from
		}
		if to > 0 {
			params.CreatedRange.LesserThan = to
		}
	}
	params.Limit = stripe.Int64(100)
	params.Context = ctx
	var out []Transfer
	it := g.sc.Transfers.List(params)
	for it.Next() && len(out) < max {
		t := it.Transfer()
		tr := Transfer{ID: t.ID, Amount: t.Amount, AmountReversed: t.AmountReversed, Created: t.Created, TransferGroup: t.TransferGroup}
		if t.Destination != nil {
			tr.Destination = t.Destination.ID
		}
		if t.SourceTransaction != nil {
			tr.Charge = t.SourceTransaction.ID
		}
		out = append(out, tr)
	}
	if err := it.Err(); err != nil {
		return nil, classify(err)
	}
	return out, nil
}

func toAccount(a *stripe.Account) Account {
	out := Account{AccountID: a.ID, ChargesEnabled: a.ChargesEnabled, PayoutsEnabled: a.PayoutsEnabled, DetailsDone: a.DetailsSubmitted,
		RequirementsDue: []string{}}
	if r := a.Requirements; r != nil {
		out.RequirementsDue = append(out.RequirementsDue, r.CurrentlyDue...)
		out.DisabledReason = string(r.DisabledReason)
	}
	return out
}

// ValidAccountID reports whether s looks like a connected account id.
func ValidAccountID(s string) bool { return strings.HasPrefix(s, "acct_") && models.ValidID(s) }

// IsMissing reports whether err is Stripe saying the object does not exist
// (resource_missing), as opposed to any other refusal.
func IsMissing(err error) bool {
	var e *models.Error
	return errors.As(err, &e) && e.Code == "resource_missing"
}

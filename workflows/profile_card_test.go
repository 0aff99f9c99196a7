package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// cardStripe fakes the Stripe and store steps of a card change and records
// them in order.
type cardStripe struct {
	mu       sync.Mutex
	calls    []string
	keys     []string
	changes  []models.CardChange
	detached []string
	deleted  []string

	attachErr  error
	replaceErr error
}

func (f *cardStripe) log(call, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if key != "" {
		f.keys = append(f.keys, key)
	}
}

type cardRun struct {
	env    *testsuite.TestWorkflowEnvironment
	fake   *cardStripe
	answer *updateOutcome
}

func runCardChange(t *testing.T, fake *cardStripe, in ProfileCardInput) cardRun {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "profile-card-b-r"})
	env.OnActivity(acts.CreateProfileCustomer, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, ref, key string) (string, error) {
			fake.log("CreateProfileCustomer", key)
			return "cus_new", nil
		})
	env.OnActivity(acts.AttachProfileCard, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, pm, customer, key string) (payments.Card, error) {
			fake.log("AttachProfileCard", key)
			if fake.attachErr != nil {
				return payments.Card{}, fake.attachErr
			}
			return payments.Card{ID: "pm_saved_" + strings.TrimPrefix(pm, "pm_"), Brand: "mastercard", Last4: "4444", ExpMonth: 12, ExpYear: 2034}, nil
		})
	env.OnActivity(acts.ReplaceProfileCard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, c models.CardChange) error {
			fake.log("ReplaceProfileCard", "")
			fake.mu.Lock()
			defer fake.mu.Unlock()
			fake.changes = append(fake.changes, c)
			return fake.replaceErr
		})
	env.OnActivity(acts.DetachSavedCard, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, profileID, pm string) error {
			fake.log("DetachSavedCard", "")
			fake.mu.Lock()
			defer fake.mu.Unlock()
			fake.detached = append(fake.detached, pm)
			return nil
		})
	env.OnActivity(acts.DiscardCustomer, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, customer, key string) error {
			fake.log("DiscardCustomer", key)
			fake.mu.Lock()
			defer fake.mu.Unlock()
			fake.deleted = append(fake.deleted, customer)
			return nil
		})
	r := cardRun{env: env, fake: fake, answer: &updateOutcome{}}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateCardResult, CardResultUpdateID, &testsuite.TestUpdateCallback{
			OnAccept: func() { r.answer.accepted = true },
			OnReject: func(err error) { r.answer.rejected = err },
			OnComplete: func(v any, err error) {
				r.answer.completed, r.answer.result, r.answer.err = true, v, err
			},
		})
	}, 0)
	env.ExecuteWorkflow(ProfileCardWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.True(t, r.answer.completed, "the card-result update was answered")
	require.NoError(t, r.answer.err)
	return r
}

func (r cardRun) result() ProfileCardResult { return r.answer.result.(ProfileCardResult) }

func cardInput() ProfileCardInput {
	return ProfileCardInput{ProfileID: "prf_1", BuyerID: "buyer_1", CustomerID: "cus_old",
		OldPaymentMethodID: "pm_old", PaymentMethod: "pm_new"}
}

func TestCardChangeAttachesRecordsThenDetachesTheOldCard(t *testing.T) {
	fake := &cardStripe{}
	r := runCardChange(t, fake, cardInput())

	res := r.result()
	require.NoError(t, res.Err())
	require.Equal(t, "pm_saved_new", res.Card.ID)
	require.Equal(t, "cus_old", res.CustomerID)
	require.Equal(t, []string{"AttachProfileCard", "ReplaceProfileCard", "DetachSavedCard"}, fake.calls)
	require.Equal(t, []string{"profile-card-b-r:attach"}, fake.keys)
	require.Equal(t, []models.CardChange{{BuyerID: "buyer_1", OldPaymentMethodID: "pm_old", StripeCustomerID: "cus_old",
		PaymentMethodID: "pm_saved_new", Card: models.CardSummary{Brand: "mastercard", Last4: "4444", ExpMonth: 12, ExpYear: 2034}}},
		fake.changes)
	require.Equal(t, []string{"pm_old"}, fake.detached)

	var final ProfileCardResult
	require.NoError(t, r.env.GetWorkflowResult(&final))
	require.Equal(t, res, final, "a retry after the workflow closed reads the same outcome")
}

func TestCardChangeCreatesACustomerWhenTheProfileHasNone(t *testing.T) {
	fake := &cardStripe{}
	in := cardInput()
	in.CustomerID = ""
	r := runCardChange(t, fake, in)

	require.Equal(t, "cus_new", r.result().CustomerID)
	require.Equal(t, []string{"CreateProfileCustomer", "AttachProfileCard", "ReplaceProfileCard", "DetachSavedCard"}, fake.calls)
	require.Equal(t, []string{"profile-card-b-r:customer", "profile-card-b-r:attach"}, fake.keys)
	require.Equal(t, "cus_new", fake.changes[0].StripeCustomerID)
	require.Empty(t, fake.deleted)
}

func TestDeclinedCardKeepsTheOldOne(t *testing.T) {
	fake := &cardStripe{attachErr: failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "generic_decline", "Your card was declined."))}
	r := runCardChange(t, fake, cardInput())

	err := r.result().Err()
	require.Equal(t, models.KindPaymentDeclined, models.ErrorKind(err))
	require.Equal(t, "generic_decline", err.(*models.Error).Code)
	require.Equal(t, []string{"AttachProfileCard"}, fake.calls, "nothing recorded, nothing detached")
}

func TestDeclinedCardDeletesTheCustomerCreatedForIt(t *testing.T) {
	fake := &cardStripe{attachErr: failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "generic_decline", "Your card was declined."))}
	in := cardInput()
	in.CustomerID, in.OldPaymentMethodID = "", ""
	r := runCardChange(t, fake, in)

	require.Error(t, r.result().Err())
	require.Equal(t, []string{"cus_new"}, fake.deleted)
	require.Equal(t, []string{"CreateProfileCustomer", "AttachProfileCard", "DiscardCustomer"}, fake.calls)
	require.Contains(t, fake.keys, "profile-card-b-r:discard")
}

func TestCardChangeLosingARaceDetachesTheNewCard(t *testing.T) {
	fake := &cardStripe{replaceErr: failures.ToTemporal(models.Conflict("profile_changed", "changed meanwhile"))}
	r := runCardChange(t, fake, cardInput())

	err := r.result().Err()
	require.Equal(t, models.KindConflict, models.ErrorKind(err))
	require.Equal(t, []string{"pm_saved_new"}, fake.detached, "the new card is detached, the old one stays")
	require.Empty(t, fake.deleted)
}

func TestCardChangeStripeOutageAnswersUnavailable(t *testing.T) {
	fake := &cardStripe{attachErr: failures.ToTemporal(models.Errorf(models.KindUnavailable, "stripe_unavailable", "down"))}
	r := runCardChange(t, fake, cardInput())

	err := r.result().Err()
	require.Equal(t, models.KindUnavailable, models.ErrorKind(err))
	require.Equal(t, "card_change_unavailable", err.(*models.Error).Code)
	require.NotContains(t, fake.detached, "pm_old")
	require.Equal(t, []string{"pm_new"}, fake.detached, "an attach that may have gone through is undone")
}

func TestProfileCardWorkflowIDCarriesNoPersonalData(t *testing.T) {
	id := ProfileCardWorkflowID("buyer_ada@example.com", "key:abc\x00pm_1")
	require.True(t, strings.HasPrefix(id, "profile-card-"))
	require.NotContains(t, id, "ada")
	require.NotContains(t, id, "abc")
	require.Equal(t, id, ProfileCardWorkflowID("buyer_ada@example.com", "key:abc\x00pm_1"))
	require.NotEqual(t, id, ProfileCardWorkflowID("buyer_ada@example.com", "key:abd\x00pm_1"))
}

// Sending the card the profile already has, when Stripe does not answer,
// must not detach it: the profile would keep naming a card that can no
// longer be charged.
func TestCardChangeToTheSameCardNeverDetachesIt(t *testing.T) {
	fake := &cardStripe{attachErr: failures.ToTemporal(models.Errorf(models.KindUnavailable, "stripe_unavailable", "down"))}
	in := cardInput()
	in.PaymentMethod = in.OldPaymentMethodID
	r := runCardChange(t, fake, in)

	require.Equal(t, models.KindUnavailable, models.ErrorKind(r.result().Err()))
	require.Empty(t, fake.detached, "the profile's own card stays attached")
}

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
	"go.temporal.io/api/serviceerror"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/sandbox"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/workflows"
)

// accountID is the stack merchant's connected account, read from the API.
func (s *stack) accountID(merchantKey string) string {
	s.t.Helper()
	var v merchantStripe
	s.do("GET", "/v1/merchant/stripe", merchantKey, nil, nil).expect(http.StatusOK).decode(&v)
	if v.AccountID == "" {
		s.t.Fatalf("merchant has no connected account: %+v", v)
	}
	return v.AccountID
}

// splits is the ledger's refund splits of an order.
func (s *stack) splits(orderID string) []models.RefundSplit {
	s.t.Helper()
	list, err := s.Store.RefundSplits(context.Background(), orderID)
	if err != nil {
		s.t.Fatal(err)
	}
	return list
}

type balance struct {
	Reconciled bool `json:"reconciled"`
	Orders     []struct {
		models.OrderBalance
		Stripe *struct {
			Amount         int64 `json:"amount"`
			AmountReversed int64 `json:"amount_reversed"`
			Matches        bool  `json:"matches"`
		} `json:"stripe"`
	} `json:"orders"`
	Totals []models.BalanceTotals `json:"totals"`
}

func (s *stack) balance(merchantKey string) balance {
	s.t.Helper()
	var b balance
	s.do("GET", "/v1/merchant/balance", merchantKey, nil, nil).expect(http.StatusOK).decode(&b)
	return b
}

// Issue list 1: purchase → accept. One PaymentIntent on the platform with
// the merchant as destination and settlement merchant, one transfer of the
// captured amount to that account and an application fee of the configured
// rate (290 bps + 30) of the captured amount: the merchant nets the rest.
func TestAcceptTransfersTheSaleLessTheFeeToTheMerchant(t *testing.T) {
	s := newStack(t, stackOptions{})
	acct := s.accountID(s.MerchantKey)
	productID := s.product(5, 2000)
	orderID := s.purchase(s.buyer("buyer_connect_"+randomHex(3)), "k1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	pi := s.intentRecord(orderID)
	if pi.Destination != acct || pi.OnBehalfOf != acct || pi.CaptureMethod != "manual" {
		t.Fatalf("intent %+v, want a manual destination charge to %s", pi, acct)
	}
	if n := len(s.Sandbox.Transfers(pi.ID)); n != 0 {
		t.Fatalf("%d transfers before the merchant accepted", n)
	}
	res := s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	wantFee := e2eFee.FeeFor(2000) // 58 + 30
	if wantFee != 88 {
		t.Fatalf("fee arithmetic: %d", wantFee)
	}
	tr := s.transfer(t, pi.ID)
	if tr.Destination != acct || tr.Amount != 2000 || tr.ApplicationFee != wantFee || tr.Net != 2000-wantFee {
		t.Fatalf("transfer %+v, want 2000 to %s with fee %d", tr, acct, wantFee)
	}
	if got := s.intentRecord(orderID); got.ApplicationFeeAmount != wantFee || got.AmountReceived != 2000 {
		t.Fatalf("captured intent %+v", got)
	}
	payout, _ := res.Body["payout"].(map[string]any)
	if payout["fee"] != float64(wantFee) || payout["net"] != float64(2000-wantFee) {
		t.Fatalf("accept answered payout %v", res.Body["payout"])
	}
	b := s.balance(s.MerchantKey)
	if !b.Reconciled || len(b.Orders) != 1 || b.Orders[0].Net != 1912 || b.Orders[0].Fee != 88 || b.Orders[0].Stripe == nil || !b.Orders[0].Stripe.Matches {
		t.Fatalf("balance %+v", b)
	}
	if len(b.Totals) != 1 || b.Totals[0].Gross != 2000 || b.Totals[0].Net != 1912 {
		t.Fatalf("totals %+v", b.Totals)
	}
	// A range without the order, and a range backwards.
	var empty balance
	s.do("GET", "/v1/merchant/balance?from=2000-01-01&to=2000-02-01", s.MerchantKey, nil, nil).expect(http.StatusOK).decode(&empty)
	if len(empty.Orders) != 0 || len(empty.Totals) != 0 {
		t.Fatalf("balance of January 2000: %+v", empty)
	}
	if res := s.do("GET", "/v1/merchant/balance?from=2030-01-01&to=2020-01-01", s.MerchantKey, nil, nil).expect(http.StatusBadRequest); res.errorCode() != "invalid_range" {
		t.Fatalf("backwards range answered %s", res.Raw)
	}
	if res := s.do("GET", "/v1/merchant/balance?from=yesterday", s.MerchantKey, nil, nil).expect(http.StatusBadRequest); res.errorCode() != "invalid_from" {
		t.Fatalf("bad date answered %s", res.Raw)
	}
}

// Issue list 2: a 40 % refund then the rest. Each refund reverses the
// transfer by its amount and returns the fee in proportion; the ledger's
// split per refund and the sandbox agree to the cent. A dispute after a
// partial refund is recorded with its amount and reason and reaches the
// merchant as order.disputed.
func TestRefundsReverseTheTransferAndReturnTheFeeToTheCent(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	productID := s.product(5, 2000)
	orderID := s.purchase(s.buyer("buyer_connect_refund_"+randomHex(3)), "k1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	pi := s.intentRecord(orderID).ID

	s.refund(orderID, "r-40", 800).expect(http.StatusOK)
	tr := s.transfer(t, pi)
	sp := s.splits(orderID)
	if len(tr.Reversals) != 1 || tr.Reversals[0] != 800 || len(tr.FeeRefunds) != 1 || tr.FeeRefunds[0] != 35 { // 88 × 0.4 = 35.2
		t.Fatalf("after 40 %%: %+v", tr)
	}
	if len(sp) != 1 || sp[0].AmountMinor != 800 || sp[0].ReversedMinor != 800 || sp[0].FeeReturnedMinor != 35 {
		t.Fatalf("ledger after 40 %%: %+v", sp)
	}
	s.refund(orderID, "r-rest", 1200).expect(http.StatusOK)
	tr = s.transfer(t, pi)
	sp = s.splits(orderID)
	if tr.AmountReversed != 2000 || tr.FeeRefunded != 88 || tr.Net != 0 || len(sp) != 2 ||
		sp[1].ReversedMinor != 1200 || sp[1].FeeReturnedMinor != 53 {
		t.Fatalf("after the rest: sandbox %+v, ledger %+v", tr, sp)
	}
	for i := range sp {
		if sp[i].ReversedMinor != tr.Reversals[i] || sp[i].FeeReturnedMinor != tr.FeeRefunds[i] {
			t.Fatalf("refund %d: ledger %+v, sandbox reversal %d fee refund %d", i, sp[i], tr.Reversals[i], tr.FeeRefunds[i])
		}
	}
	b := s.balance(s.MerchantKey)
	if len(b.Orders) != 1 || b.Orders[0].Net != 0 || b.Orders[0].Reversed != 2000 || b.Orders[0].FeeReturned != 88 || !b.Orders[0].Stripe.Matches {
		t.Fatalf("balance %+v", b)
	}
}

// The trail of one purchase → partial refund → dispute, read from the
// sandbox and the ledger (logged with -v for the record).
func TestMoneyTrailOfAPurchasePartialRefundAndDispute(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	acct := s.accountID(s.MerchantKey)
	productID := s.product(5, 2500)
	orderID := s.purchase(s.buyer("buyer_trail_"+randomHex(3)), "k1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	pi := s.intentRecord(orderID).ID
	s.refund(orderID, "r-1", 1000).expect(http.StatusOK)
	if _, err := s.Sandbox.Dispute(pi, "product_not_received"); err != nil {
		t.Fatal(err)
	}
	o := s.waitDispute(orderID, models.DisputeNeedsResponse, true)
	d := s.waitDelivery(orderID, "order.disputed", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })

	hook.mu.Lock()
	body := hook.bodies[d.ID]
	hook.mu.Unlock()
	var ev struct {
		Data struct {
			Dispute *activities.WebhookDispute `json:"dispute"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Data.Dispute == nil {
		t.Fatalf("order.disputed body %s (%v)", body, err)
	}
	if ev.Data.Dispute.Amount != 1500 || ev.Data.Dispute.Reason != "product_not_received" || ev.Data.Dispute.Currency != "usd" {
		t.Fatalf("order.disputed carries %+v, want 1500 usd product_not_received", ev.Data.Dispute)
	}

	tr := s.transfer(t, pi)
	sp := s.splits(orderID)
	fee, _, err := s.Store.OrderFee(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	// 2500 captured; fee 73 (72.5 rounded half up) + 30 = 103.
	if fee.CapturedFeeMinor != 103 || tr.ApplicationFee != 103 || tr.Amount != 2500 || tr.Destination != acct {
		t.Fatalf("capture: ledger fee %+v, sandbox %+v", fee, tr)
	}
	// Refund 1000 of 2500: transfer reversed 1000, fee returned ⌊103 × 0.4⌋ = 41.
	if len(sp) != 1 || sp[0].ReversedMinor != 1000 || sp[0].FeeReturnedMinor != 41 || tr.AmountReversed != 1000 || tr.FeeRefunded != 41 {
		t.Fatalf("refund: ledger %+v, sandbox %+v", sp, tr)
	}
	if tr.Net != 2500-1000-103+41 || o.RefundedMinor != 1000 {
		t.Fatalf("merchant nets %d, order refunded %d", tr.Net, o.RefundedMinor)
	}
	t.Logf("buyer paid %d; platform kept fee %d; merchant %s got transfer %d − fee %d = %d", tr.Amount, tr.ApplicationFee, acct, tr.Amount, tr.ApplicationFee, tr.Amount-tr.ApplicationFee)
	t.Logf("refund 1000 to the buyer: transfer reversed %d, fee returned %d; merchant now nets %d, platform keeps fee %d",
		sp[0].ReversedMinor, sp[0].FeeReturnedMinor, tr.Net, tr.ApplicationFee-tr.FeeRefunded)
	t.Logf("dispute of %d (%s) debited from the platform's balance by Stripe; the transfer stays as it was (net %d to the merchant)",
		ev.Data.Dispute.Amount, ev.Data.Dispute.Reason, tr.Net)
}

// Issue list 3: rejected, expired or cancelled before capture: the intent is
// voided and no money moves to the merchant, no fee is taken.
func TestNoCaptureMovesNoMoney(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(10, 1500)
	buyer := s.buyer("buyer_connect_void_" + randomHex(3))
	rejected := s.purchase(buyer, "k-reject", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	s.merchantAction(rejected, "reject", map[string]any{"reason": "out of stock"}).expect(http.StatusOK)
	cancelled := s.purchase(buyer, "k-cancel", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	s.do("POST", "/v1/orders/"+cancelled+"/cancel", buyer, nil, map[string]any{"reason": "changed my mind"}).expect(http.StatusOK)

	quick := newStack(t, stackOptions{acceptTimeout: time.Second})
	expired := quick.purchase(quick.buyer("buyer_connect_expire_"+randomHex(3)), "k-expire", purchaseBody(quick.product(2, 1500), 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	quick.waitStatus(expired, models.StatusExpired)

	for _, c := range []struct {
		s       *stack
		orderID string
	}{{s, rejected}, {s, cancelled}, {quick, expired}} {
		pi := c.s.waitIntentStatus(c.orderID, payments.IntentCanceled)
		if pi.Destination == "" || pi.ApplicationFeeAmount != 0 || pi.AmountReceived != 0 {
			t.Fatalf("order %s: intent %+v", c.orderID, pi)
		}
		if trs := c.s.Sandbox.Transfers(pi.ID); len(trs) != 0 {
			t.Fatalf("order %s: transfers %+v", c.orderID, trs)
		}
	}
}

func (s *stack) waitIntentStatus(orderID, status string) sandbox.IntentRecord {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pi := s.intentRecord(orderID)
		if pi.Status == status || time.Now().After(deadline) {
			if pi.Status != status {
				s.t.Fatalf("intent of %s is %s, want %s", orderID, pi.Status, status)
			}
			return pi
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Issue list 4: a merchant not onboarded, or whose account Stripe
// restricted, is not purchasable: the product card says so and a purchase
// is refused with 409 before any stock is taken, key claimed or workflow
// started.
func TestMerchantWhoCannotTakeChargesIsRefusedBeforeAnythingIsTaken(t *testing.T) {
	s := newStack(t, stackOptions{notOnboarded: true})
	productID := s.product(3, 1200)
	buyerID := "buyer_connect_409_" + randomHex(3)
	buyer := s.buyer(buyerID)
	refused := func(key string) {
		t.Helper()
		card := s.do("GET", "/v1/products/"+productID, buyer, nil, nil).expect(http.StatusOK)
		if card.Body["buy_enabled"] != false {
			t.Fatalf("product card %s", card.Raw)
		}
		res := s.purchase(buyer, key, purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusConflict)
		if res.errorCode() != models.CodeMerchantCannotAcceptPayments {
			t.Fatalf("purchase answered %s", res.Raw)
		}
		orderID := models.OrderIDFromIdempotencyKey(buyerID, key)
		if _, err := s.Store.Order(context.Background(), orderID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("an order row exists: %v", err)
		}
		_, err := s.Temporal.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(orderID), "")
		var nf *serviceerror.NotFound
		if !errors.As(err, &nf) {
			t.Fatalf("a workflow was started: %v", err)
		}
		if got := s.stock(productID); got != 3 {
			t.Fatalf("stock %d, want 3", got)
		}
		if n := len(s.Sandbox.Intents()); n != 0 {
			t.Fatalf("%d intents at Stripe", n)
		}
	}
	refused("k-none")

	// Onboarding started but not finished: still refused.
	s.do("POST", "/v1/merchant/stripe/onboarding", s.MerchantKey, nil, nil).expect(http.StatusOK)
	if v := s.waitMerchantStripe(s.MerchantKey, func(v merchantStripe) bool { return v.Onboarded }); v.ChargesEnabled || len(v.RequirementsDue) == 0 {
		t.Fatalf("unfinished onboarding: %+v", v)
	}
	refused("k-pending")

	// Onboarded, then restricted by Stripe: refused again.
	acct := s.onboard(s.MerchantKey)
	if err := s.Sandbox.SetAccountState(acct, sandbox.AccountState{PayoutsEnabled: true, RequirementsDue: []string{"individual.verification.document"}}); err != nil {
		t.Fatal(err)
	}
	s.waitMerchantStripe(s.MerchantKey, func(v merchantStripe) bool { return !v.ChargesEnabled })
	refused("k-restricted")
}

// Issue list 5: account.updated flips the merchant between purchasable and
// not; a redelivered event does nothing, and an event older than the one
// applied last is not applied.
func TestAccountUpdatedFlipsPurchasableDedupedAndOrderSafe(t *testing.T) {
	s := newStack(t, stackOptions{})
	acct := s.accountID(s.MerchantKey)
	productID := s.product(5, 1000)
	buyer := s.buyer("buyer_connect_flip_" + randomHex(3))

	if err := s.Sandbox.SetAccountState(acct, sandbox.AccountState{RequirementsDue: []string{"external_account"}, DisabledReason: "requirements.past_due"}); err != nil {
		t.Fatal(err)
	}
	off := s.waitMerchantStripe(s.MerchantKey, func(v merchantStripe) bool { return !v.ChargesEnabled })
	if off.DisabledReason != "requirements.past_due" || len(off.RequirementsDue) != 1 {
		t.Fatalf("restricted account %+v", off)
	}
	s.purchase(buyer, "k-off", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusConflict)

	if err := s.Sandbox.SetAccountState(acct, sandbox.AccountState{ChargesEnabled: true, PayoutsEnabled: true}); err != nil {
		t.Fatal(err)
	}
	s.waitMerchantStripe(s.MerchantKey, func(v merchantStripe) bool { return v.ChargesEnabled })
	if card := s.do("GET", "/v1/products/"+productID, buyer, nil, nil).expect(http.StatusOK); card.Body["buy_enabled"] != true {
		t.Fatalf("product card %s", card.Raw)
	}
	s.purchase(buyer, "k-on", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)

	// The last account.updated Stripe sent, delivered again: a duplicate.
	last := s.lastAccountEvent(acct)
	if res := s.postConnectWebhook(last.raw).expect(http.StatusOK); res.Body["duplicate"] != true {
		t.Fatalf("redelivery answered %s", res.Raw)
	}
	// An event created before the last applied one (a delayed delivery
	// telling of the restriction) is acknowledged and not applied.
	var old map[string]any
	if err := json.Unmarshal(last.raw, &old); err != nil {
		t.Fatal(err)
	}
	old["id"], old["created"] = "evt_delayed_"+randomHex(6), last.Created-60
	oldBody, _ := json.Marshal(old)
	if res := s.postConnectWebhook(oldBody).expect(http.StatusOK); res.Body["applied"] != false {
		t.Fatalf("an older event answered %s", res.Raw)
	}
	if v := s.waitMerchantStripe(s.MerchantKey, func(merchantStripe) bool { return true }); !v.ChargesEnabled {
		t.Fatalf("an older event changed the account: %+v", v)
	}
	// A forged signature changes nothing.
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: oldBody, Secret: "whsec_wrong", Timestamp: time.Now()})
	if res := s.postConnectWebhookHeader(oldBody, signed.Header); res.Status != http.StatusBadRequest {
		t.Fatalf("forged event answered %d %s", res.Status, res.Raw)
	}
}

type accountEvent struct {
	Created int64
	raw     []byte
}

// lastAccountEvent is the newest account.updated the sandbox sent for acct.
func (s *stack) lastAccountEvent(acct string) accountEvent {
	s.t.Helper()
	resp, err := http.Get(s.sandboxURL + "/_sandbox/events")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		s.t.Fatal(err)
	}
	for i := len(list) - 1; i >= 0; i-- {
		var ev struct {
			Type    string `json:"type"`
			Account string `json:"account"`
			Created int64  `json:"created"`
		}
		if json.Unmarshal(list[i], &ev) == nil && ev.Type == "account.updated" && ev.Account == acct {
			return accountEvent{Created: ev.Created, raw: list[i]}
		}
	}
	s.t.Fatalf("no account.updated for %s", acct)
	return accountEvent{}
}

func (s *stack) postConnectWebhook(body []byte) response {
	s.t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: e2eConnectWebhookSecret, Timestamp: time.Now()})
	return s.postConnectWebhookHeader(body, signed.Header)
}

func (s *stack) postConnectWebhookHeader(body []byte, header string) response {
	s.t.Helper()
	return s.postSigned("/v1/webhooks/stripe/connect", body, header)
}

// Issue list 6: one saved buyer buys one-tap from two merchants: two
// intents, two destinations, one Stripe customer on the platform.
func TestOneTapPaysTwoMerchantsFromOnePlatformCustomer(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx := context.Background()
	acctA := s.accountID(s.MerchantKey)
	other, otherKey, err := s.Store.CreateMerchant(ctx, "Second Shop", "")
	if err != nil {
		t.Fatal(err)
	}
	acctB := s.onboard(otherKey)
	pB, err := s.Store.CreateProduct(ctx, other.ID, models.NewProduct{Title: "Mug", Price: 1800, Currency: "usd", Stock: 5, MaxPerOrder: 5})
	if err != nil {
		t.Fatal(err)
	}
	buyerID := "buyer_connect_onetap_" + randomHex(3)
	buyer := s.buyer(buyerID)
	first := s.purchase(buyer, "first", purchaseBody(s.product(5, 1200), 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	s.awaitProfile(buyer)
	second := s.purchase(buyer, "tap", map[string]any{"product_id": pB.ID, "quantity": 1}).expect(http.StatusCreated).str("order_id")

	a, b := s.intentRecord(first), s.intentRecord(second)
	if a.ID == b.ID || a.Destination != acctA || b.Destination != acctB || acctA == acctB {
		t.Fatalf("intents %+v and %+v, want destinations %s and %s", a, b, acctA, acctB)
	}
	// The first purchase's card was set up with no customer and saved on
	// the platform's customer after the answer; the one tap pays on it.
	prof, err := s.Store.Profile(ctx, buyerID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Customer != "" || b.Customer == "" || b.Customer != prof.StripeCustomerID || s.paymentMethodCustomer(a.PaymentMethod) != b.Customer {
		t.Fatalf("customers %q and %q (profile %s), want the first set up with none and the one tap on the platform customer",
			a.Customer, b.Customer, prof.StripeCustomerID)
	}
	s.merchantAction(first, "accept", nil).expect(http.StatusOK)
	s.do("POST", "/v1/merchant/orders/"+second+"/accept", otherKey, nil, nil).expect(http.StatusOK)
	if ta, tb := s.transfer(t, a.ID), s.transfer(t, b.ID); ta.Destination != acctA || tb.Destination != acctB || tb.Amount != 1800 {
		t.Fatalf("transfers %+v and %+v", ta, tb)
	}
}

// capturedFeeWriteFails is the store with the write after a capture (the
// fee sent) failing once, as a worker dying between Stripe's answer and
// the store write leaves it: the activity runs again.
type capturedFeeWriteFails struct {
	*store.Store
	mu     sync.Mutex
	failed int
}

func (c *capturedFeeWriteFails) RecordCapturedFee(ctx context.Context, orderID string, fee int64) error {
	c.mu.Lock()
	fail := c.failed == 0
	c.failed++
	c.mu.Unlock()
	if fail {
		return errors.New("connection reset by peer")
	}
	return c.Store.RecordCapturedFee(ctx, orderID, fee)
}

// Issue list 7: the capture went through at Stripe and the store write
// after it was lost; the retry adopts the capture (no second transfer, the
// fee sent once) and the ledger ends right. A worker restart in between
// changes nothing.
func TestCaptureWhoseStoreWriteIsLostTransfersOnce(t *testing.T) {
	wrapped := &capturedFeeWriteFails{}
	s := newStack(t, stackOptions{activityStore: func(st *store.Store) activities.Store { wrapped.Store = st; return wrapped }})
	productID := s.product(5, 3000)
	orderID := s.purchase(s.buyer("buyer_connect_crash_"+randomHex(3)), "k1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.restartWorker()
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	if wrapped.failed < 2 {
		t.Fatalf("the store write after capture ran %d times, want a failure and a retry", wrapped.failed)
	}
	pi := s.intentRecord(orderID)
	tr := s.transfer(t, pi.ID)
	want := e2eFee.FeeFor(3000) // 87 + 30
	fee, _, err := s.Store.OrderFee(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Amount != 3000 || tr.ApplicationFee != want || fee.CapturedFeeMinor != want || s.order(orderID).CapturedMinor != 3000 {
		t.Fatalf("transfer %+v, ledger fee %d, want fee %d", tr, fee.CapturedFeeMinor, want)
	}
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations = %d", got)
	}
}

// A merchant whose account Stripe restricts after the authorization: the
// capture is refused with account_invalid, a typed, final failure; the
// authorization is voided, the stock released, buyer and merchant told.
func TestCaptureToARestrictedAccountVoidsAndReleases(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	acct := s.accountID(s.MerchantKey)
	productID := s.product(2, 1000)
	orderID := s.purchase(s.buyer("buyer_connect_invalid_"+randomHex(3)), "k1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	if err := s.Sandbox.SetAccountState(acct, sandbox.AccountState{RequirementsDue: []string{"external_account"}}); err != nil {
		t.Fatal(err)
	}
	res := s.merchantAction(orderID, "accept", nil)
	if res.Status != http.StatusPaymentRequired || res.errorCode() != "capture_failed" {
		t.Fatalf("accept answered %d %s", res.Status, res.Raw)
	}
	o := s.waitStatus(orderID, models.StatusPaymentFailed)
	if o.CapturedMinor != 0 || s.stock(productID) != 2 {
		t.Fatalf("order %+v, stock %d", o, s.stock(productID))
	}
	pi := s.waitIntentStatus(orderID, payments.IntentCanceled)
	if trs := s.Sandbox.Transfers(pi.ID); len(trs) != 0 {
		t.Fatalf("transfers %+v", trs)
	}
	s.waitDelivery(orderID, "order.payment_failed", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })
}

// A merchant's own fee applies to orders placed after it is set; an order
// placed before keeps the fee it was placed with.
func TestMerchantFeeOverrideAppliesToNewOrdersOnly(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 2000)
	buyer := s.buyer("buyer_connect_override_" + randomHex(3))
	before := s.purchase(buyer, "k-before", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	s.do("PUT", "/v1/admin/merchants/"+s.MerchantID+"/fee", e2eOperatorToken, nil, map[string]any{"fee_bps": 100, "fee_fixed": 0}).expect(http.StatusOK)
	s.do("PUT", "/v1/admin/merchants/"+s.MerchantID+"/fee", e2eOperatorToken, nil, map[string]any{"fee_bps": 6000}).expect(http.StatusBadRequest)
	after := s.purchase(buyer, "k-after", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	s.merchantAction(before, "accept", nil).expect(http.StatusOK)
	s.merchantAction(after, "accept", nil).expect(http.StatusOK)
	if tr := s.transfer(t, s.intentRecord(before).ID); tr.ApplicationFee != e2eFee.FeeFor(2000) {
		t.Fatalf("order placed before the override paid %d", tr.ApplicationFee)
	}
	if tr := s.transfer(t, s.intentRecord(after).ID); tr.ApplicationFee != 20 {
		t.Fatalf("order placed after the override paid %d, want 20", tr.ApplicationFee)
	}
}

// restrictedBeforeSnapshot is the store with Stripe's restriction of the
// merchant's account landing between the API's check and the workflow's
// authorization.
type restrictedBeforeSnapshot struct {
	*store.Store
	account string
}

func (r *restrictedBeforeSnapshot) SnapshotOrderFee(ctx context.Context, orderID, merchantID string, amount int64, platform models.FeePolicy) (models.OrderFee, error) {
	if _, _, err := r.ApplyAccountState(ctx, models.AccountState{AccountID: r.account, RequirementsDue: []string{"external_account"}}, time.Now().Unix()+3600); err != nil {
		return models.OrderFee{}, err
	}
	return r.Store.SnapshotOrderFee(ctx, orderID, merchantID, amount, platform)
}

// The merchant's account is restricted after the API let the purchase in
// but before it was authorized: the authorization is refused before Stripe
// is asked, the order fails (402 payment_failed, as any failed payment
// answers) with merchant_cannot_accept_payments and the stock goes back.
func TestAccountRestrictedBeforeAuthorizationFailsThePurchaseCleanly(t *testing.T) {
	wrapped := &restrictedBeforeSnapshot{}
	s := newStack(t, stackOptions{activityStore: func(st *store.Store) activities.Store { wrapped.Store = st; return wrapped }})
	wrapped.account = s.accountID(s.MerchantKey)
	productID := s.product(2, 1000)
	res := s.purchase(s.buyer("buyer_connect_race_"+randomHex(3)), "k1", purchaseBody(productID, 1, "pm_card_visa"))
	if res.Status != http.StatusPaymentRequired || res.errorCode() != models.CodeMerchantCannotAcceptPayments {
		t.Fatalf("purchase answered %d %s", res.Status, res.Raw)
	}
	o := s.waitStatus(res.str("order_id"), models.StatusPaymentFailed)
	if o.FailureCode != models.CodeMerchantCannotAcceptPayments || s.stock(productID) != 2 || len(s.Sandbox.Intents()) != 0 {
		t.Fatalf("order %s (%s), stock %d, intents %d", o.Status, o.FailureCode, s.stock(productID), len(s.Sandbox.Intents()))
	}
}

// Concurrent refunds that together empty the charge: whatever order Stripe
// and the ledger saw them in, the whole transfer is reversed and the whole
// fee returned, in both.
func TestConcurrentRefundsReverseEverythingOnce(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 2000)
	orderID := s.purchase(s.buyer("buyer_connect_conc_"+randomHex(3)), "k1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i, amount := range []int64{700, 1300, 500} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.refund(orderID, "r-"+randomHex(4), amount).Status
		}()
	}
	wg.Wait()
	var ok int
	for _, st := range statuses {
		if st == http.StatusOK {
			ok++
		}
	}
	// The ledger's cap lets through refunds adding up to at most the 2000
	// captured (700 + 1300, or 500 with one of them).
	tr := s.transfer(t, s.intentRecord(orderID).ID)
	var reversed, returned int64
	for _, sp := range s.splits(orderID) {
		reversed += sp.ReversedMinor
		returned += sp.FeeReturnedMinor
	}
	if reversed != tr.AmountReversed || returned != tr.FeeRefunded || tr.AmountReversed > 2000 {
		t.Fatalf("ledger reversed %d returned %d; sandbox %+v (refunds answered %v)", reversed, returned, tr, statuses)
	}
	if o := s.order(orderID); o.RefundedMinor != tr.AmountReversed || (o.RefundedMinor == 2000 && tr.FeeRefunded != 88) {
		t.Fatalf("order refunded %d, sandbox %+v", o.RefundedMinor, tr)
	}
	if ok == 0 {
		t.Fatalf("no refund went through: %v", statuses)
	}
}

package payments

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/sandbox"
)

// onboard creates a connected account and follows its Account Link, which
// in the sandbox completes onboarding.
func onboard(t *testing.T, g *Gateway, _ string, merchantID string) Account {
	t.Helper()
	ctx := context.Background()
	a, err := g.CreateAccount(ctx, merchantID, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.ChargesEnabled || len(a.RequirementsDue) == 0 {
		t.Fatalf("a new account takes charges already: %+v", a)
	}
	again, err := g.CreateAccount(ctx, merchantID, "")
	if err != nil || again.AccountID != a.AccountID {
		t.Fatalf("a retried create made %q (%v), want %q", again.AccountID, err, a.AccountID)
	}
	url, _, err := g.OnboardingLink(ctx, a.AccountID, "https://platform.test/refresh", "https://platform.test/return", "r1")
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := func(want string) {
		t.Helper()
		resp, err := noRedirect.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != want {
			t.Fatalf("link answered %d to %q, want a redirect to %q", resp.StatusCode, got, want)
		}
	}
	follow("https://platform.test/return")
	follow("https://platform.test/refresh") // single use
	a, err = g.RetrieveAccount(ctx, a.AccountID)
	if err != nil || !a.ChargesEnabled || !a.PayoutsEnabled || len(a.RequirementsDue) != 0 {
		t.Fatalf("after onboarding: %+v (%v)", a, err)
	}
	return a
}

func transfersOf(t *testing.T, sb *sandbox.Server, intentID string) sandbox.TransferRecord {
	t.Helper()
	trs := sb.Transfers(intentID)
	if len(trs) != 1 {
		t.Fatalf("intent %s has %d transfers, want 1: %+v", intentID, len(trs), trs)
	}
	return trs[0]
}

func newConnectSandbox(t *testing.T) (*Gateway, *sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return New(Config{SecretKey: "sk_test_123", APIBase: srv.URL, HTTPClient: srv.Client()}), sb, srv.URL
}

func TestSandboxDestinationChargeMovesMoneyToTheMerchant(t *testing.T) {
	g, sb, base := newConnectSandbox(t)
	ctx := context.Background()
	acct := onboard(t, g, base, "mer_1")
	// Controller properties of an Express account: the sandbox reads them
	// back as such.
	if recs := sb.Accounts(); len(recs) != 1 || recs[0].Type != "express" {
		t.Fatalf("accounts %+v, want one express-like account", recs)
	}

	req := AuthorizeRequest{OrderID: "ord_c1", Amount: models.Money{Amount: 2000, Currency: "usd"}, PaymentMethod: "pm_card_visa", Destination: acct.AccountID}
	in, err := g.Authorize(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sb.Transfers(in.ID)); n != 0 {
		t.Fatalf("%d transfers before capture", n)
	}
	fee := models.FeePolicy{BPS: 290, FixedMinor: 30}.FeeFor(2000) // 58 + 30
	if _, err := g.CaptureWithFee(ctx, "ord_c1", in.ID, fee, 1); err != nil {
		t.Fatal(err)
	}
	tr := transfersOf(t, sb, in.ID)
	if tr.Destination != acct.AccountID || tr.Amount != 2000 || tr.ApplicationFee != 88 || tr.Net != 1912 {
		t.Fatalf("after capture: %+v", tr)
	}

	// 40 % then the rest: the transfer is reversed by the refunded amount
	// and the fee comes back in proportion, to the cent.
	first, err := g.Refund(ctx, RefundRequest{OrderID: "ord_c1", IntentID: in.ID, Amount: 800, Step: "r1", ReverseTransfer: true, RefundApplicationFee: true})
	if err != nil || first.ReversedMinor != 800 {
		t.Fatalf("first refund %+v (%v)", first, err)
	}
	tr = transfersOf(t, sb, in.ID)
	if want := models.RefundFeeProportional.FeeReturned(88, 2000, 0, 800); tr.FeeRefunded != want || tr.AmountReversed != 800 {
		t.Fatalf("after 40 %%: %+v, want fee refunded %d", tr, want)
	}
	rest, err := g.Refund(ctx, RefundRequest{OrderID: "ord_c1", IntentID: in.ID, Amount: 1200, Step: "r2", ReverseTransfer: true, RefundApplicationFee: true})
	if err != nil || rest.ReversedMinor != 1200 {
		t.Fatalf("second refund %+v (%v)", rest, err)
	}
	tr = transfersOf(t, sb, in.ID)
	if tr.AmountReversed != 2000 || tr.FeeRefunded != 88 || tr.Net != 0 {
		t.Fatalf("after the rest: %+v", tr)
	}
	// A retry of a refund adopts it, its reversal read back from Stripe.
	adopted, err := g.Refund(ctx, RefundRequest{OrderID: "ord_c1", IntentID: in.ID, Amount: 800, Step: "r1", ReverseTransfer: true, RefundApplicationFee: true, Attempt: 2})
	if err != nil || adopted.ID != first.ID || adopted.ReversedMinor != 800 {
		t.Fatalf("adopted %+v (%v), want %s", adopted, err, first.ID)
	}

	transfers, err := g.Transfers(ctx, acct.AccountID, 0, 0, 100)
	if err != nil || len(transfers) != 1 || transfers[0].Amount != 2000 || transfers[0].AmountReversed != 2000 {
		t.Fatalf("transfers of the account: %+v (%v)", transfers, err)
	}
}

func TestSandboxConnectRefusesWhereStripeDoes(t *testing.T) {
	g, sb, base := newConnectSandbox(t)
	ctx := context.Background()

	fresh, err := g.CreateAccount(ctx, "mer_new", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Authorize(ctx, AuthorizeRequest{OrderID: "ord_x1", Amount: models.Money{Amount: 2000, Currency: "usd"}, PaymentMethod: "pm_card_visa", Destination: fresh.AccountID})
	if code := errCode(err); code != "insufficient_capabilities_for_transfer" {
		t.Fatalf("destination not onboarded: %v", err)
	}
	_, err = g.Authorize(ctx, AuthorizeRequest{OrderID: "ord_x2", Amount: models.Money{Amount: 2000, Currency: "usd"}, PaymentMethod: "pm_card_visa", Destination: "acct_missing"})
	if code := errCode(err); code != "resource_missing" {
		t.Fatalf("unknown destination: %v", err)
	}

	acct := onboard(t, g, base, "mer_2")
	in, err := g.Authorize(ctx, AuthorizeRequest{OrderID: "ord_x3", Amount: models.Money{Amount: 2000, Currency: "usd"}, PaymentMethod: "pm_card_visa", Destination: acct.AccountID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.CaptureWithFee(ctx, "ord_x3", in.ID, 2001, 1); errCode(err) != "stripe_invalid_request" {
		t.Fatalf("fee above the amount: %v", err)
	}
	// Stripe restricts the account after the authorization: the capture is
	// refused with account_invalid, a conflict no retry changes, and the
	// intent can still be voided.
	if err := sb.SetAccountState(acct.AccountID, sandbox.AccountState{RequirementsDue: []string{"external_account"}}); err != nil {
		t.Fatal(err)
	}
	_, err = g.CaptureWithFee(ctx, "ord_x3", in.ID, 58, 1)
	if errCode(err) != CodeAccountInvalid || models.ErrorKind(err) != models.KindConflict {
		t.Fatalf("capture to a disabled account: %v", err)
	}
	if out, err := g.Cancel(ctx, "ord_x3", in.ID, 1); err != nil || out.Status != IntentCanceled {
		t.Fatalf("void after account_invalid: %+v (%v)", out, err)
	}
	if n := len(sb.Transfers(in.ID)); n != 0 {
		t.Fatalf("%d transfers for a refused capture", n)
	}

	// A plain charge has no transfer to reverse.
	plain, err := g.Authorize(ctx, sandboxAuth("ord_x4", "pm_card_visa"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Capture(ctx, "ord_x4", plain.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err = g.Refund(ctx, RefundRequest{OrderID: "ord_x4", IntentID: plain.ID, Amount: 100, Step: "r1", ReverseTransfer: true})
	if err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("reverse_transfer on a plain charge: %v", err)
	}
}

func errCode(err error) string {
	if e, ok := err.(*models.Error); ok {
		return e.Code
	}
	return ""
}

func TestRetrievingAMissingAccountIsMissing(t *testing.T) {
	g, _, _ := newConnectSandbox(t)
	_, err := g.RetrieveAccount(context.Background(), "acct_nobody")
	if !IsMissing(err) {
		t.Fatalf("missing account: %v", err)
	}
	if IsMissing(models.Invalid("stripe_auth", "bad key")) {
		t.Fatal("a credentials error counts as missing")
	}
}

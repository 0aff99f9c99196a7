package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/sandbox"
)

// onboard takes a merchant through Connect onboarding the way a merchant
// does: POST /v1/merchant/stripe/onboarding, then the onboarding link (the
// sandbox completes it), then account.updated to the Connect endpoint,
// which makes the merchant purchasable. It returns the account id.
func (s *stack) onboard(merchantKey string) string {
	s.t.Helper()
	res := s.do("POST", "/v1/merchant/stripe/onboarding", merchantKey, nil, nil).expect(http.StatusOK)
	acct, url := res.str("account_id"), res.str("url")
	noRedirect := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(url)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		s.t.Fatalf("onboarding link answered %d", resp.StatusCode)
	}
	s.waitMerchantStripe(merchantKey, func(v merchantStripe) bool { return v.ChargesEnabled })
	return acct
}

type merchantStripe struct {
	Onboarded bool `json:"onboarded"`
	models.MerchantStripe
}

// waitMerchantStripe polls GET /v1/merchant/stripe until ok holds.
func (s *stack) waitMerchantStripe(merchantKey string, ok func(merchantStripe) bool) merchantStripe {
	s.t.Helper()
	var v merchantStripe
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.do("GET", "/v1/merchant/stripe", merchantKey, nil, nil).expect(http.StatusOK).decode(&v)
		if ok(v) {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("merchant's Stripe account never reached the wanted state: %+v", v)
	return v
}

// transfer is the one transfer the sandbox made for an intent.
func (s *stack) transfer(t *testing.T, intentID string) sandbox.TransferRecord {
	t.Helper()
	trs := s.Sandbox.Transfers(intentID)
	if len(trs) != 1 {
		t.Fatalf("intent %s has %d transfers, want 1: %+v", intentID, len(trs), trs)
	}
	return trs[0]
}

// decode reads the raw body into v.
func (r response) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal([]byte(r.Raw), v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Raw, err)
	}
}

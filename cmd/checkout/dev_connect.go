package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/store"
)

// onboardDemoMerchant gives the demo merchant a connected account that can
// take charges, through the API as a merchant would: POST
// /v1/merchant/stripe/onboarding, then the onboarding link, which the
// sandbox completes at once; the account.updated webhook then makes the
// merchant purchasable. With a real Stripe account the link is returned for
// a person to follow. A link kept from an earlier run of the in-memory
// sandbox is dropped first.
// base is the API's URL, stripeBase the Stripe API's (the sandbox's).
func onboardDemoMerchant(ctx context.Context, cfg config.Config, st *store.Store, seed devSeed, base, stripeBase string) (accountID, link string, err error) {
	if ms, found, err := st.MerchantStripe(ctx, seed.MerchantID); err == nil && found && cfg.UsesSandbox() {
		gw := payments.New(payments.Config{SecretKey: cfg.StripeKey(), APIBase: stripeBase})
		if _, err := gw.RetrieveAccount(ctx, ms.AccountID); payments.IsMissing(err) {
			if err := st.ForgetStripeAccount(ctx, seed.MerchantID); err != nil {
				return "", "", err
			}
		} else if err == nil && ms.ChargesEnabled {
			return ms.AccountID, "", nil
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/merchant/stripe/onboarding", nil)
	req.Header.Set("Authorization", "Bearer "+seed.MerchantKey)
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("onboard the demo merchant: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccountID string `json:"account_id"`
		URL       string `json:"url"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return "", "", fmt.Errorf("onboard the demo merchant: the API answered %d", resp.StatusCode)
	}
	if !cfg.UsesSandbox() {
		return body.AccountID, body.URL, nil
	}
	follow, _ := http.NewRequestWithContext(ctx, http.MethodGet, body.URL, nil)
	fresp, err := noRedirect.Do(follow)
	if err != nil {
		return "", "", fmt.Errorf("complete the demo merchant's onboarding: %w", err)
	}
	fresp.Body.Close()
	// account.updated reaches the API's Connect endpoint shortly after.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ms, _, err := st.MerchantStripe(ctx, seed.MerchantID); err == nil && ms.ChargesEnabled {
			return body.AccountID, "", nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return body.AccountID, "", fmt.Errorf("the demo merchant's account %s did not become able to take charges", body.AccountID)
}

func printConnectBanner(accountID, link string) {
	if link != "" {
		fmt.Printf("The demo merchant's Stripe account %s needs onboarding: open %s\n", accountID, link)
		return
	}
	fmt.Printf("The demo merchant is paid through Stripe account %s (onboarded).\n", accountID)
}

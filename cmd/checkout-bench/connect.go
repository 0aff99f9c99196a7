package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/store"
)

// onboardMerchant gives the bench merchant a connected account that can take
// charges: the account is created, its onboarding link followed (the
// sandbox completes it) and the state Stripe then reports stored, as the
// account.updated webhook would.
func onboardMerchant(ctx context.Context, gw *payments.Gateway, st *store.Store, merchantID string) error {
	a, err := gw.CreateAccount(ctx, merchantID, "")
	if err != nil {
		return err
	}
	url, _, err := gw.OnboardingLink(ctx, a.AccountID, "https://bench.invalid/refresh", "https://bench.invalid/return", "bench")
	if err != nil {
		return err
	}
	noRedirect := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := noRedirect.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if a, err = gw.RetrieveAccount(ctx, a.AccountID); err != nil {
		return err
	}
	if !a.ChargesEnabled {
		return fmt.Errorf("the bench merchant's account %s cannot take charges", a.AccountID)
	}
	_, err = st.AttachStripeAccount(ctx, merchantID, a)
	return err
}

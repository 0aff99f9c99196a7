package config

import (
	"fmt"
	"os"
	"strconv"

	"github.com/buybutton/checkout/models"
)

// Connect is how merchants get paid: the platform fee, what refunds do with
// it, and where Stripe's onboarding sends merchants back to.
type Connect struct {
	// PLATFORM_FEE_BPS (basis points) and PLATFORM_FEE_FIXED (minor units):
	// the platform's fee on every sale, unless the merchant has its own.
	Fee models.FeePolicy
	// REFUND_FEE_POLICY: proportional (default) or keep.
	RefundFee models.RefundFeePolicy
	// CONNECT_REFRESH_URL and CONNECT_RETURN_URL: Account Links' refresh_url
	// and return_url ("" = the API's own /merchant/stripe pages).
	RefreshURL string
	ReturnURL  string
	// STRIPE_CONNECT_WEBHOOK_SECRET verifies the Connect webhook endpoint
	// (account.updated); "" = STRIPE_WEBHOOK_SECRET's.
	WebhookSecret string
}

// DefaultPlatformFeeBPS is 2.9 %, the demo's platform fee.
const DefaultPlatformFeeBPS = 290

func connectFromEnv() (Connect, error) {
	c := Connect{
		RefreshURL:    os.Getenv("CONNECT_REFRESH_URL"),
		ReturnURL:     os.Getenv("CONNECT_RETURN_URL"),
		WebhookSecret: os.Getenv("STRIPE_CONNECT_WEBHOOK_SECRET"),
	}
	var err error
	if c.Fee.BPS, err = int64Setting("PLATFORM_FEE_BPS", DefaultPlatformFeeBPS); err != nil {
		return c, err
	}
	if c.Fee.FixedMinor, err = int64Setting("PLATFORM_FEE_FIXED", 0); err != nil {
		return c, err
	}
	if err := c.Fee.Check("PLATFORM_FEE_BPS/PLATFORM_FEE_FIXED"); err != nil {
		return c, fmt.Errorf("%s", err.(*models.Error).Message)
	}
	if c.RefundFee, err = models.ParseRefundFeePolicy(os.Getenv("REFUND_FEE_POLICY")); err != nil {
		return c, fmt.Errorf("%s", err.(*models.Error).Message)
	}
	return c, nil
}

func int64Setting(key string, def int64) (int64, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", key, v)
	}
	return n, nil
}

// ConnectWebhookSecret verifies the Connect webhook endpoint; unset, the
// platform endpoint's (WebhookSecret), which is what the sandbox signs with.
func (c Config) ConnectWebhookSecret() string {
	if c.Connect.WebhookSecret == "" {
		return c.WebhookSecret()
	}
	return c.Connect.WebhookSecret
}

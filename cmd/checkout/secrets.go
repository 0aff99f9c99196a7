package main

import (
	"fmt"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/config"
)

// minSecretBytes is the shortest secret `checkout api` accepts: an HS256
// buyer-token secret or a bearer token shorter than 32 random bytes can be
// brute-forced offline from one captured token.
const minSecretBytes = 32

// knownDevSecrets are secrets that have been published (in this
// repository's code, README or docker-compose defaults): whoever read them
// could mint buyer tokens or forge webhooks.
var knownDevSecrets = map[string]bool{
	"dev-only-buyer-token-secret-change-me": true,
	"change-me-in-production":               true,
	config.SandboxWebhookSecret:             true,
	config.SandboxSecretKey:                 true,
	"operator-token-unset":                  true,
}

// checkProductionSecrets refuses what `checkout api` must not run with: a
// missing, published or short buyer-token secret or operator token, one
// token for both operator roles, or the sandbox's webhook secret (which
// would let anyone who has read this repository forge Stripe events).
func checkProductionSecrets(cfg config.Config) error {
	type secret struct {
		env, value string
		required   bool
	}
	secrets := []secret{
		// Required unless every buyer token carries a kid.
		{"BUYER_TOKEN_SECRET", cfg.BuyerTokenSecret, cfg.BuyerTokenKeys == ""},
		{"ADMIN_TOKEN", cfg.AdminToken, false},
		{"CODEC_TOKEN", cfg.CodecToken, false},
		{"STRIPE_WEBHOOK_SECRET", cfg.WebhookSecret(), true},
		{"STRIPE_CONNECT_WEBHOOK_SECRET", cfg.ConnectWebhookSecret(), true},
	}
	keys, err := api.ParseBuyerTokenKeys(cfg.BuyerTokenKeys)
	if err != nil {
		return fmt.Errorf("BUYER_TOKEN_KEYS: %w", err)
	}
	for kid, key := range keys {
		secrets = append(secrets, secret{"BUYER_TOKEN_KEYS key " + kid, string(key), true})
	}
	for _, s := range secrets {
		switch {
		case s.value == "" && s.required:
			return fmt.Errorf("%s is required (use `checkout dev` for a development setup)", s.env)
		case s.value == "":
		case knownDevSecrets[s.value]:
			return fmt.Errorf("%s is a published development value; generate a secret (e.g. openssl rand -hex 32)", s.env)
		case len(s.value) < minSecretBytes:
			return fmt.Errorf("%s must be at least %d bytes", s.env, minSecretBytes)
		}
	}
	if cfg.AdminToken != "" && cfg.AdminToken == cfg.CodecToken {
		return fmt.Errorf("ADMIN_TOKEN and CODEC_TOKEN must differ: the codec token must not open the admin endpoints")
	}
	return nil
}

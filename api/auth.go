package api

import (
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
)

const (
	ctxBuyerID      = "api.buyer_id"
	ctxBuyerCountry = "api.buyer_country"
	ctxMerchant     = "api.merchant"
	ctxMerchantKey  = "api.merchant_key"

	merchantKeyPrefix = "mk_"
	maxCredentialLen  = 4096
)

// bearer extracts the credential of an "Authorization: Bearer …" header.
func bearer(c *gin.Context) (string, bool) {
	h := c.GetHeader("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	cred := strings.TrimSpace(h[len(prefix):])
	if cred == "" || len(cred) > maxCredentialLen {
		return "", false
	}
	return cred, true
}

var errUnauthenticated = models.Errorf(models.KindUnauthorized, "unauthorized", "missing or invalid credentials")

// merchantByKey resolves a merchant API key. Unknown keys and inactive
// merchants are both just unauthorized: a key's existence is not disclosed.
func (a *app) merchantByKey(c *gin.Context, key string) (models.Merchant, models.MerchantKey, error) {
	m, k, err := a.cfg.Store.AuthenticateMerchantKey(c.Request.Context(), key)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrUnauthorized) {
			return models.Merchant{}, models.MerchantKey{}, errUnauthenticated
		}
		return models.Merchant{}, models.MerchantKey{}, err
	}
	if !m.Active {
		return models.Merchant{}, models.MerchantKey{}, errUnauthenticated
	}
	return m, k, nil
}

// requireBuyer lets only requests with a valid buyer token through.
func (a *app) requireBuyer(c *gin.Context) {
	cred, ok := bearer(c)
	if !ok || strings.HasPrefix(cred, merchantKeyPrefix) {
		writeError(c, errUnauthenticated)
		return
	}
	buyer, err := a.parseBuyerToken(cred)
	if err != nil {
		writeError(c, err)
		return
	}
	if limited(c, a.limits.buyer, buyer.ID) {
		return
	}
	c.Set(ctxBuyerID, buyer.ID)
	c.Set(ctxBuyerCountry, buyer.Country)
	c.Next()
}

// requireMerchant lets only requests with an active merchant's API key through.
func (a *app) requireMerchant(c *gin.Context) {
	cred, ok := bearer(c)
	if !ok || !strings.HasPrefix(cred, merchantKeyPrefix) {
		writeError(c, errUnauthenticated)
		return
	}
	m, key, err := a.merchantByKey(c, cred)
	if err != nil {
		writeError(c, err)
		return
	}
	if limited(c, a.limits.merchant, m.ID) {
		return
	}
	if !key.Current && !retiredKeyMay(c.Request.Method, c.FullPath()) {
		writeError(c, errRetiredKey)
		return
	}
	c.Set(ctxMerchant, m)
	c.Set(ctxMerchantKey, key)
	c.Next()
}

// requireBuyerOrMerchant accepts either credential; the key prefix tells them apart.
func (a *app) requireBuyerOrMerchant(c *gin.Context) {
	cred, ok := bearer(c)
	if ok && strings.HasPrefix(cred, merchantKeyPrefix) {
		a.requireMerchant(c)
		return
	}
	a.requireBuyer(c)
}

func buyerID(c *gin.Context) (string, bool) {
	id, ok := c.Get(ctxBuyerID)
	s, _ := id.(string)
	return s, ok && s != ""
}

// merchantKey is the key the merchant authenticated with.
func merchantKey(c *gin.Context) models.MerchantKey {
	k, _ := c.Get(ctxMerchantKey)
	key, _ := k.(models.MerchantKey)
	return key
}

func merchant(c *gin.Context) (models.Merchant, bool) {
	v, ok := c.Get(ctxMerchant)
	m, _ := v.(models.Merchant)
	return m, ok && m.ID != ""
}

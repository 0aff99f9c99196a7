package main

import (
	"fmt"
	"net/http"
	"time"
)

// oneTap is -onetap: the product's purchases are one-tap repeat purchases
// ({product_id, quantity} only) by buyers who saved their details first.
var oneTap = false

// oneTapBuyers are the buyers of -onetap, each with a saved profile.
var oneTapBuyers []string

// buy makes purchase i of a round: from a buyer new in the run, or with
// -onetap a one-tap purchase by one of the buyers who saved their details.
func (e *env) buy(i int, key, productID string) answer {
	if len(oneTapBuyers) == 0 {
		return e.purchase(e.token("buyer-"+key), key, productID)
	}
	body := map[string]any{"product_id": productID, "quantity": 1}
	var out struct {
		OrderID string `json:"order_id"`
	}
	tok := e.token(oneTapBuyers[i%len(oneTapBuyers)])
	code, hdr, err := e.send("/v1/purchases", tok, map[string]string{"Idempotency-Key": key}, body, &out)
	return answer{code: code, orderID: out.OrderID, retryAfter: hdr.Get("Retry-After") != "", err: err}
}

// saveOneTapBuyers makes n buyers, each with a first purchase that saves
// their details, and waits until every profile is saved (the workflow saves
// it after the authorization, behind the buyer's answer).
func (e *env) saveOneTapBuyers(prefix, productID string, n int) error {
	buyers := make([]string, n)
	for i := range buyers {
		buyers[i] = fmt.Sprintf("buyer-%s-%d", prefix, i)
		key := fmt.Sprintf("%s-save-%d", prefix, i)
		body := map[string]any{
			"product_id": productID, "quantity": 1, "payment_method": "pm_card_visa", "save_details": true,
			"shipping_address": map[string]string{"name": "Bench Buyer", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
		}
		code, _, err := e.send("/v1/purchases", e.token(buyers[i]), map[string]string{"Idempotency-Key": key}, body, nil)
		if err != nil || code != http.StatusCreated {
			return fmt.Errorf("first purchase of %s: HTTP %d %v", buyers[i], code, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, b := range buyers {
		for {
			code, err := e.get("/v1/me/profile", e.token(b))
			if err == nil && code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the profile of %s was not saved: HTTP %d %v", b, code, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	oneTapBuyers = buyers
	return nil
}

func (e *env) get(path, bearer string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, e.apiURL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

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
	return e.purchaseWith(e.token(oneTapBuyers[i%len(oneTapBuyers)]), key, body)
}

// saveOneTapBuyers makes n buyers, each with a first purchase that saves
// their details, and waits until every profile is saved (the workflow saves
// it after the authorization, behind the buyer's answer).
func (e *env) saveOneTapBuyers(prefix, productID string, n int) error {
	buyers := make([]string, n)
	for i := range buyers {
		buyers[i] = fmt.Sprintf("buyer-%s-%d", prefix, i)
		key := fmt.Sprintf("%s-save-%d", prefix, i)
		body := purchaseBody(productID)
		body["save_details"] = true
		if a := e.purchaseWith(e.token(buyers[i]), key, body); a.err != nil || a.code != http.StatusCreated {
			return fmt.Errorf("first purchase of %s: HTTP %d %v", buyers[i], a.code, a.err)
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

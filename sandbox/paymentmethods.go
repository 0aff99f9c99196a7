package sandbox

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

type paymentMethod struct {
	id       string
	number   string
	expMonth int64
	expYear  int64
	customer string
	created  time.Time
	metadata map[string]string
	billing  map[string]string // name, email, phone
	// spent is set once the method paid without belonging to a customer
	// and without setup_future_usage, or was detached: Stripe refuses to use
	// or attach such a method again.
	spent bool
	// setUp is set once the method paid with setup_future_usage but no
	// customer: Stripe lets it be attached to a customer afterwards, and
	// refuses it for another payment until then.
	setUp bool
}

func (pm *paymentMethod) behavior() cardBehavior { return behaviorOf(pm.number) }

func (s *Server) newPaymentMethod(number string, expMonth, expYear int64) *paymentMethod {
	pm := &paymentMethod{
		id: newID("pm_", 24), number: number, expMonth: expMonth, expYear: expYear,
		created: s.now(), metadata: map[string]string{}, billing: map[string]string{},
	}
	s.paymentMethods[pm.id] = pm
	return pm
}

// resolvePaymentMethod finds the method a parameter names. A pm_card_… token
// mints a fresh method each time, as it does at Stripe.
func (s *Server) resolvePaymentMethod(param, id string) (*paymentMethod, *apiError) {
	if number, ok := testTokens[id]; ok {
		return s.newPaymentMethod(number, 12, int64(s.now().Year()+3)), nil
	}
	pm, ok := s.paymentMethods[id]
	if !ok {
		return nil, noSuchParam("PaymentMethod", param, id)
	}
	return pm, nil
}

func (s *Server) createPaymentMethod(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("type", "card", "billing_details", "metadata", "allow_redisplay"); err != nil {
		return result(0, nil, err)
	}
	if p.str("type") == "" {
		return result(0, nil, missingParam("type"))
	}
	if p.str("type") != "card" {
		return result(0, nil, invalid("type", "The sandbox only supports payment methods of type card, not %q.", p.str("type")))
	}
	card := p.sub("card")
	number := card["number"]
	switch {
	case number == "":
		return result(0, nil, missingParam("card[number]"))
	case !luhnValid(number):
		e := errorf(http.StatusPaymentRequired, typeCard, "incorrect_number", "card[number]", "Your card number is incorrect.")
		e.DeclineCode = ""
		return result(0, nil, e)
	}
	month, _ := strconv.ParseInt(card["exp_month"], 10, 64)
	year, _ := strconv.ParseInt(card["exp_year"], 10, 64)
	if year > 0 && year < 100 {
		year += 2000
	}
	switch {
	case month < 1 || month > 12:
		return result(0, nil, errorf(http.StatusPaymentRequired, typeCard, "invalid_expiry_month", "card[exp_month]", "Your card's expiration month is invalid."))
	case year == 0:
		return result(0, nil, errorf(http.StatusPaymentRequired, typeCard, "invalid_expiry_year", "card[exp_year]", "Your card's expiration year is invalid."))
	case expired(month, year, s.now()):
		return result(0, nil, errorf(http.StatusPaymentRequired, typeCard, "invalid_expiry_year", "card[exp_year]", "Your card's expiration year is invalid."))
	}
	pm := s.newPaymentMethod(number, month, year)
	pm.metadata = applyMetadata(pm.metadata, p)
	for k, v := range p.sub("billing_details") {
		pm.billing[k] = v
	}
	return http.StatusOK, s.renderPaymentMethod(pm)
}

func expired(month, year int64, now time.Time) bool {
	ny, nm := int64(now.Year()), int64(now.Month())
	return year < ny || (year == ny && month < nm)
}

func (s *Server) getPaymentMethod(c *call) (int, any) {
	pm, err := s.pathPaymentMethod(c.pathID)
	if err != nil {
		return result(0, nil, err)
	}
	return http.StatusOK, s.renderPaymentMethod(pm)
}

func (s *Server) pathPaymentMethod(id string) (*paymentMethod, *apiError) {
	if _, ok := testTokens[id]; ok {
		return s.resolvePaymentMethod("", id)
	}
	pm, ok := s.paymentMethods[id]
	if !ok {
		return nil, noSuch("PaymentMethod", "", id)
	}
	return pm, nil
}

func (s *Server) attachPaymentMethod(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("customer"); err != nil {
		return result(0, nil, err)
	}
	pm, err := s.pathPaymentMethod(c.pathID)
	if err != nil {
		return result(0, nil, err)
	}
	if p.str("customer") == "" {
		return result(0, nil, missingParam("customer"))
	}
	cus, err := s.liveCustomer("customer", p.str("customer"))
	if err != nil {
		return result(0, nil, err)
	}
	if err := s.attach(pm, cus); err != nil {
		return result(0, nil, err)
	}
	return http.StatusOK, s.renderPaymentMethod(pm)
}

// attach saves pm on cus, refusing the methods Stripe refuses.
func (s *Server) attach(pm *paymentMethod, cus *customer) *apiError {
	switch {
	case pm.customer == cus.id:
		return nil
	case pm.customer != "":
		return errorf(http.StatusBadRequest, typeInvalidRequest, "payment_method_unexpected_state", "",
			"The payment method you provided has already been attached to a customer.")
	case pm.spent:
		return errorf(http.StatusBadRequest, typeInvalidRequest, "payment_method_unexpected_state", "",
			"This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.")
	}
	if d := pm.behavior().decline; d != nil && d.onAttach {
		e := errorf(http.StatusPaymentRequired, typeCard, d.code, "", "%s", d.message)
		e.DeclineCode = d.declineCode
		return e
	}
	pm.customer = cus.id
	return nil
}

func (s *Server) detachPaymentMethod(c *call) (int, any) {
	if err := c.params.onlyKnown(); err != nil {
		return result(0, nil, err)
	}
	pm, err := s.pathPaymentMethod(c.pathID)
	if err != nil {
		return result(0, nil, err)
	}
	if pm.customer == "" {
		return result(0, nil, errorf(http.StatusBadRequest, typeInvalidRequest, "payment_method_unexpected_state", "",
			"The payment method you provided is not attached to a customer so detachment is impossible."))
	}
	s.detach(pm)
	return http.StatusOK, s.renderPaymentMethod(pm)
}

func (s *Server) detach(pm *paymentMethod) {
	if cus, ok := s.customers[pm.customer]; ok && cus.defaultPM == pm.id {
		cus.defaultPM = ""
	}
	pm.customer = ""
	pm.spent = true
}

func (s *Server) renderPaymentMethod(pm *paymentMethod) map[string]any {
	brand := cardBrand(pm.number)
	return map[string]any{
		"id":     pm.id,
		"object": "payment_method",
		"billing_details": map[string]any{
			"address": map[string]any{"city": nil, "country": nil, "line1": nil, "line2": nil, "postal_code": nil, "state": nil},
			"email":   nullable(pm.billing["email"]),
			"name":    nullable(pm.billing["name"]),
			"phone":   nullable(pm.billing["phone"]),
		},
		"card":     s.renderCard(pm, brand),
		"created":  pm.created.Unix(),
		"customer": nullable(pm.customer),
		"livemode": false,
		"metadata": pm.metadata,
		"type":     "card",
	}
}

func (s *Server) renderCard(pm *paymentMethod, brand string) map[string]any {
	return map[string]any{
		"brand":                brand,
		"checks":               map[string]any{"address_line1_check": nil, "address_postal_code_check": nil, "cvc_check": "pass"},
		"country":              "US",
		"exp_month":            pm.expMonth,
		"exp_year":             pm.expYear,
		"fingerprint":          cardFingerprint(pm.number),
		"funding":              cardFunding(pm.number),
		"generated_from":       nil,
		"last4":                pm.number[len(pm.number)-4:],
		"networks":             map[string]any{"available": []string{brand}, "preferred": nil},
		"three_d_secure_usage": map[string]any{"supported": true},
		"wallet":               nil,
	}
}

// nullable renders "" as JSON null, as Stripe leaves unset fields.
func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// listPaymentMethods is GET /v1/payment_methods?customer=…: a customer's
// saved cards, newest first, as Stripe lists them.
func (s *Server) listPaymentMethods(c *call) (int, any) {
	id := c.params.str("customer")
	if id == "" {
		return result(0, nil, missingParam("customer"))
	}
	if _, err := s.liveCustomer("customer", id); err != nil {
		return result(0, nil, err)
	}
	return http.StatusOK, s.savedMethods(id, "/v1/payment_methods")
}

func (s *Server) listCustomerPaymentMethods(c *call) (int, any) {
	if cus, ok := s.customers[c.pathID]; !ok || cus.deleted {
		return result(0, nil, noSuch("customer", "", c.pathID))
	}
	return http.StatusOK, s.savedMethods(c.pathID, "/v1/customers/"+c.pathID+"/payment_methods")
}

func (s *Server) savedMethods(customerID, url string) map[string]any {
	var pms []*paymentMethod
	for _, pm := range s.paymentMethods {
		if pm.customer == customerID {
			pms = append(pms, pm)
		}
	}
	sort.Slice(pms, func(i, j int) bool {
		if !pms[i].created.Equal(pms[j].created) {
			return pms[i].created.After(pms[j].created)
		}
		return pms[i].id > pms[j].id
	})
	data := make([]any, 0, len(pms))
	for _, pm := range pms {
		data = append(data, s.renderPaymentMethod(pm))
	}
	return map[string]any{"object": "list", "data": data, "has_more": false, "url": url}
}

package sandbox

import (
	"net/http"
	"time"
)

type customer struct {
	id          string
	name        string
	email       string
	phone       string
	description string
	address     map[string]string
	metadata    map[string]string
	defaultPM   string
	created     time.Time
	deleted     bool
}

var customerParams = []string{
	"name", "email", "phone", "description", "metadata", "payment_method", "invoice_settings",
	"address", "shipping", "preferred_locales", "tax_exempt", "balance", "source", "tax", "test_clock",
}

// liveCustomer finds a customer named by a parameter; deleted ones are gone.
func (s *Server) liveCustomer(param, id string) (*customer, *apiError) {
	cus, ok := s.customers[id]
	if !ok || cus.deleted {
		return nil, noSuchParam("customer", param, id)
	}
	return cus, nil
}

func (s *Server) createCustomer(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown(customerParams...); err != nil {
		return result(0, nil, err)
	}
	cus := &customer{id: newID("cus_", 14), created: s.now(), address: map[string]string{}}
	var attached *paymentMethod
	if id := p.str("payment_method"); id != "" {
		pm, err := s.resolvePaymentMethod("payment_method", id)
		if err != nil {
			return result(0, nil, err)
		}
		if err := s.attach(pm, cus); err != nil {
			return result(0, nil, err)
		}
		attached = pm
	}
	if err := s.applyCustomer(cus, p, attached); err != nil {
		if attached != nil {
			attached.customer = ""
		}
		return result(0, nil, err)
	}
	s.customers[cus.id] = cus
	return http.StatusOK, s.renderCustomer(cus)
}

// applyCustomer sets the updatable fields. When the request also attached a
// method through a pm_card_… token, naming the same token as default means
// the method just minted.
func (s *Server) applyCustomer(cus *customer, p params, attached *paymentMethod) *apiError {
	for name, field := range map[string]*string{"name": &cus.name, "email": &cus.email, "phone": &cus.phone, "description": &cus.description} {
		if p.has(name) {
			*field = p.str(name)
		}
	}
	cus.metadata = applyMetadata(cus.metadata, p)
	for k, v := range p.sub("address") {
		cus.address[k] = v
	}
	if !p.has("invoice_settings[default_payment_method]") {
		return nil
	}
	id := p.str("invoice_settings[default_payment_method]")
	if attached != nil && id == p.str("payment_method") {
		id = attached.id
	}
	if id != "" {
		pm, ok := s.paymentMethods[id]
		if !ok || pm.customer != cus.id {
			return errorf(http.StatusBadRequest, typeInvalidRequest, "resource_missing", "invoice_settings[default_payment_method]",
				"No such PaymentMethod: '%s'; the payment method must be attached to customer %s.", id, cus.id)
		}
	}
	cus.defaultPM = id
	return nil
}

func (s *Server) getCustomer(c *call) (int, any) {
	cus, ok := s.customers[c.pathID]
	if !ok {
		return result(0, nil, noSuch("customer", "", c.pathID))
	}
	if cus.deleted {
		return http.StatusOK, map[string]any{"id": cus.id, "object": "customer", "deleted": true}
	}
	return http.StatusOK, s.renderCustomer(cus)
}

func (s *Server) updateCustomer(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown(customerParams...); err != nil {
		return result(0, nil, err)
	}
	cus, ok := s.customers[c.pathID]
	if !ok || cus.deleted {
		return result(0, nil, noSuch("customer", "", c.pathID))
	}
	if p.has("payment_method") {
		return result(0, nil, errorf(http.StatusBadRequest, typeInvalidRequest, "parameter_unknown", "payment_method",
			"Received unknown parameter: payment_method"))
	}
	// Validate on a copy so a refused update changes nothing.
	next := *cus
	next.address = copyMap(cus.address)
	next.metadata = copyMap(cus.metadata)
	if err := s.applyCustomer(&next, p, nil); err != nil {
		return result(0, nil, err)
	}
	*cus = next
	return http.StatusOK, s.renderCustomer(cus)
}

func (s *Server) deleteCustomer(c *call) (int, any) {
	cus, ok := s.customers[c.pathID]
	if !ok || cus.deleted {
		return result(0, nil, noSuch("customer", "", c.pathID))
	}
	for _, pm := range s.paymentMethods {
		if pm.customer == cus.id {
			s.detach(pm)
		}
	}
	cus.deleted = true
	return http.StatusOK, map[string]any{"id": cus.id, "object": "customer", "deleted": true}
}

func (s *Server) renderCustomer(cus *customer) map[string]any {
	var address any
	if len(cus.address) > 0 {
		a := map[string]any{"city": nil, "country": nil, "line1": nil, "line2": nil, "postal_code": nil, "state": nil}
		for k, v := range cus.address {
			a[k] = v
		}
		address = a
	}
	return map[string]any{
		"id":                cus.id,
		"object":            "customer",
		"address":           address,
		"balance":           0,
		"created":           cus.created.Unix(),
		"currency":          nil,
		"default_source":    nil,
		"delinquent":        false,
		"description":       nullable(cus.description),
		"discount":          nil,
		"email":             nullable(cus.email),
		"invoice_prefix":    cus.id[len(cus.id)-8:],
		"invoice_settings":  map[string]any{"custom_fields": nil, "default_payment_method": nullable(cus.defaultPM), "footer": nil, "rendering_options": nil},
		"livemode":          false,
		"metadata":          nonNil(cus.metadata),
		"name":              nullable(cus.name),
		"phone":             nullable(cus.phone),
		"preferred_locales": []string{},
		"shipping":          nil,
		"tax_exempt":        "none",
		"test_clock":        nil,
	}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// CustomersFor counts the customers not deleted whose metadata[order_id] is
// orderID: what an order's saved-card step left at Stripe.
func (s *Server) CustomersFor(orderID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, cus := range s.customers {
		if !cus.deleted && cus.metadata["order_id"] == orderID {
			n++
		}
	}
	return n
}

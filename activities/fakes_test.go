package activities

import (
	"context"
	"sync"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
)

// fakeStore is an in-memory Store with just enough behaviour for the
// activities: orders are created once, stock is not modelled.
type fakeStore struct {
	mu        sync.Mutex
	products  map[string]models.Product
	merchants map[string]models.Merchant
	orders    map[string]models.Order
	err       error // returned by every call when set
	reserved  []string
	quotes    map[string]models.Quote
	tax       models.TaxTable // the tax PriceOrder applies
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		products: map[string]models.Product{
			"prod_mug":  {ID: "prod_mug", MerchantID: "mer_1", Title: "Mug", PriceMinor: 1250, Currency: "usd", Stock: 5, MaxPerOrder: 3, Active: true},
			"prod_old":  {ID: "prod_old", MerchantID: "mer_1", Title: "Old", PriceMinor: 100, Currency: "usd", Active: false},
			"prod_gone": {ID: "prod_gone", MerchantID: "mer_closed", Title: "Gone", PriceMinor: 100, Currency: "usd", Active: true},
		},
		merchants: map[string]models.Merchant{
			"mer_1":      {ID: "mer_1", Name: "Mugs Inc", Active: true, WebhookURL: "https://mugs.example/hooks", WebhookSecret: "whsec_1"},
			"mer_closed": {ID: "mer_closed", Name: "Closed", Active: false},
			"mer_quiet":  {ID: "mer_quiet", Name: "Quiet", Active: true},
		},
		orders: map[string]models.Order{},
		quotes: map[string]models.Quote{},
	}
}

func (s *fakeStore) Product(_ context.Context, id string) (models.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return models.Product{}, s.err
	}
	p, ok := s.products[id]
	if !ok {
		return models.Product{}, models.NotFound("product")
	}
	return p, nil
}

func (s *fakeStore) Merchant(_ context.Context, id string) (models.Merchant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return models.Merchant{}, s.err
	}
	m, ok := s.merchants[id]
	if !ok {
		return models.Merchant{}, models.NotFound("merchant")
	}
	return m, nil
}

func (s *fakeStore) CreateOpenOrder(_ context.Context, o models.Order, _ int) (models.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return models.Order{}, s.err
	}
	if existing, ok := s.orders[o.ID]; ok {
		return existing, nil
	}
	s.orders[o.ID] = o
	return o, nil
}

func (s *fakeStore) Order(_ context.Context, id string) (models.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return models.Order{}, s.err
	}
	o, ok := s.orders[id]
	if !ok {
		return models.Order{}, models.NotFound("order")
	}
	return o, nil
}

func (s *fakeStore) ReserveStock(_ context.Context, orderID, productID string, qty int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.reserved = append(s.reserved, orderID)
	return nil
}

func (s *fakeStore) ReleaseStock(_ context.Context, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *fakeStore) ApplyStatusChange(_ context.Context, c models.StatusChange) (models.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return models.Order{}, s.err
	}
	o, ok := s.orders[c.OrderID]
	if !ok {
		return models.Order{}, models.NotFound("order")
	}
	if err := models.CheckTransition(o.Status, c.To); err != nil {
		return models.Order{}, err
	}
	o.Status = c.To
	s.orders[o.ID] = o
	return o, nil
}

// fakePayments answers every call with its intent, or err when set.
type fakePayments struct {
	intent payments.Intent
	err    error
	calls  []string
	// attempts are the attempt numbers Capture, Cancel and Refund were given.
	attempts []int32
	// refund is what Refund answers; zero: a succeeded refund of the amount.
	refund payments.Refund
}

func (p *fakePayments) Authorize(_ context.Context, req payments.AuthorizeRequest) (payments.Intent, error) {
	p.calls = append(p.calls, "Authorize:"+req.OrderID)
	return p.intent, p.err
}

func (p *fakePayments) Capture(_ context.Context, orderID, intentID string, attempt int32) (payments.Intent, error) {
	p.calls = append(p.calls, "Capture:"+intentID)
	p.attempts = append(p.attempts, attempt)
	return p.intent, p.err
}

func (p *fakePayments) Cancel(_ context.Context, orderID, intentID string, attempt int32) (payments.Intent, error) {
	p.calls = append(p.calls, "Cancel:"+intentID)
	p.attempts = append(p.attempts, attempt)
	return p.intent, p.err
}

func (p *fakePayments) Refund(_ context.Context, req payments.RefundRequest) (payments.Refund, error) {
	p.calls = append(p.calls, "Refund:"+req.IntentID)
	p.attempts = append(p.attempts, req.Attempt)
	if p.refund != (payments.Refund{}) {
		return p.refund, p.err
	}
	return payments.Refund{ID: "re_1", Amount: req.Amount, Status: "succeeded"}, p.err
}

func (p *fakePayments) Retrieve(_ context.Context, intentID string) (payments.Intent, error) {
	return p.intent, p.err
}

// fakeNotifier records what it was asked to send.
type fakeNotifier struct {
	sent []sentEvent
	err  error
}

type sentEvent struct {
	url, secret string
	ev          notify.Event
}

func (n *fakeNotifier) Send(_ context.Context, url, secret string, ev notify.Event) (notify.Delivery, error) {
	n.sent = append(n.sent, sentEvent{url, secret, ev})
	if n.err != nil {
		return notify.Delivery{StatusCode: 500}, n.err
	}
	return notify.Delivery{StatusCode: 200}, nil
}

// ProductDetail is the fake's product with one default variant.
func (s *fakeStore) ProductDetail(ctx context.Context, id string) (models.ProductDetail, error) {
	p, err := s.Product(ctx, id)
	if err != nil {
		return models.ProductDetail{}, err
	}
	return models.ProductDetail{Product: p, Variants: []models.Variant{{ID: "var_" + p.ID[5:], ProductID: p.ID, PriceMinor: p.PriceMinor, Stock: p.Stock, Active: true}}}, nil
}

// PriceOrderOf prices the fake's products as their one default variant,
// with no shipping policy (free) and no tax, or with quoteTax when set.
func (s *fakeStore) PriceOrderOf(ctx context.Context, d models.ProductDetail, req models.OrderRequest, tax models.TaxCalculator) (models.PricedOrder, error) {
	p := d.Product
	v, err := d.SelectVariant(req.Choice)
	if err != nil {
		return models.PricedOrder{}, err
	}
	if tax == nil {
		tax = s.tax
	}
	pricing, rates, err := models.Price(ctx, models.PriceInput{Product: p, Variant: v, Quantity: req.Quantity,
		Destination: req.Destination, RateID: req.RateID, Tax: tax})
	return models.PricedOrder{Product: d, Variant: v, Pricing: pricing, Rates: rates}, err
}

func (s *fakeStore) Quote(_ context.Context, id string) (models.Quote, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.quotes[id]
	if !ok {
		return models.Quote{}, models.NotFound("quote")
	}
	return q, nil
}

package models

import "time"

// Merchant sells products through Buy buttons. It authenticates with an API
// key of which only the SHA-256 hash is stored.
type Merchant struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Active     bool   `json:"active"`
	APIKeyHash string `json:"-"`
	WebhookURL string `json:"webhook_url,omitempty"`
	// WebhookSecret signs the webhooks we send to WebhookURL.
	WebhookSecret string    `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
}

// Product is what a Buy button sells.
type Product struct {
	ID          string    `json:"id"`
	MerchantID  string    `json:"merchant_id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	PriceMinor  int64     `json:"price"`    // unit price, minor units
	Currency    string    `json:"currency"` // ISO 4217, lower case
	Stock       int       `json:"stock"`
	MaxPerOrder int       `json:"max_per_order"` // 0 means MaxQuantityPerOrder
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// MaxQuantityPerOrder bounds any single order, whatever the product says.
const MaxQuantityPerOrder = 10

// Price is the product's unit price as Money.
func (p Product) Price() Money { return Money{Amount: p.PriceMinor, Currency: p.Currency} }

// QuantityLimit is the most units one order of this product may hold.
func (p Product) QuantityLimit() int {
	if p.MaxPerOrder > 0 && p.MaxPerOrder < MaxQuantityPerOrder {
		return p.MaxPerOrder
	}
	return MaxQuantityPerOrder
}

// CheckQuantity validates a requested quantity against the product's limit.
func (p Product) CheckQuantity(q int) error {
	if q <= 0 {
		return Invalid("invalid_quantity", "quantity must be at least 1")
	}
	if limit := p.QuantityLimit(); q > limit {
		return Invalid("quantity_limit", "quantity must be at most %d", limit)
	}
	return nil
}

// NewProduct is what a merchant sends to create a product.
type NewProduct struct {
	Title       string `json:"title"`
	Description string `json:"description" text:"multiline"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	Stock       int    `json:"stock"`
	MaxPerOrder int    `json:"max_per_order"`
}

// Validate checks a new product and normalises its currency.
func (n *NewProduct) Validate() error {
	if l := len(n.Title); l == 0 || l > 200 {
		return Invalid("invalid_title", "title must be 1 to 200 characters")
	}
	if len(n.Description) > 2000 {
		return Invalid("invalid_description", "description must be at most 2000 characters")
	}
	if n.Price <= 0 || n.Price > 99_999_999 {
		return Invalid("invalid_price", "price must be between 1 and 99999999 minor units")
	}
	c, err := NormalizeCurrency(n.Currency)
	if err != nil {
		return err
	}
	n.Currency = c
	if n.Stock < 0 || n.Stock > 1_000_000 {
		return Invalid("invalid_stock", "stock must be between 0 and 1000000")
	}
	if n.MaxPerOrder < 0 {
		return Invalid("invalid_max_per_order", "max_per_order must not be negative")
	}
	return nil
}

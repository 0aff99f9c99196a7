package store

import "time"

// Row structs are the storage shape of the domain types. They live here, not
// in models, so the domain stays free of gorm tags and a column can change
// without touching the API's JSON.

type merchantRow struct {
	ID            string `gorm:"primaryKey;size:64"`
	Name          string `gorm:"not null"`
	Active        bool   `gorm:"not null"`
	APIKeyHash    string `gorm:"size:64;not null;uniqueIndex:idx_merchants_api_key_hash"`
	WebhookURL    string `gorm:"not null"`
	WebhookSecret string `gorm:"not null"`
	CreatedAt     time.Time
}

func (merchantRow) TableName() string { return "merchants" }

type productRow struct {
	ID          string    `gorm:"primaryKey;size:64"`
	MerchantID  string    `gorm:"size:64;not null;index:idx_products_merchant_created,priority:1"`
	Title       string    `gorm:"not null"`
	Description string    `gorm:"not null"`
	PriceMinor  int64     `gorm:"not null"`
	Currency    string    `gorm:"size:3;not null"`
	Stock       int64     `gorm:"not null;check:chk_products_stock,stock >= 0"`
	MaxPerOrder int64     `gorm:"not null"`
	Active      bool      `gorm:"not null"`
	CreatedAt   time.Time `gorm:"index:idx_products_merchant_created,priority:2"`
	UpdatedAt   time.Time
}

func (productRow) TableName() string { return "products" }

type orderRow struct {
	ID              string `gorm:"primaryKey;size:64"`
	BuyerID         string `gorm:"size:64;not null;index:idx_orders_buyer_created,priority:1"`
	MerchantID      string `gorm:"size:64;not null;index:idx_orders_merchant_status_created,priority:1;index:idx_orders_merchant_created,priority:1"`
	ProductID       string `gorm:"size:64;not null"`
	ProductTitle    string `gorm:"not null"`
	Quantity        int64  `gorm:"not null"`
	UnitPriceMinor  int64  `gorm:"not null"`
	AmountMinor     int64  `gorm:"not null"`
	Currency        string `gorm:"size:3;not null"`
	Status          string `gorm:"size:32;not null;index:idx_orders_merchant_status_created,priority:2"`
	FailureCode     string `gorm:"size:64;not null"`
	PaymentIntentID string `gorm:"size:255;not null;index:idx_orders_payment_intent"` // Stripe events without order metadata (disputes) look orders up by it
	CapturedMinor   int64  `gorm:"not null"`
	RefundedMinor   int64  `gorm:"not null"`
	Disputed        bool   `gorm:"not null;default:false"`
	DisputeStatus   string `gorm:"size:32;not null;default:''"`
	// ShippingAddress holds the address sealed by addressCodec; it is opaque
	// text so that sealing can become encryption without a schema change.
	ShippingAddress string    `gorm:"type:text;not null"`
	Carrier         string    `gorm:"not null"`
	TrackingNumber  string    `gorm:"not null"`
	TrackingURL     string    `gorm:"not null"`
	CreatedAt       time.Time `gorm:"index:idx_orders_merchant_status_created,priority:3;index:idx_orders_merchant_created,priority:2;index:idx_orders_buyer_created,priority:2"`
	UpdatedAt       time.Time

	// RedactShipping is set when the buyer erased their data while the order
	// was still open: the address is wiped when the order ends.
	RedactShipping bool `gorm:"not null;default:false"`

	// VariantID and Pricing (JSON of models.OrderPricing) are the order's
	// pricing snapshot; empty for orders placed before variants.
	VariantID string `gorm:"size:64;not null;default:''"`
	Pricing   string `gorm:"type:text;not null;default:''"`
}

func (orderRow) TableName() string { return "orders" }

// orderEventRow is append-only: rows are inserted, never updated or deleted.
type orderEventRow struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	OrderID    string `gorm:"size:64;not null;index:idx_order_events_order"`
	FromStatus string `gorm:"size:32;not null"`
	ToStatus   string `gorm:"size:32;not null"`
	Actor      string `gorm:"not null"`
	Detail     string `gorm:"not null"`
	CreatedAt  time.Time
}

func (orderEventRow) TableName() string { return "order_events" }

// stockReservationRow records that an order holds stock, so reserving and
// releasing are idempotent per order.
type stockReservationRow struct {
	OrderID   string `gorm:"primaryKey;size:64"`
	ProductID string `gorm:"size:64;not null;index:idx_stock_reservations_product"`
	VariantID string `gorm:"size:64;not null;default:''"`
	Quantity  int64  `gorm:"not null"`
	Released  bool   `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (stockReservationRow) TableName() string { return "stock_reservations" }

type idempotencyKeyRow struct {
	Scope       string `gorm:"primaryKey;size:128"` // an actor: "buyer:" plus an id of up to 64 characters
	Key         string `gorm:"primaryKey;size:255"`
	RequestHash string `gorm:"size:128;not null"`
	OrderID     string `gorm:"size:64;not null"`
	CreatedAt   time.Time
}

func (idempotencyKeyRow) TableName() string { return "idempotency_keys" }

// allRows lists the tables of the first migration, the schema AutoMigrate
// made before versioned migrations, parents first.
func allRows() []any {
	return append([]any{
		&merchantRow{}, &productRow{}, &orderRow{}, &orderEventRow{}, &stockReservationRow{}, &idempotencyKeyRow{},
		&stripeEventRow{}, &refundRow{}, &eventSequenceRow{},
		&merchantKeyRow{}, &merchantAuditRow{}, &webhookAttemptRow{},
		&buyerProfileRow{}, &profileUseRow{},
		&variantRow{}, &catalogueRow{}, &merchantPolicyRow{}, &quoteRow{},
		&rolloutSettingsRow{},
	}, connectRows()...)
}

// laterRows lists the tables later migrations add, in their order.
func laterRows() []any {
	return []any{&merchantOutboxRow{}}
}

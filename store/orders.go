package store

import (
	"context"
	"time"

	"github.com/buybutton/checkout/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Bounds of ListMerchantOrders' page size.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// CreateOrder stores a new order. Creating an order whose id exists returns
// the stored order unchanged, so a retried activity is harmless. An empty
// status means pending; zero timestamps mean now.
func (s *Store) CreateOrder(ctx context.Context, o models.Order) (models.Order, error) {
	return s.CreateOpenOrder(ctx, o, 0)
}

// CodeTooManyOpenOrders refuses a purchase from a buyer who already has the
// most unpaid orders (pending, requires_action) allowed.
const CodeTooManyOpenOrders = "too_many_open_orders"

// CreateOpenOrder is CreateOrder for a new purchase: it refuses the order
// when its buyer already has maxOpenUnpaid orders waiting for payment
// (pending or requires_action; 0: no cap), so one buyer cannot hold a
// product's stock with purchases that never finish. The count and the
// insert are one transaction under a per-buyer lock, so concurrent
// purchases cannot both pass. Creating an order that exists changes nothing.
func (s *Store) CreateOpenOrder(ctx context.Context, o models.Order, maxOpenUnpaid int) (models.Order, error) {
	if !models.ValidID(o.ID) {
		return models.Order{}, models.Invalid("invalid_order_id", "order id %q is malformed", o.ID)
	}
	if o.Status == "" {
		o.Status = models.StatusPending
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now()
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.CreatedAt
	}
	row, err := s.orderToRow(o)
	if err != nil {
		return models.Order{}, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if maxOpenUnpaid > 0 {
			if err := s.refuseOverOpenCap(tx, o, maxOpenUnpaid); err != nil {
				return err
			}
		}
		// A one-tap purchase whose buyer erased their profile meanwhile
		// ships to that address but does not keep it (see profile_uses.go):
		// the use is consumed in the same transaction as the insert.
		erased, err := consumeProfileUse(tx, o.ID)
		if err != nil {
			return err
		}
		row.RedactShipping = row.RedactShipping || erased
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	})
	if err != nil {
		return models.Order{}, dbError("create order", "order", err)
	}
	return s.Order(ctx, o.ID)
}

// refuseOverOpenCap refuses o when its buyer already has limit orders waiting
// for payment, under a per-buyer lock held to the end of tx, so concurrent
// purchases of one buyer count one after the other (SQLite's single writer
// serialises them already).
func (s *Store) refuseOverOpenCap(tx *gorm.DB, o models.Order, limit int) error {
	if s.postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "open-orders:"+o.BuyerID).Error; err != nil {
			return err
		}
	}
	var open int64
	err := tx.Model(&orderRow{}).Where("buyer_id = ? AND status IN ? AND id <> ?", o.BuyerID,
		[]string{string(models.StatusPending), string(models.StatusRequiresAction)}, o.ID).Count(&open).Error
	if err != nil {
		return err
	}
	if open >= int64(limit) {
		return models.Errorf(models.KindConflict, CodeTooManyOpenOrders,
			"you have %d purchases waiting for payment; finish or cancel one first", open)
	}
	return nil
}

// Order returns the order with the given id.
func (s *Store) Order(ctx context.Context, id string) (models.Order, error) {
	return s.order(s.db.WithContext(ctx), id)
}

func (s *Store) order(db *gorm.DB, id string) (models.Order, error) {
	var row orderRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return models.Order{}, dbError("order", "order", err)
	}
	return s.rowToOrder(row)
}

// ApplyStatusChange moves an order to c.To and records the facts learnt on the
// way, with an audit event, in one transaction. If the order is already at
// c.To only the facts are applied and no event is added, so a retried
// activity leaves one event. A transition the state machine forbids is a
// conflict (invalid_transition).
func (s *Store) ApplyStatusChange(ctx context.Context, c models.StatusChange) (models.Order, error) {
	return s.ApplyStatusChangeAndKeep(ctx, c, nil)
}

// ApplyStatusChangeAndKeep is ApplyStatusChange that also keeps, in the same
// transaction, the merchant event event makes of the order as the change
// left it (nil: none): the status and the news of it are written together
// or not at all.
func (s *Store) ApplyStatusChangeAndKeep(ctx context.Context, c models.StatusChange, event func(models.Order) (NewOutboxEvent, error)) (models.Order, error) {
	var out models.Order
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row orderRow
		// The row lock makes concurrent changes to one order take turns, so
		// each checks the state machine against the status the other wrote.
		// SQLite ignores the clause; its single writer already serialises.
		err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("id = ?", c.OrderID).Take(&row).Error
		if err != nil {
			return err
		}
		from := models.OrderStatus(row.Status)
		retry := from == c.To
		if !retry {
			if err := models.CheckTransition(from, c.To); err != nil {
				return err
			}
		}
		t := now()
		fields := statusChangeFields(c)
		fields["status"] = string(c.To)
		if row.RedactShipping && c.To.Terminal() {
			// The buyer erased their data; the merchant no longer needs
			// to ship to this address.
			fields["shipping_address"] = ""
		}
		fields["updated_at"] = t
		if err := tx.Model(&orderRow{}).Where("id = ?", c.OrderID).Updates(fields).Error; err != nil {
			return err
		}
		if !retry {
			ev := orderEventRow{
				OrderID: c.OrderID, FromStatus: string(from), ToStatus: string(c.To),
				Actor: c.Actor, Detail: c.Detail, CreatedAt: t,
			}
			if err := tx.Create(&ev).Error; err != nil {
				return err
			}
		}
		if c.EventSequence > 0 {
			if err := raiseSequence(tx, c.OrderID, c.EventSequence); err != nil {
				return err
			}
		}
		out, err = s.order(tx, c.OrderID)
		if err != nil || event == nil {
			return err
		}
		e, err := event(out)
		if err != nil {
			return err
		}
		return s.keepOutboxEvent(tx, e)
	})
	if err != nil {
		return models.Order{}, dbError("apply status change", "order", err)
	}
	return out, nil
}

// statusChangeFields lists the columns a change sets: only the facts it
// carries, so a later change never blanks an earlier one's payment intent or
// tracking number.
func statusChangeFields(c models.StatusChange) map[string]any {
	f := map[string]any{}
	set := func(col, v string) {
		if v != "" {
			f[col] = v
		}
	}
	set("failure_code", c.FailureCode)
	if c.ClearFailureCode {
		f["failure_code"] = ""
	}
	set("payment_intent_id", c.PaymentIntentID)
	set("carrier", c.Carrier)
	set("tracking_number", c.TrackingNumber)
	set("tracking_url", c.TrackingURL)
	if c.CapturedMinor != nil {
		f["captured_minor"] = *c.CapturedMinor
	}
	if c.RefundedMinor != nil {
		f["refunded_minor"] = *c.RefundedMinor
	}
	return f
}

// ListMerchantOrders returns a merchant's orders, newest first, optionally
// only those in one status. limit ≤ 0 means a default page; it is capped.
func (s *Store) ListMerchantOrders(ctx context.Context, merchantID string, status models.OrderStatus, limit int) ([]models.Order, error) {
	q := s.db.WithContext(ctx).Where("merchant_id = ?", merchantID)
	if status != "" {
		q = q.Where("status = ?", string(status))
	}
	return s.listOrders(q, "list merchant orders", limit)
}

// ListOrdersInStatus returns every merchant's orders in one status, newest
// first: what operators work through (needs_attention).
func (s *Store) ListOrdersInStatus(ctx context.Context, status models.OrderStatus, limit int) ([]models.Order, error) {
	return s.listOrders(s.db.WithContext(ctx).Where("status = ?", string(status)), "list orders in status", limit)
}

func (s *Store) listOrders(q *gorm.DB, op string, limit int) ([]models.Order, error) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	var rows []orderRow
	if err := q.Order("created_at DESC").Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, dbError(op, "order", err)
	}
	return s.rowsToOrders(rows)
}

// OrderEvents returns an order's audit log, oldest first. An order without
// events (or an unknown one) has an empty log.
func (s *Store) OrderEvents(ctx context.Context, orderID string) ([]models.OrderEvent, error) {
	var rows []orderEventRow
	err := s.db.WithContext(ctx).Where("order_id = ?", orderID).Order("id ASC").Find(&rows).Error
	if err != nil {
		return nil, dbError("order events", "order", err)
	}
	out := make([]models.OrderEvent, len(rows))
	for i, r := range rows {
		out[i] = models.OrderEvent{
			ID: r.ID, OrderID: r.OrderID,
			From: models.OrderStatus(r.FromStatus), To: models.OrderStatus(r.ToStatus),
			Actor: r.Actor, Detail: r.Detail, CreatedAt: r.CreatedAt.UTC(),
		}
	}
	return out, nil
}

func (s *Store) orderToRow(o models.Order) (orderRow, error) {
	addr, err := s.addresses.Seal(o.Shipping, orderShippingAD(o.ID))
	if err != nil {
		return orderRow{}, err
	}
	return orderRow{
		ID:              o.ID,
		BuyerID:         o.BuyerID,
		MerchantID:      o.MerchantID,
		ProductID:       o.ProductID,
		ProductTitle:    o.ProductTitle,
		Quantity:        int64(o.Quantity),
		UnitPriceMinor:  o.UnitPriceMinor,
		AmountMinor:     o.AmountMinor,
		Currency:        o.Currency,
		Status:          string(o.Status),
		FailureCode:     o.FailureCode,
		PaymentIntentID: o.PaymentIntentID,
		CapturedMinor:   o.CapturedMinor,
		RefundedMinor:   o.RefundedMinor,
		Disputed:        o.Disputed,
		DisputeStatus:   o.DisputeStatus,
		ShippingAddress: addr,
		Carrier:         o.Carrier,
		TrackingNumber:  o.TrackingNumber,
		TrackingURL:     o.TrackingURL,
		VariantID:       o.VariantID,
		Pricing:         pricingColumn(o.OrderPricing),
		CreatedAt:       o.CreatedAt.UTC().Truncate(time.Microsecond),
		UpdatedAt:       o.UpdatedAt.UTC().Truncate(time.Microsecond),
	}, nil
}

// rowsToOrders is rowToOrder for each row, in order.
func (s *Store) rowsToOrders(rows []orderRow) ([]models.Order, error) {
	out := make([]models.Order, 0, len(rows))
	for _, r := range rows {
		o, err := s.rowToOrder(r)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (s *Store) rowToOrder(r orderRow) (models.Order, error) {
	addr, err := s.addresses.Open(r.ShippingAddress, orderShippingAD(r.ID))
	if err != nil {
		return models.Order{}, err
	}
	o := models.Order{
		ID:              r.ID,
		BuyerID:         r.BuyerID,
		MerchantID:      r.MerchantID,
		ProductID:       r.ProductID,
		ProductTitle:    r.ProductTitle,
		Quantity:        int(r.Quantity),
		UnitPriceMinor:  r.UnitPriceMinor,
		AmountMinor:     r.AmountMinor,
		Currency:        r.Currency,
		Status:          models.OrderStatus(r.Status),
		FailureCode:     r.FailureCode,
		PaymentIntentID: r.PaymentIntentID,
		CapturedMinor:   r.CapturedMinor,
		RefundedMinor:   r.RefundedMinor,
		Disputed:        r.Disputed,
		DisputeStatus:   r.DisputeStatus,
		Shipping:        addr,
		Carrier:         r.Carrier,
		TrackingNumber:  r.TrackingNumber,
		TrackingURL:     r.TrackingURL,
		CreatedAt:       r.CreatedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
	}
	o.OrderPricing = pricingOf(r)
	return o, nil
}

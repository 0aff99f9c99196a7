package store

import (
	"context"
	"fmt"
)

// reencryptBatch bounds the rows read at once, so a large table is walked
// without holding it in memory or in one long transaction.
const reencryptBatch = 200

// ReencryptCounts tells how many rows Reencrypt rewrote.
type ReencryptCounts struct {
	Orders   int `json:"orders"`
	Profiles int `json:"profiles"`
	Outbox   int `json:"merchant_outbox"`
}

// Reencrypt rewrites every sealed column that is not under the ring's active
// key (or is plaintext from before encryption) under the active key. Rows
// are updated one at a time and only if unchanged since read, so it runs
// safely beside a live service and can be run again after an interruption.
// Once it reports zero rows, old keys can be dropped from the ring.
func (s *Store) Reencrypt(ctx context.Context) (ReencryptCounts, error) {
	var n ReencryptCounts
	var err error
	if n.Orders, err = s.reencryptOrders(ctx); err != nil {
		return n, err
	}
	if n.Profiles, err = s.reencryptProfiles(ctx); err != nil {
		return n, err
	}
	n.Outbox, err = s.reencryptOutbox(ctx)
	return n, err
}

func (s *Store) reencryptOrders(ctx context.Context) (int, error) {
	done, after := 0, ""
	for {
		var rows []orderRow
		err := s.db.WithContext(ctx).Select("id", "shipping_address").Where("id > ?", after).
			Order("id ASC").Limit(reencryptBatch).Find(&rows).Error
		if err != nil {
			return done, fmt.Errorf("store: reencrypt orders: %w", err)
		}
		for _, r := range rows {
			if !s.addresses.needsReseal(r.ShippingAddress) {
				continue
			}
			ad := orderShippingAD(r.ID)
			a, err := s.addresses.Open(r.ShippingAddress, ad)
			if err != nil {
				return done, fmt.Errorf("store: reencrypt order %s: %w", r.ID, err)
			}
			sealed, err := s.addresses.Seal(a, ad)
			if err != nil {
				return done, err
			}
			res := s.db.WithContext(ctx).Model(&orderRow{}).
				Where("id = ? AND shipping_address = ?", r.ID, r.ShippingAddress).
				Update("shipping_address", sealed)
			if res.Error != nil {
				return done, fmt.Errorf("store: reencrypt order %s: %w", r.ID, res.Error)
			}
			done += int(res.RowsAffected)
		}
		if len(rows) < reencryptBatch {
			return done, nil
		}
		after = rows[len(rows)-1].ID
	}
}

func (s *Store) reencryptProfiles(ctx context.Context) (int, error) {
	done, after := 0, ""
	for {
		var rows []buyerProfileRow
		err := s.db.WithContext(ctx).Where("buyer_id > ?", after).
			Order("buyer_id ASC").Limit(reencryptBatch).Find(&rows).Error
		if err != nil {
			return done, fmt.Errorf("store: reencrypt profiles: %w", err)
		}
		for _, r := range rows {
			c := s.addresses
			if !c.needsReseal(r.Shipping) && !c.needsReseal(r.Email) && !c.needsReseal(r.Phone) {
				continue
			}
			p, err := s.rowToProfile(r)
			if err != nil {
				return done, fmt.Errorf("store: reencrypt profile %s: %w", r.ID, err)
			}
			fresh, err := s.profileToRow(p)
			if err != nil {
				return done, err
			}
			res := s.db.WithContext(ctx).Model(&buyerProfileRow{}).
				Where("buyer_id = ? AND shipping = ? AND email = ? AND phone = ?", r.BuyerID, r.Shipping, r.Email, r.Phone).
				Updates(map[string]any{"shipping": fresh.Shipping, "email": fresh.Email, "phone": fresh.Phone})
			if res.Error != nil {
				return done, fmt.Errorf("store: reencrypt profile %s: %w", r.ID, res.Error)
			}
			done += int(res.RowsAffected)
		}
		if len(rows) < reencryptBatch {
			return done, nil
		}
		after = rows[len(rows)-1].BuyerID
	}
}

package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// Personal data with values unlikely to appear by chance in ciphertext or
// other columns, so finding one in a raw row means it is stored in clear.
var pii = []string{"Grace Hopper-Plaintext", "42 Cobol Street", "Arlington-Town", "grace@navy.example", "+1-555-0199"}

func testProfile(buyerID, orderID string) models.Profile {
	return models.Profile{
		ID:       models.ProfileIDFromOrder(orderID),
		BuyerID:  buyerID,
		Shipping: models.Address{Name: pii[0], Line1: pii[1], City: pii[2], PostalCode: "22201", Country: "US"},
		Email:    pii[3], Phone: pii[4],
		StripeCustomerID: "cus_test1", PaymentMethodID: "pm_test1",
		Card: models.CardSummary{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034},
	}
}

func piiOrder(t *testing.T, s *store.Store, buyerID string) models.Order {
	t.Helper()
	m := newMerchant(t, s)
	p := newProduct(t, s, m.ID, 5)
	o := orderFor(m.ID, p, buyerID)
	o.Shipping = testProfile(buyerID, o.ID).Shipping
	o, err := s.CreateOrder(ctxT(t), o)
	require.NoError(t, err)
	return o
}

// rawRows reads a table as the database holds it, bypassing the repositories.
func rawRows(t *testing.T, s *store.Store, table string) []map[string]string {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, s.DB().WithContext(ctxT(t)).Raw("SELECT * FROM "+table).Scan(&rows).Error)
	out := make([]map[string]string, len(rows))
	for i, r := range rows {
		out[i] = map[string]string{}
		for k, v := range r {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			out[i][k] = fmt.Sprint(v)
		}
	}
	return out
}

func requireNoPlaintextPII(t *testing.T, s *store.Store) {
	t.Helper()
	for _, table := range []string{"orders", "buyer_profiles", "order_events", "idempotency_keys"} {
		for _, row := range rawRows(t, s, table) {
			for col, v := range row {
				for _, secret := range pii {
					require.NotContains(t, strings.ToLower(v), strings.ToLower(secret), "%s.%s holds plaintext PII", table, col)
				}
			}
		}
	}
}

func TestProfileRoundTripAndNoPlaintextAtRest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := piiOrder(t, s, "buyer_pii")
		want := testProfile("buyer_pii", o.ID)
		got, err := s.SaveProfile(ctx, want)
		require.NoError(t, err)
		require.Equal(t, want.Shipping, got.Shipping)
		require.Equal(t, want.Email, got.Email)
		require.Equal(t, want.Phone, got.Phone)
		require.Equal(t, want.Card, got.Card)
		require.Equal(t, want.StripeCustomerID, got.StripeCustomerID)

		// A second first-purchase save keeps the first profile.
		other := want
		other.ID, other.PaymentMethodID = "prf_other", "pm_other"
		again, err := s.SaveProfile(ctx, other)
		require.NoError(t, err)
		require.Equal(t, want.ID, again.ID)
		require.Equal(t, "pm_test1", again.PaymentMethodID)

		back, err := s.Order(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, want.Shipping, back.Shipping)

		requireNoPlaintextPII(t, s)
		prof := rawRows(t, s, "buyer_profiles")
		require.Len(t, prof, 1)
		for _, col := range []string{"shipping", "email", "phone"} {
			require.True(t, strings.HasPrefix(prof[0][col], "v1:"), "buyer_profiles.%s = %q is not sealed", col, prof[0][col])
		}
		for _, row := range rawRows(t, s, "orders") {
			require.True(t, strings.HasPrefix(row["shipping_address"], "v1:"), "orders.shipping_address is not sealed")
		}

		upd := got
		upd.Shipping.City, upd.Phone = "Boston", ""
		upd, err = s.UpdateProfile(ctx, upd)
		require.NoError(t, err)
		require.Equal(t, "Boston", upd.Shipping.City)
		require.Empty(t, upd.Phone)
		require.Equal(t, want.ID, upd.ID)

		_, err = s.Profile(ctx, "buyer_nobody")
		requireKind(t, err, models.KindNotFound, "")
	})
}

func TestSealedAddressIsBoundToItsRow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		a, b := newOrder(t, s), newOrder(t, s)
		// Copying one order's ciphertext into another row must not yield an
		// address there.
		var sealed string
		require.NoError(t, s.DB().Raw("SELECT shipping_address FROM orders WHERE id = ?", a.ID).Scan(&sealed).Error)
		require.NoError(t, s.DB().Exec("UPDATE orders SET shipping_address = ? WHERE id = ?", sealed, b.ID).Error)
		_, err := s.Order(ctx, b.ID)
		require.ErrorIs(t, err, keyring.ErrDecrypt)
	})
}

func TestEraseProfileWipesPIIAndRedactsOrdersWhenTheyEnd(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		const buyer = "buyer_erase"
		done := piiOrder(t, s, buyer)
		open := piiOrder(t, s, buyer)
		_, err := s.SaveProfile(ctx, testProfile(buyer, done.ID))
		require.NoError(t, err)
		for _, to := range []models.OrderStatus{models.StatusAuthorized, models.StatusAccepted, models.StatusShipped, models.StatusDelivered} {
			_, err := s.ApplyStatusChange(ctx, models.StatusChange{OrderID: done.ID, To: to, Actor: "system"})
			require.NoError(t, err)
		}
		_, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: open.ID, To: models.StatusAuthorized, Actor: "system"})
		require.NoError(t, err)

		erased, err := s.EraseProfile(ctx, buyer)
		require.NoError(t, err)
		require.True(t, erased.Found)
		require.Equal(t, "cus_test1", erased.StripeCustomerID)
		require.Equal(t, "pm_test1", erased.PaymentMethodID)
		require.EqualValues(t, 1, erased.RedactedOrders)
		require.EqualValues(t, 1, erased.PendingOrders)

		_, err = s.Profile(ctx, buyer)
		requireKind(t, err, models.KindNotFound, "")
		got, err := s.Order(ctx, done.ID)
		require.NoError(t, err)
		require.Equal(t, models.Address{}, got.Shipping)
		// The merchant still has to ship the open order.
		got, err = s.Order(ctx, open.ID)
		require.NoError(t, err)
		require.Equal(t, pii[1], got.Shipping.Line1)

		for _, to := range []models.OrderStatus{models.StatusAccepted, models.StatusShipped} {
			got, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: open.ID, To: to, Actor: "system"})
			require.NoError(t, err)
			require.Equal(t, pii[1], got.Shipping.Line1)
		}
		got, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: open.ID, To: models.StatusDelivered, Actor: "system"})
		require.NoError(t, err)
		require.Equal(t, models.Address{}, got.Shipping)
		for _, row := range rawRows(t, s, "orders") {
			require.Empty(t, row["shipping_address"])
		}
		require.Empty(t, rawRows(t, s, "buyer_profiles"))

		again, err := s.EraseProfile(ctx, buyer)
		require.NoError(t, err)
		require.False(t, again.Found)
	})
}

func TestReencryptMovesEverythingToTheActiveKey(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx := ctxT(t)
			url := databaseURL(t, backend)
			key1, key2 := keyEntry(t, "k1"), keyEntry(t, "k2")
			k1, err := keyring.Parse("active=k1;" + key1)
			require.NoError(t, err)
			old := openAt(t, url, k1)
			o := piiOrder(t, old, "buyer_rot")
			_, err = old.SaveProfile(ctx, testProfile("buyer_rot", o.ID))
			require.NoError(t, err)
			// A merchant event still waiting to be sent, and one that left.
			require.NoError(t, old.EnqueueOutboxEvent(ctx, store.NewOutboxEvent{OrderID: o.ID, Sequence: 1,
				EventType: "order.created", Payload: []byte(`{"line1":"` + pii[1] + `"}`)}))
			// An order written before addresses were encrypted.
			legacy := newOrder(t, old)
			require.NoError(t, old.DB().Exec("UPDATE orders SET shipping_address = ? WHERE id = ?",
				`{"name":"Legacy Name","line1":"1 Old Rd","city":"Oldtown","postal_code":"1","country":"GB"}`, legacy.ID).Error)

			both, err := keyring.Parse("active=k2;" + key1 + ";" + key2)
			require.NoError(t, err)
			rotated := openAt(t, url, both)
			n, err := rotated.Reencrypt(ctx)
			require.NoError(t, err)
			require.Equal(t, store.ReencryptCounts{Orders: 2, Profiles: 1, Outbox: 1}, n)
			n, err = rotated.Reencrypt(ctx)
			require.NoError(t, err)
			require.Equal(t, store.ReencryptCounts{}, n, "a second run finds nothing left")

			// Without the old key everything still reads.
			onlyNew, err := keyring.Parse("active=k2;" + key2)
			require.NoError(t, err)
			fresh := openAt(t, url, onlyNew)
			p, err := fresh.Profile(ctx, "buyer_rot")
			require.NoError(t, err)
			require.Equal(t, pii[3], p.Email)
			got, err := fresh.Order(ctx, legacy.ID)
			require.NoError(t, err)
			require.Equal(t, "1 Old Rd", got.Shipping.Line1)
			got, err = fresh.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, pii[1], got.Shipping.Line1)
			for _, row := range rawRows(t, fresh, "orders") {
				require.True(t, strings.HasPrefix(row["shipping_address"], "v1:k2:"))
			}
			evs, err := fresh.TakeOutboxEvents(ctx, 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			require.Contains(t, string(evs[0].Payload), pii[1], "the waiting event opens under the new key")
		})
	}
}

func databaseURL(t *testing.T, backend string) string {
	if backend == storetest.Postgres {
		return storetest.NewPostgresDatabase(t)
	}
	return "sqlite://" + filepath.Join(t.TempDir(), "checkout.db")
}

func openAt(t *testing.T, url string, ring *keyring.Ring) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, url, ring)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Migrate(ctx))
	return s
}

// keyEntry makes one "<id>=<base64 key>" entry of a ring spec.
func keyEntry(t *testing.T, id string) string {
	t.Helper()
	spec, err := keyring.Generate()
	require.NoError(t, err)
	_, entry, ok := strings.Cut(spec, ";k1=")
	require.True(t, ok, "unexpected generated spec shape")
	return id + "=" + entry
}

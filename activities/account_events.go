package activities

import (
	"context"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
)

// AccountEvents is the merchant's audit trail as far as its webhook has
// been told; *store.Store satisfies it.
type AccountEvents interface {
	UnannouncedMerchantAudit(ctx context.Context, merchantID string) ([]models.MerchantAuditEvent, error)
	MarkMerchantAuditAnnounced(ctx context.Context, merchantID, eventID string) error
}

// AccountEventPrefix starts the type of every account event a merchant
// receives: "merchant.key.rotated", "merchant.key.revoked",
// "merchant.keys.reset_by_operator".
const AccountEventPrefix = "merchant."

// AnnounceAccountEvents tells the merchant's webhook of every key and webhook
// change it has not heard of, oldest first, each signed like order events
// with the audit event's id as the event id (stable across retries). It
// returns how many it sent; a failed delivery is returned for Temporal to
// retry, the ones before it staying announced.
func (a *Activities) AnnounceAccountEvents(ctx context.Context, merchantID string) (int, error) {
	n, err := a.announceAccountEvents(ctx, merchantID)
	return n, failures.ToTemporal(err)
}

func (a *Activities) announceAccountEvents(ctx context.Context, merchantID string) (int, error) {
	events := a.Store.(AccountEvents) // checked by Check
	pending, err := events.UnannouncedMerchantAudit(ctx, merchantID)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	m, err := a.Store.Merchant(ctx, merchantID)
	if err != nil {
		return 0, err
	}
	log := a.log().With("merchant_id", merchantID)
	sent := 0
	for _, ev := range pending {
		// Key changes are announced; a webhook change is only listed (the
		// new endpoint learns nothing from being told it was set).
		if m.WebhookURL != "" && ev.Type != models.AuditWebhookUpdated {
			d, err := a.Notifier.Send(ctx, m.WebhookURL, m.WebhookSecret, notify.Event{
				ID: ev.ID, Type: AccountEventPrefix + ev.Type, Created: ev.CreatedAt.Unix(), Data: ev,
			})
			a.countDelivery(ctx, nil, deliveryOutcome(err))
			if err != nil {
				log.WarnContext(ctx, "account event not delivered", "event_id", ev.ID, "status", d.StatusCode)
				return sent, err
			}
			sent++
		}
		if err := events.MarkMerchantAuditAnnounced(ctx, merchantID, ev.ID); err != nil {
			return sent, err
		}
	}
	log.InfoContext(ctx, "account events announced", "count", sent)
	return sent, nil
}

// deliveryOutcome classifies one webhook attempt: a merchant's refusal (4xx)
// is final, anything else that failed is retried.
func deliveryOutcome(err error) models.WebhookOutcome {
	switch {
	case err == nil:
		return models.WebhookDelivered
	case models.ErrorKind(err) == models.KindInvalid:
		return models.WebhookRejected
	}
	return models.WebhookFailed
}

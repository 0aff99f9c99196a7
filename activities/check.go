package activities

import (
	"errors"
	"fmt"
)

// Check reports every dependency the activities lack, so a wiring mistake
// fails the worker's start-up instead of the seventh retry of a refund days
// later. Optional capabilities (saved cards, profiles, the refund ledger,
// intent search) must be provided by their own field or by Store and
// Payments, as *store.Store and *payments.Gateway do.
func (a *Activities) Check() error {
	var errs []error
	missing := func(what string) { errs = append(errs, fmt.Errorf("activities: %s is not configured", what)) }
	if a.Store == nil {
		missing("Store")
	}
	if a.Payments == nil {
		missing("Payments")
	}
	if a.Notifier == nil {
		missing("Notifier")
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if _, ok := a.Store.(RefundLedger); !ok {
		missing("a refund ledger (Store)")
	}
	if _, ok := a.Store.(RefundList); !ok {
		missing("a refund list (Store)")
	}
	if _, ok := a.Store.(Disputes); !ok {
		missing("disputes (Store)")
	}
	if _, ok := a.Store.(EventSequences); !ok {
		missing("event sequences (Store)")
	}
	if a.outbox() == nil {
		missing("the merchant outbox (Store)")
	}
	if _, ok := a.Store.(AccountEvents); !ok {
		missing("account events (Store)")
	}
	if _, ok := a.Payments.(IntentFinder); !ok {
		missing("intent search (Payments)")
	}
	if a.prices() == nil {
		missing("pricing (Pricing or Store)")
	}
	if a.cards() == nil {
		missing("saved cards (Cards or Payments)")
	}
	if a.profiles() == nil {
		missing("profiles (Profiles or Store)")
	}
	if _, err := a.cardChanges(); err != nil {
		missing("card changes (Cards or Payments)")
	}
	if _, err := a.profileCards(); err != nil {
		missing("profile cards (Profiles or Store)")
	}
	return errors.Join(errs...)
}

package activities

import (
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/store"
)

// The worker wires these implementations in; keep the interfaces in step.
var (
	_ Store    = (*store.Store)(nil)
	_ Payments = (*payments.Gateway)(nil)
	_ Notifier = (*notify.Sender)(nil)
)

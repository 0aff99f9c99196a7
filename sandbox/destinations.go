package sandbox

import "net/http"

// connectCharge is the Connect part of a PaymentIntent: a destination charge
// settles on the platform and moves the money to transfer_data[destination]
// at capture, less application_fee_amount.
type connectCharge struct {
	destination string
	onBehalfOf  string
	feeAmount   int64
	feeGiven    bool
}

// applyDestination reads transfer_data, on_behalf_of and
// application_fee_amount as Stripe checks them when an intent is created.
func (s *Server) applyDestination(pi *paymentIntent, p params) *apiError {
	if p.has("transfer_data[amount]") {
		return invalid("transfer_data[amount]", "The sandbox supports destination charges with application_fee_amount only; omit transfer_data[amount].")
	}
	if id := p.str("transfer_data[destination]"); id != "" {
		a, ok := s.accounts[id]
		if !ok {
			return noSuchParam("destination", "transfer_data[destination]", id)
		}
		if a.capabilities["transfers"] != "active" {
			return refusedBeforeExecution(errorf(http.StatusBadRequest, typeInvalidRequest, "insufficient_capabilities_for_transfer",
				"transfer_data[destination]", "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments"))
		}
		pi.destination = id
	}
	if id := p.str("on_behalf_of"); id != "" {
		a, ok := s.accounts[id]
		if !ok {
			return noSuchParam("account", "on_behalf_of", id)
		}
		if a.capabilities["card_payments"] != "active" {
			return refusedBeforeExecution(errorf(http.StatusBadRequest, typeInvalidRequest, "", "on_behalf_of",
				"The account %s does not have the `card_payments` capability enabled, which is required for on_behalf_of.", id))
		}
		if pi.destination != "" && pi.destination != id {
			return invalid("on_behalf_of", "The `on_behalf_of` account must be the same as `transfer_data[destination]`.")
		}
		pi.onBehalfOf = id
	}
	fee, given, err := p.int64("application_fee_amount")
	if err != nil {
		return err
	}
	if given {
		if err := checkFee(pi, fee, pi.amount); err != nil {
			return err
		}
		pi.feeAmount, pi.feeGiven = fee, true
	}
	return nil
}

func checkFee(pi *paymentIntent, fee, amount int64) *apiError {
	switch {
	case pi.destination == "":
		return invalid("application_fee_amount", "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).")
	case fee < 0:
		return invalid("application_fee_amount", "This value must be greater than or equal to 0.")
	case fee > amount:
		return invalid("application_fee_amount", "The application fee (%d) cannot be greater than the amount (%d).", fee, amount)
	}
	return nil
}

// captureDestination checks a capture of a destination charge and moves its
// money; the caller holds mu. A destination that can no longer take
// charges refuses the capture with account_invalid and leaves the intent
// authorized, so the platform can void it.
func (s *Server) captureDestination(pi *paymentIntent, ch *charge, amount int64, p params) *apiError {
	fee, given, err := p.int64("application_fee_amount")
	if err != nil {
		return err
	}
	if !given {
		fee = pi.feeAmount
	} else if err := checkFee(pi, fee, amount); err != nil {
		return err
	}
	if pi.destination == "" {
		return nil
	}
	if a := s.accounts[pi.destination]; !a.acceptsCharges() {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "account_invalid", "transfer_data[destination]",
			"The destination account %s cannot receive this payment: its charges are disabled (%s).", a.id, a.disabled)
	}
	pi.feeAmount, pi.feeGiven = fee, true
	s.transferAtCapture(pi, ch, amount, fee)
	return nil
}

func (d connectCharge) render(pi *paymentIntent) map[string]any {
	var fee, onBehalfOf, transferData, group any
	if d.feeGiven {
		fee = d.feeAmount
	}
	if d.onBehalfOf != "" {
		onBehalfOf = d.onBehalfOf
	}
	if d.destination != "" {
		transferData = map[string]any{"destination": d.destination, "amount": nil}
		group = "group_" + pi.id
	}
	return map[string]any{"application_fee_amount": fee, "on_behalf_of": onBehalfOf, "transfer_data": transferData, "transfer_group": group}
}

// refundConnectFlags reads reverse_transfer and refund_application_fee,
// which only a destination charge with a transfer can honour.
func (s *Server) refundConnectFlags(p params, ch *charge) (reverse, refundFee bool, err *apiError) {
	if reverse, err = p.bool("reverse_transfer"); err != nil {
		return false, false, err
	}
	if refundFee, err = p.bool("refund_application_fee"); err != nil {
		return false, false, err
	}
	if reverse && ch.transfer == "" {
		return false, false, invalid("reverse_transfer", "reverse_transfer can only be used on a charge with a transfer (a destination charge).")
	}
	if refundFee && ch.applicationFee == "" {
		return false, false, invalid("refund_application_fee", "refund_application_fee can only be used on a charge with an application fee.")
	}
	return reverse, refundFee, nil
}

// renderRefundReversal is a refund's transfer_reversal: its id, or the
// reversal itself when expanded.
func (s *Server) renderRefundReversal(re *refund, expand []map[string]bool) any {
	if re.transferReversal == "" {
		return nil
	}
	ch := s.charges[re.charge]
	tr := s.transfers[ch.transfer]
	for _, e := range expand {
		if e["transfer_reversal"] || e["data.transfer_reversal"] {
			for _, rv := range tr.reversals {
				if rv.id == re.transferReversal {
					return s.renderReversal(tr, rv)
				}
			}
		}
	}
	return re.transferReversal
}

package sandbox

import (
	"net/http"
	"slices"
	"sort"
	"time"
)

// transfer is the money a destination charge moves to the connected
// account at capture. As at Stripe with application_fee_amount, the whole
// captured amount is transferred and the fee is then taken back from the
// account as an application fee.
type transfer struct {
	id          string
	amount      int64
	currency    string
	destination string
	charge      string
	intent      string
	reversals   []*reversal
	created     time.Time
}

type reversal struct {
	id, refund string
	amount     int64
	created    time.Time
}

func (t *transfer) reversed() int64 { return sumReversals(t.reversals) }

func sumReversals(list []*reversal) int64 {
	var n int64
	for _, r := range list {
		n += r.amount
	}
	return n
}

// applicationFee is the platform's cut of a destination charge.
type applicationFee struct {
	id      string
	amount  int64
	account string
	charge  string
	intent  string
	refunds []*reversal
	created time.Time
}

func (f *applicationFee) refunded() int64 { return sumReversals(f.refunds) }

// transferAtCapture moves a destination charge's captured money; the caller
// holds mu and has checked the destination.
func (s *Server) transferAtCapture(pi *paymentIntent, ch *charge, captured, fee int64) {
	tr := &transfer{id: newID("tr_", 24), amount: captured, currency: pi.currency, destination: pi.destination,
		charge: ch.id, intent: pi.id, created: s.now()}
	s.transfers[tr.id] = tr
	ch.transfer = tr.id
	if fee > 0 {
		f := &applicationFee{id: newID("fee_", 24), amount: fee, account: pi.destination, charge: ch.id, intent: pi.id, created: s.now()}
		s.appFees[f.id] = f
		ch.applicationFee = f.id
	}
	ch.applicationFeeAmount = fee
}

// share is Stripe's proportional part of total for a refund: the cumulative
// share rounded down, so the refund that empties the charge takes the rest.
func share(total, captured, refundedBefore, refund int64) int64 {
	if total <= 0 || captured <= 0 {
		return 0
	}
	after := min(refundedBefore+refund, captured)
	return total*after/captured - total*refundedBefore/captured
}

// reverseForRefund reverses the charge's transfer and refunds its fee in
// proportion to a refund, as reverse_transfer and refund_application_fee ask.
func (s *Server) reverseForRefund(re *refund, ch *charge, refundedBefore int64, reverse, refundFee bool) {
	if tr, ok := s.transfers[ch.transfer]; ok && reverse {
		if n := min(share(tr.amount, ch.amountCaptured, refundedBefore, re.amount), tr.amount-tr.reversed()); n > 0 {
			rv := &reversal{id: newID("trr_", 24), refund: re.id, amount: n, created: s.now()}
			tr.reversals = append(tr.reversals, rv)
			re.transferReversal = rv.id
		}
	}
	if f, ok := s.appFees[ch.applicationFee]; ok && refundFee {
		if n := min(share(f.amount, ch.amountCaptured, refundedBefore, re.amount), f.amount-f.refunded()); n > 0 {
			f.refunds = append(f.refunds, &reversal{id: newID("fr_", 24), refund: re.id, amount: n, created: s.now()})
		}
	}
}

func (s *Server) renderTransfer(t *transfer) map[string]any {
	data := make([]any, 0, len(t.reversals))
	for _, r := range t.reversals {
		data = append(data, s.renderReversal(t, r))
	}
	return map[string]any{
		"id": t.id, "object": "transfer", "amount": t.amount, "amount_reversed": t.reversed(), "currency": t.currency,
		"created": t.created.Unix(), "destination": t.destination, "livemode": false, "metadata": map[string]string{},
		"reversals": map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/transfers/" + t.id + "/reversals"},
		"reversed":  t.reversed() >= t.amount, "source_transaction": t.charge, "transfer_group": "group_" + t.intent,
	}
}

func (s *Server) renderReversal(t *transfer, r *reversal) map[string]any {
	return map[string]any{"id": r.id, "object": "transfer_reversal", "amount": r.amount, "currency": t.currency,
		"created": r.created.Unix(), "source_refund": r.refund, "transfer": t.id, "metadata": map[string]string{}}
}

func (s *Server) renderApplicationFee(f *applicationFee) map[string]any {
	data := make([]any, 0, len(f.refunds))
	for _, r := range f.refunds {
		data = append(data, map[string]any{"id": r.id, "object": "fee_refund", "amount": r.amount, "fee": f.id, "created": r.created.Unix()})
	}
	return map[string]any{
		"id": f.id, "object": "application_fee", "account": f.account, "amount": f.amount, "amount_refunded": f.refunded(),
		"charge": f.charge, "created": f.created.Unix(), "currency": s.charges[f.charge].currency, "livemode": false,
		"originating_transaction": nil, "refunded": f.refunded() >= f.amount,
		"refunds": map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/application_fees/" + f.id + "/refunds"},
	}
}

func (s *Server) getTransfer(c *call) (int, any) {
	t, ok := s.transfers[c.pathID]
	if !ok {
		return result(0, nil, noSuch("transfer", "", c.pathID))
	}
	return http.StatusOK, s.renderTransfer(t)
}

// listTransfers is GET /v1/transfers: newest first, by destination or
// transfer_group, paged with limit and starting_after.
func (s *Server) listTransfers(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("destination", "transfer_group", "limit", "starting_after", "ending_before", "created"); err != nil {
		return result(0, nil, err)
	}
	limit, err := p.limit()
	if err != nil {
		return result(0, nil, err)
	}
	var list []*transfer
	for _, t := range s.transfers {
		if (p.str("destination") == "" || t.destination == p.str("destination")) &&
			(p.str("transfer_group") == "" || "group_"+t.intent == p.str("transfer_group")) {
			list = append(list, t)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].created.Equal(list[j].created) {
			return list[i].created.After(list[j].created)
		}
		return list[i].id > list[j].id
	})
	if after := p.str("starting_after"); after != "" {
		i := slices.IndexFunc(list, func(t *transfer) bool { return t.id == after })
		if i < 0 {
			return result(0, nil, noSuchParam("transfer", "starting_after", after))
		}
		list = list[i+1:]
	}
	more := len(list) > int(limit)
	if more {
		list = list[:limit]
	}
	data := make([]any, 0, len(list))
	for _, t := range list {
		data = append(data, s.renderTransfer(t))
	}
	return http.StatusOK, map[string]any{"object": "list", "data": data, "has_more": more, "url": "/v1/transfers"}
}

func (s *Server) getApplicationFee(c *call) (int, any) {
	f, ok := s.appFees[c.pathID]
	if !ok {
		return result(0, nil, noSuch("application_fee", "", c.pathID))
	}
	return http.StatusOK, s.renderApplicationFee(f)
}

// TransferRecord is where one PaymentIntent's money went, for tests and the
// control API: the transfer to the connected account, its reversals, the
// platform's application fee and its refunds, and the account's net.
type TransferRecord struct {
	PaymentIntent  string  `json:"payment_intent"`
	Charge         string  `json:"charge"`
	Transfer       string  `json:"transfer"`
	Destination    string  `json:"destination"`
	Amount         int64   `json:"amount"`
	AmountReversed int64   `json:"amount_reversed"`
	Reversals      []int64 `json:"reversals"`
	ApplicationFee int64   `json:"application_fee"`
	FeeRefunded    int64   `json:"fee_refunded"`
	FeeRefunds     []int64 `json:"fee_refunds"`
	// Net is what the connected account keeps: transfer − reversals − fee + fee refunds.
	Net int64 `json:"net"`
}

// Transfers lists the transfers of an intent ("" = all), oldest first.
func (s *Server) Transfers(intentID string) []TransferRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []TransferRecord{}
	for _, t := range s.transfers {
		if intentID != "" && t.intent != intentID {
			continue
		}
		rec := TransferRecord{PaymentIntent: t.intent, Charge: t.charge, Transfer: t.id, Destination: t.destination,
			Amount: t.amount, AmountReversed: t.reversed(), Reversals: []int64{}, FeeRefunds: []int64{}}
		for _, r := range t.reversals {
			rec.Reversals = append(rec.Reversals, r.amount)
		}
		if f, ok := s.appFees[s.charges[t.charge].applicationFee]; ok {
			rec.ApplicationFee, rec.FeeRefunded = f.amount, f.refunded()
			for _, r := range f.refunds {
				rec.FeeRefunds = append(rec.FeeRefunds, r.amount)
			}
		}
		rec.Net = rec.Amount - rec.AmountReversed - rec.ApplicationFee + rec.FeeRefunded
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Transfer < out[j].Transfer })
	return out
}

package sandbox

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// PaymentIntent statuses.
const (
	statusRequiresPaymentMethod = "requires_payment_method"
	statusRequiresConfirmation  = "requires_confirmation"
	statusRequiresAction        = "requires_action"
	statusRequiresCapture       = "requires_capture"
	statusSucceeded             = "succeeded"
	statusCanceled              = "canceled"
)

type paymentIntent struct {
	id                 string
	clientSecret       string
	amount             int64
	currency           string
	status             string
	captureMethod      string
	confirmationMethod string
	customer           string
	paymentMethod      string
	description        string
	metadata           map[string]string
	methodTypes        []string
	automaticMethods   bool
	allowRedirects     string
	setupFutureUsage   string
	returnURL          string
	amountCapturable   int64
	amountReceived     int64
	latestCharge       string
	lastError          *apiError
	needsAction        bool
	canceledAt         time.Time
	cancellationReason string
	created            time.Time
	connectCharge
	// authorized is set the first time the intent holds money, so tests can
	// prove an order was never authorized twice.
	authorized bool
}

// IntentRecord is a snapshot of a PaymentIntent for tests and the control API.
type IntentRecord struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	Currency         string `json:"currency"`
	Customer         string `json:"customer"`
	PaymentMethod    string `json:"payment_method"`
	OrderID          string `json:"order_id"`
	CaptureMethod    string `json:"capture_method"`
	Amount           int64  `json:"amount"`
	AmountCapturable int64  `json:"amount_capturable"`
	AmountReceived   int64  `json:"amount_received"`
	AmountRefunded   int64  `json:"amount_refunded"`
	// Destination, OnBehalfOf and ApplicationFeeAmount are the Connect
	// fields of a destination charge.
	Destination          string    `json:"destination,omitempty"`
	OnBehalfOf           string    `json:"on_behalf_of,omitempty"`
	ApplicationFeeAmount int64     `json:"application_fee_amount"`
	CreatedAt            time.Time `json:"created_at"`
}

var intentParams = []string{
	"amount", "application_fee_amount", "automatic_payment_methods", "capture_method", "client_secret", "confirm",
	"confirmation_method", "confirmation_token", "currency", "customer", "description", "error_on_requires_action",
	"mandate", "mandate_data", "metadata", "off_session", "on_behalf_of", "payment_method", "payment_method_configuration",
	"payment_method_data", "payment_method_options", "payment_method_types", "radar_options", "receipt_email",
	"return_url", "setup_future_usage", "shipping", "statement_descriptor", "statement_descriptor_suffix",
	"transfer_data", "transfer_group", "use_stripe_sdk",
}

var confirmParams = []string{
	"capture_method", "client_secret", "confirmation_token", "error_on_requires_action", "mandate", "mandate_data",
	"off_session", "payment_method", "payment_method_data", "payment_method_options", "payment_method_types",
	"radar_options", "receipt_email", "return_url", "setup_future_usage", "shipping", "use_stripe_sdk",
}

var updateParams = []string{
	"amount", "application_fee_amount", "capture_method", "currency", "customer", "description", "metadata",
	"payment_method", "payment_method_configuration", "payment_method_data", "payment_method_options",
	"payment_method_types", "receipt_email", "setup_future_usage", "shipping", "statement_descriptor",
	"statement_descriptor_suffix", "transfer_data", "transfer_group",
}

// minimumAmount is Stripe's smallest chargeable amount for the currencies the
// checkout sells in; other currencies only need a positive amount.
var minimumAmount = map[string]int64{"usd": 50, "eur": 50, "cad": 50, "aud": 50, "chf": 50, "gbp": 30, "jpy": 50}

var currencyRE = regexp.MustCompile(`^[a-z]{3}$`)

func (s *Server) createIntent(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown(intentParams...); err != nil {
		return result(0, nil, err)
	}
	amount, ok, err := p.int64("amount")
	if err != nil {
		return result(0, nil, err)
	}
	if !ok {
		return result(0, nil, missingParam("amount"))
	}
	if p.str("currency") == "" {
		return result(0, nil, missingParam("currency"))
	}
	pi := &paymentIntent{
		id:                 newID("pi_", 24),
		status:             statusRequiresPaymentMethod,
		captureMethod:      "automatic",
		confirmationMethod: "automatic",
		created:            s.now(),
		metadata:           applyMetadata(nil, p),
	}
	pi.clientSecret = pi.id + newID("_secret_", 25)
	if err := s.setAmount(pi, amount, p.str("currency")); err != nil {
		return result(0, nil, err)
	}
	if m := p.str("confirmation_method"); m != "" {
		if m != "automatic" && m != "manual" {
			return result(0, nil, invalid("confirmation_method", "Invalid confirmation_method: must be one of automatic or manual"))
		}
		pi.confirmationMethod = m
	}
	if err := s.applyMethodTypes(pi, p, true); err != nil {
		return result(0, nil, err)
	}
	if err := s.applyIntentFields(pi, p); err != nil {
		return result(0, nil, err)
	}
	if err := s.applyDestination(pi, p); err != nil {
		return result(0, nil, err)
	}
	confirm, err := p.bool("confirm")
	if err != nil {
		return result(0, nil, err)
	}
	offSession, err := p.bool("off_session")
	if err != nil {
		return result(0, nil, err)
	}
	if offSession && !confirm {
		return result(0, nil, invalid("off_session", "off_session can only be used when confirm=true."))
	}
	s.intents[pi.id] = pi
	if confirm {
		return s.confirm(c, pi, offSession)
	}
	return http.StatusOK, s.renderIntent(pi, c.expand)
}

func (s *Server) setAmount(pi *paymentIntent, amount int64, currency string) *apiError {
	currency = strings.ToLower(currency)
	if !currencyRE.MatchString(currency) {
		return invalid("currency", "Invalid currency: %s. Stripe currently supports these currencies: usd, eur, gbp, …", currency)
	}
	if amount < 1 {
		return invalid("amount", "This value must be greater than or equal to 1.")
	}
	if min := minimumAmount[currency]; amount < min {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "amount_too_small", "amount",
			"Amount must be at least %d %s", min, currency)
	}
	pi.amount, pi.currency = amount, currency
	return nil
}

// applyMethodTypes mirrors API version 2023-10-16: without
// payment_method_types, automatic payment methods are on and redirects are
// allowed, which makes a server-side confirm without return_url fail.
func (s *Server) applyMethodTypes(pi *paymentIntent, p params, creating bool) *apiError {
	types := p.list("payment_method_types")
	auto := p.sub("automatic_payment_methods")
	if len(types) > 0 && len(auto) > 0 {
		return invalid("automatic_payment_methods", "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.")
	}
	for _, t := range types {
		if t != "card" {
			return invalid("payment_method_types", "The payment method type %q is not supported by the sandbox; use card.", t)
		}
	}
	switch {
	case len(types) > 0:
		pi.methodTypes, pi.automaticMethods, pi.allowRedirects = types, false, ""
	case len(auto) > 0:
		if auto["enabled"] != "true" {
			return invalid("automatic_payment_methods[enabled]", "automatic_payment_methods[enabled] must be true when given.")
		}
		pi.methodTypes, pi.automaticMethods, pi.allowRedirects = []string{"card"}, true, "always"
		if r := auto["allow_redirects"]; r != "" {
			if r != "always" && r != "never" {
				return invalid("automatic_payment_methods[allow_redirects]", "Invalid allow_redirects: must be one of always or never")
			}
			pi.allowRedirects = r
		}
	case creating:
		pi.methodTypes, pi.automaticMethods, pi.allowRedirects = []string{"card"}, true, "always"
	}
	return nil
}

// applyIntentFields sets what create, confirm and update share.
func (s *Server) applyIntentFields(pi *paymentIntent, p params) *apiError {
	if p.has("capture_method") {
		switch m := p.str("capture_method"); m {
		case "automatic", "automatic_async", "manual":
			pi.captureMethod = m
		default:
			return invalid("capture_method", "Invalid capture_method: must be one of automatic, automatic_async or manual")
		}
	}
	if p.has("customer") {
		if id := p.str("customer"); id != "" {
			if _, err := s.liveCustomer("customer", id); err != nil {
				return err
			}
		}
		pi.customer = p.str("customer")
	}
	if p.has("description") {
		pi.description = p.str("description")
	}
	if p.has("setup_future_usage") {
		switch u := p.str("setup_future_usage"); u {
		case "", "on_session", "off_session":
			pi.setupFutureUsage = u
		default:
			return invalid("setup_future_usage", "Invalid setup_future_usage: must be one of on_session or off_session")
		}
	}
	if p.has("return_url") {
		pi.returnURL = p.str("return_url")
	}
	if id := p.str("payment_method"); id != "" {
		pm, err := s.resolvePaymentMethod("payment_method", id)
		if err != nil {
			return err
		}
		pi.paymentMethod = pm.id
		if pi.status == statusRequiresPaymentMethod {
			pi.status = statusRequiresConfirmation
		}
	}
	return nil
}

func (s *Server) getIntent(c *call) (int, any) {
	pi, ok := s.intents[c.pathID]
	if !ok {
		return result(0, nil, noSuch("payment_intent", "", c.pathID))
	}
	return http.StatusOK, s.renderIntent(pi, c.expand)
}

func (s *Server) updateIntent(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown(updateParams...); err != nil {
		return result(0, nil, err)
	}
	pi, ok := s.intents[c.pathID]
	if !ok {
		return result(0, nil, noSuch("payment_intent", "", c.pathID))
	}
	changesPayment := p.has("amount") || p.has("currency") || p.has("payment_method") || p.has("customer") ||
		p.has("capture_method") || len(p.list("payment_method_types")) > 0
	if changesPayment && !slices.Contains([]string{statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresAction}, pi.status) {
		return result(0, nil, s.stateError(pi, "update", statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresAction))
	}
	next := *pi
	next.metadata = applyMetadata(copyMap(pi.metadata), p)
	if p.has("amount") || p.has("currency") {
		amount, _, err := p.int64("amount")
		if err != nil {
			return result(0, nil, err)
		}
		if !p.has("amount") {
			amount = pi.amount
		}
		currency := pi.currency
		if p.has("currency") {
			currency = p.str("currency")
		}
		if err := s.setAmount(&next, amount, currency); err != nil {
			return result(0, nil, err)
		}
	}
	if err := s.applyMethodTypes(&next, p, false); err != nil {
		return result(0, nil, err)
	}
	if err := s.applyIntentFields(&next, p); err != nil {
		return result(0, nil, err)
	}
	if next.status == statusRequiresAction && p.has("payment_method") {
		next.status, next.needsAction = statusRequiresConfirmation, false
	}
	*pi = next
	return http.StatusOK, s.renderIntent(pi, c.expand)
}

func (s *Server) confirmIntent(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown(confirmParams...); err != nil {
		return result(0, nil, err)
	}
	pi, ok := s.intents[c.pathID]
	if !ok {
		return result(0, nil, noSuch("payment_intent", "", c.pathID))
	}
	if !slices.Contains([]string{statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresAction}, pi.status) {
		return result(0, nil, s.stateError(pi, "confirm", statusRequiresConfirmation, statusRequiresPaymentMethod, statusRequiresAction))
	}
	offSession, err := p.bool("off_session")
	if err != nil {
		return result(0, nil, err)
	}
	next := *pi
	if err := s.applyMethodTypes(&next, p, false); err != nil {
		return result(0, nil, err)
	}
	if err := s.applyIntentFields(&next, p); err != nil {
		return result(0, nil, err)
	}
	*pi = next
	return s.confirm(c, pi, offSession)
}

// confirm charges the intent's payment method and moves the intent to where
// the test card sends it.
func (s *Server) confirm(c *call, pi *paymentIntent, offSession bool) (int, any) {
	if pi.paymentMethod == "" {
		return result(0, nil, unexpectedState(
			"You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with %s, pass a payment_method.", pi.customerOr("a customer")))
	}
	if pi.automaticMethods && pi.allowRedirects != "never" && pi.returnURL == "" {
		return result(0, nil, invalid("return_url",
			"This PaymentIntent is configured to accept payment methods enabled in your Dashboard, some of which require a full page redirect to succeed. "+
				"If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and "+
				"`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents. "+
				"Otherwise, provide a `return_url` when confirming."))
	}
	pm := s.paymentMethods[pi.paymentMethod]
	if err := s.checkUsable(pm, pi); err != nil {
		return result(0, nil, err)
	}
	pi.lastError = nil
	pi.needsAction = false
	behavior := pm.behavior()
	switch {
	case behavior.needs3DS && offSession:
		return s.declineIntent(c, pi, pm, &decline{"authentication_required", "authentication_required",
			"Your card was declined. This transaction requires authentication.", false})
	case behavior.needs3DS:
		pi.status, pi.needsAction = statusRequiresAction, true
		s.emit(c, "payment_intent.requires_action", pi.id, s.renderIntent(pi, nil))
		return http.StatusOK, s.renderIntent(pi, c.expand)
	case behavior.decline != nil:
		return s.declineIntent(c, pi, pm, behavior.decline)
	}
	s.authorize(c, pi, pm)
	return http.StatusOK, s.renderIntent(pi, c.expand)
}

func (pi *paymentIntent) customerOr(fallback string) string {
	if pi.customer != "" {
		return "customer " + pi.customer
	}
	return fallback
}

// checkUsable applies Stripe's rules on reusing payment methods: a saved
// method belongs to one customer, and an unsaved one pays only once.
func (s *Server) checkUsable(pm *paymentMethod, pi *paymentIntent) *apiError {
	switch {
	case pm.customer != "" && pi.customer == "":
		return invalid("payment_method", "The provided PaymentMethod belongs to a Customer, but you did not provide a Customer. Include the `customer` parameter with the Customer the PaymentMethod is attached to.")
	case pm.customer != "" && pm.customer != pi.customer:
		return invalid("payment_method", "The provided PaymentMethod belongs to a different Customer than the one on this PaymentIntent.")
	case pm.spent || pm.setUp && pm.customer == "":
		return invalid("payment_method", "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.")
	}
	return nil
}

// authorize is the issuer saying yes: money is held (manual capture) or taken.
func (s *Server) authorize(c *call, pi *paymentIntent, pm *paymentMethod) {
	ch := s.newCharge(pi, pm)
	pi.latestCharge = ch.id
	pi.authorized = true
	pi.lastError, pi.needsAction = nil, false
	switch {
	case pm.customer != "":
	case pi.setupFutureUsage != "" && pi.customer != "":
		pm.customer = pi.customer
	case pi.setupFutureUsage != "":
		pm.setUp = true
	default:
		pm.spent = true
	}
	if pi.captureMethod == "manual" {
		pi.status, pi.amountCapturable = statusRequiresCapture, pi.amount
		s.emit(c, "payment_intent.amount_capturable_updated", pi.id, s.renderIntent(pi, nil))
		return
	}
	ch.captured, ch.amountCaptured = true, pi.amount
	pi.status, pi.amountReceived = statusSucceeded, pi.amount
	s.emit(c, "payment_intent.succeeded", pi.id, s.renderIntent(pi, nil))
}

// declineIntent records a refused charge and answers 402 with the intent in
// the error body, as Stripe does.
func (s *Server) declineIntent(c *call, pi *paymentIntent, pm *paymentMethod, d *decline) (int, any) {
	ch := s.newCharge(pi, pm)
	ch.failureCode, ch.failureMessage, ch.declineCode = d.code, d.message, d.declineCode
	pi.latestCharge = ch.id
	pi.status = statusRequiresPaymentMethod
	e := errorf(http.StatusPaymentRequired, typeCard, d.code, "", "%s", d.message)
	e.DeclineCode, e.Charge = d.declineCode, ch.id
	pi.lastError = e
	s.emit(c, "payment_intent.payment_failed", pi.id, s.renderIntent(pi, nil))

	body := *e
	body.PaymentIntent = encode(s.renderIntent(pi, nil))
	body.PaymentMethod = encode(s.renderPaymentMethod(pm))
	return body.status, &body
}

func (s *Server) captureIntent(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("amount_to_capture", "application_fee_amount", "final_capture", "metadata",
		"statement_descriptor", "statement_descriptor_suffix", "transfer_data"); err != nil {
		return result(0, nil, err)
	}
	pi, ok := s.intents[c.pathID]
	if !ok {
		return result(0, nil, noSuch("payment_intent", "", c.pathID))
	}
	if pi.status != statusRequiresCapture {
		return result(0, nil, s.stateError(pi, "capture", statusRequiresCapture))
	}
	amount, given, err := p.int64("amount_to_capture")
	switch {
	case err != nil:
		return result(0, nil, err)
	case !given:
		amount = pi.amountCapturable
	case amount < 0:
		return result(0, nil, invalid("amount_to_capture", "This value must be greater than or equal to 0."))
	case amount > pi.amountCapturable:
		return result(0, nil, errorf(http.StatusBadRequest, typeInvalidRequest, "amount_too_large", "amount_to_capture",
			"The amount_to_capture (%d) is greater than the amount_capturable (%d) for this PaymentIntent.", amount, pi.amountCapturable))
	}
	ch := s.charges[pi.latestCharge]
	if err := s.captureDestination(pi, ch, amount, p); err != nil {
		return result(0, nil, err)
	}
	ch.captured, ch.amountCaptured, ch.released = true, amount, pi.amount-amount
	pi.metadata = applyMetadata(pi.metadata, p)
	pi.status, pi.amountReceived, pi.amountCapturable = statusSucceeded, amount, 0
	s.emit(c, "payment_intent.succeeded", pi.id, s.renderIntent(pi, nil))
	return http.StatusOK, s.renderIntent(pi, c.expand)
}

var cancellationReasons = []string{"duplicate", "fraudulent", "requested_by_customer", "abandoned"}

func (s *Server) cancelIntent(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("cancellation_reason"); err != nil {
		return result(0, nil, err)
	}
	pi, ok := s.intents[c.pathID]
	if !ok {
		return result(0, nil, noSuch("payment_intent", "", c.pathID))
	}
	reason := p.str("cancellation_reason")
	if reason != "" && !slices.Contains(cancellationReasons, reason) {
		return result(0, nil, invalid("cancellation_reason", "Invalid cancellation_reason: must be one of %s", strings.Join(cancellationReasons, ", ")))
	}
	cancellable := []string{statusRequiresPaymentMethod, statusRequiresCapture, statusRequiresConfirmation, statusRequiresAction}
	if !slices.Contains(cancellable, pi.status) {
		return result(0, nil, s.stateError(pi, "cancel", cancellable...))
	}
	if ch, ok := s.charges[pi.latestCharge]; ok && !ch.failed() && !ch.captured {
		ch.released = ch.amount
	}
	pi.status, pi.amountCapturable, pi.needsAction = statusCanceled, 0, false
	pi.canceledAt, pi.cancellationReason = s.now(), reason
	s.emit(c, "payment_intent.canceled", pi.id, s.renderIntent(pi, nil))
	return http.StatusOK, s.renderIntent(pi, c.expand)
}

// stateError is Stripe's payment_intent_unexpected_state, carrying the intent.
func (s *Server) stateError(pi *paymentIntent, action string, allowed ...string) *apiError {
	verb := map[string]string{"capture": "captured", "cancel": "canceled", "confirm": "confirmed", "update": "updated"}[action]
	e := unexpectedState("This PaymentIntent could not be %s because it has a status of %s. Only a PaymentIntent with one of the following statuses may be %s: %s.",
		verb, pi.status, verb, strings.Join(allowed, ", "))
	e.PaymentIntent = encode(s.renderIntent(pi, nil))
	return e
}

// Authenticate completes (succeed) or fails the 3-D Secure challenge of an
// intent in requires_action, as the buyer would in Stripe's modal.
func (s *Server) Authenticate(intentID string, succeed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.authenticate(intentID, succeed); err != nil {
		return err
	}
	return nil
}

func (s *Server) authenticate(intentID string, succeed bool) (*paymentIntent, *apiError) {
	pi, ok := s.intents[intentID]
	if !ok {
		return nil, noSuch("payment_intent", "", intentID)
	}
	if pi.status != statusRequiresAction {
		return nil, unexpectedState("This PaymentIntent has a status of %s; only a PaymentIntent in requires_action can be authenticated.", pi.status)
	}
	pm := s.paymentMethods[pi.paymentMethod]
	if succeed {
		s.authorize(nil, pi, pm)
		return pi, nil
	}
	pi.status, pi.needsAction = statusRequiresPaymentMethod, false
	e := errorf(http.StatusPaymentRequired, typeCard, "authentication_required", "",
		"The cardholder failed 3D Secure authentication; the payment was not authorized.")
	e.DeclineCode = "authentication_required"
	pi.lastError = e
	s.emit(nil, "payment_intent.payment_failed", pi.id, s.renderIntent(pi, nil))
	return pi, nil
}

// Intents returns a snapshot of every PaymentIntent, oldest first.
func (s *Server) Intents() []IntentRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.intentRecords(func(*paymentIntent) bool { return true })
}

// AuthorizationsFor counts the PaymentIntents with metadata[order_id] ==
// orderID that ever held money (reached requires_capture, or succeeded
// straight away with automatic capture). More than one means a double charge.
func (s *Server) AuthorizationsFor(orderID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, pi := range s.intents {
		if pi.authorized && pi.metadata["order_id"] == orderID {
			n++
		}
	}
	return n
}

func (s *Server) intentRecords(keep func(*paymentIntent) bool) []IntentRecord {
	out := []IntentRecord{}
	for _, pi := range s.intents {
		if !keep(pi) {
			continue
		}
		rec := IntentRecord{
			ID: pi.id, Status: pi.status, Currency: pi.currency, Customer: pi.customer, PaymentMethod: pi.paymentMethod,
			OrderID: pi.metadata["order_id"], CaptureMethod: pi.captureMethod, Amount: pi.amount,
			AmountCapturable: pi.amountCapturable, AmountReceived: pi.amountReceived, CreatedAt: pi.created,
			Destination: pi.destination, OnBehalfOf: pi.onBehalfOf, ApplicationFeeAmount: pi.feeAmount,
		}
		for _, ch := range s.charges {
			if ch.intent == pi.id {
				rec.AmountRefunded += ch.refunded
			}
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (s *Server) renderIntent(pi *paymentIntent, expand map[string]bool) map[string]any {
	var automatic, canceledAt, nextAction, lastError any
	if pi.automaticMethods {
		automatic = map[string]any{"enabled": true, "allow_redirects": pi.allowRedirects}
	}
	if !pi.canceledAt.IsZero() {
		canceledAt = pi.canceledAt.Unix()
	}
	if pi.needsAction {
		nextAction = map[string]any{"type": "use_stripe_sdk", "use_stripe_sdk": map[string]any{
			"type": "three_d_secure_redirect", "stripe_js": "", "source": "src_" + strings.TrimPrefix(pi.id, "pi_"),
		}}
	}
	if e := pi.lastError; e != nil {
		le := map[string]any{"type": e.Type, "code": e.Code, "message": e.Message, "doc_url": e.DocURL}
		if e.DeclineCode != "" {
			le["decline_code"] = e.DeclineCode
		}
		if e.Charge != "" {
			le["charge"] = e.Charge
		}
		if pm, ok := s.paymentMethods[pi.paymentMethod]; ok {
			le["payment_method"] = s.renderPaymentMethod(pm)
		}
		lastError = le
	}
	out := map[string]any{
		"id":                          pi.id,
		"object":                      "payment_intent",
		"amount":                      pi.amount,
		"amount_capturable":           pi.amountCapturable,
		"amount_details":              map[string]any{"tip": map[string]any{}},
		"amount_received":             pi.amountReceived,
		"application":                 nil,
		"application_fee_amount":      nil,
		"automatic_payment_methods":   automatic,
		"canceled_at":                 canceledAt,
		"cancellation_reason":         nullable(pi.cancellationReason),
		"capture_method":              pi.captureMethod,
		"client_secret":               pi.clientSecret,
		"confirmation_method":         pi.confirmationMethod,
		"created":                     pi.created.Unix(),
		"currency":                    pi.currency,
		"customer":                    s.expandable(expand, "customer", pi.customer),
		"description":                 nullable(pi.description),
		"invoice":                     nil,
		"last_payment_error":          lastError,
		"latest_charge":               s.expandable(expand, "latest_charge", pi.latestCharge),
		"livemode":                    false,
		"metadata":                    nonNil(pi.metadata),
		"next_action":                 nextAction,
		"on_behalf_of":                nil,
		"payment_method":              s.expandable(expand, "payment_method", pi.paymentMethod),
		"payment_method_options":      map[string]any{"card": map[string]any{"installments": nil, "mandate_options": nil, "network": nil, "request_three_d_secure": "automatic"}},
		"payment_method_types":        nonNilList(pi.methodTypes),
		"processing":                  nil,
		"receipt_email":               nil,
		"review":                      nil,
		"setup_future_usage":          nullable(pi.setupFutureUsage),
		"shipping":                    nil,
		"source":                      nil,
		"statement_descriptor":        nil,
		"statement_descriptor_suffix": nil,
		"status":                      pi.status,
		"transfer_data":               nil,
		"transfer_group":              nil,
	}
	for k, v := range pi.connectCharge.render(pi) {
		out[k] = v
	}
	return out
}

// expandable renders a related object as its id, or whole when the request
// asked for it with expand[].
func (s *Server) expandable(expand map[string]bool, field, id string) any {
	if id == "" {
		return nil
	}
	if !expand[field] {
		return id
	}
	switch field {
	case "customer":
		if cus, ok := s.customers[id]; ok && !cus.deleted {
			return s.renderCustomer(cus)
		}
	case "latest_charge":
		if ch, ok := s.charges[id]; ok {
			return s.renderCharge(ch)
		}
	case "payment_method":
		if pm, ok := s.paymentMethods[id]; ok {
			return s.renderPaymentMethod(pm)
		}
	}
	return id
}

func nonNilList(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

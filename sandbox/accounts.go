package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// account is a Connect connected account. The sandbox plays Stripe's
// onboarding: a new account can take no charges until its Account Link is
// followed, which in the sandbox completes onboarding at once.
type account struct {
	id           string
	email        string
	country      string
	typ          string            // express, standard, custom, or "none" (controller properties)
	controller   map[string]string // fees.payer, losses.payments, requirement_collection, stripe_dashboard.type
	capabilities map[string]string // card_payments, transfers → inactive, pending, active
	charges      bool
	payouts      bool
	submitted    bool
	due          []string
	disabled     string
	metadata     map[string]string
	created      time.Time
}

// accountLink is a single-use onboarding URL.
type accountLink struct {
	token, account, refreshURL, returnURL, typ string
	expires                                    time.Time
	used                                       bool
}

// onboardingDue is what Stripe asks of a new express-like account.
var onboardingDue = []string{"business_profile.url", "external_account", "individual.first_name",
	"individual.last_name", "tos_acceptance.date", "tos_acceptance.ip"}

var accountParams = []string{"business_profile", "business_type", "capabilities", "company", "controller", "country",
	"default_currency", "email", "external_account", "individual", "metadata", "settings", "tos_acceptance", "type"}

// controllerValues are the values each controller property takes.
var controllerValues = map[string][]string{
	"[fees][payer]":            {"account", "application"},
	"[losses][payments]":       {"application", "stripe"},
	"[requirement_collection]": {"application", "stripe"},
	"[stripe_dashboard][type]": {"express", "full", "none"},
}

func (s *Server) createAccount(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown(accountParams...); err != nil {
		return result(0, nil, err)
	}
	a := &account{
		id: newID("acct_", 16), email: p.str("email"), country: p.str("country"), created: s.now(),
		controller: map[string]string{}, capabilities: map[string]string{}, metadata: applyMetadata(nil, p),
		due: slices.Clone(onboardingDue), disabled: "requirements.past_due",
	}
	if a.country == "" {
		a.country = "US"
	}
	typ := p.str("type")
	controlled := false
	for key, allowed := range controllerValues {
		v := p.str("controller" + key)
		if v == "" {
			continue
		}
		if !slices.Contains(allowed, v) {
			return result(0, nil, invalid("controller"+key, "Invalid controller%s: must be one of %s", key, strings.Join(allowed, ", ")))
		}
		a.controller[strings.Trim(strings.ReplaceAll(key, "][", "."), "[]")] = v
		controlled = true
	}
	switch {
	case typ != "" && controlled:
		return result(0, nil, invalid("type", "You cannot specify `type` together with `controller`: choose one."))
	case typ == "" && !controlled:
		return result(0, nil, missingParam("type"))
	case typ != "" && !slices.Contains([]string{"standard", "express", "custom"}, typ):
		return result(0, nil, invalid("type", "Invalid type: must be one of standard, express or custom"))
	}
	if controlled {
		if a.controller["requirement_collection"] == "application" &&
			(a.controller["fees.payer"] != "application" || a.controller["losses.payments"] != "application" ||
				a.controller["stripe_dashboard.type"] != "none") {
			return result(0, nil, invalid("controller[requirement_collection]",
				"When the application collects requirements it must also pay fees, be liable for losses and give the account no Stripe dashboard."))
		}
		typ = "none"
		if a.controller["fees.payer"] == "application" && a.controller["losses.payments"] == "application" &&
			a.controller["stripe_dashboard.type"] == "express" {
			typ = "express"
		}
	}
	a.typ = typ
	for _, name := range []string{"card_payments", "transfers"} {
		if p.str("capabilities["+name+"][requested]") == "true" {
			a.capabilities[name] = "inactive"
		}
	}
	if (typ == "express" || typ == "custom") && a.capabilities["transfers"] == "" {
		return result(0, nil, invalid("capabilities",
			"Accounts without a full Stripe dashboard must request the `transfers` capability (and `card_payments` to settle their own charges)."))
	}
	s.accounts[a.id] = a
	return http.StatusOK, s.renderAccount(a)
}

func (s *Server) getAccount(c *call) (int, any) {
	a, ok := s.accounts[c.pathID]
	if !ok {
		return result(0, nil, noSuch("account", "", c.pathID))
	}
	return http.StatusOK, s.renderAccount(a)
}

// updateAccount is POST /v1/accounts/{id}: the parts the platform may change.
func (s *Server) updateAccount(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("business_profile", "email", "metadata", "settings"); err != nil {
		return result(0, nil, err)
	}
	a, ok := s.accounts[c.pathID]
	if !ok {
		return result(0, nil, noSuch("account", "", c.pathID))
	}
	if p.has("email") {
		a.email = p.str("email")
	}
	a.metadata = applyMetadata(a.metadata, p)
	s.emitAccount(c, a)
	return http.StatusOK, s.renderAccount(a)
}

func (s *Server) createAccountLink(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("account", "collect", "collection_options", "refresh_url", "return_url", "type"); err != nil {
		return result(0, nil, err)
	}
	for _, name := range []string{"account", "type", "refresh_url", "return_url"} {
		if p.str(name) == "" {
			return result(0, nil, missingParam(name))
		}
	}
	if t := p.str("type"); t != "account_onboarding" && t != "account_update" {
		return result(0, nil, invalid("type", "Invalid type: must be one of account_onboarding or account_update"))
	}
	for _, name := range []string{"refresh_url", "return_url"} {
		if u, err := url.Parse(p.str(name)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return result(0, nil, invalid(name, "Not a valid URL"))
		}
	}
	a, ok := s.accounts[p.str("account")]
	if !ok {
		return result(0, nil, noSuchParam("account", "account", p.str("account")))
	}
	if a.typ == "standard" && p.str("type") == "account_update" {
		return result(0, nil, invalid("type", "You cannot create `account_update` type Account Links for Standard accounts."))
	}
	l := &accountLink{token: newID("", 24), account: a.id, refreshURL: p.str("refresh_url"), returnURL: p.str("return_url"),
		typ: p.str("type"), expires: s.now().Add(5 * time.Minute)}
	s.links[l.token] = l
	return http.StatusOK, map[string]any{
		"object": "account_link", "created": s.now().Unix(), "expires_at": l.expires.Unix(),
		"url": "http://" + c.r.Host + "/_sandbox/connect/onboarding/" + l.token,
	}
}

// followLink is the merchant opening the onboarding URL. In the sandbox it
// completes onboarding at once (Stripe's test-mode "use test data" button)
// and sends the browser to return_url; a link used or expired sends it to
// refresh_url, as Stripe does.
func (s *Server) followLink(w http.ResponseWriter, r *http.Request, token string) {
	s.mu.Lock()
	l, ok := s.links[token]
	if !ok {
		s.mu.Unlock()
		writeResponse(w, http.StatusNotFound, unrecognizedURL(r))
		return
	}
	if l.used || s.now().After(l.expires) {
		s.mu.Unlock()
		http.Redirect(w, r, l.refreshURL, http.StatusFound)
		return
	}
	l.used = true
	a := s.accounts[l.account]
	s.setAccountState(a, AccountState{ChargesEnabled: true, PayoutsEnabled: true})
	s.mu.Unlock()
	http.Redirect(w, r, l.returnURL, http.StatusFound)
}

// AccountState is what a test sets on a connected account: Stripe
// restricting an account (charges off, requirements due) or lifting it.
type AccountState struct {
	ChargesEnabled  bool     `json:"charges_enabled"`
	PayoutsEnabled  bool     `json:"payouts_enabled"`
	RequirementsDue []string `json:"requirements_due"`
	DisabledReason  string   `json:"disabled_reason"`
}

// SetAccountState changes an account as Stripe's review would and sends
// account.updated.
func (s *Server) SetAccountState(accountID string, st AccountState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return noSuch("account", "", accountID)
	}
	s.setAccountState(a, st)
	return nil
}

func (s *Server) setAccountState(a *account, st AccountState) {
	a.charges, a.payouts, a.submitted = st.ChargesEnabled, st.PayoutsEnabled, true
	a.due = slices.Clone(st.RequirementsDue)
	a.disabled = st.DisabledReason
	if !a.charges && a.disabled == "" {
		a.disabled = "requirements.past_due"
	}
	if a.charges {
		a.disabled = ""
	}
	for name := range a.capabilities {
		a.capabilities[name] = "inactive"
		if a.charges || (name == "transfers" && a.payouts) {
			a.capabilities[name] = "active"
		}
	}
	s.emitAccount(nil, a)
}

// emitAccount sends account.updated to the Connect endpoint.
func (s *Server) emitAccount(c *call, a *account) {
	s.emitFor(c, "account.updated", a.id, a.id, s.renderAccount(a))
}

// acceptsCharges reports whether a destination can settle charges now.
func (a *account) acceptsCharges() bool {
	return a.charges && (a.capabilities["card_payments"] == "active" || a.capabilities["transfers"] == "active")
}

func (s *Server) renderAccount(a *account) map[string]any {
	var controller any
	if len(a.controller) > 0 {
		controller = map[string]any{
			"type": "application", "is_controller": true,
			"fees":                   map[string]any{"payer": a.controller["fees.payer"]},
			"losses":                 map[string]any{"payments": a.controller["losses.payments"]},
			"requirement_collection": a.controller["requirement_collection"],
			"stripe_dashboard":       map[string]any{"type": a.controller["stripe_dashboard.type"]},
		}
	}
	due := nonNilList(slices.Clone(a.due))
	return map[string]any{
		"id": a.id, "object": "account", "business_type": nil, "capabilities": a.capabilities,
		"charges_enabled": a.charges, "controller": controller, "country": a.country, "created": a.created.Unix(),
		"default_currency": "usd", "details_submitted": a.submitted, "email": nullable(a.email),
		"metadata": nonNil(a.metadata), "payouts_enabled": a.payouts, "type": a.typ,
		"requirements": map[string]any{
			"alternatives": []any{}, "current_deadline": nil, "currently_due": due, "disabled_reason": nullable(a.disabled),
			"errors": []any{}, "eventually_due": due, "past_due": due, "pending_verification": []string{},
		},
	}
}

// AccountRecord is a snapshot of a connected account for tests.
type AccountRecord struct {
	ID              string   `json:"id"`
	ChargesEnabled  bool     `json:"charges_enabled"`
	PayoutsEnabled  bool     `json:"payouts_enabled"`
	RequirementsDue []string `json:"requirements_due"`
	Type            string   `json:"type"`
}

// Accounts lists the connected accounts.
func (s *Server) Accounts() []AccountRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []AccountRecord{}
	for _, a := range s.accounts {
		out = append(out, AccountRecord{ID: a.id, ChargesEnabled: a.charges, PayoutsEnabled: a.payouts,
			RequirementsDue: nonNilList(slices.Clone(a.due)), Type: a.typ})
	}
	slices.SortFunc(out, func(x, y AccountRecord) int { return strings.Compare(x.ID, y.ID) })
	return out
}

func (s *Server) controlAccountState(w http.ResponseWriter, r *http.Request, id string) {
	var st AccountState
	if !decodeControl(w, r, &st, `Body must be {"charges_enabled":false,"payouts_enabled":false,"requirements_due":["external_account"],"disabled_reason":"requirements.past_due"}.`) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		writeResponse(w, http.StatusNotFound, noSuch("account", "", id))
		return
	}
	s.setAccountState(a, st)
	writeResponse(w, http.StatusOK, s.renderAccount(a))
}

// ConnectWebhooks sends connected accounts' events (account.updated) to
// url, signed with secret, instead of the platform's endpoint. Call it
// before serving.
func (s *Server) ConnectWebhooks(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connectHooks != s.hooks {
		s.connectHooks.close()
	}
	s.connectHooks = newWebhookSender(url, secret, s.log)
}

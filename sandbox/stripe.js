// Stand-in for Stripe.js v3, served by the checkout's Stripe sandbox. It
// implements the subset the checkout sheet uses, with Stripe's shapes:
//   Stripe(publishableKey) -> { elements(), createPaymentMethod(), handleNextAction() }
//   elements().create("card") -> { mount(), on("change"), focus(), clear(), destroy() }
// Test numbers behave as at Stripe (4242… succeeds, 4000000000000002
// declines, 4000002760003184 asks for 3-D Secure); the challenge offers
// Complete and Fail and settles the PaymentIntent on this sandbox.
(function () {
  "use strict";
  var script = document.currentScript;
  var BASE = new URL(script ? script.src : location.href).origin;

  function css(node, styles) { Object.assign(node.style, styles); return node; }

  function field(labelText, name, attrs) {
    var label = css(document.createElement("label"), { display: "block", flex: attrs.flex || "1", font: "inherit", fontSize: "14px" });
    label.textContent = labelText;
    var input = css(document.createElement("input"), {
      display: "block", width: "100%", boxSizing: "border-box", font: "inherit", padding: "9px 10px",
      border: "1px solid #bcc0c4", borderRadius: "8px", marginTop: "3px"
    });
    input.name = name;
    input.inputMode = "numeric";
    input.autocomplete = attrs.autocomplete;
    input.placeholder = attrs.placeholder;
    input.setAttribute("data-stripe", name);
    label.appendChild(input);
    return { label: label, input: input };
  }

  function CardElement() {
    this._handlers = {};
    this._inputs = null;
  }
  CardElement.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    var box = css(document.createElement("div"), { display: "flex", flexWrap: "wrap", gap: "8px" });
    box.setAttribute("data-sandbox-card", "");
    var number = field("Card number", "cardnumber", { autocomplete: "cc-number", placeholder: "4242 4242 4242 4242", flex: "1 1 100%" });
    var exp = field("Expiry (MM/YY)", "exp-date", { autocomplete: "cc-exp", placeholder: "12/34" });
    var cvc = field("CVC", "cvc", { autocomplete: "cc-csc", placeholder: "123" });
    [number, exp, cvc].forEach(function (f) { box.appendChild(f.label); });
    host.replaceChildren(box);
    this._inputs = { number: number.input, exp: exp.input, cvc: cvc.input };
    var self = this;
    [number.input, exp.input, cvc.input].forEach(function (i) {
      i.addEventListener("input", function () { self._fire("change", { complete: self._complete(), empty: !number.input.value, error: undefined }); });
    });
  };
  CardElement.prototype.on = function (type, fn) { (this._handlers[type] = this._handlers[type] || []).push(fn); };
  CardElement.prototype._fire = function (type, ev) { (this._handlers[type] || []).forEach(function (fn) { fn(ev); }); };
  CardElement.prototype.focus = function () { if (this._inputs) this._inputs.number.focus(); };
  CardElement.prototype.clear = function () { if (this._inputs) Object.keys(this._inputs).forEach(function (k) { this._inputs[k].value = ""; }, this); };
  CardElement.prototype.destroy = function () { if (this._inputs) this._inputs.number.closest("[data-sandbox-card]").remove(); this._inputs = null; };
  CardElement.prototype._values = function () {
    var i = this._inputs;
    var exp = (i.exp.value || "").replace(/\s/g, "").split("/");
    return { number: (i.number.value || "").replace(/[\s-]/g, ""), exp_month: exp[0] || "", exp_year: exp[1] || "", cvc: i.cvc.value || "" };
  };
  CardElement.prototype._complete = function () {
    var v = this._values();
    return v.number.length >= 12 && v.exp_month !== "" && v.exp_year !== "" && v.cvc.length >= 3;
  };

  function form(obj, prefix, out) {
    out = out || [];
    Object.keys(obj).forEach(function (k) {
      var v = obj[k], key = prefix ? prefix + "[" + k + "]" : k;
      if (v === undefined || v === null || v === "") return;
      if (typeof v === "object") form(v, key, out);
      else out.push(encodeURIComponent(key) + "=" + encodeURIComponent(v));
    });
    return out.join("&");
  }

  function stripeError(body, fallback) {
    return { error: (body && body.error) || { type: "api_error", message: fallback } };
  }

  function Stripe(key) {
    if (!(this instanceof Stripe)) return new Stripe(key);
    if (typeof key !== "string" || key.indexOf("pk_") !== 0) throw new Error("Stripe(): a publishable key (pk_…) is required");
    this._key = key;
  }
  Stripe.prototype.elements = function () {
    return { create: function (type) {
      if (type !== "card") throw new Error("The sandbox's Stripe.js offers the card element only");
      return new CardElement();
    } };
  };
  Stripe.prototype.createPaymentMethod = function (opts) {
    var card = opts && opts.card;
    if (!card || !card._inputs) return Promise.resolve(stripeError(null, "The card element is not mounted."));
    var v = card._values();
    var body = form({ type: "card", card: v, billing_details: opts.billing_details || {} });
    return fetch(BASE + "/v1/payment_methods", {
      method: "POST", credentials: "omit",
      headers: { Authorization: "Bearer " + this._key, "Content-Type": "application/x-www-form-urlencoded" }, body: body
    }).then(function (r) {
      return r.json().then(function (j) { return r.ok ? { paymentMethod: j } : stripeError(j, "The card could not be used."); });
    }, function () { return stripeError(null, "We could not reach Stripe. Check your connection."); });
  };
  // handleNextAction shows the 3-D Secure challenge in a modal, as Stripe.js does.
  Stripe.prototype.handleNextAction = function (opts) {
    var secret = (opts && opts.clientSecret) || "";
    var id = secret.split("_secret_")[0];
    return new Promise(function (resolve) {
      var back = css(document.createElement("div"), {
        position: "fixed", inset: "0", background: "rgba(0,0,0,.5)", display: "flex", alignItems: "center",
        justifyContent: "center", zIndex: "2147483647"
      });
      var box = css(document.createElement("div"), {
        background: "#fff", borderRadius: "12px", padding: "20px", maxWidth: "340px", font: "15px/1.45 system-ui, sans-serif"
      });
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-modal", "true");
      box.setAttribute("aria-labelledby", "sandbox-3ds-title");
      var h = document.createElement("h2");
      h.id = "sandbox-3ds-title";
      h.textContent = "3-D Secure test";
      var p = document.createElement("p");
      p.textContent = "Your bank asks you to confirm this payment (sandbox).";
      box.append(h, p);
      var previous = document.activeElement;
      function button(text, outcome) {
        var b = css(document.createElement("button"), { font: "inherit", padding: "10px 14px", marginRight: "8px", borderRadius: "8px", cursor: "pointer" });
        b.type = "button";
        b.textContent = text;
        b.setAttribute("data-3ds", outcome);
        b.addEventListener("click", function () {
          b.disabled = true;
          fetch(BASE + "/_sandbox/payment_intents/" + encodeURIComponent(id) + "/authenticate", {
            method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ outcome: outcome, client_secret: secret })
          }).then(function (r) { return r.json(); }).then(function (pi) {
            back.remove();
            if (previous && previous.focus) previous.focus();
            if (pi.error) { resolve(stripeError(pi, "Authentication failed.")); return; }
            if (pi.status === "requires_payment_method") {
              resolve({ error: { type: "card_error", code: "payment_intent_authentication_failure",
                message: "We are unable to authenticate your payment method.", payment_intent: pi } });
              return;
            }
            resolve({ paymentIntent: pi });
          }, function () {
            back.remove();
            resolve(stripeError(null, "We could not reach Stripe. Check your connection."));
          });
        });
        return b;
      }
      var ok = button("Complete authentication", "succeed");
      box.append(ok, button("Fail authentication", "fail"));
      back.appendChild(box);
      document.body.appendChild(back);
      ok.focus();
    });
  };

  window.Stripe = Stripe;
})();

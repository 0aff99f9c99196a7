// The checkout sheet: framed by <buy-button> on an allowed host. It learns
// the buyer's token from its parent by postMessage (from the exact host
// origin the server checked), takes the card through the Stripe.js API (the
// real one with a live key, the sandbox's stand-in otherwise: one code path)
// and talks to the checkout API on its own origin.
(function () {
  "use strict";
  var root = document.getElementById("sheet");
  var HOST = root.dataset.host;
  var PRODUCT = root.dataset.product;
  var CURRENCY = root.dataset.currency;
  var MAX = Number(root.dataset.max) || 1;
  var token = "";
  var profile = null;
  var stripe = null, card = null, cardDirty = true, cardPM = "";
  // One attempt to buy: its Idempotency-Key survives every retry of the same request.
  var attempt = null;
  var busy = false;
  var lastOrder = null;
  // The quote the buyer sees: what Pay charges (POST /v1/quotes).
  var quote = null, quoteSeq = 0, quotedFor = "", quoteAlert = false;
  var $ = function (id) { return document.getElementById(id); };

  function post(msg) { window.parent.postMessage(msg, HOST); }

  function money(minor) {
    try {
      var f = new Intl.NumberFormat(navigator.language, { style: "currency", currency: CURRENCY.toUpperCase() });
      return f.format(minor / Math.pow(10, f.resolvedOptions().maximumFractionDigits));
    } catch (e) { return minor + " " + CURRENCY; }
  }

  function show(view) {
    ["view-loading", "view-onetap", "view-form", "view-done", "view-orders"].forEach(function (v) { $(v).hidden = v !== view; });
    $("pricing").hidden = view !== "view-onetap" && (view !== "view-form" || !!$("view-form").dataset.mode);
    var first = $(view).querySelector("button:not([hidden]), input");
    if (first) first.focus();
  }

  function say(text) { $("status").textContent = text || ""; }
  function alertText(text) {
    var a = $("alert");
    a.textContent = text || "";
    a.hidden = !text;
  }

  function quantity() {
    var q = parseInt($("qty").value, 10);
    return isNaN(q) ? 1 : Math.min(Math.max(q, 1), MAX);
  }
  function oneTap() { return !!profile && !$("view-onetap").hidden; }

  // ---- Variants and the quote ----
  function option(value, text, disabled) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    o.disabled = !!disabled;
    return o;
  }
  function loadVariants() {
    return api("GET", "/v1/products/" + encodeURIComponent(PRODUCT)).then(function (r) {
      var vs = (r.data && r.data.variants) || [], sel = $("variant");
      sel.replaceChildren.apply(sel, vs.map(function (v) {
        var name = Object.keys(v.options).map(function (k) { return v.options[k]; }).join(" / ") || "Standard";
        return option(v.id, name + " · " + money(v.price) + (v.available ? "" : " · sold out"), !v.available);
      }));
      var first = vs.filter(function (v) { return v.available; })[0];
      if (first) sel.value = first.id;
      $("variant-field").hidden = vs.length < 2;
    }, function () {});
  }
  function destination() {
    if (oneTap()) return null;
    var a = readAddress();
    return { country: a.country, region: a.region, postal_code: a.postal_code };
  }
  function setPayable(on) {
    if (!busy) $("pay-onetap").disabled = !on;
    if (!busy && !$("view-form").dataset.mode) $("pay").disabled = !on;
  }
  // updateTotal asks for a quote of what is chosen now; the newest answer wins.
  function updateTotal() {
    var body = { product_id: PRODUCT, quantity: oneTap() ? 1 : quantity() };
    if ($("variant").value) body.variant_id = $("variant").value;
    if ($("rate").value) body.shipping_rate = $("rate").value;
    var dest = destination();
    if (dest) {
      if (!/^[A-Z]{2}$/.test(dest.country)) return Promise.resolve();
      body.shipping_address = dest;
    }
    var seq = ++quoteSeq, key = JSON.stringify(body);
    quote = null;
    setPayable(false);
    return api("POST", "/v1/quotes", body).then(function (r) {
      if (seq !== quoteSeq) return;
      var err = r.data.error || {};
      if (r.status === 201) { quotedFor = key; showQuote(r.data); return; }
      if (err.code === "unknown_shipping_rate") { $("rate").replaceChildren(); return updateTotal(); }
      quoteAlert = true;
      alertText(err.code === "shipping_unavailable"
        ? "Sorry, this merchant does not ship to " + (dest ? dest.country : "your address") + "."
        : err.message || "The total could not be worked out. Please try again.");
    }, function () { if (seq === quoteSeq) alertText("We lost the connection; try again."); });
  }
  function showQuote(q) {
    quote = q;
    if (quoteAlert) alertText("");
    quoteAlert = false;
    var rate = $("rate");
    rate.replaceChildren.apply(rate, q.shipping_rates.map(function (c) {
      return option(c.id, c.name + " · " + (c.amount ? money(c.amount) : "free") + (c.max_days ? " · " + c.min_days + "–" + c.max_days + " days" : ""));
    }));
    rate.value = q.shipping.rate_id;
    $("rate-field").hidden = q.shipping_rates.length < 2;
    $("q-subtotal").textContent = money(q.subtotal);
    $("q-shipping").textContent = q.shipping.amount ? money(q.shipping.amount) : "Free";
    $("q-tax-name").textContent = (q.tax.name || "Tax") + (q.tax.inclusive ? " (included)" : "");
    $("q-tax").textContent = money(q.tax.amount);
    document.querySelectorAll("[data-total]").forEach(function (n) { n.textContent = money(q.total); });
    setPayable(true);
  }
  // priced adds the variant, rate and quote to a purchase: Pay charges what is shown.
  function priced(body) {
    body.variant_id = quote.variant_id;
    body.shipping_rate = quote.shipping.rate_id;
    body.quote_id = quote.quote_id;
    return body;
  }

  // ---- API ----
  function api(method, path, body, key) {
    var headers = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" })
      .then(function (r) {
        return r.text().then(function (t) {
          var data = null;
          try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
          return { status: r.status, data: data || {}, retryAfter: Number(r.headers.get("Retry-After")) || 0 };
        });
      });
  }

  function wait(ms) { return new Promise(function (res) { setTimeout(res, ms); }); }

  // send retries what got no answer or a busy one with the same key, with backoff.
  function send(body) {
    var key = attempt.key;
    var tries = 0;
    function once() {
      tries++;
      return api("POST", "/v1/purchases", body, key).then(function (r) {
        if (r.status === 503 && tries < 4) {
          say("The checkout is busy; trying again…");
          return wait(Math.max(r.retryAfter, 1) * 1000).then(once);
        }
        return r;
      }, function () {
        if (tries < 4) {
          say("Connection lost; trying again…");
          return wait(500 * Math.pow(2, tries - 1)).then(once);
        }
        return { status: 0, data: {} };
      });
    }
    return once();
  }

  // ---- Card through the Stripe.js API ----
  function mountCard() {
    if (card || typeof window.Stripe !== "function") return;
    stripe = window.Stripe(root.dataset.pk);
    card = stripe.elements().create("card");
    card.mount("#card");
    card.on("change", function (e) {
      cardDirty = true;
      $("card-error").textContent = e && e.error ? e.error.message : "";
    });
  }

  function paymentMethod(name) {
    if (!cardDirty && cardPM) return Promise.resolve(cardPM);
    return stripe.createPaymentMethod({ type: "card", card: card, billing_details: { name: name } }).then(function (r) {
      if (r.error) throw { card: r.error.message };
      cardPM = r.paymentMethod.id;
      cardDirty = false;
      return cardPM;
    });
  }

  // ---- Address ----
  var ADDRESS_FIELDS = ["name", "line1", "line2", "city", "region", "postal_code", "country"];
  var REQUIRED = ["name", "line1", "city", "postal_code", "country"];
  function readAddress() {
    var f = $("view-form"), a = {};
    ADDRESS_FIELDS.forEach(function (k) { a[k] = f.elements[k].value.trim(); });
    a.country = a.country.toUpperCase();
    return a;
  }
  function fieldError(name, msg) {
    var input = $("view-form").elements[name];
    if (!input) return;
    var id = "err-" + name, p = document.getElementById(id);
    if (!p) {
      p = document.createElement("span");
      p.id = id;
      p.className = "field-error";
      input.insertAdjacentElement("afterend", p);
      input.setAttribute("aria-describedby", id);
    }
    p.textContent = msg || "";
    input.setAttribute("aria-invalid", msg ? "true" : "false");
  }
  // The same rules as the API's models.Address.Validate.
  function validateAddress(a, only) {
    var bad = null;
    (only ? [only] : ADDRESS_FIELDS).forEach(function (k) {
      var msg = "";
      if (REQUIRED.indexOf(k) >= 0 && !a[k]) msg = "Required";
      else if (new TextEncoder().encode(a[k]).length > 200) msg = "At most 200 characters";
      else if (k === "country" && !/^[A-Z]{2}$/.test(a[k])) msg = "Two letters, e.g. GB";
      fieldError(k, msg);
      if (msg && !bad) bad = k;
    });
    return bad;
  }

  // ---- Paying ----
  function startAttempt(body) {
    var text = JSON.stringify(body);
    if (!attempt || attempt.body !== text) attempt = { key: newKey(), body: text };
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return "bb-" + crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "bb-" + Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function setBusy(on) {
    busy = on;
    ["pay", "pay-onetap"].forEach(function (id) { $(id).disabled = on; $(id).setAttribute("aria-busy", on ? "true" : "false"); });
  }

  function payFirst(e) {
    e.preventDefault();
    if (busy) return;
    alertText("");
    var a = readAddress();
    var bad = validateAddress(a);
    if (bad) { $("view-form").elements[bad].focus(); return; }
    if (!quote || JSON.parse(quotedFor).quantity !== quantity() ||
        JSON.stringify(JSON.parse(quotedFor).shipping_address) !== JSON.stringify(destination())) {
      say("Updating the total…");
      updateTotal().then(function () { say(quote ? "Check the total, then tap Pay." : ""); });
      return;
    }
    setBusy(true);
    say("Paying…");
    paymentMethod(a.name).then(function (pm) {
      var body = priced({ product_id: PRODUCT, quantity: quantity(), shipping_address: a, payment_method: pm,
        save_details: $("view-form").elements.save.checked });
      var email = $("view-form").elements.email.value.trim();
      if (email) body.email = email;
      startAttempt(body);
      return send(body).then(answer);
    }).catch(function (err) {
      setBusy(false);
      say("");
      if (err && err.card) { $("card-error").textContent = err.card; card.focus(); return; }
      fail("network", "Something went wrong. Please try again.");
    });
  }

  function payOneTap() {
    if (busy || !quote) return;
    alertText("");
    setBusy(true);
    say("Paying…");
    var body = priced({ product_id: PRODUCT, quantity: 1 });
    startAttempt(body);
    send(body).then(answer);
  }

  // answer turns every reply the API can give into a view and a way forward.
  function answer(r) {
    var d = r.data || {}, err = d.error || {};
    var retryable = false;
    switch (true) {
      case r.status === 201 && d.status === "requires_action":
        return authenticate(d);
      case r.status === 201:
      case r.status === 200:
        return done(d);
      case r.status === 202:
        return poll(d.order_id).then(function (o) { settled(o, false); });
      case r.status === 402:
        attempt = null;
        fail(err.code, declined(err), true);
        break;
      case r.status === 409 && err.code === "sold_out":
        attempt = null;
        fail(err.code, "Sorry, this item has just sold out. Nothing was charged.");
        $("pay").disabled = $("pay-onetap").disabled = true;
        return;
      case r.status === 409 && err.code === "quote_expired":
        attempt = null;
        setBusy(false);
        if (d.quote) { quotedFor = JSON.stringify({ quantity: d.quote.quantity, shipping_address: destination() }); showQuote(d.quote); }
        fail(err.code, "The total changed to " + (d.quote ? money(d.quote.total) : "a new amount") + ". Nothing was charged: check it and tap Pay again.");
        return;
      case r.status === 403:
        attempt = null;
        fail(err.code, "Buying isn't available on your account yet. Nothing was charged.");
        $("pay").disabled = $("pay-onetap").disabled = true;
        return;
      case r.status === 429:
        retryable = true;
        fail(err.code, "Too many attempts. Please wait " + (r.retryAfter || 1) + " s, then tap Pay again.");
        break;
      case r.status === 503:
      case r.status === 0:
        retryable = true;
        fail(err.code || "network", r.status === 0
          ? "We lost the connection. Check your network and tap Pay again: you will not be charged twice."
          : "The checkout is busy right now. Tap Pay again in a moment: you will not be charged twice.");
        break;
      case r.status === 401:
        attempt = null;
        fail(err.code, "You are signed out. Sign in again and reopen checkout.");
        break;
      case r.status === 422 && err.code === "profile_required":
        attempt = null;
        profile = null;
        showForm();
        fail(err.code, "Please enter your address and card.");
        break;
      default:
        attempt = null;
        var m = /shipping_address\.(\w+)/.exec(err.message || "");
        if (m) fieldError(m[1], err.message);
        fail(err.code || "error", err.message || "Something went wrong. Please try again.");
    }
    setBusy(false);
    // A quote pays one order: a new attempt needs a new one.
    if (!retryable) { attempt = null; updateTotal(); }
  }

  function declined(err) {
    var why = err.message || "Your card was declined.";
    return why + " Nothing was charged. Try another card, or check the details and pay again.";
  }

  function fail(code, message, card) {
    say("");
    alertText(message);
    if (card && !$("view-form").hidden) $("card-error").textContent = message;
    setBusy(false);
    post({ type: "buybutton:error", code: code || "error", message: message });
  }

  function authenticate(d) {
    say("Confirm the payment with your bank…");
    return stripe.handleNextAction({ clientSecret: d.client_secret }).then(function () {
      return poll(d.order_id);
    }).then(function (o) { settled(o, true); });
  }

  // settled shows an order read back after 3-D Secure or a slow answer.
  function settled(o, challenged) {
    if (o.status === "payment_failed") {
      attempt = null;
      updateTotal();
      fail(challenged ? "authentication_failed" : (o.failure_code || "payment_failed"), (challenged
        ? "Your bank did not confirm the payment."
        : "The payment did not go through.") + " Nothing was charged. Try again or use another card.", true);
      return;
    }
    done({ order_id: o.id, status: o.status, amount: o.amount, currency: o.currency });
  }

  // poll reads the order until it settles, backing off up to 2 s, for at most a minute.
  function poll(id) {
    var delay = 250, started = Date.now();
    function next() {
      return api("GET", "/v1/orders/" + encodeURIComponent(id)).then(function (r) {
        var s = r.data && r.data.status;
        if (r.status === 200 && s !== "pending" && s !== "requires_action") return r.data;
        if (Date.now() - started > 60000) return r.data || { id: id, status: "pending" };
        return wait(delay).then(function () { delay = Math.min(delay * 2, 2000); return next(); });
      }, function () { return wait(delay).then(next); });
    }
    return next();
  }

  var NEXT = {
    authorized: "The merchant has been told. You'll pay only when they accept; you can cancel until it ships.",
    pending: "We're confirming your payment; this page will show the result.",
    accepted: "The merchant accepted your order.",
    payment_failed: "The payment did not go through; nothing was charged."
  };

  function done(d) {
    setBusy(false);
    say("");
    alertText("");
    attempt = null;
    lastOrder = { id: d.order_id, status: d.status };
    $("done-order").textContent = d.order_id;
    $("done-status").textContent = d.status;
    $("done-next").textContent = NEXT[d.status] || "";
    $("done-cancel").hidden = !(d.status === "authorized" || d.status === "accepted" || d.status === "pending");
    show("view-done");
    post({ type: "buybutton:purchase", order_id: d.order_id, status: d.status, amount: d.amount, currency: d.currency });
  }

  function cancel(id, after) {
    say("Cancelling…");
    return api("POST", "/v1/orders/" + encodeURIComponent(id) + "/cancel").then(function (r) {
      if (r.status === 200) { say("Order cancelled."); after(r.data); return; }
      say("");
      alertText((r.data.error && r.data.error.message) || "The order could not be cancelled.");
    }, function () { say(""); alertText("We lost the connection; try again."); });
  }

  // ---- Your orders ----
  var cursor = "";
  function showOrders(more) {
    if (!more) { $("orders").replaceChildren(); cursor = ""; }
    api("GET", "/v1/me/orders?limit=10" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then(function (r) {
      if (r.status !== 200) { alertText("Your orders could not be loaded."); return; }
      r.data.orders.forEach(function (o) {
        var li = document.createElement("li");
        li.dataset.order = o.id;
        var t = document.createElement("span");
        t.textContent = o.product_title + " × " + o.quantity + " · " + money(o.amount) + " · ";
        var s = document.createElement("strong");
        s.className = "order-status";
        s.textContent = o.status;
        li.append(t, s);
        if (o.cancellable) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "link";
          b.textContent = "Cancel";
          b.setAttribute("aria-label", "Cancel order " + o.id);
          b.addEventListener("click", function () {
            cancel(o.id, function (v) { s.textContent = v.status; b.remove(); });
          });
          li.append(" ", b);
        }
        $("orders").append(li);
      });
      cursor = r.data.next_cursor || "";
      $("orders-more").hidden = !cursor;
      if (!more) show("view-orders");
    }, function () { alertText("We lost the connection; try again."); });
  }

  // ---- Views ----
  function showForm() {
    mountCard();
    show("view-form");
    if (!$("view-form").dataset.mode) updateTotal();
  }
  ["variant", "rate"].forEach(function (id) { $(id).addEventListener("change", updateTotal); });

  function start() {
    Promise.all([api("GET", "/v1/me/profile"), loadVariants()]).then(function (rs) {
      var r = rs[0];
      if (r.status === 200 && r.data.card && r.data.card.last4) {
        profile = r.data;
        var brand = r.data.card.brand ? r.data.card.brand.charAt(0).toUpperCase() + r.data.card.brand.slice(1) : "Card";
        $("onetap-card").textContent = brand + " •••• " + r.data.card.last4;
        $("onetap-city").textContent = r.data.shipping_address.city;
        show("view-onetap");
        updateTotal();
      } else if (r.status === 401) {
        show("view-loading");
        alertText("You are signed out. Sign in again and reopen checkout.");
      } else {
        showForm();
      }
      post({ type: "buybutton:interactive" });
    }, function () {
      alertText("We lost the connection. Close and try again.");
    });
  }

  // Change links: the saved profile's own endpoints.
  function changeAddress() {
    $("view-form").dataset.mode = "address";
    $("pay").disabled = false;
    showForm();
    $("card-fields").hidden = true;
    $("pay").textContent = "Save address";
  }
  function changeCard() {
    $("view-form").dataset.mode = "card";
    $("pay").disabled = false;
    showForm();
    $("address").hidden = true;
    $("pay").textContent = "Save card";
  }
  function saveProfile(e) {
    e.preventDefault();
    var mode = $("view-form").dataset.mode;
    var req;
    if (mode === "address") {
      var a = readAddress();
      if (validateAddress(a)) return;
      req = Promise.resolve({ shipping_address: a });
    } else {
      req = paymentMethod("").then(function (pm) { return { payment_method: pm }; });
    }
    setBusy(true);
    req.then(function (body) {
      return api("PUT", "/v1/me/profile", body, mode === "card" ? newKey() : undefined);
    }).then(function (r) {
      setBusy(false);
      if (r.status !== 200) { alertText((r.data.error && r.data.error.message) || "Your details could not be saved."); return; }
      location.reload();
    }, function (err) {
      setBusy(false);
      alertText(err && err.card ? err.card : "We lost the connection; try again.");
    });
  }

  // ---- Keyboard: focus stays in the sheet; Esc closes ----
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); post({ type: "buybutton:close" }); return; }
    if (e.key !== "Tab") return;
    var focusables = Array.prototype.filter.call(
      document.querySelectorAll("button, input, select, a[href], [tabindex]:not([tabindex='-1'])"),
      function (n) { return !n.disabled && n.offsetParent !== null; });
    if (!focusables.length) return;
    var first = focusables[0], last = focusables[focusables.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });

  $("close").addEventListener("click", function () { post({ type: "buybutton:close" }); });
  $("view-form").addEventListener("submit", function (e) {
    if ($("view-form").dataset.mode) saveProfile(e); else payFirst(e);
  });
  $("pay-onetap").addEventListener("click", payOneTap);
  $("change-address").addEventListener("click", changeAddress);
  $("change-card").addEventListener("click", changeCard);
  $("qty-minus").addEventListener("click", function () { $("qty").value = Math.max(quantity() - 1, 1); updateTotal(); });
  $("qty-plus").addEventListener("click", function () { $("qty").value = Math.min(quantity() + 1, MAX); updateTotal(); });
  $("qty").addEventListener("input", updateTotal);
  $("done-cancel").addEventListener("click", function () {
    if (!lastOrder) return;
    cancel(lastOrder.id, function (v) { $("done-status").textContent = v.status; $("done-cancel").hidden = true; $("done-next").textContent = ""; });
  });
  $("done-orders").addEventListener("click", function () { showOrders(false); });
  $("orders-link").addEventListener("click", function () { if (token) showOrders(false); });
  $("orders-more").addEventListener("click", function () { showOrders(true); });
  $("orders-back").addEventListener("click", function () { show(lastOrder ? "view-done" : (profile ? "view-onetap" : "view-form")); });
  $("view-form").addEventListener("focusout", function (e) {
    var n = e.target.name;
    if (ADDRESS_FIELDS.indexOf(n) >= 0 && e.target.value) validateAddress(readAddress(), n);
    if (n === "country" || n === "region" || n === "postal_code") updateTotal();
  });

  // The token comes only from the host the server let frame us, only once.
  window.addEventListener("message", function (e) {
    if (e.origin !== HOST || e.source !== window.parent || token) return;
    var m = e.data || {};
    if (m.type !== "buybutton:init" || typeof m.token !== "string" || !m.token) return;
    token = m.token;
    start();
  });
  post({ type: "buybutton:ready" });
})();

// <buy-button product="prod_…">: the Buy button a host page embeds. It
// renders the product card inside its shadow root (no CSS or globals leak
// into the host), and opens the checkout sheet, served by the checkout's own
// origin, in an iframe overlay. The buyer's token reaches the sheet by
// postMessage, with exact origin checks both ways, never in a URL.
(function () {
  "use strict";
  if (!window.customElements || customElements.get("buy-button")) return;
  var script = document.currentScript;
  var ORIGIN = new URL(script ? script.src : location.href).origin;

  var css =
    ":host{display:block;font:15px/1.4 system-ui,-apple-system,sans-serif;color:#1c1e21}" +
    ".card{display:flex;gap:12px;align-items:center;border:1px solid #dadde1;border-radius:10px;padding:10px;background:#fff}" +
    ".img{width:64px;height:64px;border-radius:8px;background:#e7f0ff;display:grid;place-items:center;font-size:26px;color:#1b66d2;flex:none}" +
    ".img img{width:100%;height:100%;object-fit:cover;border-radius:8px}.info{flex:1;min-width:0}.title{font-weight:600;margin:0}.price{margin:2px 0 0;color:#444}" +
    ".buy{font:inherit;font-weight:600;border:0;border-radius:8px;padding:10px 20px;background:#1b66d2;color:#fff;cursor:pointer;min-height:44px}" +
    ".buy:hover{background:#1556b5}.buy:focus-visible{outline:3px solid #ffb400;outline-offset:2px}" +
    ".note{color:#666;font-size:13px}" +
    ".overlay{position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center}" +
    "iframe{border:0;background:#fff;width:440px;max-width:100%;height:min(720px,92vh);border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3)}" +
    "@media (max-width:600px){.overlay{align-items:stretch}iframe{width:100%;height:100%;border-radius:0}}" +
    "@media (prefers-reduced-motion:no-preference){iframe{animation:up .18s ease-out}}" +
    "@keyframes up{from{transform:translateY(24px);opacity:.6}to{transform:none;opacity:1}}";

  function formatPrice(minor, currency) {
    try {
      var f = new Intl.NumberFormat(navigator.language, { style: "currency", currency: currency.toUpperCase() });
      var digits = f.resolvedOptions().maximumFractionDigits;
      return f.format(minor / Math.pow(10, digits));
    } catch (e) {
      return minor + " " + currency;
    }
  }

  class BuyButton extends HTMLElement {
    static get observedAttributes() { return ["product"]; }

    constructor() {
      super();
      this._root = this.attachShadow({ mode: "open" });
      if ("adoptedStyleSheets" in this._root) {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        this._root.adoptedStyleSheets = [sheet];
      }
      this._token = "";
      this._frame = null;
      this._onMessage = this._onMessage.bind(this);
      this._onKey = this._onKey.bind(this);
    }

    // The token may have been set before the element was upgraded.
    connectedCallback() {
      if (Object.prototype.hasOwnProperty.call(this, "buyerToken")) {
        var t = this.buyerToken;
        delete this.buyerToken;
        this.buyerToken = t;
      }
      if (!this._token && this.hasAttribute("buyer-token")) this._token = this.getAttribute("buyer-token");
      this._load();
    }

    disconnectedCallback() { this._close(false); }

    attributeChangedCallback() { if (this.isConnected) this._load(); }

    get buyerToken() { return this._token; }
    set buyerToken(v) {
      this._token = v ? String(v) : "";
      if (this.isConnected) this._load();
    }

    _emit(type, detail) {
      this.dispatchEvent(new CustomEvent("buybutton:" + type, { detail: detail || null, bubbles: true, composed: true }));
    }

    _load() {
      var id = this.getAttribute("product") || "";
      var seq = (this._seq = (this._seq || 0) + 1);
      var self = this;
      var headers = this._token ? { Authorization: "Bearer " + this._token } : {};
      fetch(ORIGIN + "/v1/products/" + encodeURIComponent(id), { headers: headers, credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error("product " + r.status)); })
        .then(function (p) { if (seq === self._seq) self._render(p); })
        .catch(function (e) {
          if (seq !== self._seq) return;
          self._product = null;
          self._root.replaceChildren();
          self._emit("error", { code: "product_unavailable", message: String(e.message || e) });
        });
    }

    _render(p) {
      this._product = p;
      var card = el("div", "card");
      var img = el("div", "img");
      img.setAttribute("aria-hidden", "true");
      img.textContent = (p.title || "?").charAt(0);
      if (p.image) {
        var pic = el("img", "");
        pic.src = p.image;
        pic.alt = "";
        img.replaceChildren(pic);
      }
      var info = el("div", "info");
      var title = el("p", "title");
      title.textContent = p.title;
      var price = el("p", "price");
      // Variants at several prices: the card says from the lowest.
      var prices = (p.variants || []).map(function (v) { return v.price; });
      var low = prices.length ? Math.min.apply(null, prices) : p.price;
      price.textContent = (prices.some(function (x) { return x !== low; }) ? "From " : "") + formatPrice(low, p.currency);
      info.append(title, price);
      card.append(img, info);
      if (p.buy_enabled && p.available) {
        var buy = el("button", "buy");
        buy.type = "button";
        buy.textContent = "Buy";
        buy.setAttribute("aria-label", "Buy " + p.title + ", " + price.textContent);
        buy.setAttribute("aria-haspopup", "dialog");
        buy.addEventListener("click", this._open.bind(this));
        card.append(buy);
        this._buy = buy;
      } else if (p.buy_enabled) {
        var sold = el("span", "note");
        sold.textContent = "Sold out";
        card.append(sold);
      }
      this._root.replaceChildren(card);
      if (this._frame) this._root.append(this._overlay); // a new token while the sheet is open
    }

    _open() {
      if (this._frame || !this._product) return;
      var overlay = el("div", "overlay");
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-label", "Checkout");
      var frame = document.createElement("iframe");
      frame.title = "Checkout: " + this._product.title;
      frame.allow = "payment";
      frame.src = ORIGIN + "/embed/v1/sheet?product=" + encodeURIComponent(this._product.id) +
        "&host=" + encodeURIComponent(location.origin);
      overlay.addEventListener("click", (function (e) { if (e.target === overlay) this._close(true); }).bind(this));
      overlay.append(frame);
      this._root.append(overlay);
      this._frame = frame;
      this._overlay = overlay;
      this._openedAt = performance.now();
      window.addEventListener("message", this._onMessage);
      document.addEventListener("keydown", this._onKey, true);
      frame.focus();
      this._emit("open", { product: this._product.id });
    }

    _close(emit) {
      if (!this._frame) return;
      window.removeEventListener("message", this._onMessage);
      document.removeEventListener("keydown", this._onKey, true);
      this._overlay.remove();
      this._frame = null;
      if (this._buy) this._buy.focus();
      if (emit) this._emit("close", null);
    }

    _onKey(e) {
      if (e.key === "Escape") { e.preventDefault(); this._close(true); }
    }

    // Only the sheet this element framed, from the checkout's origin, is heard.
    _onMessage(e) {
      if (!this._frame || e.origin !== ORIGIN || e.source !== this._frame.contentWindow) return;
      var m = e.data || {};
      switch (m.type) {
        case "buybutton:ready":
          this._frame.contentWindow.postMessage({ type: "buybutton:init", token: this._token }, ORIGIN);
          break;
        case "buybutton:interactive":
          this.dataset.interactiveMs = String(Math.round(performance.now() - this._openedAt));
          break;
        case "buybutton:purchase":
          this._emit("purchase", { order_id: m.order_id, status: m.status, amount: m.amount, currency: m.currency });
          break;
        case "buybutton:error":
          this._emit("error", { code: m.code, message: m.message });
          break;
        case "buybutton:close":
          this._close(true);
          break;
      }
    }
  }

  function el(tag, cls) {
    var n = document.createElement(tag);
    n.className = cls;
    return n;
  }

  customElements.define("buy-button", BuyButton);
})();

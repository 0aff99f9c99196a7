// The demo host: it hands its signed-in buyer's token to the element, as a
// platform does with a token from its own backend, and logs the events.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="demo-buyer-token"]').content;
  var log = document.getElementById("event-log");
  function wire(el) {
    el.buyerToken = token;
    ["buybutton:open", "buybutton:close", "buybutton:purchase", "buybutton:error"].forEach(function (type) {
      el.addEventListener(type, function (e) {
        var li = document.createElement("li");
        li.textContent = type + (e.detail ? " " + JSON.stringify(e.detail) : "");
        li.dataset.type = type;
        log.appendChild(li);
      });
    });
  }
  document.querySelectorAll("buy-button").forEach(wire);
})();

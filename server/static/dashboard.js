// Paramedic dashboard glue: the operator token, error swaps and expanded steps kept on re-render.
//
// The token lives in sessionStorage (gone when the tab closes, never in a cookie, so a forged
// cross-site form post carries nothing) and goes out only as an Authorization header on the
// dashboard's own mutating requests.
(function () {
  "use strict";
  var KEY = "paramedic.token";

  function token() {
    try { return window.sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  function tokenRequired() {
    return document.body && document.body.dataset.tokenRequired === "true";
  }

  // Answer buttons are usable once a token is set, or when this server asks for none.
  function refreshControls() {
    var state = document.getElementById("token-state");
    if (state) {
      state.textContent = token() ? "token set for this tab" : (tokenRequired() ? "read-only" : "");
    }
    var locked = tokenRequired() && !token();
    document.querySelectorAll("#approve, #reject").forEach(function (button) {
      button.disabled = locked;
      button.title = locked ? "Enter the operator token above to answer" : "";
    });
  }

  // Our refusals (401/409/422/503) are HTML fragments retargeted at the approval panel's message
  // line: swap them like successes instead of htmx's default of dropping 4xx/5xx bodies.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];

  document.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.verb !== "get" && token()) {
      evt.detail.headers["Authorization"] = "Bearer " + token();
    }
  });

  // A live re-render replaces the run body; keep what the reader expanded expanded, and what
  // they were typing into the approval form typed.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (!target) { return; }
    target._paramedicOpen = Array.prototype.map.call(
      target.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    target._paramedicTyped = {};
    target.querySelectorAll("input[id]").forEach(function (input) {
      if (input.value) { target._paramedicTyped[input.id] = input.value; }
    });
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (!target) { return; }
    (target._paramedicOpen || []).forEach(function (id) {
      var details = document.getElementById(id);
      if (details) { details.open = true; }
    });
    Object.keys(target._paramedicTyped || {}).forEach(function (id) {
      var input = document.getElementById(id);
      if (input && !input.value) { input.value = target._paramedicTyped[id]; }
    });
    refreshControls();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("token-form");
    if (form) {
      form.addEventListener("submit", function (evt) {
        evt.preventDefault();
        var input = document.getElementById("token-input");
        var value = input.value.trim();
        try { if (value) { window.sessionStorage.setItem(KEY, value); } } catch (e) { /* private mode */ }
        input.value = "";
        refreshControls();
      });
      document.getElementById("token-clear").addEventListener("click", function () {
        try { window.sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
        refreshControls();
      });
    }
    refreshControls();
  });
})();

// Paramedic dashboard glue: answer buttons by sign-in state, error swaps, expanded steps kept.
//
// No credential is handled here: signing in (/ui/login) sets an HttpOnly, SameSite=Strict session
// cookie the browser sends on the dashboard's own requests, and the server accepts it for a write
// only from a same-origin request that carries htmx's HX-Request header.
(function () {
  "use strict";

  function locked() {
    var body = document.body;
    return !!body && body.dataset.tokenRequired === "true" && body.dataset.signedIn !== "true";
  }

  // Answer buttons are usable once signed in, or when this server asks for no token.
  function refreshControls() {
    var isLocked = locked();
    document.querySelectorAll("#approve, #reject, #merge-pr, #close-pr").forEach(function (button) {
      button.disabled = isLocked;
      button.title = isLocked ? "Sign in to answer" : "";
    });
  }

  // Our refusals (401/403/409/422/503) are HTML fragments retargeted at the approval panel's
  // message line: swap them like successes instead of htmx's default of dropping 4xx/5xx bodies.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];

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

  document.addEventListener("DOMContentLoaded", refreshControls);
})();

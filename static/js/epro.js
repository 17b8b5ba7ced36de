// epro's only script. No inline script anywhere (the CSP forbids it); behaviour hangs off data attributes.
(function () {
  "use strict";
  var body = document.body;

  // Patient mode: lock the tablet after a period without a touch.
  var idleSeconds = parseInt(body.dataset.idleSeconds || "0", 10);
  if (idleSeconds > 0 && body.dataset.lockedUrl) {
    var timer = null;
    var arm = function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(function () { window.location.replace(body.dataset.lockedUrl); }, idleSeconds * 1000);
    };
    ["pointerdown", "keydown", "touchstart", "input"].forEach(function (name) {
      document.addEventListener(name, arm, { passive: true });
    });
    arm();
  }

  // The calm thank-you screen moves on to the locked screen by itself.
  var after = parseInt(body.dataset.redirectAfter || "0", 10);
  if (after > 0 && body.dataset.redirectUrl) {
    setTimeout(function () { window.location.replace(body.dataset.redirectUrl); }, after * 1000);
  }

  // Next stays disabled until an answer is chosen.
  document.querySelectorAll("[data-answer-form]").forEach(function (form) {
    var next = form.querySelector("[data-next]");
    form.addEventListener("change", function () {
      if (form.querySelector("input[name=value]:checked")) { next.disabled = false; }
    });
  });

  // A double tap sends a form once.
  document.querySelectorAll("form[data-submit-once], [data-answer-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    });
  });
})();

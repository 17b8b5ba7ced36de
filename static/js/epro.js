// epro's only script. No inline script anywhere (the CSP forbids it); behaviour hangs off data attributes.
(function () {
  "use strict";
  var body = document.body;

  // Patient mode: lock the tablet after a period without a touch. Some seconds before, a warning with one
  // big "I need more time" button (WCAG 2.2.1); pressing it also tells the server the tablet is in use.
  var idleSeconds = parseInt(body.dataset.idleSeconds || "0", 10);
  if (idleSeconds > 0 && body.dataset.lockedUrl) {
    var warning = document.querySelector("[data-idle-warning]");
    var warnBefore = parseInt(body.dataset.idleWarningSeconds || "20", 10);
    if (warnBefore * 2 > idleSeconds) { warnBefore = Math.floor(idleSeconds / 2); }
    var lockTimer = null, warnTimer = null;
    var lock = function () { window.location.replace(body.dataset.lockedUrl); };
    var showWarning = function () {
      if (!warning) { return; }
      warning.hidden = false;
      var more = warning.querySelector("[data-more-time]");
      if (more) { more.focus(); }
    };
    var arm = function () {
      if (lockTimer) { clearTimeout(lockTimer); }
      if (warnTimer) { clearTimeout(warnTimer); }
      if (warning) { warning.hidden = true; }
      lockTimer = setTimeout(lock, idleSeconds * 1000);
      if (warnBefore > 0) { warnTimer = setTimeout(showWarning, (idleSeconds - warnBefore) * 1000); }
    };
    ["pointerdown", "keydown", "touchstart", "input"].forEach(function (name) {
      document.addEventListener(name, function (event) {
        // A touch while the warning is up counts only on its button.
        if (warning && !warning.hidden && !warning.contains(event.target)) { return; }
        arm();
      }, { passive: true });
    });
    if (warning) {
      warning.querySelector("[data-more-time]").addEventListener("click", function () {
        arm();
        fetch(window.location.href, { method: "HEAD", credentials: "same-origin" }).catch(function () {});
      });
    }
    arm();
  }

  // Text size on the tablet: normal and two larger steps, kept for this questionnaire (sessionStorage).
  var applySize = function (size) {
    body.classList.remove("text-1", "text-2");
    if (size > 0) { body.classList.add("text-" + size); }
    document.querySelectorAll("[data-text-size] [data-size]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(parseInt(button.dataset.size, 10) === size));
    });
  };
  if (body.classList.contains("kiosk")) {
    var stored = 0;
    try { stored = parseInt(window.sessionStorage.getItem("epro-text-size") || "0", 10) || 0; } catch (e) { stored = 0; }
    if (document.querySelector(".locked")) {
      try { window.sessionStorage.removeItem("epro-text-size"); } catch (e) { /* private mode */ }
      stored = 0;
    }
    applySize(stored);
    document.querySelectorAll("[data-text-size] [data-size]").forEach(function (button) {
      button.addEventListener("click", function () {
        var size = parseInt(button.dataset.size, 10);
        try { window.sessionStorage.setItem("epro-text-size", String(size)); } catch (e) { /* private mode */ }
        applySize(size);
      });
    });
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

// careledger page behaviour. Loaded as a static file: the CSP forbids inline scripts.
(function () {
  "use strict";

  // Submit the practice switcher as soon as a practice is picked.
  function initAutosubmit(root) {
    root.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      var form = select.form;
      var button = form.querySelector("button[type=submit]");
      if (button) button.hidden = true;
      select.addEventListener("change", function () { form.requestSubmit(); });
    });
  }

  // Show the parts of the enrollment form that apply to the chosen program (order for
  // RPM/RTM, specialist consultation for BHI/CoCM). Without JavaScript everything shows.
  function initProgramForm(root) {
    root.querySelectorAll("form[data-program-form]").forEach(function (form) {
      var program = form.querySelector("select[name=program]");
      if (!program) return;
      function sync() {
        form.querySelectorAll("[data-show-for]").forEach(function (part) {
          var programs = part.getAttribute("data-show-for").split(" ");
          part.hidden = programs.indexOf(program.value) === -1;
        });
      }
      program.addEventListener("change", sync);
      sync();
    });
  }

  // One key per submission (case 22): a double click or an htmx retry sends the same
  // Idempotency-Key, so the server stores one record and replays its first answer.
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  var WRITES = { post: true, put: true, patch: true };
  document.addEventListener("htmx:configRequest", function (event) {
    var element = event.detail.elt;
    if (!WRITES[String(event.detail.verb).toLowerCase()] || !element) return;
    if (!element.dataset.idempotencyKey) element.dataset.idempotencyKey = newKey();
    event.detail.headers["Idempotency-Key"] = element.dataset.idempotencyKey;
  });
  // The answer came back: the next submission (say, after fixing a field) is a new one.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt) delete event.detail.elt.dataset.idempotencyKey;
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.hasAttribute("hx-post") || form.hasAttribute("data-hx-post")) return;
    var field = form.querySelector("input[name=idempotency_key]");
    if (field) return;
    field = document.createElement("input");
    field.type = "hidden";
    field.name = "idempotency_key";
    field.value = newKey();
    form.appendChild(field);
    // Only a quick repeat is a double submit; a later one (after a download, say) is new.
    setTimeout(function () { field.remove(); }, 5000);
  });
  // A page restored by the Back button starts with fresh keys.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("input[name=idempotency_key]").forEach(function (f) { f.remove(); });
  });

  document.addEventListener("DOMContentLoaded", function () {
    initAutosubmit(document);
    initProgramForm(document);
  });
})();

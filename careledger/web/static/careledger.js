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

  document.addEventListener("DOMContentLoaded", function () {
    initAutosubmit(document);
    initProgramForm(document);
  });
})();

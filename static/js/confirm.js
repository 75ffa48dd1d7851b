/* Destructive actions ask first: a form with data-confirm="question" is sent only after the
   person says yes. A static script, as the CSP allows no inline script or onsubmit handler.
   Without JavaScript the form still works (the server-side action stays the real control). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
})();

/* Sign-up: fill the hidden time zone field with the browser's IANA zone (the server checks it
   against zoneinfo) and show the visitor what was found. A static file: CSP allows no inline JS. */
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (!zone) { return; }
  document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
    if (!input.value) { input.value = zone; }
  });
  document.querySelectorAll("[data-browser-timezone-shown]").forEach(function (line) {
    line.textContent = "Time zone: " + zone + " (from your browser; you can change it in Settings).";
  });
})();

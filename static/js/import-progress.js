/* Progress of a Clarity import: poll the job's status.json and update the bar; reload the page
   once the job has ended so the outcome is rendered by the server. (CSP: no inline script.) */
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || box.dataset.ended === "true") { return; }
  var url = box.dataset.statusUrl;
  var bar = box.querySelector("[data-job-bar]");
  var label = box.querySelector("[data-job-label]");
  var lastStatus = null;

  function show(job) {
    if (job.ended || (lastStatus && job.status !== lastStatus && job.status === "saving")) {
      window.location.reload();
      return;
    }
    lastStatus = job.status;
    if (label) { label.textContent = job.label + (job.status === "checking" ? " · " + job.progress + "%" : ""); }
    if (bar && job.status !== "saving") { bar.value = job.progress; }
    window.setTimeout(poll, 1000);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(show)
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 500);
})();

/* The alarm pages' charts (alarm burden, settings timeline): data from <script type="application/json">
   elements (CSP allows no inline script), each alert type in its one colour (apps/glucose/alert_kinds.py). */
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function stackedBars(el, x, series, yTitle, xaxis) {
    var traces = series.map(function (s) {
      return { x: x, y: s.counts, type: "bar", name: s.label, marker: { color: s.colour },
               hovertemplate: s.label + ": %{y}<extra>%{x}</extra>" };
    });
    Plotly.newPlot(el, traces, {
      barmode: "stack", height: 260, margin: { l: 40, r: 10, t: 10, b: 40 },
      legend: { orientation: "h", y: -0.25 }, xaxis: xaxis || { fixedrange: true },
      yaxis: { title: { text: yTitle }, fixedrange: true, rangemode: "tozero" }
    }, CONFIG);
  }

  function drawBurden() {
    var data = readJson("burden-data");
    if (!data) { return; }
    var daily = document.getElementById("burden-daily-chart");
    if (daily) { stackedBars(daily, data.daily.dates, data.daily.series, "alarms", { type: "date", fixedrange: true }); }
    var hours = document.getElementById("burden-hours-chart");
    if (hours) {
      var labels = data.hours.hours.map(function (h) { return (h < 10 ? "0" : "") + h + ":00"; });
      stackedBars(hours, labels, data.hours.series, "alarms", { type: "category", fixedrange: true, nticks: 8 });
    }
  }

  function drawTimeline() {
    var data = readJson("timeline-data");
    var el = document.getElementById("timeline-chart");
    if (!data || !el) { return; }
    var shapes = data.changes.map(function (c) {
      return { type: "line", xref: "x", yref: "paper", x0: c.at, x1: c.at, y0: 0, y1: 1,
               line: { color: "#495057", width: 1, dash: "dot" } };
    });
    var traces = [
      { x: data.dates, y: data.tir, type: "scatter", mode: "lines", name: "Time in range per day (%)",
        line: { color: "#2e9d5b" }, connectgaps: false },
      { x: data.changes.map(function (c) { return c.at; }), y: data.changes.map(function () { return 100; }),
        text: data.changes.map(function (c) { return c.text; }), type: "scatter", mode: "markers",
        name: "Settings change", marker: { symbol: "triangle-down", size: 10, color: "#495057" },
        hovertemplate: "%{text}<extra>%{x}</extra>" }
    ];
    Plotly.newPlot(el, traces, {
      height: 260, margin: { l: 40, r: 10, t: 10, b: 40 }, shapes: shapes,
      legend: { orientation: "h", y: -0.25 }, xaxis: { type: "date", fixedrange: true },
      yaxis: { title: { text: "% in range" }, range: [0, 105], fixedrange: true }
    }, CONFIG);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Plotly === "undefined") { return; }
    drawBurden();
    drawTimeline();
  });
})();

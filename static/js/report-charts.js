/* dexweb report charts (Daily overlay, Compare AGP): data from <script type="application/json">
   elements, drawn with Plotly. Times of day are minutes since local midnight. */
(function () {
  "use strict";

  // charts.js (loaded first) shares how chart data is read, shown in the unit, and the toolbar.
  var shared = window.dexwebCharts || {};
  var readJson = shared.readJson, shown = shared.shown, CONFIG = shared.config, BAND = shared.band;
  var WEEKDAY_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
  var WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  function minuteX(minute) { return minute * 60000; }  // a time of day on 1970-01-01

  function layoutFor(data, height) {
    return {
      margin: { l: 45, r: 10, t: 10, b: 35 }, height: height, hovermode: "closest",
      xaxis: { type: "date", tickformat: "%H:%M", dtick: 3 * 3600000, range: [0, 86400000] },
      yaxis: { title: { text: data.unit }, range: [0, shown(data, 400)], fixedrange: true },
      shapes: [{ type: "rect", xref: "paper", x0: 0, x1: 1, yref: "y", y0: shown(data, data.target[0]),
                 y1: shown(data, data.target[1]), fillcolor: BAND, line: { width: 0 }, layer: "below" }],
      legend: { orientation: "h", y: -0.15 }
    };
  }

  // One line per day; a gap of more than 15 minutes breaks it (never interpolated).
  function dayLine(data, line, colour, name, showlegend) {
    var x = [], y = [], prev = null;
    for (var j = 0; j < line.t.length; j++) {
      if (prev !== null && line.t[j] - prev > 15) { x.push(minuteX(line.t[j] - 1)); y.push(null); }
      x.push(minuteX(line.t[j])); y.push(shown(data, line.v[j]));
      prev = line.t[j];
    }
    return { x: x, y: y, mode: "lines", name: name, legendgroup: name, showlegend: showlegend,
             line: { color: colour, width: 1 }, opacity: 0.6, hovertemplate: line.label + " %{x|%H:%M}: %{y}<extra></extra>" };
  }

  function drawOverlay(byWeekday) {
    var data = readJson("overlay-data");
    var el = document.getElementById("overlay-chart");
    if (!data || !el) { return; }
    var seen = {};
    var traces = data.lines.map(function (line, i) {
      if (!byWeekday) { return dayLine(data, line, WEEKDAY_COLOURS[i % 7], line.label, data.lines.length <= 14); }
      var name = WEEKDAYS[line.weekday], first = !seen[name];
      seen[name] = true;
      return dayLine(data, line, WEEKDAY_COLOURS[line.weekday], name, first);
    });
    Plotly.react(el, traces, layoutFor(data, 360), CONFIG);
  }

  function agpTraces(data, period, colour, fill) {
    var agp = period.agp, x = agp.slot_minutes.map(minuteX);
    function band(key) { return agp[key].map(function (v) { return v === null ? null : shown(data, v); }); }
    return [
      { x: x, y: band("p25"), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
      { x: x, y: band("p75"), mode: "lines", fill: "tonexty", fillcolor: fill, line: { width: 0 },
        name: period.label + " 25–75%" },
      { x: x, y: band("p50"), mode: "lines", line: { color: colour, width: 2.5 }, name: period.label + " median" }
    ];
  }

  function drawCompare() {
    var data = readJson("compare-data");
    var el = document.getElementById("compare-agp-chart");
    if (!data || !el) { return; }
    var traces = agpTraces(data, data.first, "#0b3d91", "rgba(11,107,203,0.25)")
      .concat(agpTraces(data, data.second, "#c0600b", "rgba(230,126,34,0.25)"));
    var layout = layoutFor(data, 340);
    layout.hovermode = "x unified";
    layout.yaxis.range = [0, shown(data, 350)];
    Plotly.newPlot(el, traces, layout, CONFIG);
  }

  function drawCompleteness() {
    var data = readJson("completeness-data");
    var el = document.getElementById("completeness-chart");
    if (!data || !el) { return; }
    var traces = data.series.map(function (s) {
      return { x: data.dates, y: s.hours, type: "bar", name: s.name, marker: { color: s.colour },
               hovertemplate: "%{x}: %{y:.1f} h<extra>" + s.name + "</extra>" };
    });
    Plotly.newPlot(el, traces, {
      barmode: "stack", height: 260, margin: { l: 40, r: 10, t: 10, b: 40 }, showlegend: false,  // the page's legend
      yaxis: { title: { text: "hours" }, range: [0, 25], fixedrange: true }
    }, CONFIG);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Plotly === "undefined" || !shared.readJson) { return; }
    drawOverlay(false);
    drawCompare();
    drawCompleteness();
    document.querySelectorAll("input[name=overlay-colour]").forEach(function (input) {
      input.addEventListener("change", function () { drawOverlay(input.value === "weekday" && input.checked); });
    });
  });
})();

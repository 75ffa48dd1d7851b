/* dexweb charts: read chart data from <script type="application/json"> elements (CSP allows no
   inline script) and draw them with Plotly. Times are local wall-clock ms (see charts.py). */
(function () {
  "use strict";

  // On a phone Plotly's toolbar would sit over the legend and the chart's top row: no toolbar
  // there (pinch zoom and the page's own buttons remain).
  var NARROW = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
  var CONFIG = { displaylogo: false, responsive: true, displayModeBar: NARROW ? false : "hover",
                 modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var BAND = "rgba(46,157,91,0.12)";

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function shown(data, mgdl) {
    var v = mgdl / data.divisor;
    return data.decimals ? Math.round(v * 10) / 10 : Math.round(v);
  }

  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function two(n) { return (n < 10 ? "0" : "") + n; }

  // A wall clock written as if UTC (as charts.py sends it) as "Sun 01 Nov 01:30". The day's
  // part is made once per day: 90 days are 26,000 hover labels, built before the first draw.
  var DAY_MS = 86400000, dayTexts = {};
  function clock(ms) {
    var day = Math.floor(ms / DAY_MS), minute = Math.floor((ms - day * DAY_MS) / 60000);
    var text = dayTexts[day];
    if (text === undefined) {
      var d = new Date(day * DAY_MS);
      text = dayTexts[day] = DAYS[d.getUTCDay()] + " " + two(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()] + " ";
    }
    return text + two(Math.floor(minute / 60)) + ":" + two(minute % 60);
  }

  function targetBand(data, xref) {
    return {
      type: "rect", xref: xref || "paper", x0: 0, x1: 1, yref: "y",
      y0: shown(data, data.target[0]), y1: shown(data, data.target[1]),
      fillcolor: BAND, line: { width: 0 }, layer: "below"
    };
  }

  function yRange(data) {
    return [0, shown(data, data.divisor === 1 ? 400 : 401)];
  }

  // Per-day markers (periods beyond 14 days) grow with their count, within bounds.
  function markerSizes(markers, size) {
    if (!markers.per_day) { return size; }
    return markers.count.map(function (n) { return Math.min(size + 2 * Math.sqrt(n), 22); });
  }

  // Horizontal lines across the plot at these mg/dL values (AGP v4: 54 and 250).
  function referenceLines(data, xref, yref) {
    return (data.reference_lines || []).map(function (mgdl) {
      return { type: "line", xref: xref || "paper", x0: 0, x1: 1, yref: yref || "y",
        y0: shown(data, mgdl), y1: shown(data, mgdl), layer: "below",
        // Red below the target band (54), orange above it (250); a custom band may start at 54.
        line: { color: mgdl <= data.target[0] ? "#a31b1b" : "#e67e22", width: 1, dash: "dot" } };
    });
  }

  // The readings on an axis that runs with real time (it never goes back on the night DST
  // ends); each hover label shows the reading's own wall clock, `shift` seconds from the axis.
  // A gap of more than 15 minutes is a gap: never interpolated.
  function realTimeLine(data) {
    var breaks = {}, shiftAt = {}, shift = 0, x = [], y = [], clocks = [], i;
    for (i = 0; i < data.breaks.length; i++) { breaks[data.breaks[i]] = true; }
    for (i = 0; i < data.shifts.length; i++) { shiftAt[data.shifts[i][0]] = data.shifts[i][1]; }
    for (i = 0; i < data.t.length; i++) {
      var ms = data.t0 + data.t[i] * 1000;
      if (shiftAt[i] !== undefined) { shift = shiftAt[i]; }
      if (breaks[i]) { x.push(ms - 1); y.push(null); clocks.push(""); }
      x.push(ms); y.push(shown(data, Math.min(Math.max(data.v[i], data.limits[0]), data.limits[1])));
      clocks.push(clock(ms + shift * 1000));
    }
    return { x: x, y: y, clocks: clocks };
  }

  function drawTrace() {
    var data = readJson("trace-data");
    var el = document.getElementById("trace-chart");
    if (!data || !el) { return; }
    var line = realTimeLine(data), x = line.x, y = line.y, clocks = line.clocks, i;
    var lowX = [], lowY = [], highX = [], highY = [], lo = data.limits[0], hi = data.limits[1];
    for (i = 0; i < data.t.length; i++) {
      var ms = data.t0 + data.t[i] * 1000, v = data.v[i];
      if (v < lo) { lowX.push(ms); lowY.push(shown(data, lo)); }
      if (v > hi) { highX.push(ms); highY.push(shown(data, hi)); }
    }
    function at(list) { return list.t.map(function (s) { return data.t0 + s * 1000; }); }
    var top = shown(data, 380);
    var traces = [
      { x: x, y: y, customdata: clocks, type: "scatter", mode: "lines", name: "Glucose (" + data.unit + ")",
        line: { color: "#0b3d91", width: 1.5 }, connectgaps: false,
        hovertemplate: "%{y} " + data.unit + "<br>%{customdata}<extra></extra>" },
      { x: lowX, y: lowY, type: "scatter", mode: "markers", name: "LOW (below 40 mg/dL)",
        marker: { symbol: "triangle-down", color: "#a31b1b", size: 8 }, hovertemplate: "LOW<br>%{x|%H:%M}<extra></extra>" },
      { x: highX, y: highY, type: "scatter", mode: "markers", name: "HIGH (above 400 mg/dL)",
        marker: { symbol: "triangle-up", color: "#e67e22", size: 8 }, hovertemplate: "HIGH<br>%{x|%H:%M}<extra></extra>" },
      { x: at(data.events), y: data.events.t.map(function () { return top; }), text: data.events.text,
        customdata: data.events.clock,
        type: "scatter", mode: "markers", name: data.events.per_day ? "Events per day" : "Events",
        marker: { symbol: "diamond", color: "#6a3d9a", size: markerSizes(data.events, 9) },
        hovertemplate: "%{text}<br>%{customdata}<extra></extra>" },
      { x: at(data.alerts), y: data.alerts.t.map(function () { return shown(data, 20); }), text: data.alerts.text,
        customdata: data.alerts.clock,
        type: "scatter", mode: "markers", name: data.alerts.per_day ? "Alerts per day" : "Alerts",
        marker: { symbol: "x", color: data.alerts.colour || "#c4302b", size: markerSizes(data.alerts, 8) },
        hovertemplate: "%{text}<br>%{customdata}<extra></extra>" },
      { x: at(data.calibrations), y: data.calibrations.v.map(function (v) { return shown(data, v); }),
        customdata: data.calibrations.clock,
        type: "scatter", mode: "markers", name: "Calibrations", marker: { symbol: "circle-open", color: "#000", size: 9 },
        hovertemplate: "Calibration %{y} " + data.unit + "<br>%{customdata}<extra></extra>" }
    ];
    var layout = {
      margin: { l: 45, r: 10, t: 10, b: 40 }, height: 420, showlegend: true,
      legend: { orientation: "h", y: -0.15 }, hovermode: "closest",
      // The page's period buttons are the one period control: no Plotly range buttons.
      xaxis: { type: "date", range: data.window, tickvals: data.ticks.values, ticktext: data.ticks.text },
      yaxis: { title: { text: data.unit }, range: yRange(data), fixedrange: true },
      shapes: [targetBand(data)]
    };
    Plotly.newPlot(el, traces, layout, CONFIG);
  }

  // The overview's last 24 h: a small line, the target band and the 54/250 lines, no toolbar.
  function drawMini() {
    var data = readJson("mini-data");
    var el = document.getElementById("mini-chart");
    if (!data || !el) { return; }
    var line = realTimeLine(data);
    Plotly.newPlot(el, [{ x: line.x, y: line.y, customdata: line.clocks, type: "scatter", mode: "lines", connectgaps: false,
      line: { color: "#0b3d91", width: 1.5 }, hovertemplate: "%{y} " + data.unit + "<br>%{customdata}<extra></extra>" }], {
      margin: { l: 40, r: 8, t: 6, b: 28 }, height: 170, showlegend: false,
      xaxis: { type: "date", tickvals: data.ticks.values, ticktext: data.ticks.text, fixedrange: true },
      yaxis: { range: yRange(data), fixedrange: true, title: { text: data.unit } },
      shapes: [targetBand(data)].concat(referenceLines(data))
    }, { displayModeBar: false, responsive: true });
  }

  function slotX(minute) { return minute * 60000; }  // a time of day on 1970-01-01

  function drawAgp() {
    var data = readJson("agp-data");
    var el = document.getElementById("agp-chart");
    if (!data || !el) { return; }
    var agp = data.agp, x = agp.slot_minutes.map(slotX);
    function band(key) { return agp[key].map(function (v) { return v === null ? null : shown(data, v); }); }
    var traces = [
      { x: x, y: band("p5"), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
      { x: x, y: band("p95"), mode: "lines", fill: "tonexty", fillcolor: "rgba(11,107,203,0.18)", line: { width: 0 }, name: "5–95%" },
      { x: x, y: band("p25"), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
      { x: x, y: band("p75"), mode: "lines", fill: "tonexty", fillcolor: "rgba(11,107,203,0.42)", line: { width: 0 }, name: "25–75%" },
      { x: x, y: band("p50"), mode: "lines", line: { color: "#0b3d91", width: 2.5 }, name: "Median" }
    ];
    var layout = {
      margin: { l: 45, r: 10, t: 10, b: 35 }, height: 320, hovermode: "x unified",
      xaxis: { type: "date", tickformat: "%H:%M", dtick: 3 * 3600000, range: [0, 86400000] },
      yaxis: { title: { text: data.unit }, range: [0, shown(data, 350)], fixedrange: true },
      shapes: [targetBand(data)].concat(referenceLines(data)), legend: { orientation: "h", y: -0.15 },
    };
    layout.yaxis.tickvals = [data.reference_lines[0], data.target[0], data.target[1], data.reference_lines[1]]
      .map(function (v) { return shown(data, v); });
    Plotly.newPlot(el, traces, layout, CONFIG);
    drawDaily(data);
  }

  function drawDaily(data) {
    var el = document.getElementById("agp-daily");
    if (!el) { return; }
    var traces = [], layout = {
      grid: { rows: 2, columns: 7, pattern: "independent", xgap: 0.04, ygap: 0.25 },
      margin: { l: 34, r: 5, t: 20, b: 20 }, height: 260, showlegend: false, annotations: [], shapes: []
    };
    data.profiles.forEach(function (day, i) {
      var axis = i === 0 ? "" : String(i + 1), x = [], y = [], prev = null;
      for (var j = 0; j < day.t.length; j++) {
        if (prev !== null && day.t[j] - prev > 15) { x.push(slotX(day.t[j] - 1)); y.push(null); }
        x.push(slotX(day.t[j])); y.push(shown(data, Math.min(Math.max(day.v[j], 40), 400)));
        prev = day.t[j];
      }
      traces.push({ x: x, y: y, xaxis: "x" + axis, yaxis: "y" + axis, mode: "lines",
                    line: { color: "#0b3d91", width: 1 }, hoverinfo: "y" });
      layout["xaxis" + axis] = { type: "date", range: [0, 86400000], showticklabels: false, fixedrange: true };
      // A glucose scale on the first profile of each row (70 and 180, as the AGP v4 profiles).
      layout["yaxis" + axis] = { range: [0, shown(data, 350)], showticklabels: i % 7 === 0, fixedrange: true,
        tickvals: [shown(data, data.target[0]), shown(data, data.target[1])], tickfont: { size: 9 } };
      layout.shapes.push({ type: "rect", xref: "x" + axis + " domain", x0: 0, x1: 1, yref: "y" + axis,
        y0: shown(data, data.target[0]), y1: shown(data, data.target[1]), fillcolor: BAND, line: { width: 0 }, layer: "below" });
      layout.annotations.push({ text: day.label, xref: "x" + axis + " domain", yref: "y" + axis + " domain",
        x: 0.5, y: 1.15, showarrow: false, font: { size: 10 } });
    });
    Plotly.newPlot(el, traces, layout, CONFIG);
  }

  function drawAlertCounts() {
    var data = readJson("alert-counts-data");
    var el = document.getElementById("alert-counts-chart");
    if (!data || !el) { return; }
    var traces = data.series.map(function (s) {
      return { x: data.dates, y: s.counts, type: "bar", name: s.label || s.name,
               marker: s.colour ? { color: s.colour } : undefined };
    });
    Plotly.newPlot(el, traces, {
      barmode: "stack", height: 260, margin: { l: 35, r: 10, t: 10, b: 40 },
      legend: { orientation: "h", y: -0.2 }, yaxis: { title: { text: "alarms" }, fixedrange: true }
    }, CONFIG);
  }

  // Printing: size the AGP charts so the report fits one portrait page (print.css, 85 and
  // 62 mm at 96 px per inch).
  var PRINT_HEIGHTS = { "agp-chart": 320, "agp-daily": 234, "trace-chart": 330 };
  function resizeFor(print) {
    Object.keys(PRINT_HEIGHTS).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && el.data) {
        Plotly.relayout(el, { height: print ? PRINT_HEIGHTS[id] : el.getAttribute("data-screen-height") * 1 });
      }
    });
  }
  window.addEventListener("beforeprint", function () {
    Object.keys(PRINT_HEIGHTS).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && el.layout && !el.hasAttribute("data-screen-height")) { el.setAttribute("data-screen-height", el.layout.height); }
    });
    resizeFor(true);
  });
  window.addEventListener("afterprint", function () { resizeFor(false); });

  // For report-charts.js (the Daily overlay, Compare): the same reading, units and toolbar.
  window.dexwebCharts = { readJson: readJson, shown: shown, config: CONFIG, band: BAND };

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Plotly === "undefined") { return; }
    drawTrace();
    drawMini();
    drawAgp();
    drawAlertCounts();
  });
})();

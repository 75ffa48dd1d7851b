"""90-day trace (issue 11): markers aggregate per local day beyond 14 days; no Plotly range buttons."""

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from apps.dashboard.charts import trace_chart_data
from apps.glucose.localtime import Period
from apps.glucose.selectors import EgvSeries

NEW_YORK = ZoneInfo("America/New_York")
DELTA = -5 * 3600
# 2026-12-01 00:00 in New York (EST) as UTC epoch seconds.
DEC_1 = 1_796_101_200


def _series():
    epoch = DEC_1 + np.arange(10) * 300
    return EgvSeries(epoch, np.full(10, DELTA), np.full(10, 120))


def _events(*moments):
    return [(DEC_1 + s, DELTA, kind, "", "", "") for s, kind in moments]


def test_a_30_day_trace_has_one_event_marker_per_day_with_its_count():
    period = Period(date(2026, 11, 20), date(2026, 12, 20), tzinfo=NEW_YORK)
    events = _events((3600, "carbs"), (7200, "carbs"), (9000, "insulin"), (86400 + 60, "carbs"))
    data = trace_chart_data(_series(), unit="mg/dL", period=period, events=events)
    markers = data["events"]
    assert markers["per_day"] is True and markers["count"] == [3, 1]
    assert markers["text"][0] == "2 Carbs, 1 Insulin"
    assert markers["clock"][0] == "Tue 01 Dec (whole day)"
    # at local noon of 1 Dec: 11 days and 12 hours after the axis starts (no DST in between)
    assert markers["t"][0] == 11 * 86400 + 12 * 3600


def test_a_14_day_trace_keeps_one_marker_per_event():
    period = Period(date(2026, 11, 25), date(2026, 12, 9), tzinfo=NEW_YORK)
    events = _events((3600, "carbs"), (7200, "carbs"))
    alerts = [(DEC_1 + 60, DELTA, "high", "activeAlarming")]
    data = trace_chart_data(_series(), unit="mg/dL", period=period, events=events, alerts=alerts)
    assert "per_day" not in data["events"] and len(data["events"]["t"]) == 2
    assert data["alerts"]["text"] == ["High alert (alarming)"]


def test_the_trace_has_no_plotly_range_buttons():
    assert "rangeselector" not in Path("static/js/charts.js").read_text()

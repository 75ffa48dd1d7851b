"""Chart data: gaps stay gaps, LOW/HIGH kept for marking, compact for 90 days, served offline."""

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.contrib.staticfiles import finders

from apps.dashboard.charts import gap_breaks, to_json, trace_chart_data
from apps.glucose.localtime import Period
from apps.glucose.models import Egv
from apps.glucose.selectors import EgvSeries
from tests.glucose import factories


def series(epoch, delta, values):
    return EgvSeries(
        np.array(epoch, dtype=np.int64), np.array(delta, dtype=np.int64), np.array(values, dtype=np.int64)
    )


NEW_YORK = ZoneInfo("America/New_York")


def test_it_breaks_the_line_at_gaps_over_15_minutes():
    epoch = np.array([0, 300, 600, 600 + 15 * 60, 600 + 15 * 60 + 16 * 60, 600 + 31 * 60 + 300])
    assert gap_breaks(epoch).tolist() == [4]  # exactly 15 minutes is no gap, 16 is


def test_it_sends_times_and_values_as_integers():
    # 1970-01-01 in a UTC-1 zone starts at 01:00 UTC (3600): the axis counts from there.
    data = trace_chart_data(
        series([4600, 4900], [-3600, -3600], [39, 401]),
        unit="mmol/L",
        period=Period(date(1970, 1, 1), date(1970, 1, 2), tzinfo=ZoneInfo("Etc/GMT+1")),
    )
    parsed = json.loads(to_json(data))
    assert parsed["t"] == [1000, 1300] and parsed["v"] == [39, 401]
    assert parsed["shifts"] == [[0, 0]]  # the readings' wall clock is the axis
    assert parsed["divisor"] == 18.018 and parsed["limits"] == [40, 400]


def test_it_keeps_90_days_under_400_kb():
    n = 90 * 288
    epoch = 1_790_000_000 + np.arange(n) * 300
    data = trace_chart_data(
        series(epoch, np.full(n, -18000), np.random.default_rng(0).integers(39, 402, n)),
        unit="mg/dL",
        period=Period(date(2026, 9, 22), date(2026, 12, 21), tzinfo=NEW_YORK),
    )
    assert len(to_json(data).encode()) <= 400_000


def _fall_back_day(patient):
    """2026-11-01 in New York, every 5 minutes: 01:00-01:55 happens twice (EDT, then EST)."""
    start, fall_back = datetime(2026, 11, 1, 4, 0, tzinfo=UTC), datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    moments = [start + timedelta(minutes=5 * i) for i in range(300)]
    Egv.objects.bulk_create(
        [
            factories.egv(patient, at, 100 + i % 50, delta_seconds=-4 * 3600 if at < fall_back else -5 * 3600)
            for i, at in enumerate(moments)
        ]
    )


@pytest.mark.django_db
def test_the_day_dst_ends_draws_the_repeated_hour_in_order(client, make_user):
    patient = make_user("ny@example.com", timezone="America/New_York")
    _fall_back_day(patient)
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/trace/day/2026-11-01/").content.decode()
    data = json.loads(html.split('id="trace-data">')[1].split("</script>")[0])
    x = np.array(data["t"])
    assert x.size == 300 and bool(np.all(np.diff(x) > 0))  # monotonic: no hour drawn twice
    assert x[0] == 0 and x[-1] == 299 * 300
    assert data["breaks"] == []  # continuous readings stay one line
    assert data["window"][1] - data["window"][0] == 25 * 3600 * 1000
    # From the second 01:00 on, the wall clock is an hour behind the axis (hover labels).
    assert data["shifts"] == [[0, 0], [24, -3600]]
    ticks = dict(zip(data["ticks"]["text"][:3], data["ticks"]["values"][:3], strict=True))
    assert ticks["03:00"] - ticks["00:00"] == 4 * 3600 * 1000  # 03:00 EST is 4 real hours on


@pytest.mark.django_db
def test_the_day_dst_starts_is_23_hours_long(client, make_user):
    patient = make_user("ny@example.com", timezone="America/New_York")
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/trace/day/2026-03-08/").content.decode()
    data = json.loads(html.split('id="trace-data">')[1].split("</script>")[0])
    assert data["window"][1] - data["window"][0] == 23 * 3600 * 1000


def test_it_escapes_script_endings():
    assert "</script>" not in to_json({"text": "</script><script>alert(1)</script>"})


def test_it_escapes_every_character_that_could_change_how_html_reads_the_script():
    text = "<!--<script> a > b && </script>"
    encoded = to_json({"text": text})
    assert not set("<>&") & set(encoded)
    assert json.loads(encoded) == {"text": text}


class _ScriptData(HTMLParser):
    """The text of each <script id=...> element, as an HTML parser splits the page."""

    def __init__(self):
        super().__init__()
        self.by_id, self._current = {}, None

    def handle_starttag(self, tag, attrs):
        self._current = dict(attrs).get("id") if tag == "script" else None

    def handle_data(self, data):
        if self._current:
            self.by_id[self._current] = self.by_id.get(self._current, "") + data

    def handle_endtag(self, tag):
        self._current = None


NOTES = ["<!--<script>", "</script><script>alert(1)</script>"]


@pytest.mark.django_db
def test_a_note_cannot_end_or_change_the_trace_data_element(client, patient):
    start = datetime(2026, 11, 10, tzinfo=UTC)
    factories.make_egvs(patient, start, [100, 110, 120])
    for minute, note in enumerate(NOTES, start=3):
        factories.make_event(patient, start + timedelta(minutes=minute), "notes", note, unit="")
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/trace/day/2026-11-10/").content.decode()
    parser = _ScriptData()
    parser.feed(html)
    payload = parser.by_id["trace-data"]
    # With none of these in it, a browser (script data states of the HTML spec) reads the
    # element exactly as this parser does: nothing can end it early or keep it open.
    assert "<" not in payload and ">" not in payload and "&" not in payload
    data = json.loads(payload)
    assert data["v"] == [100, 110, 120]
    assert [any(note in text for text in data["events"]["text"]) for note in NOTES] == [True, True]
    assert html.count('<script type="application/json"') == 1


def test_it_serves_plotly_from_our_own_static_files():
    path = finders.find("vendor/plotly.min.js")
    assert path and path.endswith("plotly.min.js")


@pytest.mark.django_db
def test_the_trace_page_draws_gaps_and_markers(client, patient):
    start = datetime(2026, 11, 10, tzinfo=UTC)
    factories.make_egvs(patient, start, [100, 110, None, None, None, None, 130, 39])
    factories.make_event(patient, start + timedelta(minutes=7), "carbs", "30")
    factories.make_alert(patient, start + timedelta(minutes=12), "high")
    factories.make_calibration(patient, start + timedelta(minutes=20), 125)
    client.force_login(patient)
    response = client.get(f"/patients/{patient.pk}/trace/day/2026-11-10/")
    html = response.content.decode()
    payload = html.split('id="trace-data">')[1].split("</script>")[0]
    data = json.loads(payload)
    assert data["v"] == [100, 110, 130, 39]
    assert data["breaks"] == [2]
    assert data["events"]["text"] == ["Carbs: 30 grams"]
    assert data["alerts"]["text"] == ["High alert (alarming)"]
    assert data["calibrations"]["v"] == [125]
    assert "<script>" not in html.replace('<script type="application/json"', "").split("<script src")[0]
    assert "2026-11-09" in html and "2026-11-11" in html  # previous / next day links


@pytest.mark.django_db
def test_a_travellers_day_is_drawn_on_their_phones_clock(client, patient):
    # Home zone UTC, the phone in New York (UTC-5): 00:00-23:55 there is the day drawn.
    factories.make_egvs(
        patient, datetime(2026, 11, 10, 5, 0, tzinfo=UTC), [120] * 288, delta_seconds=-5 * 3600
    )
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/trace/day/2026-11-10/").content.decode()
    data = json.loads(html.split('id="trace-data">')[1].split("</script>")[0])
    assert (data["t"][0], data["t"][-1]) == (0, 287 * 300)
    assert data["window"][1] - data["window"][0] == 24 * 3600 * 1000
    assert data["shifts"] == [[0, 0]] and data["ticks"]["text"][:2] == ["00:00", "03:00"]


def test_trace_alert_markers_have_human_names_and_each_types_colour():
    from apps.dashboard.charts import _alert_markers
    from apps.glucose.alert_kinds import alert_colour

    class Axis:
        start_epoch = 0

    markers = _alert_markers([(60, 0, "urgentLowSoon", "activeAlarming"), (120, 0, "rise", "")], Axis())
    assert markers["text"] == ["Urgent low soon alert (alarming)", "Rising fast alert"]
    assert markers["colour"] == [alert_colour("urgentLowSoon"), alert_colour("rise")]
    assert markers["colour"][0] != markers["colour"][1]


def test_a_long_trace_labels_a_day_a_week_from_its_first_day():
    """Beyond two weeks a label a day would overlap (and cost Plotly a measurement each)."""
    n = 90 * 288
    epoch = int(datetime(2026, 9, 22, 4, tzinfo=UTC).timestamp()) + np.arange(n) * 300
    readings = series(epoch, np.where(epoch < 1_793_512_800, -14400, -18000), np.full(n, 120))
    long = trace_chart_data(
        readings, unit="mg/dL", period=Period(date(2026, 9, 22), date(2026, 12, 21), tzinfo=NEW_YORK)
    )
    assert long["ticks"]["text"][:3] == ["22 Sep", "29 Sep", "6 Oct"] and len(long["ticks"]["text"]) == 13
    # Across the end of DST (1 Nov) a week is 7 local midnights: 169 real hours.
    values = long["ticks"]["values"]
    assert {b - a for a, b in itertools.pairwise(values)} == {7 * 24 * 3600_000, 169 * 3600_000}
    two_weeks = trace_chart_data(
        readings, unit="mg/dL", period=Period(date(2026, 9, 22), date(2026, 10, 6), tzinfo=NEW_YORK)
    )
    assert two_weeks["ticks"]["text"][:3] == ["22 Sep", "23 Sep", "24 Sep"]

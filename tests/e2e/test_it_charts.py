"""Headless Chromium loads the trace, the AGP and the alerts and their Plotly charts draw, with
no console errors (CSP: scripts only from our own static files, chart data as JSON elements)."""

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from tests.glucose import factories


@pytest.fixture
def patient_with_charts(make_user):
    patient = make_user("e2e-charts@example.com")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    values = [int(140 + 60 * ((i % 288) - 144) / 144) for i in range(15 * 288)]
    values[500:520] = [None] * 20  # a gap
    values[800] = 39  # a LOW reading
    factories.make_egvs(patient, now - timedelta(days=15), values)
    factories.make_event(patient, now - timedelta(hours=3))
    factories.make_alert(patient, now - timedelta(hours=4))
    factories.make_calibration(patient, now - timedelta(hours=5))
    return patient


@pytest.mark.parametrize(
    ("path", "charts"),
    [
        ("trace/?days=14", ["#trace-chart"]),
        ("agp/", ["#agp-chart", "#agp-daily"]),
        ("alerts/", ["#alert-counts-chart"]),
    ],
)
def test_it_draws_the_charts(login_as, patient_with_charts, path, charts):
    page = login_as(patient_with_charts)
    response = page.goto(f"/patients/{patient_with_charts.pk}/{path}")
    assert response.status == 200
    for selector in charts:
        page.wait_for_selector(f"{selector} .plot-container svg.main-svg")
        assert page.locator(f"{selector} .plot-container path").count() > 0
    assert page.console_errors == []


def test_it_prints_the_agp_on_one_page(login_as, patient_with_charts):
    page = login_as(patient_with_charts)
    page.goto(f"/patients/{patient_with_charts.pk}/agp/")
    page.wait_for_selector("#agp-daily .plot-container svg.main-svg")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # page.pdf() fires none
    page.wait_for_timeout(300)
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
    # Portrait A4 (595 x 842 pt), as the AGP v4 report and the PDF download.
    width, height = (float(n) for n in re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert round(width) == 595 and round(height) == 842
    assert page.console_errors == []


def test_the_day_dst_ends_shows_the_repeated_hour_twice_in_order(login_as, make_user):
    from apps.glucose.models import Egv

    patient = make_user("e2e-dst@example.com", timezone="America/New_York")
    start, fall_back = datetime(2026, 11, 1, 4, 0, tzinfo=UTC), datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    moments = [start + timedelta(minutes=5 * i) for i in range(300)]
    Egv.objects.bulk_create(
        [
            factories.egv(patient, at, 120, delta_seconds=-4 * 3600 if at < fall_back else -5 * 3600)
            for at in moments
        ]
    )
    factories.rebuild_daily_summaries(patient_id=patient.pk, since=None)
    page = login_as(patient)
    page.goto(f"/patients/{patient.pk}/trace/day/2026-11-01/")
    page.wait_for_selector("#trace-chart .plot-container svg.main-svg")
    drawn = page.evaluate("""() => {
        const trace = document.getElementById('trace-chart').data[0];
        return {x: trace.x, clock: trace.customdata};
    }""")
    x = drawn["x"]
    assert all(a < b for a, b in pairwise(x))  # drawn in order, never back
    repeated = [i for i, label in enumerate(drawn["clock"]) if label == "Sun 01 Nov 01:30"]
    assert len(repeated) == 2 and x[repeated[1]] - x[repeated[0]] == 3600 * 1000
    assert page.console_errors == []

"""Headless Chromium on the alarm pages (alerts, alarm burden, settings timeline, devices) at
desktop width and at 390 px: charts drawn in each alert type's colour, no console errors, nothing
wider than the screen."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.layout import assert_no_horizontal_overflow
from tests.glucose import factories

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def patient_with_alarms(make_user):
    patient = make_user("e2e-alarms@example.com")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    values = [int(140 + 90 * ((i % 288) - 144) / 144) for i in range(20 * 288)]
    factories.make_egvs(patient, now - timedelta(days=20), values)
    factories.make_device(
        patient, high_history=((now - timedelta(days=40), 200), (now - timedelta(days=6), 250))
    )
    for days in (12, 9, 5, 3, 1):
        start = now - timedelta(days=days)
        factories.make_alert(patient, start, "high", "activeAlarming")
        factories.make_alert(patient, start + timedelta(minutes=5), "high", "activeSnoozed")
        factories.make_alert(patient, start + timedelta(minutes=40), "high", "inactive")
        factories.make_alert(patient, start + timedelta(hours=6), "urgentLowSoon", "activeAlarming")
        factories.make_alert(patient, start + timedelta(hours=6, minutes=15), "urgentLow", "activeAlarming")
    return patient


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    ("path", "charts"),
    [
        ("alarm-burden/", ["#burden-daily-chart", "#burden-hours-chart"]),
        ("settings-timeline/", ["#timeline-chart"]),
        ("alerts/", ["#alert-counts-chart"]),
        ("devices/", []),
    ],
)
def test_the_alarm_pages_draw_and_fit(login_as, patient_with_alarms, path, charts, width):
    page = login_as(patient_with_alarms)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    response = page.goto(f"/patients/{patient_with_alarms.pk}/{path}")
    assert response.status == 200
    for selector in charts:
        page.wait_for_selector(f"{selector} .plot-container svg.main-svg")
        assert page.locator(f"{selector} .plot-container path").count() > 0
    if "High alert 200 → 250 mg/dL" not in page.content() and path != "alerts/":
        raise AssertionError("the settings change is not shown")
    assert_no_horizontal_overflow(page)
    assert page.console_errors == []


def test_each_alert_type_has_its_colour_on_the_burden_chart(login_as, patient_with_alarms):
    page = login_as(patient_with_alarms)
    page.goto(f"/patients/{patient_with_alarms.pk}/alarm-burden/?days=14")
    page.wait_for_selector("#burden-daily-chart .plot-container svg.main-svg")
    drawn = page.evaluate("""() => document.getElementById('burden-daily-chart').data.map(
        t => [t.name, t.marker.color])""")
    assert drawn == [["Urgent low", "#7a0019"], ["Urgent low soon", "#d9480f"], ["High", "#f0a800"]]
    assert page.locator("#urgent-low-warnings").inner_text().startswith("5 of 5 urgent low alarms")

"""Headless Chromium on the report pages (Patterns, Statistics, Daily, Compare, Completeness) at
desktop width and at 390 px: charts drawn, no console errors, nothing wider than the screen."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.layout import assert_no_horizontal_overflow
from tests.glucose import factories

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def patient_with_days(make_user):
    """30 days of readings up to now, with night lows, meals and insulin, and a low alarm."""
    patient = make_user("e2e-reports@example.com")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=30)

    def value(i):
        slot = i % 288
        if 36 <= slot < 44 and (i // 288) % 3 == 0:
            return 58
        return int(150 + 80 * ((slot % 144) - 72) / 72)

    factories.make_egvs(patient, start, [value(i) for i in range(30 * 288)])
    for day in range(30):
        factories.make_event(patient, start + timedelta(days=day, hours=12), "carbs", "50")
        factories.make_event(
            patient,
            start + timedelta(days=day, hours=11, minutes=50),
            "insulin",
            "5",
            unit="units",
            sub_type="fastActing",
        )
    factories.make_alert(patient, start + timedelta(days=27, hours=3, minutes=5), "low", "activeAlarming")
    return patient


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    ("path", "charts", "text"),
    [
        ("patterns/?days=30", [], "Lows between"),
        ("statistics/?days=30", [], "By hour of the day"),
        ("daily/?days=14", ["#overlay-chart"], "Fast-acting 5 u"),
        ("compare/?a_days=14&b_days=14", ["#compare-agp-chart"], "Period B"),
        ("completeness/?days=14", ["#completeness-chart"], "Readings held"),
    ],
)
def test_the_report_pages_draw_and_fit(login_as, patient_with_days, path, charts, text, width):
    page = login_as(patient_with_days)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    response = page.goto(f"/patients/{patient_with_days.pk}/{path}")
    assert response.status == 200
    for selector in charts:
        page.wait_for_selector(f"{selector} .plot-container svg.main-svg")
        assert page.locator(f"{selector} .plot-container path").count() > 0
    assert text in page.content()
    assert_no_horizontal_overflow(page)
    assert page.console_errors == []


def test_the_overlay_colours_by_weekday_on_request(login_as, patient_with_days):
    page = login_as(patient_with_days)
    page.goto(f"/patients/{patient_with_days.pk}/daily/?days=14")
    page.wait_for_selector("#overlay-chart .plot-container svg.main-svg")
    assert page.evaluate("() => document.getElementById('overlay-chart').data.length") == 14
    page.check("input[name=overlay-colour][value=weekday]")
    legend = page.evaluate(
        "() => document.getElementById('overlay-chart').data.filter(t => t.showlegend).map(t => t.name)"
    )
    assert sorted(legend) == sorted(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    assert page.console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_clinician_reaches_the_digest_from_the_triage_list(
    login_as, patient_with_days, clinician, make_share, width
):
    make_share(patient_with_days, clinician=clinician)
    page = login_as(clinician)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    page.goto("/sharing/triage/")
    page.click("text=Weekly digest")
    page.wait_for_selector("#digest-download")
    assert_no_horizontal_overflow(page)
    with page.expect_download() as download:
        page.click("#digest-download")
    assert download.value.suggested_filename.startswith("dexweb-digest-")
    page.check("#digest-email-form input[name=email]")
    page.click("#digest-email-form button")
    page.wait_for_selector("text=You get the digest by email every Monday.")
    assert page.console_errors == []

"""Headless Chromium: a patient reaches the targets page from the patient pages' navigation,
chooses pregnancy with type 1, and the charts' shaded band and the TIR bar labels change, at
desktop width and at 390 px, with no console errors and nothing wider than the screen."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.layout import assert_no_horizontal_overflow
from tests.glucose import factories

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def patient_with_days(make_user):
    """14 days of readings up to now swinging between 60 and 240 mg/dL."""
    patient = make_user("e2e-targets@example.com")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=14)
    factories.make_egvs(patient, start, [int(150 + 90 * (((i % 288) - 144) / 144)) for i in range(14 * 288)])
    return patient


def shaded_band(page, chart_id: str) -> list:
    """[y0, y1] of the first shape Plotly drew on the chart: the target band."""
    page.wait_for_selector(f"#{chart_id} .plot-container svg.main-svg")
    return page.evaluate(
        f"() => {{ const s = document.getElementById('{chart_id}').layout.shapes[0]; return [s.y0, s.y1]; }}"
    )


def tir_labels(page) -> list[str]:
    return page.locator(".tir-table tbody td:first-child").all_inner_texts()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_chooses_pregnancy_and_the_charts_follow(login_as, patient_with_days, width):
    page = login_as(patient_with_days)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    pk = patient_with_days.pk
    page.goto(f"/patients/{pk}/trace/")
    assert shaded_band(page, "trace-chart") == [70, 180]
    page.goto(f"/patients/{pk}/overview/")
    assert shaded_band(page, "mini-chart") == [70, 180]
    assert any("In range (70–180)" in label for label in tir_labels(page))

    page.click("nav.tabs a:text-is('Targets')")
    page.wait_for_url(f"**/patients/{pk}/targets/")
    assert "In force: Standard" in page.inner_text("#targets-current")
    assert_no_horizontal_overflow(page)
    page.check("input[name=target_set][value=pregnancy_t1]")
    with page.expect_navigation():
        page.click("#targets-form button[type=submit]")
    assert "In force: Pregnancy with type 1" in page.inner_text("#targets-current")
    assert page.inner_text("#targets-current-range") == "63–140 mg/dL"
    assert page.locator("#targets-changes").is_visible()
    assert_no_horizontal_overflow(page)

    page.goto(f"/patients/{pk}/trace/")
    assert shaded_band(page, "trace-chart") == [63, 140]
    assert "63–140 mg/dL" in page.inner_text("#target-legend")
    assert_no_horizontal_overflow(page)
    page.goto(f"/patients/{pk}/overview/")
    assert shaded_band(page, "mini-chart") == [63, 140]
    labels = tir_labels(page)
    assert any("In range (63–140)" in label for label in labels)
    assert any("Low (54–62)" in label for label in labels)
    assert_no_horizontal_overflow(page)
    page.goto(f"/patients/{pk}/agp/")
    assert shaded_band(page, "agp-chart") == [63, 140]
    assert_no_horizontal_overflow(page)
    assert page.console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_wrong_custom_range_says_what_is_wrong(login_as, patient_with_days, width):
    page = login_as(patient_with_days)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    page.goto(f"/patients/{patient_with_days.pk}/targets/")
    page.check("input[name=target_set][value=custom]")
    page.fill("input[name=low]", "40")
    page.click("#targets-form button[type=submit]")
    page.wait_for_selector(".field-error")
    assert "The low limit must be between 54 and 100 mg/dL." in page.inner_text("#targets-custom")
    assert "In force: Standard" in page.inner_text("#targets-current")
    assert_no_horizontal_overflow(page)
    assert page.console_errors == []

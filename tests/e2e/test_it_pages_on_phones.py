"""The pages issue 11 touched, in Chromium at desktop width and at 390 px (a phone): they load
with no console errors, their charts draw, nothing overflows sideways, every action is on
screen and the chart toolbar covers nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.dexcom.models import DexcomConnection
from apps.sharing.models import AuditEntry
from tests.e2e.layout import assert_no_horizontal_overflow
from tests.glucose import factories

WIDTHS = {"desktop": 1280, "phone": 390}
PAGES = [
    ("patients/{pk}/overview/", ["#mini-chart"]),
    ("patients/{pk}/trace/?days=30", ["#trace-chart"]),
    ("patients/{pk}/trace/?days=1", ["#trace-chart"]),
    ("patients/{pk}/agp/", ["#agp-chart", "#agp-daily"]),
    ("patients/{pk}/export/", []),
    ("sharing/", []),
    ("sharing/who-saw-my-data/", []),
    ("dexcom/", []),
    ("accounts/delete/", []),
]


@pytest.fixture
def patient_with_everything(make_user, make_share):
    patient = make_user("e2e-phone@example.com", timezone="America/New_York")
    clinician = make_user("e2e-doc@example.com", "clinician", first_name="Casey", last_name="Morgan-Longname")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    values = [int(140 + 70 * ((i % 288) - 144) / 144) for i in range(20 * 288)]
    factories.make_egvs(patient, now - timedelta(days=20), values)
    for day in range(20):
        factories.make_event(patient, now - timedelta(days=day, hours=3))
        factories.make_alert(patient, now - timedelta(days=day, hours=4))
    factories.make_device(patient)
    make_share(patient, clinician=clinician, expires_in=timedelta(days=30))
    DexcomConnection.objects.create(
        user=patient,
        base_url="http://127.0.0.1/emulator",
        last_sync_at=now,
        backfill_total_days=90,
        backfill_done_days=90,
    )
    AuditEntry.objects.create(
        patient=patient,
        actor=clinician,
        actor_email=clinician.email,
        action="view",
        page="overview",
        user_agent="Mozilla/5.0 " + "x" * 200,
    )
    return patient


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize(("path", "charts"), PAGES)
def test_the_page_fits_and_draws(login_as, patient_with_everything, width, path, charts):
    page = login_as(patient_with_everything)
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto("/" + path.format(pk=patient_with_everything.pk))
    assert response.status == 200
    for selector in charts:
        page.wait_for_selector(f"{selector} .plot-container svg.main-svg")
        assert page.locator(f"{selector} .plot-container path").count() > 0
    assert_no_horizontal_overflow(page)
    if width < 600:
        assert page.locator(".modebar").count() == 0  # no toolbar over the chart on a phone
    assert page.console_errors == []


def test_every_sharing_action_is_on_screen_on_a_phone(login_as, patient_with_everything):
    page = login_as(patient_with_everything)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/sharing/")
    for name in ("Set end date", "Stop sharing"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
    assert page.console_errors == []


def test_the_trace_has_no_range_buttons_and_daily_markers(login_as, patient_with_everything):
    page = login_as(patient_with_everything)
    page.goto(f"/patients/{patient_with_everything.pk}/trace/?days=30")
    page.wait_for_selector("#trace-chart .plot-container svg.main-svg")
    assert page.locator("#trace-chart .rangeselector").count() == 0
    names = page.evaluate("() => document.getElementById('trace-chart').data.map(t => t.name)")
    assert "Events per day" in names and "Alerts per day" in names
    assert page.console_errors == []


def test_the_agp_draws_the_54_and_250_lines(login_as, patient_with_everything):
    page = login_as(patient_with_everything)
    page.goto(f"/patients/{patient_with_everything.pk}/agp/")
    page.wait_for_selector("#agp-chart .plot-container svg.main-svg")
    lines = page.evaluate(
        "() => document.getElementById('agp-chart').layout.shapes.filter(s => s.type === 'line').map(s => s.y0)"
    )
    assert lines == [54, 250]
    labels = page.evaluate("() => document.getElementById('agp-daily').layout.annotations.map(a => a.text)")
    assert len(labels) == 14 and labels[0][:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert page.console_errors == []


def test_disconnect_asks_first_and_a_no_keeps_the_connection(login_as, patient_with_everything):
    page = login_as(patient_with_everything)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dexcom/")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Disconnect").click()
    page.wait_for_timeout(300)
    assert questions and questions[0].startswith("Disconnect Dexcom?")
    connection = DexcomConnection.objects.get(user=patient_with_everything)
    assert connection.status != DexcomConnection.Status.DISCONNECTED
    assert page.console_errors == []

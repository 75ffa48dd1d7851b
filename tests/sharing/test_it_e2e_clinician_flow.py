"""The issue's "done when", in a real browser: the clinician signs in with TOTP, finds the
patient in the triage list and on their pages; the patient revokes and the clinician loses access
at once; the patient sees the clinician's looks in "who saw my data"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.glucose.models import DailySummary
from tests.conftest import DEMO_PASSWORD, totp_code
from tests.e2e.conftest import chromium_browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _new_page(chromium_browser, live_server):  # noqa: F811
    context = chromium_browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _sign_in(page, email):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def test_it_walks_the_clinician_and_patient_through_sharing(
    chromium_browser,  # noqa: F811 (the fixture imported above)
    live_server,
    make_user,
    make_share,  # noqa: F811
):
    patient = make_user("pat@example.com", "patient", full_name="Pat Example")
    clinician = make_user("doc@example.com", "clinician", full_name="Dr Doc")
    for offset in range(1, 15):
        DailySummary.objects.create(
            patient=patient,
            day=timezone.localdate() - timedelta(days=offset),
            readings=288,
            value_sum=288 * 140,
            value_sq_sum=288 * (140**2 + 30**2),
            from_70_to_180=250,
            from_70_to_140=150,
            from_181_to_250=30,
            below_54=8,
            last_reading_at=timezone.now() - timedelta(hours=2),
        )
    make_share(patient, clinician=clinician)

    doctor = _new_page(chromium_browser, live_server)
    _sign_in(doctor, clinician.email)
    assert "/accounts/2fa/authenticate/" in doctor.url  # the password alone is not enough
    doctor.fill("input[name=code]", totp_code())
    with doctor.expect_navigation():
        doctor.click("form button[type=submit]")
    doctor.goto("/sharing/triage/")
    row = doctor.locator("tr[data-patient-id]", has_text="Pat Example")
    assert row.is_visible()
    assert "TBR <54 > 1%" in row.inner_text()
    response = doctor.goto(f"/patients/{patient.pk}/overview/")
    assert response.status == 200

    me = _new_page(chromium_browser, live_server)
    _sign_in(me, patient.email)
    me.goto("/sharing/")
    questions = []
    me.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    me.click("form[action*='/revoke/'] button")  # dismissed: nothing is sent
    assert questions and questions[0].startswith("Stop sharing with")
    assert me.url.endswith("/sharing/") and "can no longer see your data" not in me.content()
    me.once("dialog", lambda dialog: dialog.accept())
    with me.expect_navigation():
        me.click("form[action*='/revoke/'] button")
    assert "can no longer see your data" in me.content()

    assert doctor.goto(f"/patients/{patient.pk}/overview/").status == 404
    doctor.goto("/sharing/triage/")
    assert doctor.locator("tr[data-patient-id]").count() == 0

    me.goto("/sharing/who-saw-my-data/")
    trail = me.locator("table").inner_text()
    assert "doc@example.com" in trail and "overview" in trail and "Share revoked" in trail

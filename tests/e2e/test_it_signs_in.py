"""A patient signs in through the real sign-in page and lands on their own home page."""

from django.urls import reverse

from tests.conftest import DEMO_PASSWORD


def test_a_patient_signs_in_through_the_login_page_and_sees_home(make_user, sign_in_with_form, live_server):
    patient = make_user(
        "patient@example.com", "patient", full_name="Pat Example", timezone="America/New_York"
    )

    page = sign_in_with_form("patient@example.com", DEMO_PASSWORD)

    # "/" sends a patient to their own overview.
    assert page.url == live_server.url + reverse("overview", kwargs={"patient_id": patient.pk})
    assert page.locator("header button", has_text="Sign out").is_visible()
    assert page.console_errors == []


def test_a_wrong_password_stays_on_the_login_page(make_user, sign_in_with_form, live_server):
    make_user("patient@example.com", "patient")

    page = sign_in_with_form("patient@example.com", "not-the-password")

    assert page.url == live_server.url + reverse("account_login")
    assert page.locator("header", has_text="Sign in").is_visible()

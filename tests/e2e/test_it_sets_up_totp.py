"""New staff set up their second factor from scratch in a real Chromium, as they would.

Nothing is pre-seeded: an invited clinician signs up through the emailed link, and an admin made
by `manage.py createsuperuser` signs in for the first time. Both are sent to the TOTP setup, read
the secret off the page (as an authenticator app would from the QR code), type a code, then sign
out and back in with a fresh code. The browser makes its own background requests on the way (the
favicon above all), which once replaced the secret behind the user's back.
"""

import re
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.signals import request_started
from django.test import Client
from django.urls import reverse

from apps.sharing.models import Share
from tests.conftest import DEMO_PASSWORD, a_fresh_totp_code, totp_code
from tests.e2e.conftest import chromium_browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SETUP_PATH = "/accounts/2fa/totp/activate/"


@pytest.fixture
def server_saw():
    """Paths and fetch destinations of every request the live server got.

    Playwright does not report the browser's own favicon request, so it is watched here.
    """
    seen = []

    def _record(sender, environ, **kwargs):
        seen.append((environ.get("PATH_INFO"), environ.get("HTTP_SEC_FETCH_DEST")))

    request_started.connect(_record)
    yield seen
    request_started.disconnect(_record)


@pytest.fixture
def new_page(chromium_browser, live_server):  # noqa: F811
    contexts = []

    def _new_page():
        context = chromium_browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        return page

    yield _new_page
    for context in contexts:
        context.close()


def _path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _submit(page, selector="form button[type=submit]"):
    with page.expect_navigation():
        page.click(selector)


def _set_up_totp_on_the_page(page, server_saw) -> str:
    """On the activation page, after the browser's background requests, enter a code."""
    assert page.url.split("?")[0].endswith(SETUP_PATH), page.url
    secret = page.input_value("#authenticator_secret")
    # The browser asks for the site icon by itself when it shows a page and has none cached
    # (a first visit). Empty its cache and reload, as a person might, so it asks now; a page
    # may also load images from a URL behind the second factor. Then type the code, as a
    # person would after scanning.
    server_saw.clear()
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    page.reload()
    page.evaluate("new Image().src = '/sharing/triage/'")
    deadline = time.monotonic() + 5
    while not {("/favicon.ico", "image"), ("/sharing/triage/", "image")} <= set(server_saw):
        assert time.monotonic() < deadline, server_saw
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)  # both have been answered
    page.console_errors.clear()  # the stray image's refusal (403) is expected
    assert page.input_value("#authenticator_secret") == secret
    page.fill("input[name=code]", totp_code(secret))
    _submit(page, "form[action$='/totp/activate/'] button[type=submit]")
    assert "Incorrect code" not in page.content()
    return secret


def _sign_in_again_with_a_fresh_code(page, email: str, secret: str) -> None:
    _submit(page, "header form button[type=submit]")  # Sign out
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    _submit(page)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    # The code used at activation is refused now (replay protection): the next step's code.
    page.fill("input[name=code]", a_fresh_totp_code(used=totp_code(secret), secret=secret))
    _submit(page)


def test_an_invited_clinician_sets_up_totp_and_signs_in_again(new_page, server_saw, make_user, live_server):
    patient = make_user("pat@example.com", "patient", full_name="Pat Example")
    inviting = Client()
    inviting.force_login(patient)
    inviting.post(reverse("sharing:invitation_create"), {"email": "newdoc@clinic.org"})
    link = next(line for line in mail.outbox[-1].body.split() if "/sharing/invitation/" in line)

    page = new_page()
    page.goto(_path_of(link))
    _submit(page, "a:has-text('Create a clinician account')")
    page.fill("input[name=email]", "newdoc@clinic.org")
    page.fill("input[name=password1]", DEMO_PASSWORD)
    page.fill("input[name=password2]", DEMO_PASSWORD)
    _submit(page, "form[action*='/signup/'] button[type=submit]")
    _submit(page, "form[method=post] button:has-text('Accept')")
    assert Share.objects.filter(patient=patient, clinician__email="newdoc@clinic.org").exists()

    page.goto("/sharing/triage/")
    # Just signed up: no second password prompt before the first authenticator is added.
    assert "/reauthenticate/" not in page.url
    secret = _set_up_totp_on_the_page(page, server_saw)
    page.goto("/sharing/triage/")
    assert page.url.endswith("/sharing/triage/")
    assert page.locator("tr[data-patient-id]", has_text="Pat Example").is_visible()

    _sign_in_again_with_a_fresh_code(page, "newdoc@clinic.org", secret)
    assert page.url.endswith("/sharing/triage/"), page.url
    assert page.console_errors == []


def test_a_createsuperuser_admin_sets_up_totp_and_reaches_the_admin(
    new_page, server_saw, live_server, monkeypatch
):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", DEMO_PASSWORD)
    call_command("createsuperuser", interactive=False, email="root@example.com", verbosity=0)

    page = new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "root@example.com")
    page.fill("input[name=password]", DEMO_PASSWORD)
    _submit(page)
    assert "/reauthenticate/" not in page.url
    secret = _set_up_totp_on_the_page(page, server_saw)

    page.goto("/")
    # An admin's home page leads to the admin, not to an empty "My glucose".
    _submit(page, "main a[href='/admin/']")
    assert page.url.endswith("/admin/") and "Site administration" in page.content()

    _sign_in_again_with_a_fresh_code(page, "root@example.com", secret)
    page.goto("/admin/")
    assert "Site administration" in page.content()
    assert page.console_errors == []

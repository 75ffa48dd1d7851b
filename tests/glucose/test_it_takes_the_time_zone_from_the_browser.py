"""The time zone Clarity files (and receiver records) are read in: from the browser at sign-up,
shown when missing, explained in the settings."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

PASSWORD = "a-long-new-password-91"


def sign_up(client, email: str, **extra):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, **extra},
        follow=True,
    )


def test_the_signup_page_asks_the_browser_with_a_static_script(client, db):
    html = client.get(reverse("account_signup")).content.decode()
    assert 'type="hidden" name="timezone"' in html and "data-browser-timezone" in html
    assert '<script src="/static/js/browser-timezone.js" defer></script>' in html
    assert "Time zone: not detected" in html  # what shows when the script cannot run


def test_a_new_account_gets_the_browser_time_zone(client, db):
    sign_up(client, "berlin@example.com", timezone="Europe/Berlin")
    assert get_user_model().objects.get(email="berlin@example.com").timezone == "Europe/Berlin"


@pytest.mark.parametrize("sent", [None, "", "Mars/Olympus_Mons", "x" * 5000])
def test_without_a_valid_browser_zone_the_account_is_utc_and_says_so(client, db, sent):
    extra = {} if sent is None else {"timezone": sent}
    response = sign_up(client, "nozone@example.com", **extra)
    assert get_user_model().objects.get(email="nozone@example.com").timezone == "UTC"
    assert "We could not read your time zone from your browser" in response.content.decode()


def test_the_settings_page_says_what_the_time_zone_is_used_for(client, patient):
    client.force_login(patient)
    html = client.get(reverse("account_settings")).content.decode()
    assert "to read the local times of a Clarity export" in html


def test_the_static_scripts_read_the_browser_zone_and_poll_the_job():
    from django.conf import settings

    static = settings.BASE_DIR / "static" / "js"
    timezone_js = (static / "browser-timezone.js").read_text()
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in timezone_js
    assert "input[data-browser-timezone]" in timezone_js
    progress_js = (static / "import-progress.js").read_text()
    assert "dataset.statusUrl" in progress_js and "fetch(" in progress_js

"""Browser tests: Debian's Chromium driven by Playwright's sync API against pytest-django's live_server.

Fixtures:
  browser_page      a fresh page (own context, so own cookies) whose console errors and uncaught
                    page errors are collected in page.console_errors
  login_as          login_as(user) -> page: signs `user` in by handing the browser the session
                    cookie of a Django test client's force_login (no form, no second factor)
  sign_in_with_form sign_in_with_form(email, password) -> page: types into the real sign-in page
"""

import os

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = "/usr/bin/chromium"  # Debian's package; `make test` installs it when missing
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items):
    e2e_dir = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(e2e_dir):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def chromium_browser():
    """One Chromium per test module.

    Playwright's sync API keeps an asyncio loop running in this thread while it is started, and
    Django then refuses ORM calls here (SynchronousOnlyOperation), though they are ordinary
    blocking calls. DJANGO_ALLOW_ASYNC_UNSAFE lifts that, only for as long as Playwright runs:
    set for the whole session it would leak into subprocesses of other tests (check --deploy
    refuses it), and a session-wide loop would trip the ORM in every later test.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(chromium_browser, live_server):
    context = chromium_browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.console_errors = []
    page.on("console", lambda message: _keep_error(page, message))
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    yield page
    context.close()


def _keep_error(page, message) -> None:
    if message.type == "error":
        page.console_errors.append(f"{message.text} ({message.location.get('url', '')})")


@pytest.fixture
def login_as(browser_page, live_server):
    def _login_as(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        browser_page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )
        return browser_page

    return _login_as


@pytest.fixture
def sign_in_with_form(browser_page):
    def _sign_in(email: str, password: str):
        browser_page.goto("/accounts/login/")
        browser_page.fill("input[name=login]", email)
        browser_page.fill("input[name=password]", password)
        with browser_page.expect_navigation():
            browser_page.click("form button[type=submit]")
        return browser_page

    return _sign_in

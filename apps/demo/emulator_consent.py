"""Connect a demo patient to an emulator sandbox user the way a person would: over HTTP.

The demo seeder needs an authorization code for a sandbox user. It gets one from the emulator's
consent page (GET the page, POST "Authorize" for the chosen user, read the code from the
redirect), then makes the real token exchange and data calls. The product never imports the
emulator (apps.sandbox), so the web server serving the emulator must be running.
"""

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class EmulatorConsentError(Exception):
    """The emulator's consent page did not hand out a code (not running, or refused)."""


def authorization_code_from_emulator(*, sandbox_user_key: str) -> str:
    login_url = f"{settings.DEXCOM_BASE_URL.rstrip('/')}/v3/oauth2/login"
    params = {
        "client_id": settings.DEXCOM_CLIENT_ID,
        "redirect_uri": settings.DEXCOM_REDIRECT_URI,
        "response_type": "code",
        "scope": "offline_access",
        "state": secrets.token_urlsafe(12),
    }
    with requests.Session() as http:
        page = _consent_page(http, login_url, params)
        decision = {
            **params,
            "csrfmiddlewaretoken": _csrf_token(page),
            "sandbox_user": sandbox_user_key,
            "decision": "authorize",
        }
        answer = _post(http, login_url, decision, referer=page.url)
    return _code_from_redirect(answer, state=params["state"])


def _consent_page(http: requests.Session, login_url: str, params: dict) -> requests.Response:
    try:
        page = http.get(login_url, params=params, timeout=settings.DEXCOM_HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise EmulatorConsentError(
            f"the emulator at {login_url} did not answer ({type(error).__name__})"
        ) from error
    if page.status_code != 200:
        raise EmulatorConsentError(f"the emulator's consent page answered HTTP {page.status_code}")
    return page


def _post(http: requests.Session, login_url: str, data: dict, *, referer: str) -> requests.Response:
    try:
        return http.post(
            login_url,
            data=data,
            headers={"Referer": referer},
            allow_redirects=False,
            timeout=settings.DEXCOM_HTTP_TIMEOUT,
        )
    except requests.RequestException as error:
        raise EmulatorConsentError(
            f"the emulator did not answer the consent ({type(error).__name__})"
        ) from error


def _csrf_token(page: requests.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    if found is None:
        raise EmulatorConsentError("the emulator's consent page has no CSRF token")
    return found.group(1)


def _code_from_redirect(answer: requests.Response, *, state: str) -> str:
    if answer.status_code not in (302, 303):
        raise EmulatorConsentError(f"the emulator refused the consent (HTTP {answer.status_code})")
    query = parse_qs(urlsplit(answer.headers.get("Location", "")).query)
    if query.get("state") != [state] or not query.get("code"):
        error = query.get("error", ["no code"])[0]
        raise EmulatorConsentError(f"the emulator's redirect carried no code for our state ({error})")
    return query["code"][0]

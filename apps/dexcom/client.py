"""Dexcom API v3 over HTTP: module functions with typed answers and this module's own exceptions.

Nothing here touches the database: token storage, refresh coordination and retries live in
apps.dexcom.tokens and apps.sync. Tokens are passed in and returned, never logged; error messages
carry the status and Dexcom's error code only.
"""

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
import requests
from django.conf import settings

from apps.dexcom.times import DexcomTimeError, format_dexcom_time, format_rfc3339_utc, parse_utc

logger = logging.getLogger(__name__)

RECORD_TYPES = ("egvs", "events", "calibrations", "alerts")
MAX_WINDOW = timedelta(days=30)  # Dexcom refuses longer startDate..endDate windows
USER_AGENT = "dexweb/0.1 (+Dexcom API v3)"


class DexcomError(Exception):
    """Anything that went wrong talking to Dexcom."""


class DexcomAuthError(DexcomError):
    """Dexcom refused the access token (401): expired, revoked or invalid."""


class DexcomAccessRefused(DexcomError):
    """Dexcom took the token but refused the data (403), e.g. a lapsed data-sharing authorisation.

    Not a token problem: a refresh would not help and would spend the single-use refresh token.
    """


class DexcomGrantRefused(DexcomAuthError):
    """The token endpoint refused the grant (invalid_grant...): the patient must reconnect."""

    def __init__(self, error_code: str):
        super().__init__(f"Dexcom refused the grant: {error_code}")
        self.error_code = error_code


class DexcomRateLimited(DexcomError):
    def __init__(self, retry_after: float):
        super().__init__(f"Dexcom rate limit reached; retry after {retry_after:g} s")
        self.retry_after = retry_after


class DexcomServerError(DexcomError):
    """5xx: Dexcom's side failed; worth retrying later."""

    def __init__(self, status: int):
        super().__init__(f"Dexcom answered HTTP {status}")
        self.status = status


class DexcomUnavailable(DexcomError):
    """No answer at all: timeout, refused connection, TLS failure. Worth retrying."""


class DexcomBadResponse(DexcomError):
    """An answer we cannot use: not JSON, wrong shape, or an unexpected 4xx."""


RETRYABLE_ERRORS = (DexcomRateLimited, DexcomServerError, DexcomUnavailable)


@dataclass(frozen=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class RecordsPage:
    record_type: str
    user_id: str
    records: list[dict]


@dataclass(frozen=True)
class TimeSpan:
    start: datetime  # systemTime, UTC
    end: datetime


@dataclass(frozen=True)
class DataRange:
    user_id: str
    egvs: TimeSpan | None
    events: TimeSpan | None
    calibrations: TimeSpan | None

    def span(self, record_type: str) -> TimeSpan | None:
        return getattr(self, record_type, None)

    @property
    def latest_end(self) -> datetime | None:
        ends = [s.end for s in (self.egvs, self.events, self.calibrations) if s]
        return max(ends) if ends else None


_local = threading.local()


def _session() -> requests.Session:
    # One Session (connection pool) per thread: Session objects are not thread-safe.
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        _local.session = session
    return session


def _base(base_url: str | None) -> str:
    return (base_url or settings.DEXCOM_BASE_URL).rstrip("/")


def _timeout() -> tuple[float, float]:
    total = float(settings.DEXCOM_HTTP_TIMEOUT)
    return (min(10.0, total), total)


def _retry_after_seconds(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        moment = parsedate_to_datetime(value)
        return max(0.0, (moment - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return 60.0  # no usable header: wait a minute rather than hammer


def _send(method: str, url: str, **kwargs) -> requests.Response:
    try:
        return _session().request(method, url, timeout=_timeout(), **kwargs)
    except requests.Timeout as error:
        raise DexcomUnavailable(f"Dexcom did not answer in time ({method} {_path(url)})") from error
    except requests.RequestException as error:
        raise DexcomUnavailable(
            f"could not reach Dexcom ({method} {_path(url)}): {type(error).__name__}"
        ) from error


def _path(url: str) -> str:
    # Only the path: query strings may hold codes or tokens.
    return requests.utils.urlparse(url).path


def _json(response: requests.Response) -> dict:
    try:
        data = orjson.loads(response.content)  # several times faster than json on 30-day windows
    except orjson.JSONDecodeError as error:
        raise DexcomBadResponse(f"Dexcom sent something that is not JSON ({_path(response.url)})") from error
    if not isinstance(data, dict):
        raise DexcomBadResponse(f"Dexcom sent JSON that is not an object ({_path(response.url)})")
    return data


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        raise DexcomRateLimited(_retry_after_seconds(response))
    if status == 401:
        raise DexcomAuthError("Dexcom refused the access token (HTTP 401)")
    if status == 403:
        raise DexcomAccessRefused(f"access refused by Dexcom (HTTP 403 on {_path(response.url)})")
    if status >= 500:
        raise DexcomServerError(status)
    raise DexcomBadResponse(f"Dexcom answered HTTP {status} ({_path(response.url)})")


# --- OAuth2 -------------------------------------------------------------------------------------


def authorize_url(*, base_url: str | None = None) -> str:
    return f"{_base(base_url)}/v3/oauth2/login"


def token_url(*, base_url: str | None = None) -> str:
    return f"{_base(base_url)}/v3/oauth2/token"


def _token_request(form: dict, *, base_url: str | None) -> TokenPair:
    form = {
        **form,
        "client_id": settings.DEXCOM_CLIENT_ID,
        "client_secret": settings.DEXCOM_CLIENT_SECRET,
    }
    response = _send("POST", token_url(base_url=base_url), data=form)
    if response.status_code in (400, 401):
        error_code = _oauth_error_code(response)
        if error_code in ("invalid_grant", "invalid_client", "unauthorized_client"):
            raise DexcomGrantRefused(error_code)
        raise DexcomBadResponse(f"Dexcom's token endpoint answered {response.status_code}: {error_code}")
    _raise_for_status(response)
    return token_pair_from_json(_json(response))


def _oauth_error_code(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return "unreadable error"
    if isinstance(data, dict):
        return str(data.get("error") or "unknown error")[:64]
    return "unknown error"


def token_pair_from_json(data: dict, *, now: datetime | None = None) -> TokenPair:
    access, refresh = data.get("access_token"), data.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise DexcomBadResponse("Dexcom's token answer lacks access_token or refresh_token")
    try:
        expires_in = int(data.get("expires_in") or 7200)
    except (TypeError, ValueError):
        expires_in = 7200
    now = now or datetime.now(UTC)
    return TokenPair(access, refresh, now + timedelta(seconds=expires_in))


def exchange_code(*, code: str, redirect_uri: str, base_url: str | None = None) -> TokenPair:
    return _token_request(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        base_url=base_url,
    )


def refresh_tokens(*, refresh_token: str, base_url: str | None = None) -> TokenPair:
    """Spend a (single-use) refresh token for a new pair. Callers must serialise this."""
    return _token_request({"grant_type": "refresh_token", "refresh_token": refresh_token}, base_url=base_url)


# --- Data ---------------------------------------------------------------------------------------


def _get(path: str, *, access_token: str, params: dict | None, base_url: str | None) -> dict:
    response = _send(
        "GET",
        f"{_base(base_url)}/v3/users/self/{path}",
        params=params,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
    )
    _raise_for_status(response)
    return _json(response)


def _records_page(data: dict, *, record_type: str) -> RecordsPage:
    records = data.get("records")
    if not isinstance(records, list):
        raise DexcomBadResponse(f"Dexcom's {record_type} answer has no records list")
    user_id = data.get("userId")
    return RecordsPage(
        record_type=record_type,
        user_id=user_id if isinstance(user_id, str) else "",
        records=records,
    )


def get_records(
    *,
    access_token: str,
    record_type: str,
    start: datetime,
    end: datetime,
    base_url: str | None = None,
) -> RecordsPage:
    """One window of egvs/events/calibrations/alerts (startDate..endDate, at most 30 days)."""
    if record_type not in RECORD_TYPES:
        raise ValueError(f"unknown record type {record_type!r}")
    if end - start > MAX_WINDOW:
        raise ValueError("Dexcom windows are at most 30 days")
    params = {"startDate": format_dexcom_time(start), "endDate": format_dexcom_time(end)}
    data = _get(record_type, access_token=access_token, params=params, base_url=base_url)
    return _records_page(data, record_type=record_type)


def get_devices(*, access_token: str, base_url: str | None = None) -> RecordsPage:
    data = _get("devices", access_token=access_token, params=None, base_url=base_url)
    return _records_page(data, record_type="devices")


def _span(block) -> TimeSpan | None:
    if not isinstance(block, dict):
        return None
    try:
        return TimeSpan(
            start=parse_utc(block["start"]["systemTime"]),
            end=parse_utc(block["end"]["systemTime"]),
        )
    except (KeyError, TypeError, DexcomTimeError) as error:
        raise DexcomBadResponse("Dexcom's dataRange block is malformed") from error


def get_data_range(
    *,
    access_token: str,
    last_sync_time: datetime | None = None,
    base_url: str | None = None,
) -> DataRange:
    params = {"lastSyncTime": format_rfc3339_utc(last_sync_time)} if last_sync_time else None
    data = _get("dataRange", access_token=access_token, params=params, base_url=base_url)
    user_id = data.get("userId")
    return DataRange(
        user_id=user_id if isinstance(user_id, str) else "",
        egvs=_span(data.get("egvs")),
        events=_span(data.get("events")),
        calibrations=_span(data.get("calibrations")),
    )

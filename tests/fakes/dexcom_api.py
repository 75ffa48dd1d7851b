"""An in-memory Dexcom API v3 for engine tests: records from lists, Dexcom's envelope semantics.

It implements apps.dexcom.api.DexcomApi, so the engine runs against it exactly as against the
HTTP client, without a server:

    api = FakeDexcomApi()
    api.add("egvs", records)                        # arrived when they were measured
    api.add("egvs", late, arrived_at=moment)        # a stretch uploaded late
    connection = fake_connection(user, api)         # tests/sync/conftest.py
    services.sync_connection(connection_id=connection.pk, api=api)
    api.calls["egvs"], api.windows, api.refreshes_spent

Semantics, as /work/shared/dexcom-api/ and the emulator describe them:
- a record is served once it has ARRIVED (arrival <= `now`, default the wall clock); a record
  stored again under its recordId replaces the earlier one (Dexcom edits events in place);
- a window is start <= systemTime < end, at most client.MAX_WINDOW long, newest record first;
- dataRange spans the arrived records of each type; asked with lastSyncTime it spans only the
  records that arrived AFTER it (a late stretch starts before the caller's cursor), and a type
  with nothing new has no block;
- tokens: every access token of the grant works until `expire_access_tokens()`; refresh tokens
  are single-use; a revoked grant answers 401 to data calls and invalid_grant to refreshes.
Faults (`inject`) raise what the HTTP client raises for the same answer: 429 with Retry-After,
5xx, a connection that does not answer, a malformed body, damaged records, a revoked grant, a
403, and a refresh whose answer is lost after the token was spent.
"""

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apps.dexcom import client
from apps.dexcom.client import DataRange, RecordsPage, TimeSpan, TokenPair
from apps.dexcom.times import parse_utc

RANGE_TYPES = ("egvs", "events", "calibrations")
ENDPOINTS = ("egvs", "events", "calibrations", "alerts", "devices", "dataRange", "token")
TOKEN_LIFETIME = timedelta(hours=2)


@dataclass
class Fault:
    kind: str
    endpoint: str = "*"  # "*" is every call, the token endpoint included
    times: int | None = 1  # None: until clear()
    retry_after: float = 60.0
    count: int = 3
    damage: object = None  # bad_records: records -> damaged records (default: drop systemTime)

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("*", endpoint) and (self.times is None or self.times > 0)


@dataclass
class _Stored:
    record: dict
    system_time: datetime
    arrived_at: datetime


@dataclass
class FakeDexcomApi:
    user_id: str = "fake-dexcom-user"
    now: datetime | None = None  # None: the wall clock
    calls: Counter = field(default_factory=Counter)
    windows: list = field(default_factory=list)  # (record_type, start, end) of every records call
    refreshes_spent: int = 0

    def __post_init__(self):
        self._records: dict[str, dict[str, _Stored]] = {t: {} for t in client.RECORD_TYPES}
        self._devices: list[dict] = []
        self._access_tokens: set[str] = set()
        self._refresh_tokens: set[str] = set()
        self._revoked = False
        self._faults: list[Fault] = []
        self._lock = threading.Lock()  # concurrent syncs share one fake

    # --- Loading data ---------------------------------------------------------------------------

    def add(self, record_type: str, records: list[dict], *, arrived_at: datetime | None = None) -> None:
        """Store records (Dexcom's JSON shape); each arrives at `arrived_at`, else at its systemTime."""
        if record_type == "devices":
            self._devices.extend(records)
            return
        stored = self._records[record_type]
        for record in records:
            system_time = parse_utc(record["systemTime"])
            stored[record["recordId"]] = _Stored(record, system_time, arrived_at or system_time)

    def devices_replaced(self, devices: list[dict]) -> None:
        """The devices endpoint answers these from now on (Dexcom sends the current list)."""
        self._devices = list(devices)

    def records_between(self, record_type: str, start: datetime, end: datetime) -> list[dict]:
        """What a records call for [start, end) answers now, newest first as Dexcom's samples
        are (also the truth tests compare with)."""
        if record_type == "devices":
            return list(self._devices)
        now = self._clock()
        return [
            s.record
            for s in sorted(self._records[record_type].values(), key=lambda s: s.system_time, reverse=True)
            if start <= s.system_time < end and s.arrived_at <= now
        ]

    # --- Tokens ---------------------------------------------------------------------------------

    def issue_tokens(self) -> TokenPair:
        """A new pair, as the token endpoint's authorization_code exchange answers."""
        with self._lock:
            return self._new_pair()

    def expire_access_tokens(self) -> None:
        """Dexcom expired every access token early; the refresh tokens stay good."""
        with self._lock:
            self._access_tokens.clear()

    def revoke(self) -> None:
        with self._lock:
            self._revoked = True
            self._access_tokens.clear()
            self._refresh_tokens.clear()

    # --- Faults ---------------------------------------------------------------------------------

    def inject(self, kind: str, endpoint: str = "*", **params) -> Fault:
        if endpoint not in ENDPOINTS and endpoint != "*":
            raise ValueError(f"unknown endpoint {endpoint!r}")
        fault = Fault(kind=kind, endpoint=endpoint, **params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- The DexcomApi Protocol -------------------------------------------------------------------

    def get_data_range(
        self, *, access_token: str, last_sync_time: datetime | None = None, base_url: str | None = None
    ) -> DataRange:
        fault = self._answer("dataRange", access_token)
        if fault and fault.kind == "bad_records":
            fault = None  # dataRange has no records to damage
        now = self._clock()
        spans = {}
        for record_type in RANGE_TYPES:
            times = [
                s.system_time
                for s in self._records[record_type].values()
                if s.arrived_at <= now and (last_sync_time is None or s.arrived_at > last_sync_time)
            ]
            spans[record_type] = TimeSpan(min(times), max(times)) if times else None
        return DataRange(user_id=self.user_id, **spans)

    def get_records(
        self,
        *,
        access_token: str,
        record_type: str,
        start: datetime,
        end: datetime,
        base_url: str | None = None,
    ) -> RecordsPage:
        if record_type not in client.RECORD_TYPES:
            raise ValueError(f"unknown record type {record_type!r}")
        if end - start > client.MAX_WINDOW:
            raise ValueError("Dexcom windows are at most 30 days")
        fault = self._answer(record_type, access_token)
        with self._lock:
            self.windows.append((record_type, start, end))
        records = [dict(r) for r in self.records_between(record_type, start, end)]
        return RecordsPage(record_type, self.user_id, _damaged(records, fault))

    def get_devices(self, *, access_token: str, base_url: str | None = None) -> RecordsPage:
        fault = self._answer("devices", access_token)
        records = [dict(r) for r in self._devices]
        return RecordsPage("devices", self.user_id, _damaged(records, fault))

    def refresh_tokens(self, *, refresh_token: str, base_url: str | None = None) -> TokenPair:
        fault = self._take_fault("token")
        with self._lock:
            self.calls["token"] += 1
            if fault and fault.kind != "lost_answer":
                _raise(fault)
            if self._revoked or refresh_token not in self._refresh_tokens:
                raise client.DexcomGrantRefused("invalid_grant")
            self._refresh_tokens.discard(refresh_token)  # single-use
            self.refreshes_spent += 1
            pair = self._new_pair()
        if fault:  # lost_answer: the token is spent and the new pair never reaches the caller
            raise client.DexcomUnavailable("the token answer was lost")
        return pair

    # --- Inside ---------------------------------------------------------------------------------

    def _clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    def _new_pair(self) -> TokenPair:
        pair = TokenPair(secrets.token_urlsafe(16), secrets.token_urlsafe(16), self._clock() + TOKEN_LIFETIME)
        self._access_tokens.add(pair.access_token)
        self._refresh_tokens.add(pair.refresh_token)
        return pair

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            fault = next((f for f in self._faults if f.matches(endpoint)), None)
            if fault and fault.times is not None:
                fault.times -= 1
            if fault and fault.kind == "revoked":
                self._revoked = True
                self._access_tokens.clear()
                self._refresh_tokens.clear()
        return fault

    def _answer(self, endpoint: str, access_token: str) -> Fault | None:
        """Count the call, check the token, raise the fault it meets; a fault that damages the
        answer instead of replacing it (bad_records) is returned."""
        with self._lock:
            self.calls[endpoint] += 1
        fault = self._take_fault(endpoint)
        if access_token not in self._access_tokens:
            raise client.DexcomAuthError("Dexcom refused the access token (HTTP 401)")
        if fault and fault.kind not in ("bad_records", "revoked"):
            _raise(fault)
        return fault


def _raise(fault: Fault):
    if fault.kind == "rate_limit":
        raise client.DexcomRateLimited(fault.retry_after)
    if fault.kind == "server_error":
        raise client.DexcomServerError(500)
    if fault.kind == "unavailable":
        raise client.DexcomUnavailable("could not reach Dexcom (fake): ConnectionError")
    if fault.kind == "malformed_json":
        raise client.DexcomBadResponse("Dexcom sent something that is not JSON (fake)")
    if fault.kind == "forbidden":
        raise client.DexcomAccessRefused("access refused by Dexcom (HTTP 403)")
    raise ValueError(f"unknown fault kind {fault.kind!r}")


def _damaged(records: list[dict], fault: Fault | None) -> list[dict]:
    if not fault or fault.kind != "bad_records":
        return records
    if fault.damage is not None:
        return fault.damage(records)
    head = [{k: v for k, v in record.items() if k != "systemTime"} for record in records[: fault.count]]
    return head + records[fault.count :]

"""Fault injection for tests, benchmarks and the demo, stored in the database.

Stored rows (not process memory) so that the live-server thread of a test, the web server and a
Celery worker process all obey the same faults:

    from apps.sandbox import faults
    faults.inject(kind="rate_limit", endpoint="egvs", times=2, retry_after=30)
    faults.inject(kind="slow", seconds=3)                    # every endpoint, once
    faults.inject(kind="bad_records", endpoint="events", count=4)
    faults.inject(kind="revoked", sandbox_user_key="SandboxUser2")
    faults.inject(kind="server_error", times=None)           # until faults.clear()
    faults.clear()

endpoint: "*" (every API call, the token endpoint included), "token", or a data endpoint:
egvs, alerts, calibrations, events, devices, dataRange. Optional sandbox_user_key limits a fault
to one user's calls. Each matching call consumes one of `times` (None: never used up).

Kinds and their parameters:
  rate_limit      429 {"error": "rate_limit_exceeded"} with Retry-After (retry_after=60)
  server_error    500 {"error": "server_error"}
  unavailable     503, an HTML page like a load balancer's, Retry-After when retry_after is given
  slow            sleeps `seconds` (default 2) and then answers normally
  malformed_json  200 with a JSON body cut off half-way
  bad_records     200 with the first `count` (default 3) records damaged: a required field
                  missing, a value out of range, an enum value Dexcom never documented
  revoked         revokes the user's grant: 401 on data calls, invalid_grant on refresh
  forbidden       403 {"error": "forbidden"}: the token is good but Dexcom refuses the data (a
                  lapsed data-sharing authorisation); the grant and its tokens stay valid
  lost_answer     token endpoint only: issues the new pair (the presented refresh token is spent)
                  and then loses the answer, how="timeout" (default: answers only after
                  `seconds`, default 35, longer than the client waits, as when the connection
                  drops), "malformed" (a body cut off half-way) or "bad_gateway" (a proxy's 502)
"""

from django.db.models import F, Q

from apps.sandbox.models import Fault

KINDS = tuple(kind for kind, _ in Fault.KINDS)
ENDPOINTS = ("*", "token", "egvs", "alerts", "calibrations", "events", "devices", "dataRange")


def inject(
    *, kind: str, endpoint: str = "*", times: int | None = 1, sandbox_user_key: str = "", **params
) -> Fault:
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    if times is not None and times < 1:
        raise ValueError("times must be at least 1, or None for a fault that stays until clear()")
    return Fault.objects.create(
        kind=kind, endpoint=endpoint, remaining=times, sandbox_user_key=sandbox_user_key, params=params
    )


def clear() -> int:
    deleted, _ = Fault.objects.all().delete()
    return deleted


def take(*, endpoint: str, sandbox_user_key: str | None) -> Fault | None:
    """Consume the oldest fault matching this call, or None.

    A conditional UPDATE claims one use, so two processes never both consume the last one.
    """
    candidates = Fault.objects.filter(Q(endpoint="*") | Q(endpoint=endpoint)).filter(
        Q(remaining__isnull=True) | Q(remaining__gt=0)
    )
    user_filter = Q(sandbox_user_key="")
    if sandbox_user_key:
        user_filter |= Q(sandbox_user_key=sandbox_user_key)
    for fault in candidates.filter(user_filter).order_by("id"):
        if fault.remaining is None:
            return fault
        if Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


def damage_records(records: list[dict], *, record_type: str, count: int = 3) -> list[dict]:
    """Damage the first `count` records in turn: missing field, out-of-range value, unknown enum."""
    damaged = [dict(record) for record in records]
    field_out_of_range = {
        "egvs": ("value", 1200),
        "calibrations": ("value", -20),
        "events": ("value", "-500"),
        "alerts": ("systemTime", "2026-13-45T99:99:99"),
        "devices": ("lastUploadDate", "not a date"),
    }
    unknown_enum = {
        "egvs": ("trend", "tripleUp"),
        "calibrations": ("unit", "mg/L"),
        "events": ("eventType", "ketones"),
        "alerts": ("alertName", "sensorOnFire"),
        "devices": ("displayDevice", "toaster"),
    }
    for index, record in enumerate(damaged[:count]):
        how = index % 3
        if how == 0:
            record.pop("systemTime" if record_type != "devices" else "lastUploadDate", None)
            record.pop("recordId", None)
        elif how == 1:
            name, value = field_out_of_range[record_type]
            record[name] = value
        else:
            name, value = unknown_enum[record_type]
            record[name] = value
    return damaged

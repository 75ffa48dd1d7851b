"""Readings that reach Dexcom late, over real HTTP against the emulator's late uploads.

The emulator serves what arrived by now minus EMULATOR_DATA_DELAY_MINUTES, so moving the delay
moves its clock: first just before a late stretch arrives, then just after.
"""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from apps.dexcom import client
from apps.glucose.models import Egv
from apps.sync import services
from apps.sync.models import SyncRun
from tests.sync.conftest import SANDBOX_USER, assert_db_equals_truth

pytestmark = pytest.mark.django_db(transaction=True)


def _latest_backfilled_gap():
    """The newest late stretch of the default sandbox user, a 1 h one if there is one."""
    from apps.sandbox import truth

    now = datetime.now(UTC)
    stretches = [
        late
        for late in truth.late_uploads(sandbox_user_key=SANDBOX_USER, days=80, now=now - timedelta(hours=2))
        if not late.from_receiver
    ]
    assert stretches, "SandboxUser1 has late uploads in its history"
    one_hour = [late for late in stretches if late.end - late.start == 3600]
    return (one_hour or stretches)[-1]


def _emulator_clock_at(settings, epoch: int) -> None:
    """What the emulator serves is what arrived by `epoch` (to the minute)."""
    settings.EMULATOR_DATA_DELAY_MINUTES = int((datetime.now(UTC).timestamp() - epoch) // 60)


def _egvs_in(connection, late) -> int:
    return Egv.objects.filter(
        patient=connection.user,
        system_time__gte=datetime.fromtimestamp(late.start, UTC),
        system_time__lt=datetime.fromtimestamp(late.end, UTC),
    ).count()


def test_it_fetches_a_gap_uploaded_late_in_the_next_incremental_sync(connect, settings):
    late = _latest_backfilled_gap()
    days = int((datetime.now(UTC).timestamp() - late.start) // 86400) + 2
    connection = connect(days=days)
    _emulator_clock_at(settings, late.arrival - 120)
    backfill = services.sync_connection(connection_id=connection.pk)
    assert backfill.status == SyncRun.Status.SUCCEEDED, backfill.errors
    assert _egvs_in(connection, late) == 0  # not at Dexcom yet
    stored_before = Egv.objects.filter(patient=connection.user).count()

    _emulator_clock_at(settings, late.arrival + 600)
    run = services.sync_connection(connection_id=connection.pk)
    assert run.kind == SyncRun.Kind.INCREMENTAL and run.status == SyncRun.Status.SUCCEEDED, run.errors
    filled = _egvs_in(connection, late)
    assert filled >= (late.end - late.start) // 300 * 0.8  # the gap is there now
    added = Egv.objects.filter(patient=connection.user).count() - stored_before
    assert added <= filled + 3  # the gap and the readings of the last 10 minutes, nothing twice
    assert run.api_calls <= 5
    assert_db_equals_truth(connection)  # every record as the emulator has it, no duplicates

    # Nothing new since: the late stretch is not fetched again, and the run costs two calls.
    idle = services.sync_connection(connection_id=connection.pk)
    assert idle.status == SyncRun.Status.SUCCEEDED and idle.api_calls <= 2
    assert _egvs_in(connection, late) == filled


def test_an_idle_patient_costs_at_most_two_calls(connection):
    services.sync_connection(connection_id=connection.pk)
    for _ in range(2):
        run = services.sync_connection(connection_id=connection.pk)
        assert run.status == SyncRun.Status.SUCCEEDED and run.api_calls <= 2, run.api_calls


def test_backfill_starts_at_data_range_start_and_no_window_ends_past_its_end(connect, monkeypatch):
    from apps.sandbox import generator

    history_days = (
        datetime.now(UTC).timestamp() - generator.history_start(int(datetime.now(UTC).timestamp()))
    ) / 86400
    connection = connect(days=int(history_days) + 20)  # a horizon before the patient's first data
    windows, ranges = [], []
    real_get_records, real_data_range = client.get_records, client.get_data_range

    def spy_records(**kwargs):
        windows.append((kwargs["record_type"], kwargs["start"], kwargs["end"]))
        return real_get_records(**kwargs)

    def spy_data_range(**kwargs):
        ranges.append(real_data_range(**kwargs))
        return ranges[-1]

    monkeypatch.setattr(client, "get_records", spy_records)
    monkeypatch.setattr(client, "get_data_range", spy_data_range)
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    [data_range] = ranges
    earliest = min(span.start for span in (data_range.egvs, data_range.events, data_range.calibrations))
    for record_type, start, end in windows:
        span = data_range.span(record_type)
        assert end - start <= timedelta(days=30)
        assert start >= earliest - timedelta(seconds=1), (record_type, start, earliest)  # no empty windows
        limit = (span.end if span else data_range.latest_end) + timedelta(seconds=1)
        assert end <= limit, (record_type, end, limit)
    egv_windows = sorted((s, e) for t, s, e in windows if t == "egvs")
    assert egv_windows[0][0] == data_range.egvs.start
    assert all(a[1] == b[0] for a, b in itertools.pairwise(egv_windows))  # contiguous
    assert egv_windows[-1][1] == data_range.egvs.end + timedelta(seconds=1)
    print(
        f"backfill of {history_days:.0f} days of history: {run.api_calls} API calls, "
        f"{len(egv_windows)} egv windows, {len(windows)} windows in all"
    )

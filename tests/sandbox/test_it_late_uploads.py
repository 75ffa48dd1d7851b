"""Readings that reach Dexcom late: a backfilled signal gap, a receiver's stretch uploaded at once.

The emulator's clock is moved with EMULATOR_DATA_DELAY_MINUTES (what is served is what arrived
by now minus the delay), so each test looks at a real late stretch just before and just after
it arrived.
"""

from datetime import UTC, datetime, timedelta

import pytest

from apps.sandbox import truth
from apps.sandbox.profiles import PROFILES, profile_for
from tests.sandbox.conftest import dexcom_format


def latest_late_upload(key, *, receiver=False):
    """The newest well-filled late stretch of a user that arrived more than 2 h ago (the tests'
    data delay is 1 h)."""
    arrived_by = datetime.now(UTC) - timedelta(hours=1)
    stretches = [
        late
        for late in truth.late_uploads(sandbox_user_key=key, days=100, now=arrived_by)
        if late.from_receiver == receiver
    ]
    assert stretches, f"{key} should have a late upload in the last 100 days"
    return stretches[-1]


def at(epoch):
    return datetime.fromtimestamp(epoch, UTC)


def delay_for(settings, until_epoch):
    """Set the data delay so that the emulator's visible edge is `until_epoch` (to the minute)."""
    now = datetime.now(UTC).timestamp()
    settings.EMULATOR_DATA_DELAY_MINUTES = int((now - until_epoch) // 60)


def egvs(get_data, token, start, end):
    body = get_data(token, "egvs", startDate=dexcom_format(start), endDate=dexcom_format(end)).parsed
    return body["records"]


def parse(text):
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_some_users_have_late_uploads_of_both_kinds_in_their_history():
    late_users = {p.key for p in PROFILES if p.late_upload_rate}
    assert len(late_users) >= 3
    assert {p.late_upload_kind for p in PROFILES if p.late_upload_rate} == {"backfill", "receiver"}
    for key in late_users:
        late = latest_late_upload(key, receiver=profile_for(key).late_upload_kind == "receiver")
        assert late.arrival - late.end >= 3600  # an hour or more after the last reading of it


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["SandboxUser1", "SandboxUser4"])
def test_it_serves_a_backfilled_gap_only_once_it_arrived(settings, connect, get_data, key):
    late = latest_late_upload(key)
    token = connect(key)["access_token"]
    window = (at(late.start - 3600), at(late.end + 3600))
    delay_for(settings, late.arrival - 120)
    before = egvs(get_data, token, *window)
    in_gap = [r for r in before if late.start <= parse(r["systemTime"]).timestamp() < late.end]
    assert before and not in_gap  # the readings around it are there, the gap is not yet
    delay_for(settings, late.arrival + 120)
    after = egvs(get_data, token, *window)
    filled = [r for r in after if late.start <= parse(r["systemTime"]).timestamp() < late.end]
    assert len(filled) >= (late.end - late.start) // 300 * 0.8
    # Readings served before are served unchanged (trends come from the final series).
    assert [r for r in after if r not in filled] == before


@pytest.mark.django_db
def test_it_answers_data_range_by_arrival_with_a_start_before_last_sync_time(settings, connect, get_data):
    late = latest_late_upload("SandboxUser1")
    token = connect("SandboxUser1")["access_token"]
    last_sync = at(late.arrival - 60)
    delay_for(settings, late.arrival + 600)
    body = get_data(token, "dataRange", lastSyncTime=last_sync.strftime("%Y-%m-%dT%H:%M:%SZ")).parsed
    assert set(body) == {"recordType", "recordVersion", "userId", "calibrations", "egvs", "events"}
    assert set(body["egvs"]) == {"start", "end"} and set(body["egvs"]["start"]) == {
        "systemTime",
        "displayTime",
    }
    start, end = parse(body["egvs"]["start"]["systemTime"]), parse(body["egvs"]["end"]["systemTime"])
    assert at(late.start) <= start < at(late.start + 300)  # the first reading of the late stretch
    assert last_sync < end <= at(late.arrival + 660)  # the delay moves the edge in whole minutes
    # Asked again after it arrived, the late stretch is no longer new.
    later = get_data(token, "dataRange", lastSyncTime=dexcom_format(at(late.arrival + 60)) + "Z").parsed
    assert later["egvs"] is None or parse(later["egvs"]["start"]["systemTime"]) > at(late.arrival)


@pytest.mark.django_db
def test_it_uploads_a_receivers_stretch_at_once_with_receiver_times(settings, connect, get_data):
    late = latest_late_upload("SandboxUser7", receiver=True)
    token = connect("SandboxUser7")["access_token"]
    delay_for(settings, late.arrival + 300)
    records = egvs(get_data, token, at(late.start), at(min(late.end, late.start + 29 * 86400)))
    assert len(records) > (late.end - late.start) // 300 * 0.7
    assert {r["displayDevice"] for r in records} == {"receiver"}
    assert all("Z" not in r["systemTime"] and "+" not in r["displayTime"] for r in records)
    outside = egvs(get_data, token, at(late.end), at(late.end + 6 * 3600))
    assert "android" in {r["displayDevice"] for r in outside}  # the phone again
    delay_for(settings, late.arrival - 300)
    assert not egvs(get_data, token, at(late.start), at(late.end))  # nothing before it arrived


@pytest.mark.django_db
def test_it_never_serves_a_reading_before_the_data_delay(connect, get_data):
    token = connect("SandboxUser1")["access_token"]
    now = datetime.now(UTC)
    newest = egvs(get_data, token, now - timedelta(hours=3), now)[0]
    assert parse(newest["systemTime"]) <= now - timedelta(minutes=60)

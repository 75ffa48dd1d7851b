"""A bad record is quarantined once, and only the bad part of a device is left out."""

import copy
import functools

import pytest

from apps.glucose.models import AlertSchedule, AlertSettingVersion, Device
from apps.sync import devices, quarantine, services
from apps.sync.models import QuarantinedRecord, SyncRun
from apps.sync.records import Quarantined
from tests.sync.test_it_keeps_device_settings_history import DEVICE


def _with_setting(device, index, **fields):
    changed = copy.deepcopy(device)
    changed["alertSchedules"][0]["alertSettings"][index].update(fields)
    return changed


@pytest.mark.django_db
def test_two_syncs_over_the_same_bad_records_quarantine_them_once(api, api_connection):
    from apps.sandbox import faults

    connection = api_connection
    # Every events answer comes back damaged; the 24 h re-read sees the newest ones again.
    damage = functools.partial(faults.damage_records, record_type="events", count=3)
    api.inject("bad_records", "events", times=None, damage=damage)
    first = services.sync_connection(connection_id=connection.pk, api=api)
    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    entries = QuarantinedRecord.objects.filter(patient=connection.user, record_type="events").count()
    assert first.quarantined == entries > 0
    second = services.sync_connection(connection_id=connection.pk, api=api)
    assert second.status == SyncRun.Status.SUCCEEDED, second.errors
    assert second.quarantined == 0
    assert QuarantinedRecord.objects.filter(patient=connection.user, record_type="events").count() == entries


def test_a_record_refused_again_with_a_changed_payload_is_one_entry(patient):
    def bad_device(upload):
        raw = {**copy.deepcopy(DEVICE), "lastUploadDate": upload, "displayApp": 7}
        return Quarantined(raw=raw, record_id="device-1", reason="displayApp is not text")

    assert (
        quarantine.quarantine(
            patient_id=patient.pk,
            run_id=None,
            record_type="devices",
            bad=[bad_device("2026-01-09T15:57:34Z")],
        )
        == 1
    )
    assert (
        quarantine.quarantine(
            patient_id=patient.pk,
            run_id=None,
            record_type="devices",
            bad=[bad_device("2026-01-09T16:02:34Z"), bad_device("2026-01-09T16:07:34Z")],
        )
        == 0
    )
    assert QuarantinedRecord.objects.filter(patient=patient).count() == 1
    # Another reason for the same record is another entry.
    other = Quarantined(raw={}, record_id="device-1", reason="lastUploadDate is not a time")
    assert quarantine.quarantine(patient_id=patient.pk, run_id=None, record_type="devices", bad=[other]) == 1


def test_one_malformed_setting_keeps_the_device_and_its_other_settings(patient):
    bad = devices.write_device(_with_setting(DEVICE, 2, value="250"), patient_id=patient.pk)
    device = Device.objects.get(patient=patient)
    assert AlertSchedule.objects.filter(device=device).count() == 1
    assert list(AlertSettingVersion.objects.filter(device=device).values_list("alert_name", flat=True)) == [
        "high"
    ]
    [item] = bad
    assert item.raw["alertName"] == "fixedLow" and item.raw["value"] == "250"
    assert item.record_id == f"{device.device_key}//fixedLow"
    assert 'value "250" is not a number' in item.reason


def test_a_setting_that_turns_bad_leaves_its_last_good_version_current(patient):
    devices.write_device(copy.deepcopy(DEVICE), patient_id=patient.pk)
    broken = _with_setting(
        DEVICE, 2, value="60", systemTime="2026-01-08T08:00:00Z", displayTime="2026-01-08T09:00:00+01:00"
    )
    [item] = devices.write_device(broken, patient_id=patient.pk)
    assert item.raw["alertName"] == "fixedLow"
    fixed_low = AlertSettingVersion.objects.filter(alert_name="fixedLow").order_by("-observed_at").first()
    assert fixed_low.value == 55
    assert AlertSettingVersion.objects.count() == 2


def test_a_setting_whose_display_time_is_days_off_is_quarantined_alone(patient):
    broken = _with_setting(DEVICE, 2, systemTime="2026-01-08T08:00:00Z", displayTime="2099-01-01T00:00:00")
    [item] = devices.write_device(broken, patient_id=patient.pk)
    assert item.raw["alertName"] == "fixedLow" and "displayTime" in item.reason
    assert AlertSettingVersion.objects.filter(alert_name="high").exists()


def test_a_malformed_schedule_keeps_the_device_and_the_other_schedules(patient):
    device = copy.deepcopy(DEVICE)
    device["alertSchedules"].append({"alertScheduleSettings": "Night", "alertSettings": []})
    [item] = devices.write_device(device, patient_id=patient.pk)
    assert "alertScheduleSettings" in item.reason and item.record_id.endswith("/schedule 1")
    assert AlertSchedule.objects.count() == 1 and AlertSettingVersion.objects.count() == 2


@pytest.mark.django_db
def test_the_sync_quarantines_the_one_setting_and_stores_the_device(api, api_connection):
    connection = api_connection
    listed = copy.deepcopy(api.records_between("devices", None, None))
    listed[0]["alertSchedules"][0]["alertSettings"][0]["value"] = "250"
    api.devices_replaced(listed)
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    devices = Device.objects.filter(patient=connection.user)
    # The emulator lists the phone app once per transmitter, plus the retired receiver.
    assert devices.count() == run.records["devices"] >= 3
    [entry] = QuarantinedRecord.objects.filter(patient=connection.user, record_type="devices")
    assert entry.raw["value"] == "250" and "is not a number" in entry.reason
    settings_kept = AlertSettingVersion.objects.filter(device__patient=connection.user).count()
    assert settings_kept >= devices.count() * 8 - 1  # each device's eight alerts, one left out

import copy

import pytest

from apps.glucose.models import AlertSchedule, AlertSettingVersion, Device
from apps.sync.devices import write_device
from apps.sync.records import BadRecord

DEVICE = {
    "transmitterGeneration": "g7",
    "displayDevice": "android",
    "displayApp": "G7Android",
    "lastUploadDate": "2026-01-09T15:57:34Z",
    "transmitterId": "d55d01d0341ed0ba2cd99b322e8c5b609254f47d10c7cd12b99b4922effeba44",
    "alertSchedules": [
        {
            "alertScheduleSettings": {
                "alertScheduleName": "",
                "isEnabled": True,
                "isDefaultSchedule": True,
                "startTime": "00:00",
                "endTime": "00:00",
                "daysOfWeek": ["sunday", "monday", "", "tuesday"],
                "isActive": True,
                "override": {"isOverrideEnabled": False, "mode": "quiet", "endTime": None},
            },
            "alertSettings": [
                {
                    "systemTime": "2026-01-05T17:53:03Z",
                    "displayTime": "2026-01-05T10:52:48-06:59:59",
                    "alertName": "high",
                    "value": 200,
                    "unit": "mg/dL",
                    "snooze": 120,
                    "enabled": True,
                    "SecondaryTriggerCondition": 184,
                    "soundTheme": "modern",
                    "soundOutputMode": "match",
                },
                {
                    "systemTime": "2026-01-01T00:00:00Z",
                    "displayTime": "2026-01-01T00:00:00Z",
                    "alertName": "high",
                    "value": 250,
                    "unit": "mg/dL",
                    "snooze": 120,
                    "enabled": True,
                },
                {
                    "systemTime": None,
                    "displayTime": None,
                    "alertName": "fixedLow",
                    "value": 55,
                    "unit": "mg/dL",
                    "snooze": 30,
                    "enabled": True,
                    "secondaryTriggerCondition": None,
                },
            ],
        }
    ],
}


def test_it_stores_device_schedule_and_settings(patient):
    write_device(copy.deepcopy(DEVICE), patient_id=patient.pk)
    device = Device.objects.get(patient=patient)
    assert device.device_key == DEVICE["transmitterId"] and device.display_app == "G7Android"
    schedule = AlertSchedule.objects.get(device=device)
    assert schedule.is_default and schedule.days_of_week == ["sunday", "monday", "tuesday"]
    high = AlertSettingVersion.objects.get(device=device, alert_name="high")
    assert high.value == 200  # of two "high" entries the newest adjustment wins
    assert high.secondary_trigger_condition == 184  # Dexcom's capitalised spelling
    assert high.display_delta_seconds == -(7 * 3600) - 15  # 10:52:48 shown at 17:53:03 UTC
    assert AlertSettingVersion.objects.filter(device=device).count() == 2


def test_it_adds_a_version_only_when_a_setting_changes(patient):
    write_device(copy.deepcopy(DEVICE), patient_id=patient.pk)
    write_device(copy.deepcopy(DEVICE), patient_id=patient.pk)  # nothing changed
    assert AlertSettingVersion.objects.count() == 2
    changed = copy.deepcopy(DEVICE)
    changed["alertSchedules"][0]["alertSettings"][0].update(
        value=180, systemTime="2026-01-08T08:00:00Z", displayTime="2026-01-08T01:00:01-06:59:59"
    )
    write_device(changed, patient_id=patient.pk)
    history = list(
        AlertSettingVersion.objects.filter(alert_name="high")
        .order_by("observed_at")
        .values_list("value", flat=True)
    )
    assert history == [200, 180]
    assert Device.objects.count() == 1 and AlertSchedule.objects.count() == 1


def test_it_keys_devices_without_transmitter_id_by_generation_device_and_app(patient):
    write_device({**copy.deepcopy(DEVICE), "transmitterId": ""}, patient_id=patient.pk)
    assert Device.objects.get().device_key == "g7/android/G7Android"


def test_it_refuses_a_device_with_a_bad_upload_date(patient):
    with pytest.raises(BadRecord):
        write_device({**copy.deepcopy(DEVICE), "lastUploadDate": "not a date"}, patient_id=patient.pk)
    assert not Device.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_installs_the_beat_entry_in_the_database_scheduler():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from dexweb.celery import app

    DatabaseScheduler(app=app)
    task = PeriodicTask.objects.get(name="sync-enqueue-due")
    assert task.task == "sync.enqueue_due_syncs" and task.interval.every == 60


def test_it_keeps_the_decimals_of_mmol_settings(patient):
    # A device set to mmol/L reports its thresholds in mmol/L: 3.9 and 0.11 must not become 3 and 0.
    device = copy.deepcopy(DEVICE)
    device["alertSchedules"][0]["alertSettings"] = [
        {
            "systemTime": "2026-01-05T17:53:03Z",
            "displayTime": "2026-01-05T18:53:03+01:00",
            "alertName": "low",
            "value": 3.9,
            "unit": "mmol/L",
            "snooze": 15,
            "enabled": True,
        },
        {
            "systemTime": "2026-01-05T17:53:03Z",
            "displayTime": "2026-01-05T18:53:03+01:00",
            "alertName": "rise",
            "value": 0.11,
            "unit": "mmol/L/min",
            "snooze": None,
            "enabled": True,
        },
    ]
    write_device(device, patient_id=patient.pk)
    values = dict(AlertSettingVersion.objects.values_list("alert_name", "value"))
    assert values == {"low": 3.9, "rise": 0.11}

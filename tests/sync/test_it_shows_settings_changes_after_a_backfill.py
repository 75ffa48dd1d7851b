"""After one backfill from the emulator, the patient already has a settings history to read:
the emulator lists the phone app once per transmitter (as Dexcom documents the devices
endpoint), and its users change settings over time."""

import pytest

from apps.glucose import alarm_report, alert_settings, selectors
from apps.sync import services
from apps.sync.models import SyncRun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("sandbox_user", ["SandboxUser1", "SandboxUser2"])
def test_a_backfill_brings_settings_changes_from_to(connect, sandbox_user):
    connection = connect(sandbox_user_key=sandbox_user)
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    patient = connection.user
    devices = selectors.devices_with_settings(patient_id=patient.pk)
    changes = alert_settings.all_changes(devices, unit="mg/dL", tzinfo=patient.tzinfo)
    lines = [line for change in changes for line in change.lines]
    assert any(" → " in line and "alert" in line for line in lines), lines
    report = alarm_report.settings_timeline_report(patient=patient, unit="mg/dL")
    assert report.entries and any(entry.before is not None for entry in report.entries)

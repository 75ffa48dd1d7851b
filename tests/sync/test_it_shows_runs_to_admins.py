import re
from datetime import UTC, datetime

import pytest

from apps.dexcom.crypto import encrypt_token
from apps.dexcom.models import DexcomConnection
from apps.sync.models import QuarantinedRecord, SyncRun
from tests.glucose.factories import make_alert, make_device, make_egvs


@pytest.fixture
def connection(patient):
    return DexcomConnection.objects.create(
        user=patient,
        base_url="https://api.dexcom.com",
        refresh_token_encrypted=encrypt_token("r"),
        access_token_encrypted=encrypt_token("a"),
        last_error="Dexcom's service is not responding",
    )


def test_it_lists_connections_with_status_region_and_errors(admin_client, connection):
    page = admin_client.get("/admin/dexcom/dexcomconnection/").content.decode()
    assert "us" in page and "not responding" in page
    assert connection.refresh_token_encrypted not in page


def test_it_shows_runs_and_quarantine_read_only(admin_client, connection):
    run = SyncRun.objects.create(
        connection=connection, patient=connection.user, kind="incremental", api_calls=2, records={"egvs": 3}
    )
    record = QuarantinedRecord.objects.create(
        patient=connection.user,
        run=run,
        record_type="egvs",
        raw={"value": 1200},
        raw_hash="h",
        reason="value 1200 is outside 39..401",
    )
    assert admin_client.get("/admin/sync/syncrun/").status_code == 200
    page = admin_client.get(f"/admin/sync/syncrun/{run.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    page = admin_client.get(f"/admin/sync/quarantinedrecord/{record.pk}/change/").content.decode()
    assert "1200" in page and 'name="_save"' not in page
    assert admin_client.get("/admin/sync/syncrun/add/").status_code == 403


def test_it_disconnects_from_the_admin(admin_client, connection):
    response = admin_client.post(
        "/admin/dexcom/dexcomconnection/",
        {"action": "disconnect_selected", "_selected_action": [connection.pk]},
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.status == "disconnected" and not connection.refresh_token_encrypted


def test_it_queues_syncs_and_backfills_from_the_admin(
    admin_client, connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(
            "/admin/dexcom/dexcomconnection/", {"action": "sync_now", "_selected_action": [connection.pk]}
        )
        admin_client.post(
            "/admin/dexcom/dexcomconnection/",
            {"action": "full_backfill", "_selected_action": [connection.pk]},
        )
    assert len(callbacks) == 2


def test_it_shows_what_is_stored_per_patient_read_only(admin_client, connection):
    # The keyed patient tables have no admin forms; this page counts them instead.
    patient = connection.user
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    make_egvs(patient, start, [120, 130, 140])
    make_alert(patient, start)
    make_device(patient)
    page = admin_client.get("/admin/sync/storedpatientdata/").content.decode()
    row = page[page.index(patient.email) :]
    cells = dict(re.findall(r'<td class="field-(\w+)[^"]*">([^<]*)</td>', row[: row.index("</tr>")]))
    assert (cells["readings"], cells["alerts"], cells["devices"]) == ("3", "1", "1"), cells
    assert cells["first_day"] == cells["last_day"] == "Nov. 1, 2026", cells
    detail = admin_client.get(f"/admin/sync/storedpatientdata/{connection.pk}/change/").content.decode()
    assert 'name="_save"' not in detail and connection.access_token_encrypted not in detail
    assert admin_client.get("/admin/sync/storedpatientdata/add/").status_code == 403

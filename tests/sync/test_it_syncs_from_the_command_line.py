import io

import pytest
from django.core.management import CommandError, call_command

from apps.sync.models import SyncRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_syncs_one_user_then_all(connection):
    out = io.StringIO()
    call_command("dexcom_sync", "--user", connection.user.email, stdout=out)
    assert "succeeded" in out.getvalue()
    out = io.StringIO()
    call_command("dexcom_sync", "--all", stdout=out)
    assert "succeeded" in out.getvalue() and "API calls" in out.getvalue()
    assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).count() == 2


def test_it_backfills_again_on_request(connection):
    call_command("dexcom_sync", "--user", connection.user.email, stdout=io.StringIO())
    call_command("dexcom_sync", "--user", connection.user.email, "--backfill", stdout=io.StringIO())
    assert list(SyncRun.objects.order_by("started_at").values_list("kind", flat=True)) == [
        "backfill",
        "backfill",
    ]


def test_it_names_a_user_without_connection(patient):
    with pytest.raises(CommandError, match="no active Dexcom connection"):
        call_command("dexcom_sync", "--user", patient.email)

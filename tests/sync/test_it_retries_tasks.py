"""The Celery tasks run eagerly (apply) against the emulator: retries and idempotency."""

import pytest

from apps.sync.models import SyncRun
from apps.sync.tasks import backfill_connection_task, sync_connection_task
from tests.sync.conftest import assert_db_equals_truth

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_retries_after_dexcom_asks_to_wait(connection):
    from apps.sandbox import faults

    faults.inject(kind="rate_limit", endpoint="dataRange", times=1, retry_after=600)
    result = sync_connection_task.apply(args=[connection.pk])
    assert result.successful(), result.traceback
    statuses = list(SyncRun.objects.order_by("started_at").values_list("status", flat=True))
    assert statuses == [SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED]
    assert "rate limit" in SyncRun.objects.order_by("started_at").first().errors[0]
    assert_db_equals_truth(connection)


def test_it_retries_when_dexcom_keeps_failing(connection, quick_backoff):
    from apps.sandbox import faults

    # Five 500s exhaust the run's own four attempts; the task's retry then succeeds.
    faults.inject(kind="server_error", endpoint="dataRange", times=5)
    result = sync_connection_task.apply(args=[connection.pk])
    assert result.successful(), result.traceback
    assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).count() == 1
    assert_db_equals_truth(connection)


def test_it_is_idempotent_when_delivered_twice(connection):
    sync_connection_task.apply(args=[connection.pk])
    sync_connection_task.apply(args=[connection.pk])
    runs = SyncRun.objects.order_by("started_at")
    assert [r.kind for r in runs] == ["backfill", "incremental"]
    second = runs.last()
    # The second delivery redoes nothing: an idle sync costs 2 calls. The emulator publishes a
    # reading every 5 minutes as the clock runs, so a second run that crossed such a moment may
    # fetch what was published since (4 calls, a row or three), and only that.
    assert second.api_calls <= 2 or (second.api_calls <= 4 and second.total_records <= 3)
    assert_db_equals_truth(connection)


def test_it_does_nothing_for_a_connection_that_is_gone(db):
    assert sync_connection_task.apply(args=[987654]).get() is None


def test_it_runs_a_full_backfill_task(connection):
    sync_connection_task.apply(args=[connection.pk])
    result = backfill_connection_task.apply(args=[connection.pk], kwargs={"restart": True})
    assert result.successful()
    assert SyncRun.objects.filter(kind="backfill").count() == 2
    assert_db_equals_truth(connection)

"""A database outage mid-task is retried with backoff, not a task failed and dropped.

The failing queries are real ones (Django's execute_wrapper hook raises OperationalError /
InterfaceError for the first N queries, as a restarting PostgreSQL does); the retries are
Celery's own, with the tasks' real options. Eager apply() runs each retry at once and ignores
the countdown, so the countdowns are read from the task_retry signal.
"""

import pytest
from celery.signals import task_retry
from django.db import InterfaceError, OperationalError
from django.db import connection as db_connection

from apps.sync.models import SyncRun
from apps.sync.tasks import enqueue_due_syncs_task, sync_connection_task
from tests.sync.conftest import assert_db_equals_truth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]


class DatabaseDown:
    """Fail the next `queries` queries of this thread's connection, then recover."""

    def __init__(self, queries: int, error=OperationalError):
        self.left, self.error = queries, error

    def __call__(self, execute, sql, params, many, context):
        if self.left > 0:
            self.left -= 1
            raise self.error("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.fixture
def retries():
    seen = []

    def record(sender=None, reason=None, **kwargs):
        seen.append(reason)

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_sync_hit_by_a_database_outage_is_retried_and_completes(connection, retries, error):
    with db_connection.execute_wrapper(DatabaseDown(3, error)):
        result = sync_connection_task.apply(args=[connection.pk])
    assert result.successful(), result.traceback
    assert len(retries) == 3
    assert all(isinstance(r.exc, error) for r in retries)
    # Exponential backoff with full jitter: retry n waits at most 2 * 2**n seconds.
    assert all(0 <= r.when <= 2 * 2**n for n, r in enumerate(retries))
    assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).count() == 1
    assert_db_equals_truth(connection)


def test_the_beats_enqueue_task_is_retried_too(db, retries):
    with db_connection.execute_wrapper(DatabaseDown(1)):
        result = enqueue_due_syncs_task.apply()
    assert result.successful(), result.traceback
    assert len(retries) == 1 and isinstance(retries[0].exc, OperationalError)


def test_the_tasks_keep_their_message_until_done():
    for task in (sync_connection_task, enqueue_due_syncs_task):
        assert task.acks_late
    assert sync_connection_task.reject_on_worker_lost
    assert sync_connection_task.max_retries >= 8  # rides out minutes, not seconds

"""Celery tasks: take ids, call a service, retry what is worth retrying.

Tasks are idempotent: a duplicate delivery finds the lease taken (and does nothing) or finds the
cursors already advanced (and rewrites nothing). "Already running?" is decided by the lease in
the database, never by asking the broker.
"""

import logging
import random

from celery import shared_task
from django.db import transaction

from apps.dexcom import client
from apps.sync import schedule, services
from apps.sync.budget import RequestBudgetExhausted, forget_old_windows
from apps.sync.lease import LeaseLost

logger = logging.getLogger(__name__)

MAX_RETRIES = 6


def _backoff_seconds(retries: int) -> float:
    # 30 s, 60 s, 2 min ... capped at 30 min, with jitter so retries of many patients spread out.
    return min(1800, 30 * 2**retries) * random.uniform(0.8, 1.2)


def _run_with_retries(task, service, **kwargs):
    try:
        run = service(**kwargs)
    except client.DexcomRateLimited as error:
        raise task.retry(countdown=max(1.0, error.retry_after), exc=error, max_retries=MAX_RETRIES)
    except RequestBudgetExhausted as error:
        raise task.retry(countdown=max(1.0, error.retry_after), exc=error, max_retries=MAX_RETRIES)
    except (client.DexcomServerError, client.DexcomUnavailable, client.DexcomBadResponse, LeaseLost) as error:
        raise task.retry(countdown=_backoff_seconds(task.request.retries), exc=error, max_retries=MAX_RETRIES)
    return run.pk if run else None


@shared_task(bind=True, acks_late=True, name="sync.sync_connection")
def sync_connection_task(self, connection_id: int):
    return _run_with_retries(self, services.sync_connection, connection_id=connection_id)


@shared_task(bind=True, acks_late=True, name="sync.backfill_connection")
def backfill_connection_task(self, connection_id: int, restart: bool = False):
    if restart and not self.request.retries:
        services.reset_sync_state(connection_id=connection_id)
    return _run_with_retries(self, services.backfill_connection, connection_id=connection_id)


@shared_task(name="sync.enqueue_due_syncs")
def enqueue_due_syncs_task():
    """Every minute (beat): queue the connections whose slot in the interval has come."""
    ids = schedule.claim_due_connections()
    for connection_id in ids:
        sync_connection_task.delay(connection_id)
    forget_old_windows()
    return len(ids)


def enqueue_sync(*, connection_id: int) -> None:
    """Queue a sync once the current transaction commits (the worker must see our rows)."""
    transaction.on_commit(lambda: sync_connection_task.delay(connection_id))


def enqueue_backfill(*, connection_id: int, restart: bool = True) -> None:
    transaction.on_commit(lambda: backfill_connection_task.delay(connection_id, restart=restart))

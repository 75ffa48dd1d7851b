"""Celery tasks: take ids, call a service, retry what is worth retrying.

Tasks are idempotent: a duplicate delivery finds the lease taken or finds the cursors already
advanced (and rewrites nothing). "Already running?" is decided by the lease in the database,
never by asking the broker. A task that finds the lease held by a live run is not dropped: it
re-queues itself for when that lease runs out (a dead owner's lease runs out within
SYNC_LEASE_SECONDS, a live owner finishes or keeps renewing).

A database restart or a broker blip raises OperationalError/InterfaceError: those are retried
with exponential backoff and full jitter (Celery's autoretry), so a short outage costs time,
never a task. acks_late + reject_on_worker_lost keep a message whose worker died in the queue.
"""

import logging
import random

from celery import shared_task
from celery.exceptions import Retry
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

from apps.dexcom import client, tokens
from apps.sync import schedule, services
from apps.sync.budget import RequestBudgetExhausted, forget_old_windows
from apps.sync.lease import LeaseLost, lease_wait_seconds
from apps.sync.models import SyncRun

logger = logging.getLogger(__name__)

MAX_RETRIES = 6
# Re-queues while another run holds the lease: each waits for that lease to run out (at most
# SYNC_LEASE_SECONDS), so this covers a live backfill of about an hour.
BUSY_MAX_RETRIES = 40
# A PostgreSQL restart, a failover, Redis going away: worth waiting for.
OUTAGE_ERRORS = (OperationalError, InterfaceError, BrokerUnavailable, ConnectionError)
# 2 s, 4 s, 8 s ... capped at 5 min, each drawn at random below that (full jitter, so 1,000
# tasks failing together do not all come back together): ten retries ride out ~10 minutes.
OUTAGE_RETRY = {
    "autoretry_for": OUTAGE_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 10,
}
RELIABLE = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, **OUTAGE_RETRY}


def _backoff_seconds(retries: int) -> float:
    # 30 s, 60 s, 2 min ... capped at 30 min, with jitter so retries of many patients spread out.
    return min(1800, 30 * 2**retries) * random.uniform(0.8, 1.2)


class _WaitingForBudget(Exception):
    """The app-wide budget ran out during a scheduled run."""


def _run_with_retries(task, service, *, connection_id: int, requeue_if_busy: bool = True):
    try:
        run = service(connection_id=connection_id)
    except client.DexcomRateLimited as error:
        raise task.retry(countdown=max(1.0, error.retry_after), exc=error, max_retries=MAX_RETRIES) from error
    except RequestBudgetExhausted as error:
        raise task.retry(countdown=max(1.0, error.retry_after), exc=error, max_retries=MAX_RETRIES) from error
    except tokens.RefreshOutcomeUnknown as error:
        # Never present a possibly spent refresh token again before its pause is over.
        raise task.retry(countdown=max(1.0, error.retry_after), exc=error, max_retries=MAX_RETRIES) from error
    except (client.DexcomServerError, client.DexcomUnavailable, client.DexcomBadResponse, LeaseLost) as error:
        raise task.retry(
            countdown=_backoff_seconds(task.request.retries), exc=error, max_retries=MAX_RETRIES
        ) from error
    if run is None:
        if requeue_if_busy:
            _requeue_if_busy(task, connection_id=connection_id)
        return None
    return run.pk


def _requeue_if_busy(task, *, connection_id: int) -> None:
    """Another run holds the lease: come back when it runs out rather than being dropped."""
    wait = lease_wait_seconds(connection_id=connection_id)
    if wait is None:
        return  # gone or not active: nothing to do
    countdown = max(1.0, wait) + random.uniform(0, 2)
    logger.info("Sync of connection %s is running elsewhere; re-queued in %.0f s", connection_id, countdown)
    raise task.retry(countdown=countdown, max_retries=BUSY_MAX_RETRIES)


@shared_task(name="sync.sync_connection", **RELIABLE)
def sync_connection_task(self, connection_id: int, plan: str | None = None):
    if plan is None:  # asked directly (a button, the command line): everything, as before
        run_id = _run_with_retries(self, services.sync_connection, connection_id=connection_id)
        _note_direct_run(connection_id, run_id)
        return run_id
    return _run_scheduled(self, connection_id=connection_id, plan=plan)


def _note_direct_run(connection_id: int, run_id) -> None:
    """A run the scheduler did not queue still makes the data fresh: it need not sync again."""
    run = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.SUCCEEDED).first() if run_id else None
    if run is not None:
        schedule.record_outcome(connection_id=connection_id, plan="full", run=run, release=False)


def _run_scheduled(task, *, connection_id: int, plan: str):
    """A run the scheduler queued: it reports back. Running out of budget is not a failure to
    retry on our own: the connection is marked waiting and the scheduler queues it again (first,
    as it is the most overdue). Busy elsewhere: that run is the sync, so this one ends."""
    fetch_plan = services.PLANS.get(plan, services.FULL)

    def service(*, connection_id):
        try:
            return services.sync_connection(connection_id=connection_id, plan=fetch_plan)
        except RequestBudgetExhausted as error:
            raise _WaitingForBudget from error

    try:
        run_id = _run_with_retries(task, service, connection_id=connection_id, requeue_if_busy=False)
    except _WaitingForBudget:
        logger.info("Sync of connection %s waits for Dexcom budget", connection_id)
        schedule.record_outcome(connection_id=connection_id, plan=plan, run=None, waiting=True)
        return None
    except Retry:
        raise  # a Dexcom or outage retry: the claim stays held until it ends or times out
    except Exception:
        schedule.release_claim(connection_id=connection_id)
        raise
    run = SyncRun.objects.filter(pk=run_id).first() if run_id else None
    schedule.record_outcome(connection_id=connection_id, plan=plan, run=run)
    return run_id


@shared_task(name="sync.backfill_connection", **RELIABLE)
def backfill_connection_task(self, connection_id: int, restart: bool = False):
    if restart and not self.request.retries:
        services.reset_sync_state(connection_id=connection_id)
    run_id = _run_with_retries(self, services.backfill_connection, connection_id=connection_id)
    _note_direct_run(connection_id, run_id)
    return run_id


@shared_task(
    name="sync.enqueue_due_syncs",
    bind=True,
    acks_late=True,
    autoretry_for=OUTAGE_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,  # beat sends a fresh one every minute anyway
)
def enqueue_due_syncs_task(self):
    """Every minute (beat): queue what the budget-aware scheduler chose for this minute."""
    chosen, _waiting = schedule.plan_tick()
    for position, choice in enumerate(chosen):
        try:
            sync_connection_task.delay(choice.connection_id, plan=choice.plan)
        except OUTAGE_ERRORS:
            # The broker went away mid-loop: un-claim what was not sent, so the next beat
            # queues it instead of the patient waiting out the claim timeout.
            for unsent in chosen[position:]:
                schedule.release_claim(connection_id=unsent.connection_id)
            raise
    forget_old_windows()
    return len(chosen)


def send_sync(*, connection_id: int) -> bool:
    """Queue a sync now; True if the broker took it.

    With the broker down the sync is left to beat (its claim is released, so the next beat
    tick after the broker returns queues it) and False tells the caller to say so.
    """
    try:
        sync_connection_task.delay(connection_id)
    except OUTAGE_ERRORS as error:
        logger.warning(
            "Could not queue a sync of connection %s (%s); beat will queue it when the broker is back",
            connection_id,
            type(error).__name__,
        )
        schedule.release_claim(connection_id=connection_id)
        return False
    return True


def enqueue_sync(*, connection_id: int) -> None:
    """Queue a sync once the current transaction commits (the worker must see our rows)."""
    transaction.on_commit(lambda: send_sync(connection_id=connection_id))


def enqueue_backfill(*, connection_id: int, restart: bool = True) -> None:
    transaction.on_commit(lambda: backfill_connection_task.delay(connection_id, restart=restart))

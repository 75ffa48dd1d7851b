"""One sync per connection at a time: a short lease with a heartbeat, taken with a conditional UPDATE.

A lease is an expiry time plus an owner. Taking it succeeds only when it is free or expired. A
live run renews it before every Dexcom call and with every committed window (its heartbeat), so
the expiry can be short (SYNC_LEASE_SECONDS, 90 s): a worker killed with kill -9 stops renewing
and the next task takes the connection over within that time, instead of the patient waiting out
a long lease. A run that finds its lease taken over stops (LeaseLost). A task that finds the
lease held by a live run asks how long to wait (lease_wait_seconds) and re-queues itself.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.dexcom.models import DexcomConnection


class LeaseLost(Exception):
    """Our lease expired and another worker took the connection over."""


def _until():
    return timezone.now() + timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def acquire_sync_lease(*, connection_id: int, owner: str) -> bool:
    now = timezone.now()
    taken = (
        DexcomConnection.objects.filter(pk=connection_id, status=DexcomConnection.Status.ACTIVE)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .update(sync_lease_until=_until(), sync_lease_owner=owner)
    )
    return taken == 1


def renew_sync_lease(*, connection_id: int, owner: str) -> None:
    """The heartbeat: push the expiry out again; raises LeaseLost when another run took over."""
    renewed = DexcomConnection.objects.filter(pk=connection_id, sync_lease_owner=owner).update(
        sync_lease_until=_until()
    )
    if not renewed:
        raise LeaseLost(f"connection {connection_id}: the sync lease was taken over")


def release_sync_lease(*, connection_id: int, owner: str) -> None:
    DexcomConnection.objects.filter(pk=connection_id, sync_lease_owner=owner).update(
        sync_lease_until=None, sync_lease_owner=""
    )


def lease_wait_seconds(*, connection_id: int) -> float | None:
    """How long until the current lease runs out (0 when it is free now), or None when the
    connection is gone or not active, so there is nothing to wait for."""
    row = (
        DexcomConnection.objects.filter(pk=connection_id, status=DexcomConnection.Status.ACTIVE)
        .values("sync_lease_until")
        .first()
    )
    if row is None:
        return None
    until = row["sync_lease_until"]
    if until is None:
        return 0.0
    return max(0.0, (until - timezone.now()).total_seconds())

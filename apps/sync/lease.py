"""One sync per connection at a time: a lease taken with a conditional UPDATE.

A lease is an expiry time plus an owner. Taking it succeeds only when it is free or expired, so a
worker that dies simply lets it run out (SYNC_LEASE_SECONDS) and the next sync proceeds. Long
runs renew it between windows; a run that finds its lease taken over stops.
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
    renewed = DexcomConnection.objects.filter(pk=connection_id, sync_lease_owner=owner).update(
        sync_lease_until=_until()
    )
    if not renewed:
        raise LeaseLost(f"connection {connection_id}: the sync lease was taken over")


def release_sync_lease(*, connection_id: int, owner: str) -> None:
    DexcomConnection.objects.filter(pk=connection_id, sync_lease_owner=owner).update(
        sync_lease_until=None, sync_lease_owner=""
    )

"""When each connection syncs: every SYNC_INTERVAL_SECONDS, at its own offset in the interval.

Beat runs `sync.enqueue_due_syncs` every minute. A connection's offset is a stable hash of its
id, so 1,000 patients spread over the 5 minutes instead of all hitting Dexcom at :00. Queuing is
claimed with a conditional UPDATE on last_sync_enqueued_at, so two beats (or a beat restarted
mid-minute) never queue the same slot twice.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.dexcom.models import DexcomConnection

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def offset_seconds(*, connection_id: int, interval: int) -> int:
    # Knuth's multiplicative hash spreads consecutive ids evenly over the interval.
    return (connection_id * 2654435761) % (2**32) % max(1, interval)


def current_slot_start(*, connection_id: int, now: datetime, interval: int) -> datetime:
    """The latest moment <= now at which this connection's sync was due."""
    offset = offset_seconds(connection_id=connection_id, interval=interval)
    elapsed = (now - _EPOCH).total_seconds() - offset
    slots = elapsed // interval
    return _EPOCH + timedelta(seconds=slots * interval + offset)


def claim_due_connections(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    interval = settings.SYNC_INTERVAL_SECONDS
    claimed = []
    active = DexcomConnection.objects.filter(status=DexcomConnection.Status.ACTIVE)
    for connection_id, last in active.values_list("pk", "last_sync_enqueued_at"):
        slot = current_slot_start(connection_id=connection_id, now=now, interval=interval)
        if last is not None and last >= slot:
            continue
        taken = (
            DexcomConnection.objects.filter(pk=connection_id, status=DexcomConnection.Status.ACTIVE)
            .filter(Q(last_sync_enqueued_at__isnull=True) | Q(last_sync_enqueued_at__lt=slot))
            .update(last_sync_enqueued_at=now)
        )
        if taken:
            claimed.append(connection_id)
    return claimed


def release_claims(*, connection_ids: list[int]) -> None:
    """Forget that these were queued (the broker refused them): the next beat tick claims them."""
    DexcomConnection.objects.filter(pk__in=connection_ids).update(last_sync_enqueued_at=None)

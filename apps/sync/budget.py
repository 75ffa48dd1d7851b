"""The app-wide Dexcom request budget, shared by every worker through the database.

Dexcom allows an app a number of calls per hour (60,000) across all its patients. We spend it in
one-minute buckets of DEXCOM_RATE_LIMIT_PER_HOUR / 60 calls: a conditional UPDATE takes a call
only while the bucket is below its cap, so it is exact under concurrency on SQLite and
PostgreSQL alike, and bursts cannot drain the hour in its first minutes.

Backfills spend from the same buckets but only up to SYNC_BACKFILL_SHARE of each: new patients'
history never eats the calls that keep everyone else fresh. The rule is `lane_allows`, shared
with the scheduler simulation (bench/sched_simulation.py).
"""

import math
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.sync.models import ApiBudgetWindow


class RequestBudgetExhausted(Exception):
    def __init__(self, retry_after: float):
        super().__init__(f"the app-wide Dexcom request budget is spent; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


STEADY = "steady"
BACKFILL = "backfill"


def calls_per_minute() -> int:
    return max(1, math.floor(settings.DEXCOM_RATE_LIMIT_PER_HOUR / 60))


def backfill_cap(per_minute: int, share: float) -> int:
    return max(1, math.floor(per_minute * share))


def lane_allows(*, calls: int, backfill_calls: int, lane: str, per_minute: int, share: float) -> bool:
    """May one more call of `lane` be made in a minute that has seen these calls?"""
    if calls >= per_minute:
        return False
    return lane != BACKFILL or backfill_calls < backfill_cap(per_minute, share)


def _ensure_window(window_start) -> None:
    if ApiBudgetWindow.objects.filter(window_start=window_start).exists():
        return
    try:
        with transaction.atomic():
            ApiBudgetWindow.objects.create(window_start=window_start)
    except IntegrityError:
        pass  # another worker created it first


def take_api_call(*, max_wait_seconds: float = 5.0, lane: str = STEADY) -> None:
    """Spend one call of the budget, waiting up to max_wait_seconds for the next minute."""
    deadline = time.monotonic() + max_wait_seconds
    while True:
        now = timezone.now()
        window_start = now.replace(second=0, microsecond=0)
        _ensure_window(window_start)
        # The conditional UPDATE is lane_allows() in SQL: exact with many workers at once.
        bucket = ApiBudgetWindow.objects.filter(window_start=window_start, calls__lt=calls_per_minute())
        if lane == BACKFILL:
            cap = backfill_cap(calls_per_minute(), settings.SYNC_BACKFILL_SHARE)
            taken = bucket.filter(backfill_calls__lt=cap).update(
                calls=F("calls") + 1, backfill_calls=F("backfill_calls") + 1
            )
        else:
            taken = bucket.update(calls=F("calls") + 1)
        if taken:
            return
        wait = (window_start + timedelta(minutes=1) - now).total_seconds()
        if time.monotonic() + wait > deadline:
            raise RequestBudgetExhausted(retry_after=wait)
        time.sleep(wait)


def forget_old_windows(*, keep: timedelta = timedelta(hours=2)) -> int:
    deleted, _ = ApiBudgetWindow.objects.filter(window_start__lt=timezone.now() - keep).delete()
    return deleted

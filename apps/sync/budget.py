"""The app-wide Dexcom request budget, shared by every worker through the database.

Dexcom allows an app a number of calls per hour (60,000) across all its patients. We spend it in
one-minute buckets of DEXCOM_RATE_LIMIT_PER_HOUR / 60 calls: a conditional UPDATE takes a call
only while the bucket is below its cap, so it is exact under concurrency on SQLite and
PostgreSQL alike, and bursts cannot drain the hour in its first minutes.
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


def calls_per_minute() -> int:
    return max(1, math.floor(settings.DEXCOM_RATE_LIMIT_PER_HOUR / 60))


def _ensure_window(window_start) -> None:
    if ApiBudgetWindow.objects.filter(window_start=window_start).exists():
        return
    try:
        with transaction.atomic():
            ApiBudgetWindow.objects.create(window_start=window_start)
    except IntegrityError:
        pass  # another worker created it first


def take_api_call(*, max_wait_seconds: float = 5.0) -> None:
    """Spend one call of the budget, waiting up to max_wait_seconds for the next minute."""
    deadline = time.monotonic() + max_wait_seconds
    while True:
        now = timezone.now()
        window_start = now.replace(second=0, microsecond=0)
        _ensure_window(window_start)
        taken = ApiBudgetWindow.objects.filter(
            window_start=window_start, calls__lt=calls_per_minute()
        ).update(calls=F("calls") + 1)
        if taken:
            return
        wait = (window_start + timedelta(minutes=1) - now).total_seconds()
        if time.monotonic() + wait > deadline:
            raise RequestBudgetExhausted(retry_after=wait)
        time.sleep(wait)


def forget_old_windows(*, keep: timedelta = timedelta(hours=2)) -> int:
    deleted, _ = ApiBudgetWindow.objects.filter(window_start__lt=timezone.now() - keep).delete()
    return deleted

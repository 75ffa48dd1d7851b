"""Dexcom calls made by one sync run: budgeted, counted, retried briefly, with a valid token.

Short waits happen here (a 429 asking for a few seconds, a 5xx that clears on a second try);
anything longer is raised so the Celery task can retry later without holding a worker.
"""

import logging
import time
from datetime import datetime

from apps.dexcom import client, tokens
from apps.dexcom.api import HTTP_API, DexcomApi
from apps.sync.budget import STEADY, take_api_call

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
MAX_INLINE_WAIT_SECONDS = 30.0
BACKOFF_SECONDS = (0.5, 2.0, 5.0)


class RunCalls:
    def __init__(
        self,
        *,
        connection_id: int,
        base_url: str,
        heartbeat=None,
        lane: str = STEADY,
        api: DexcomApi = HTTP_API,
    ):
        self.connection_id = connection_id
        self.api = api  # the HTTP client in production, an in-memory fake in most tests
        self.lane = lane  # backfills spend only their share of the budget
        self.base_url = base_url
        self.count = 0
        # Called before every attempt (the sync lease's renewal): a run stays visibly alive
        # through slow calls and inline retries, and stops as soon as another run took over.
        self.heartbeat = heartbeat or (lambda: None)

    def data_range(self, *, last_sync_time: datetime | None) -> client.DataRange:
        return self._call(
            lambda token: self.api.get_data_range(
                access_token=token, last_sync_time=last_sync_time, base_url=self.base_url
            )
        )

    def records(self, *, record_type: str, start: datetime, end: datetime) -> client.RecordsPage:
        return self._call(
            lambda token: self.api.get_records(
                access_token=token,
                record_type=record_type,
                start=start,
                end=end,
                base_url=self.base_url,
            )
        )

    def devices(self) -> client.RecordsPage:
        return self._call(lambda token: self.api.get_devices(access_token=token, base_url=self.base_url))

    def _counted(self, request):
        def call(token):
            take_api_call(lane=self.lane)
            self.count += 1
            return request(token)

        return call

    def _call(self, request):
        counted = self._counted(request)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.heartbeat()
            try:
                return tokens.call_with_access_token(
                    connection_id=self.connection_id, call=counted, api=self.api
                )
            except tokens.RefreshOutcomeUnknown:
                raise  # the token may be spent: only after its pause, from the task's retry
            except client.DexcomRateLimited as error:
                wait = error.retry_after
                if attempt == MAX_ATTEMPTS or wait > MAX_INLINE_WAIT_SECONDS:
                    raise
            except (client.DexcomServerError, client.DexcomUnavailable, client.DexcomBadResponse):
                # A truncated or garbled body is usually a one-off; a second read often works.
                if attempt == MAX_ATTEMPTS:
                    raise
                wait = BACKOFF_SECONDS[attempt - 1]
            logger.info(
                "Dexcom call for connection %s failed (attempt %s), retrying in %.1f s",
                self.connection_id,
                attempt,
                wait,
            )
            time.sleep(wait)
        raise AssertionError("unreachable")

"""What the sync engine needs of Dexcom, as a Protocol: the engine is handed an implementation.

Production passes the HTTP client (the module apps.dexcom.client satisfies this Protocol as it
stands, so `HTTP_API` is that module); tests pass an in-memory fake (tests/fakes/dexcom_api.py)
that serves records with Dexcom's envelope semantics, counts calls and injects faults.
Implementations raise the exceptions of apps.dexcom.client, which the engine already handles.
"""

from datetime import datetime
from typing import Protocol

from apps.dexcom import client
from apps.dexcom.client import DataRange, RecordsPage, TokenPair


class DexcomApi(Protocol):
    def get_data_range(
        self, *, access_token: str, last_sync_time: datetime | None = None, base_url: str | None = None
    ) -> DataRange:
        """dataRange; with last_sync_time, the ranges of what ARRIVED after it (None: nothing)."""

    def get_records(
        self,
        *,
        access_token: str,
        record_type: str,
        start: datetime,
        end: datetime,
        base_url: str | None = None,
    ) -> RecordsPage:
        """One window (at most client.MAX_WINDOW) of egvs, events, calibrations or alerts."""

    def get_devices(self, *, access_token: str, base_url: str | None = None) -> RecordsPage:
        """The devices and their alert settings (no window)."""

    def refresh_tokens(self, *, refresh_token: str, base_url: str | None = None) -> TokenPair:
        """Spend a single-use refresh token for a new pair."""


HTTP_API: DexcomApi = client  # the real one: module functions over requests

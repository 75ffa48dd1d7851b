"""How dexcom asks for a sync without importing sync, which sits above it.

dexcom stores connections and offers "Sync now" / "Full re-backfill"; sync owns cursors and
the queue. Importing sync from here would make the two import each other, so sync registers
its functions once, in SyncConfig.ready, and dexcom calls them through this module. Without
sync installed there is nothing to call: a clear error, never a silent skip.
"""

from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured


class SyncHook(Protocol):
    def reset_history(self, *, connection_id: int) -> None:
        """Put the connection's cursors back so its next run backfills from scratch."""

    def enqueue_sync(self, *, connection_id: int) -> None:
        """Queue a sync; a broker outage is left to beat."""

    def send_sync(self, *, connection_id: int) -> bool:
        """Queue a sync now; False when the broker refused it."""

    def enqueue_backfill(self, *, connection_id: int, restart: bool) -> None:
        """Queue a backfill; restart=True refetches the whole history."""


@dataclass
class _Registry:
    hook: SyncHook | None = None


_registry = _Registry()


def register(hook: SyncHook) -> None:
    _registry.hook = hook


def sync_hook() -> SyncHook:
    if _registry.hook is None:
        raise ImproperlyConfigured("apps.sync is not installed: nothing registered the dexcom sync hook")
    return _registry.hook

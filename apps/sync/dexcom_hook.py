"""What dexcom calls when a connection is stored or someone presses "Sync now" (registered in
SyncConfig.ready; see apps/dexcom/sync_hook.py for why dexcom does not import sync)."""

from apps.sync import services, tasks


class SyncForDexcom:
    # Each call goes through the module attribute, so it is the function in place at call time.
    def reset_history(self, *, connection_id: int) -> None:
        services.reset_sync_state(connection_id=connection_id)

    def enqueue_sync(self, *, connection_id: int) -> None:
        tasks.enqueue_sync(connection_id=connection_id)

    def send_sync(self, *, connection_id: int) -> bool:
        return tasks.send_sync(connection_id=connection_id)

    def enqueue_backfill(self, *, connection_id: int, restart: bool) -> None:
        tasks.enqueue_backfill(connection_id=connection_id, restart=restart)

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "apps.sync"
    label = "sync"

    def ready(self):
        from apps.dexcom import sync_hook
        from apps.sync.dexcom_hook import SyncForDexcom

        sync_hook.register(SyncForDexcom())

from django.apps import AppConfig


class DexcomConfig(AppConfig):
    name = "apps.dexcom"
    label = "dexcom"

    def ready(self):
        from apps.dexcom import signals  # noqa: F401  (connects the allauth signal handlers)

from django.apps import AppConfig


class DexcomConfig(AppConfig):
    name = "apps.dexcom"
    label = "dexcom"

"""The django-allauth provider "dexcom": sign up, log in and connect with a Dexcom account.

allauth finds it because apps.dexcom is an installed app with a provider.py. Credentials come
from SOCIALACCOUNT_PROVIDERS["dexcom"]["APPS"] in settings (no SocialApp row needed).
"""

from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider

from apps.dexcom.views import DexcomOAuth2Adapter


class DexcomAccount(ProviderAccount):
    def to_str(self):
        return "Dexcom account"


class DexcomProvider(OAuth2Provider):
    id = "dexcom"
    name = "Dexcom"
    account_class = DexcomAccount
    oauth2_adapter_class = DexcomOAuth2Adapter

    def get_default_scope(self):
        return ["offline_access"]  # the only scope Dexcom accepts

    def extract_uid(self, data):
        # Dexcom's userId: unique per Dexcom account and per client app.
        return str(data["userId"])

    def extract_common_fields(self, data):
        return {}  # Dexcom tells us nothing about the person (no email, no name)


provider_classes = [DexcomProvider]

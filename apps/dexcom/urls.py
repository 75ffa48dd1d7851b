"""allauth's URLs for the provider: /accounts/dexcom/login/ and /accounts/dexcom/login/callback/."""

from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from apps.dexcom.provider import DexcomProvider

urlpatterns = default_urlpatterns(DexcomProvider)

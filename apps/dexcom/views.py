"""The allauth OAuth2 adapter for Dexcom, and the patient's connection pages under /dexcom/."""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2Adapter,
    OAuth2CallbackView,
    OAuth2LoginView,
)
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from apps.dexcom import client
from apps.dexcom.crypto import encrypt_token
from apps.dexcom.models import DexcomConnection
from apps.dexcom.services import (
    DexcomAccountOfAnotherUser,
    disconnect,
    fetch_dexcom_user_id,
    refuse_dexcom_account_of_another_user,
)
from apps.dexcom.sync_hook import sync_hook

logger = logging.getLogger(__name__)


class DexcomOAuth2Adapter(OAuth2Adapter):
    provider_id = "dexcom"

    # Properties, not class attributes: the base URL is a setting (region, emulator, tests).
    @property
    def access_token_url(self):
        return client.token_url()

    @property
    def authorize_url(self):
        return client.authorize_url()

    def get_callback_url(self, request, app):
        # The redirect URI registered with Dexcom, not one guessed from the request's host.
        return settings.DEXCOM_REDIRECT_URI

    @sensitive_variables("token", "access_token", "response")
    def complete_login(self, request, app, token, **kwargs):
        access_token = token.token
        try:
            user_id = fetch_dexcom_user_id(access_token=access_token)
        except client.DexcomError as error:
            raise ProviderException(f"could not read the Dexcom user id: {error}") from error
        if request.user.is_authenticated:
            _refuse_an_account_of_another_user(request, user_id)
        # allauth carries this token through the session (pending sign-up) and our signal
        # handlers: from here on it holds only ciphertext.
        token.token = encrypt_token(access_token)
        token.token_secret = encrypt_token(token.token_secret)
        return self.get_provider().sociallogin_from_response(request, {"userId": user_id})


def _refuse_an_account_of_another_user(request, dexcom_user_id: str) -> None:
    # Here, before allauth looks the account up: its lookup already saves the owner's social
    # account and announces it as "updated" (our signal would store these tokens on the owner's
    # connection and restart its sync) before allauth itself refuses the connect. Refused for
    # "Log in with Dexcom" too while signed in as someone else: sign out first to switch.
    try:
        refuse_dexcom_account_of_another_user(user=request.user, dexcom_user_id=dexcom_user_id)
    except DexcomAccountOfAnotherUser:
        messages.error(
            request,
            "This Dexcom account is already connected to a different dexweb account, so it was "
            "not connected here and nothing was changed. Sign in to that account to use it.",
        )
        raise ImmediateHttpResponse(redirect("dexcom:status")) from None


oauth2_login = OAuth2LoginView.adapter_view(DexcomOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(DexcomOAuth2Adapter)


# --- Connection pages ---------------------------------------------------------------------------


def _connection_of(user) -> DexcomConnection | None:
    return DexcomConnection.objects.filter(user=user).first()


# The broker is down: the sync is left to beat, which queues it once the broker is back.
SYNC_QUEUE_DOWN_MESSAGE = (
    "dexweb's sync service is briefly unavailable, so the sync could not start right now. It "
    "will start on its own within a few minutes; there is no need to press Sync now again."
)


@login_required
def connection_status(request):
    """The patient's Dexcom connection: status, last sync, backfill progress, problems, actions."""
    connection = _connection_of(request.user)
    return render(request, "dexcom/connection.html", {"connection": connection})


@login_required
@require_POST
def sync_now(request):
    connection = _connection_of(request.user)
    if connection and connection.is_syncing_enabled:
        if sync_hook().send_sync(connection_id=connection.pk):
            messages.success(request, "A sync has been queued; new data appears within a minute.")
        else:
            messages.warning(request, SYNC_QUEUE_DOWN_MESSAGE)
    else:
        messages.error(request, "Your Dexcom account is not connected.")
    return redirect("dexcom:status")


@login_required
@require_POST
def disconnect_view(request):
    connection = _connection_of(request.user)
    if connection:
        disconnect(connection_id=connection.pk)
        messages.success(
            request,
            "Dexcom disconnected: dexweb deleted its access tokens. Your synced data stays here.",
        )
    return redirect("dexcom:status")

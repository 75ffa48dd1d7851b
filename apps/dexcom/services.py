"""Connecting and disconnecting a patient's Dexcom account."""

import logging

from django.conf import settings
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from apps.dexcom import client
from apps.dexcom.crypto import encrypt_token
from apps.dexcom.models import DexcomConnection
from apps.dexcom.sync_hook import sync_hook

logger = logging.getLogger(__name__)

PROVIDER_ID = "dexcom"


class DexcomAccountOfAnotherUser(Exception):
    """The Dexcom account is already linked to a different dexweb user: connecting is refused."""


def refuse_dexcom_account_of_another_user(*, user, dexcom_user_id: str) -> None:
    """Raise DexcomAccountOfAnotherUser unless the Dexcom account is free or already `user`'s.

    Called before anything is stored: a refused connect must leave the owner's tokens, status,
    sync state and social account exactly as they were.
    """
    from allauth.socialaccount.models import SocialAccount

    owner_ids = SocialAccount.objects.filter(provider=PROVIDER_ID, uid=dexcom_user_id).values_list(
        "user_id", flat=True
    )
    if any(owner_id != user.pk for owner_id in owner_ids):
        logger.warning("Refused to connect user %s to a Dexcom account of another user", user.pk)
        raise DexcomAccountOfAnotherUser()


@sensitive_variables("access_token")
def fetch_dexcom_user_id(*, access_token: str, base_url: str | None = None) -> str:
    """Dexcom has no user-info endpoint: every data answer carries the per-client userId.

    dataRange is the cheapest call; devices is the fallback for an account with no data yet.
    """
    data_range = client.get_data_range(access_token=access_token, base_url=base_url)
    if data_range.user_id:
        return data_range.user_id
    devices = client.get_devices(access_token=access_token, base_url=base_url)
    if devices.user_id:
        return devices.user_id
    raise client.DexcomBadResponse("Dexcom's answers carry no userId")


@sensitive_variables("code", "pair")
def connect_with_authorization_code(
    *, user, code: str, redirect_uri: str | None = None, start_sync: bool = True
) -> DexcomConnection:
    """Exchange an authorization code, read the Dexcom userId and store the tokens encrypted."""
    base_url = settings.DEXCOM_BASE_URL
    pair = client.exchange_code(
        code=code, redirect_uri=redirect_uri or settings.DEXCOM_REDIRECT_URI, base_url=base_url
    )
    dexcom_user_id = fetch_dexcom_user_id(access_token=pair.access_token, base_url=base_url)
    refuse_dexcom_account_of_another_user(user=user, dexcom_user_id=dexcom_user_id)
    connection = store_connection(
        user=user,
        dexcom_user_id=dexcom_user_id,
        access_token_encrypted=encrypt_token(pair.access_token),
        refresh_token_encrypted=encrypt_token(pair.refresh_token),
        expires_at=pair.expires_at,
        start_sync=start_sync,
    )
    _ensure_social_account(user=user, dexcom_user_id=dexcom_user_id)
    return connection


def _ensure_social_account(*, user, dexcom_user_id: str) -> None:
    # So "Log in with Dexcom" finds this user later, as if they had connected through allauth.
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.get_or_create(
        provider=PROVIDER_ID,
        uid=dexcom_user_id,
        defaults={"user": user, "extra_data": {"userId": dexcom_user_id}},
    )


def store_connection(
    *,
    user,
    dexcom_user_id: str,
    access_token_encrypted: str,
    refresh_token_encrypted: str,
    expires_at,
    start_sync: bool = True,
) -> DexcomConnection:
    """Create or re-activate the user's connection with already encrypted tokens."""
    with transaction.atomic():
        connection, created = DexcomConnection.objects.select_for_update().get_or_create(
            user=user, defaults={"base_url": settings.DEXCOM_BASE_URL}
        )
        account_changed = not created and connection.dexcom_user_id != dexcom_user_id
        connection.dexcom_user_id = dexcom_user_id
        connection.base_url = settings.DEXCOM_BASE_URL
        connection.status = DexcomConnection.Status.ACTIVE
        connection.access_token_encrypted = access_token_encrypted
        connection.refresh_token_encrypted = refresh_token_encrypted
        connection.access_token_expires_at = expires_at
        connection.refresh_claimed_until = None
        connection.refresh_started_at = None
        connection.refresh_answer_lost_at = None
        connection.reauth_reason = ""
        connection.lost_refresh_token_encrypted = ""
        connection.last_error = ""
        connection.save()
        if created or account_changed:
            # Another Dexcom account (or the first one) starts from a fresh backfill.
            sync_hook().reset_history(connection_id=connection.pk)
        if start_sync:
            transaction.on_commit(lambda: sync_hook().enqueue_sync(connection_id=connection.pk))
    logger.info("Dexcom connected for user %s (connection %s)", user.pk, connection.pk)
    return connection


def disconnect(*, connection_id: int) -> None:
    """Stop syncing and delete the tokens. The synced records stay (they are the patient's)."""
    DexcomConnection.objects.filter(pk=connection_id).update(
        status=DexcomConnection.Status.DISCONNECTED,
        access_token_encrypted="",
        refresh_token_encrypted="",
        access_token_expires_at=None,
        refresh_claimed_until=None,
        refresh_started_at=None,
        refresh_answer_lost_at=None,
        lost_refresh_token_encrypted="",
        sync_lease_until=None,
        sync_lease_owner="",
        last_error="",
    )
    logger.info("Dexcom disconnected (connection %s)", connection_id)

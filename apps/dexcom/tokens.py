"""Access tokens for the sync: read, refresh once under concurrency, retry once on 401.

Dexcom refresh tokens are single-use: if two workers spend the same one, the second gets
invalid_grant and the patient would have to reconnect. So a refresh is claimed first with a
conditional UPDATE on `refresh_claimed_until` (plain SQL, same on SQLite and PostgreSQL, no
SELECT ... FOR UPDATE held across an HTTP call). The claim names the refresh token it saw, so a
worker that read an already replaced token cannot claim. Losers poll the row until the winner
has stored the new pair, or until the claim expires (winner died) and they may claim themselves.
The new pair replaces the old one in a single UPDATE committed at once (never inside the sync's
transactions), so a rollback elsewhere cannot lose a freshly rotated refresh token.

A refresh whose answer is lost (connection dropped, worker killed, garbled body) may have spent
the token without us learning the new pair. So the refresh is recorded as in flight
(`refresh_started_at`) before the token is sent, and a lost answer holds the claim for a pause
(DEXCOM_REFRESH_RETRY_PAUSE_SECONDS) instead of releasing it: the token is never presented twice
in a row without that pause. The next attempt presents it once more (Dexcom may never have
received the first request). If Dexcom then refuses it, the answer really was lost: the patient
is told so ("lost during a token refresh"), distinct from a withdrawn permission, and the spent
token is kept encrypted for diagnosis.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.dexcom import client
from apps.dexcom.api import HTTP_API, DexcomApi
from apps.dexcom.crypto import decrypt_token, encrypt_token
from apps.dexcom.models import DexcomConnection

logger = logging.getLogger(__name__)

# Refresh a little before expiry so a token does not die in the middle of a window's request.
EXPIRY_MARGIN = timedelta(seconds=120)
POLL_SECONDS = 0.1

REAUTH_MESSAGE = (
    "Dexcom no longer accepts dexweb's access to your data (the permission was withdrawn or "
    "has expired). Please reconnect your Dexcom account to resume syncing."
)
REFRESH_LOST_MESSAGE = (
    "The connection to Dexcom was lost during a token refresh, so Dexcom no longer accepts "
    "dexweb's access. Please reconnect your Dexcom account to resume syncing; the data synced "
    "so far is kept."
)


class ConnectionNotActive(Exception):
    """The connection needs re-authorization or was disconnected: do not call Dexcom."""


class RefreshOutcomeUnknown(client.DexcomUnavailable):
    """The last refresh's answer was lost; the refresh token may be spent. Try again after
    `retry_after` seconds, not sooner (the caller must not retry inline)."""

    def __init__(self, retry_after: float):
        super().__init__(f"the answer to a token refresh was lost; trying again in {retry_after:.0f} s")
        self.retry_after = retry_after


def _retry_pause() -> float:
    return float(settings.DEXCOM_REFRESH_RETRY_PAUSE_SECONDS)


def _claim_seconds() -> float:
    # Longer than one token request can take, so a live winner never loses its claim.
    return 2 * float(settings.DEXCOM_HTTP_TIMEOUT) + 5


def _load(connection_id: int) -> DexcomConnection:
    connection = DexcomConnection.objects.get(pk=connection_id)
    if not connection.is_syncing_enabled or not connection.has_tokens:
        raise ConnectionNotActive(f"connection {connection_id} is {connection.status}")
    return connection


def _is_fresh(connection: DexcomConnection) -> bool:
    expires = connection.access_token_expires_at
    return bool(connection.access_token_encrypted and expires and expires > timezone.now() + EXPIRY_MARGIN)


@sensitive_variables()
def current_access_token(*, connection_id: int, api: DexcomApi = HTTP_API) -> tuple[str, str]:
    """(clear access token, its ciphertext as stored); refreshes first when it is about to expire.

    The ciphertext identifies which token a caller used, so a 401 can ask for a refresh of
    exactly that token and not of one another worker already replaced.
    """
    connection = _load(connection_id)
    if _is_fresh(connection):
        return decrypt_token(connection.access_token_encrypted), connection.access_token_encrypted
    return refresh_access_token(
        connection_id=connection_id, stale_access_encrypted=connection.access_token_encrypted, api=api
    )


def refresh_access_token(
    *, connection_id: int, stale_access_encrypted: str, api: DexcomApi = HTTP_API
) -> tuple[str, str]:
    """A new access token replacing `stale_access_encrypted`, spending the refresh token at most
    once across all workers."""
    deadline = time.monotonic() + 3 * _claim_seconds()
    while True:
        connection = _load(connection_id)
        if connection.access_token_encrypted != stale_access_encrypted and _is_fresh(connection):
            # Someone else refreshed while we were deciding: use theirs.
            return decrypt_token(connection.access_token_encrypted), connection.access_token_encrypted
        if (pause := _pause_left(connection)) is not None:
            raise RefreshOutcomeUnknown(retry_after=pause)
        if _claim_refresh(connection):
            return _spend_refresh_token(connection, api=api)
        if time.monotonic() > deadline:
            raise client.DexcomUnavailable("another worker's token refresh did not finish")
        time.sleep(POLL_SECONDS)


def _pause_left(connection: DexcomConnection) -> float | None:
    """Seconds left of the pause after a lost answer, or None when there is no pause."""
    until = connection.refresh_claimed_until
    if connection.refresh_answer_lost_at is None or until is None:
        return None
    left = (until - timezone.now()).total_seconds()
    return left if left > 0 else None


def _claim_refresh(connection: DexcomConnection) -> bool:
    """Claim the refresh of the token (and the in-flight state) this snapshot saw."""
    now = timezone.now()
    claimed = (
        DexcomConnection.objects.filter(
            pk=connection.pk,
            status=DexcomConnection.Status.ACTIVE,
            refresh_token_encrypted=connection.refresh_token_encrypted,
            refresh_started_at=connection.refresh_started_at,
        )
        .filter(Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now))
        .update(refresh_claimed_until=now + timedelta(seconds=_claim_seconds()), refresh_started_at=now)
    )
    return claimed == 1


@sensitive_variables("refresh_token", "pair")
def _spend_refresh_token(connection: DexcomConnection, *, api: DexcomApi) -> tuple[str, str]:
    # Still in flight from an earlier attempt: that answer was lost, this token may be spent.
    answer_was_lost = connection.refresh_started_at is not None
    refresh_token = decrypt_token(connection.refresh_token_encrypted)
    try:
        pair = api.refresh_tokens(refresh_token=refresh_token, base_url=connection.base_url)
    except client.DexcomGrantRefused as error:
        logger.warning(
            "Dexcom refused the refresh for connection %s (%s%s): needs re-authorization",
            connection.pk,
            error.error_code,
            ", after a lost answer" if answer_was_lost else "",
        )
        if answer_was_lost:
            mark_refresh_lost(connection_id=connection.pk)
        else:
            mark_needs_reauth(connection_id=connection.pk)
        raise
    except client.DexcomRateLimited:
        # Refused before it was processed: nothing was spent, the next caller may try at once.
        DexcomConnection.objects.filter(pk=connection.pk).update(
            refresh_claimed_until=None, refresh_started_at=connection.refresh_started_at
        )
        raise
    except client.DexcomError as error:
        _hold_after_lost_answer(connection_id=connection.pk)
        raise RefreshOutcomeUnknown(retry_after=_retry_pause()) from error
    except BaseException:
        # Stopped mid-request (time limit, shutdown): the token may be spent as well.
        _hold_after_lost_answer(connection_id=connection.pk)
        raise
    access_encrypted = save_token_pair(connection_id=connection.pk, pair=pair)
    logger.info("Refreshed the Dexcom access token of connection %s", connection.pk)
    return pair.access_token, access_encrypted


@sensitive_variables("pair")
def save_token_pair(*, connection_id: int, pair: client.TokenPair) -> str:
    """Store a new pair in one UPDATE (old pair replaced in the same statement); returns the
    access token's ciphertext."""
    access_encrypted = encrypt_token(pair.access_token)
    DexcomConnection.objects.filter(pk=connection_id).update(
        access_token_encrypted=access_encrypted,
        refresh_token_encrypted=encrypt_token(pair.refresh_token),
        access_token_expires_at=pair.expires_at,
        refresh_claimed_until=None,
        refresh_started_at=None,
        refresh_answer_lost_at=None,
        tokens_refreshed_at=timezone.now(),
    )
    return access_encrypted


def _hold_after_lost_answer(*, connection_id: int) -> None:
    """Keep the refresh in flight and claimed for a pause: no one presents the token sooner."""
    now = timezone.now()
    DexcomConnection.objects.filter(pk=connection_id).update(
        refresh_claimed_until=now + timedelta(seconds=_retry_pause()),
        refresh_answer_lost_at=now,
    )
    logger.warning(
        "The answer to a token refresh of connection %s was lost; trying again in %.0f s",
        connection_id,
        _retry_pause(),
    )


def mark_needs_reauth(
    *,
    connection_id: int,
    message: str = REAUTH_MESSAGE,
    reason: str = DexcomConnection.ReauthReason.WITHDRAWN,
    **kept,
) -> None:
    """Stop syncing and tell the patient; the dead tokens are deleted."""
    DexcomConnection.objects.filter(pk=connection_id).update(
        status=DexcomConnection.Status.NEEDS_REAUTH,
        reauth_reason=reason,
        last_error=message,
        access_token_encrypted="",
        refresh_token_encrypted="",
        access_token_expires_at=None,
        refresh_claimed_until=None,
        refresh_started_at=None,
        **kept,
    )


def mark_refresh_lost(*, connection_id: int) -> None:
    """The refresh token was spent by a refresh whose answer never reached us: unrecoverable,
    and not the patient's doing. The spent token stays (encrypted) for diagnosis."""
    spent = (
        DexcomConnection.objects.filter(pk=connection_id)
        .values_list("refresh_token_encrypted", flat=True)
        .first()
    )
    mark_needs_reauth(
        connection_id=connection_id,
        message=REFRESH_LOST_MESSAGE,
        reason=DexcomConnection.ReauthReason.REFRESH_LOST,
        lost_refresh_token_encrypted=spent or "",
    )


def call_with_access_token(*, connection_id: int, call, api: DexcomApi = HTTP_API):
    """`call(access_token)` with a valid token; on a 401 refresh once and retry once. `api`
    spends the refresh token when one is needed."""
    access_token, access_encrypted = current_access_token(connection_id=connection_id, api=api)
    try:
        return call(access_token)
    except client.DexcomGrantRefused:
        raise
    except client.DexcomAuthError:
        logger.info("Dexcom answered 401 for connection %s: refreshing once", connection_id)
    access_token, _ = refresh_access_token(
        connection_id=connection_id, stale_access_encrypted=access_encrypted, api=api
    )
    return call(access_token)

"""Writes of the emulator: sandbox users, grants, authorization codes and tokens.

Tokens are random strings handed out once; only their sha256 is stored (models.hash_token).
Dexcom's rules as the emulator enforces them:
- authorization codes are single use and live AUTHORIZATION_CODE_SECONDS;
- access tokens live 7200 s (`expires_in`);
- refresh tokens are single use and rotate: each refresh returns a new one, and presenting a used
  one is `invalid_grant` (dexcom-facts.md, "Refresh tokens are single-use and rotate");
- revoking a grant kills its access and refresh tokens.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.sandbox.models import AccessToken, AuthorizationCode, Grant, RefreshToken, SandboxUser, hash_token
from apps.sandbox.profiles import PROFILES

ACCESS_TOKEN_SECONDS = 7200
AUTHORIZATION_CODE_SECONDS = 600


class OAuthError(Exception):
    """An OAuth2 error as Dexcom returns it: {"error": code} with an HTTP status."""

    def __init__(self, error: str, description: str, *, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    grant: Grant

    def as_response(self) -> dict:
        """The token response body, shaped like Dexcom's (extra keys from the swaggerV3 sample)."""
        return {
            "access_token": self.access_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
            "refresh_token": self.refresh_token,
            "refresh_expires_in": 0,
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": "offline_access",
        }


def ensure_sandbox_users() -> list[SandboxUser]:
    """Create the sandbox users of profiles.PROFILES that are missing; safe to call any time."""
    existing = {user.key: user for user in SandboxUser.objects.all()}
    for profile in PROFILES:
        if profile.key not in existing:
            existing[profile.key], _ = SandboxUser.objects.get_or_create(
                key=profile.key, defaults={"description": profile.description}
            )
    return [existing[profile.key] for profile in PROFILES]


def client_secret_for(client_id: str) -> str | None:
    return settings.EMULATOR_CLIENTS.get(client_id)


def authorization_code_for(*, sandbox_user_key: str, client_id: str, redirect_uri: str) -> str:
    """What the consent page's Authorize button does: (re)activate the grant, return a new code."""
    if client_secret_for(client_id) is None:
        raise OAuthError("invalid_client", f"unknown client_id {client_id!r}", status=401)
    ensure_sandbox_users()
    sandbox_user = SandboxUser.objects.filter(key=sandbox_user_key).first()
    if sandbox_user is None:
        raise OAuthError("invalid_request", f"unknown sandbox user {sandbox_user_key!r}")
    now = timezone.now()
    grant, _ = Grant.objects.get_or_create(sandbox_user=sandbox_user, client_id=client_id)
    Grant.objects.filter(pk=grant.pk).update(revoked_at=None, authorized_at=now)
    code = secrets.token_urlsafe(24)
    AuthorizationCode.objects.create(
        grant=grant,
        code_hash=hash_token(code),
        redirect_uri=redirect_uri,
        expires_at=now + timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
    )
    return code


def authenticate_client(*, client_id: str, client_secret: str) -> None:
    expected = client_secret_for(client_id or "")
    if expected is None or not secrets.compare_digest(expected, client_secret or ""):
        raise OAuthError("invalid_client", "unknown client_id or wrong client_secret", status=401)


def _issue_tokens(grant: Grant) -> IssuedTokens:
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    AccessToken.objects.create(
        grant=grant,
        token_hash=hash_token(access),
        expires_at=timezone.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )
    RefreshToken.objects.create(grant=grant, token_hash=hash_token(refresh))
    return IssuedTokens(access, refresh, grant)


@transaction.atomic
def exchange_authorization_code(*, client_id: str, code: str, redirect_uri: str) -> IssuedTokens:
    row = AuthorizationCode.objects.select_related("grant").filter(code_hash=hash_token(code or "")).first()
    now = timezone.now()
    if row is None or row.grant.client_id != client_id:
        raise OAuthError("invalid_grant", "unknown authorization code")
    if row.expires_at <= now:
        raise OAuthError("invalid_grant", "authorization code expired")
    if row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the one used at login")
    if row.grant.revoked_at is not None:
        raise OAuthError("invalid_grant", "the user revoked this authorization")
    # Claim the code with a conditional UPDATE so two racing exchanges cannot both win.
    if not AuthorizationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise OAuthError("invalid_grant", "authorization code already used")
    return _issue_tokens(row.grant)


@transaction.atomic
def refresh_tokens(*, client_id: str, refresh_token: str) -> IssuedTokens:
    row = (
        RefreshToken.objects.select_related("grant")
        .filter(token_hash=hash_token(refresh_token or ""))
        .first()
    )
    if row is None or row.grant.client_id != client_id:
        raise OAuthError("invalid_grant", "unknown refresh token")
    if row.grant.revoked_at is not None:
        raise OAuthError("invalid_grant", "the user revoked this authorization")
    if not RefreshToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise OAuthError("invalid_grant", "refresh token already used (refresh tokens are single use)")
    return _issue_tokens(row.grant)


def grant_for_token(grant_type: str, token: str) -> Grant | None:
    """The grant a code or refresh token belongs to, without using it (for fault matching)."""
    model = AuthorizationCode if grant_type == "authorization_code" else RefreshToken
    field = "code_hash" if model is AuthorizationCode else "token_hash"
    row = (
        model.objects.select_related("grant__sandbox_user").filter(**{field: hash_token(token or "")}).first()
    )
    return row.grant if row else None


def grant_for_access_token(token: str) -> Grant | None:
    """The live grant of a valid, unexpired access token, or None (a 401)."""
    row = (
        AccessToken.objects.select_related("grant__sandbox_user")
        .filter(token_hash=hash_token(token), expires_at__gt=timezone.now(), grant__revoked_at__isnull=True)
        .first()
    )
    return row.grant if row else None


def revoke_grant(*, grant_id: int) -> None:
    """The user withdraws the app's access: every token of the grant stops working at once."""
    now = timezone.now()
    with transaction.atomic():
        Grant.objects.filter(pk=grant_id).update(revoked_at=now)
        AccessToken.objects.filter(grant_id=grant_id, expires_at__gt=now).update(expires_at=now)
        RefreshToken.objects.filter(grant_id=grant_id, used_at__isnull=True).update(used_at=now)


def expire_access_tokens(*, sandbox_user_key: str | None = None) -> int:
    """Make current access tokens expired now (all, or one sandbox user's); returns how many."""
    now = timezone.now()
    tokens = AccessToken.objects.filter(expires_at__gt=now)
    if sandbox_user_key is not None:
        tokens = tokens.filter(grant__sandbox_user__key=sandbox_user_key)
    return tokens.update(expires_at=now - timedelta(seconds=1))

"""What the Dexcom API emulator keeps in the database.

Glucose data is not stored: it is generated on demand from each sandbox user's profile (see
apps/sandbox/generator/). The database holds only what has to survive across processes (the live-server
thread of a test, a Celery worker, the web server): who authorized which client, the tokens
(as sha256 hashes, never in clear), injected faults, the rate-limit counters and recorded traces
loaded from CSV files.
"""

import hashlib

from django.db import models
from django.utils import timezone


def hash_token(token: str) -> str:
    """Tokens are looked up by their sha256, so a leaked database does not leak working tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


class SandboxUser(models.Model):
    """A Dexcom account of the emulator; its data comes from the profile with the same key."""

    key = models.CharField(max_length=32, unique=True, help_text='e.g. "SandboxUser1"')
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.key


class Grant(models.Model):
    """A sandbox user's authorization of one client app; revoking it kills every token."""

    sandbox_user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="grants")
    client_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    authorized_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sandbox_user", "client_id"], name="sandbox_grant_unique")
        ]

    def __str__(self):
        return f"{self.sandbox_user.key} -> {self.client_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuthorizationCode(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.CharField(max_length=2000)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class AccessToken(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)


class RefreshToken(models.Model):
    """Single use: `used_at` is set when it is exchanged; a second exchange is invalid_grant."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Fault(models.Model):
    """An injected failure, consumed by the next matching API calls (see faults.py)."""

    KINDS = [
        ("rate_limit", "429 with Retry-After"),
        ("server_error", "500"),
        ("unavailable", "503"),
        ("slow", "slow response"),
        ("malformed_json", "truncated JSON body"),
        ("bad_records", "records with missing / out-of-range / unknown values"),
        ("revoked", "grant revoked"),
        ("forbidden", "403: access to the data refused"),
        ("lost_answer", "token endpoint: new pair issued, answer lost"),
    ]

    kind = models.CharField(max_length=32, choices=KINDS)
    endpoint = models.CharField(max_length=32, default="*", help_text='"*", "token" or a data endpoint')
    sandbox_user_key = models.CharField(max_length=32, blank=True, help_text="empty: any user")
    remaining = models.IntegerField(null=True, blank=True, help_text="empty: until cleared")
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} on {self.endpoint} ({'∞' if self.remaining is None else self.remaining} left)"


class RateCounter(models.Model):
    """Calls of one client in one clock hour, for the app-wide limit (Dexcom: 60,000 per hour)."""

    client_id = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "window_start"], name="sandbox_rate_window")
        ]


class RecordedTrace(models.Model):
    """A CSV trace loaded into a sandbox user: inside [start, end] it replaces the synthetic EGVs."""

    sandbox_user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="traces")
    source_name = models.CharField(max_length=300)
    start = models.DateTimeField()
    end = models.DateTimeField()
    loaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.sandbox_user.key}: {self.source_name}"


class RecordedReading(models.Model):
    trace = models.ForeignKey(RecordedTrace, on_delete=models.CASCADE, related_name="readings")
    sandbox_user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    system_time = models.DateTimeField()
    value = models.SmallIntegerField(help_text="mg/dL; 39 = below 40, 401 = above 400")

    class Meta:
        indexes = [models.Index(fields=["sandbox_user", "system_time"], name="sandbox_reading_time")]

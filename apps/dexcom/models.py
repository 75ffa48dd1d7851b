"""A patient's link to their Dexcom account. Tokens are stored only encrypted (see crypto.py)."""

from datetime import timedelta

from django.conf import settings
from django.db import models

NO_NEW_READINGS_NOTICE = timedelta(hours=1)


class DexcomConnection(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authorization"
        DISCONNECTED = "disconnected", "Disconnected"

    class ReauthReason(models.TextChoices):
        WITHDRAWN = "withdrawn", "Permission withdrawn or expired"
        REFRESH_LOST = "refresh_lost", "Connection lost during a token refresh"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dexcom_connection"
    )
    dexcom_user_id = models.CharField(max_length=128, blank=True, db_index=True)
    base_url = models.CharField(max_length=200, help_text="Dexcom host the tokens belong to")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Fernet tokens (MultiFernet over TOKEN_ENCRYPTION_KEYS); never the clear value.
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    # A refresh in progress: other workers wait for it instead of spending the single-use token.
    refresh_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Set before the refresh token is sent, cleared once Dexcom's answer is stored: still set
    # when the next refresh starts means the last answer was lost (worker killed, connection
    # dropped, garbled body) and the refresh token may already be spent.
    refresh_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the last refresh's answer was lost; the token is not presented again before a pause.
    refresh_answer_lost_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why the connection needs re-authorization, so the patient and admins are told the truth.
    reauth_reason = models.CharField(max_length=16, choices=ReauthReason.choices, blank=True)
    # The refresh token presented when the connection was lost, still encrypted, for diagnosis
    # with Dexcom support; never shown, deleted on reconnect or disconnect.
    lost_refresh_token_encrypted = models.TextField(blank=True, editable=False)
    # One sync at a time per connection: a lease that simply expires if its worker dies.
    sync_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    sync_lease_owner = models.CharField(max_length=64, blank=True, editable=False)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    # When a sync last brought readings we did not hold: a sync can succeed every few minutes
    # while Dexcom sends nothing new (sensor off, phone offline), and the page must say so.
    last_data_at = models.DateTimeField(null=True, blank=True)
    last_sync_attempt_at = models.DateTimeField(null=True, blank=True)
    # When beat last queued a sync: at most one queued per interval slot, however many beats run.
    tokens_refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, help_text="in plain words, shown to the patient")
    backfill_total_days = models.IntegerField(default=0)
    backfill_done_days = models.IntegerField(default=0)
    backfill_completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Dexcom connection of {self.user}"

    @property
    def backfill_percent(self) -> int:
        if self.backfill_completed_at:
            return 100
        if not self.backfill_total_days:
            return 0
        return min(99, round(100 * self.backfill_done_days / self.backfill_total_days))

    @property
    def is_syncing_enabled(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def has_tokens(self) -> bool:
        return bool(self.refresh_token_encrypted)

    @property
    def region(self) -> str:
        from dexweb.dexcom_regions import dexcom_region_name

        return dexcom_region_name(self.base_url)

    @property
    def is_waiting_for_data(self) -> bool:
        """Syncs succeed but bring nothing new for a while (readings normally come every 5 min)."""
        if not self.is_syncing_enabled or self.last_sync_at is None:
            return False
        quiet_since = self.last_data_at or self.connected_at
        return self.last_sync_at - quiet_since > NO_NEW_READINGS_NOTICE

    @property
    def is_backfilling(self) -> bool:
        return self.is_syncing_enabled and self.backfill_completed_at is None

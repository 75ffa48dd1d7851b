"""Who a patient shares their data with, and the trail of every look at it.

A share grants one clinician, or every clinician of a clinic, read access to a patient's pages
until it expires or someone revokes it. Grants are read from the database on every request
(apps.sharing.access), so a revocation takes effect on the very next request.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def token_hash(raw: str) -> str:
    """The stored form of an invitation token or share code: a stolen table grants nothing."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Clinic(models.Model):
    """A group of clinicians; a patient can share with all of them at once."""

    name = models.CharField(max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="clinics",
        blank=True,
        limit_choices_to={"role": "clinician"},
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ShareQuerySet(models.QuerySet):
    def active(self, *, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def reaching(self, viewer):
        """Shares that reach `viewer`: made to them directly or to a clinic they belong to."""
        return self.filter(Q(clinician=viewer) | Q(clinic__members=viewer))


class Share(models.Model):
    """A patient's grant to a clinician or a clinic. Active = not revoked and not expired."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares_given"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shares_received",
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, null=True, blank=True, related_name="shares")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(clinician__isnull=False, clinic__isnull=True))
                | Q(clinician__isnull=True, clinic__isnull=False),
                name="share_one_recipient",
            ),
            # One unrevoked share per recipient: extending or renewing edits it in place.
            models.UniqueConstraint(
                fields=["patient", "clinician"],
                condition=Q(revoked_at__isnull=True, clinician__isnull=False),
                name="share_one_open_per_clinician",
            ),
            models.UniqueConstraint(
                fields=["patient", "clinic"],
                condition=Q(revoked_at__isnull=True, clinic__isnull=False),
                name="share_one_open_per_clinic",
            ),
        ]
        indexes = [
            models.Index(fields=["clinician", "patient"], name="share_clinician_patient"),
            models.Index(fields=["clinic", "patient"], name="share_clinic_patient"),
        ]

    def __str__(self):
        return f"{self.patient} → {self.recipient}"

    @property
    def recipient(self):
        return self.clinician or self.clinic

    @property
    def recipient_name(self) -> str:
        if self.clinic_id:
            return f"{self.clinic.name} (clinic)"
        return self.clinician.display_name

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired else "active"


class SingleUseSecret(models.Model):
    """What invitations and share codes have in common: a hashed secret, used once, expiring."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    share_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="expiry the share gets once accepted; empty = none"
    )
    share = models.ForeignKey(Share, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def status(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def is_usable(self) -> bool:
        return self.status == "pending"


class Invitation(SingleUseSecret):
    """An emailed link; a clinician new to dexweb signs up through it. Only the hash is kept."""

    email = models.EmailField()


class ShareCode(SingleUseSecret):
    """A short code the patient reads out or writes down; a clinician types it in."""


class ShareCodeAttempt(models.Model):
    """One code a clinician typed, kept while it counts against their attempt limit.

    In the database rather than a per-process cache, so the limit holds across web workers and
    restarts (apps.sharing.services.share_code_attempt_allowed).
    """

    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["clinician", "at"])]


class DigestSubscription(models.Model):
    """A clinician who asked for the weekly digest by email (one page per patient shared with
    them, sent by the dashboard.send_weekly_digests beat task). No row: no email."""

    clinician = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscription"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Weekly digest for {self.clinician}"


class AuditQuerySet(models.QuerySet):
    """The trail is append-only: bulk edits and deletes through the ORM are refused too.

    Deleting a patient's account still removes their entries (the deletion collector issues its
    own SQL, not these methods): the trail is theirs and goes with the rest of their data.
    """

    def update(self, **kwargs):
        raise PermissionError("audit entries are append-only")

    def delete(self):
        raise PermissionError("audit entries are append-only")


class AuditEntry(models.Model):
    """One look at a patient's data by someone else, or one change to a patient's sharing."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        SHARE_CREATED = "share_created", "Share created"
        SHARE_CHANGED = "share_changed", "Share expiry changed"
        SHARE_REVOKED = "share_revoked", "Share revoked"
        SHARE_LEFT = "share_left", "Clinician left"
        INVITATION_SENT = "invitation_sent", "Invitation sent"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        SHARE_CODE_CREATED = "share_code_created", "Share code created"
        SHARE_CODE_REVOKED = "share_code_revoked", "Share code revoked"
        SHARE_CODE_USED = "share_code_used", "Share code used"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as text so the entry still says who it was after their account is gone.
    actor_email = models.CharField(max_length=254, blank=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audit_entries"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    page = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["patient", "at"], name="audit_patient_at"),
            models.Index(fields=["actor", "page", "at"], name="audit_actor_page_at"),
        ]
        permissions = [
            ("view_all_patient_data", "Can view every patient's data (staff support)"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.page}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit entries are append-only")

"""dexweb's user: one account per person, signing in with an email address."""

import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", User.Role.ADMIN)
        user = self._create_user(email, password, **extra_fields)
        _trust_email_address(user)
        return user


def _trust_email_address(user) -> None:
    """A superuser is made at the server's shell (createsuperuser) by its operator: the address
    they typed is taken as verified, so the first sign-in is not held up by a confirmation email
    that a new deployment may not be able to send yet."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class User(AbstractUser):
    class Role(models.TextChoices):
        PATIENT = "patient", "Patient"
        CLINICIAN = "clinician", "Clinician"
        ADMIN = "admin", "Administrator"

    class GlucoseUnit(models.TextChoices):
        AUTO = "", "As on my Dexcom device"
        MGDL = "mg/dL", "mg/dL"
        MMOLL = "mmol/L", "mmol/L"

    username = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="Used where a Dexcom record carries no UTC offset (receivers).",
    )
    glucose_unit = models.CharField(
        max_length=8, choices=GlucoseUnit.choices, default=GlucoseUnit.AUTO, blank=True
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def is_clinician(self) -> bool:
        return self.role == self.Role.CLINICIAN

    @property
    def is_patient(self) -> bool:
        return self.role == self.Role.PATIENT

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zone_named(self.timezone)


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """A user's zone from its stored name (UTC when the name is unknown): for rows that carry
    the name without the user, as a triage snapshot does."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")

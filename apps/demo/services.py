"""The demo's people and what links them: three sign-ins, a connected Dexcom account, a share.

Every step is safe to repeat, because run_demo seeds on every start: existing rows are reused,
never duplicated.
"""

import time
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction

from apps.accounts.models import User
from apps.demo.emulator_consent import authorization_code_from_emulator
from apps.dexcom.models import DexcomConnection
from apps.dexcom.services import connect_with_authorization_code
from apps.sharing.audit_context import AuditContext
from apps.sharing.selectors import patient_visible_to
from apps.sharing.services import share_create
from apps.sync.services import backfill_connection

DEMO_PASSWORD = "glucose-demo-2026"
DEMO_SANDBOX_USER_KEY = "SandboxUser1"
# Clinicians and admins must sign in with a second factor (apps.accounts.middleware). The demo
# gives them this TOTP secret: add it to an authenticator app, or run `manage.py demo_totp`.
DEMO_TOTP_SECRET = "DEXWEBDEMOTOTPKEYDEXWEBDEMOTOTPK"


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str
    full_name: str
    timezone: str
    superuser: bool = False
    about: str = ""

    @property
    def needs_totp(self) -> bool:
        return self.role in (User.Role.CLINICIAN, User.Role.ADMIN) or self.superuser


DEMO_PATIENT = DemoUser(
    email="patient@example.com",
    role=User.Role.PATIENT,
    full_name="Pat Example",
    timezone="America/New_York",
    about=f"the demo patient (emulator user {DEMO_SANDBOX_USER_KEY})",
)
DEMO_CLINICIAN = DemoUser(
    email="clinician@example.com",
    role=User.Role.CLINICIAN,
    full_name="Dr. Casey Morgan",
    timezone="America/New_York",
    about="a clinician the demo patient shares with",
)
DEMO_ADMIN = DemoUser(
    email="admin@example.com",
    role=User.Role.ADMIN,
    full_name="Ada Admin",
    timezone="UTC",
    superuser=True,
    about="superuser, also for /admin/",
)
DEMO_USERS = (DEMO_PATIENT, DEMO_CLINICIAN, DEMO_ADMIN)


@dataclass(frozen=True)
class StepResult:
    """What one seeding step did, in words run_demo prints."""

    done: bool
    message: str


@transaction.atomic
def demo_user_ensure(spec: DemoUser, *, password: str = DEMO_PASSWORD) -> tuple[User, str]:
    """The demo user for `spec`, created if missing; returns (user, "created" | "exists" | ...)."""
    user = User.objects.filter(email__iexact=spec.email).first()
    if user is None:
        user = _demo_user_create(spec, password=password)
        state = "created"
    else:
        state = _demo_user_repair(user, spec, password=password)
    _verified_email_ensure(user)
    if spec.needs_totp and _demo_totp_ensure(user):
        state += ", TOTP added"
    return user, state


def _demo_user_create(spec: DemoUser, *, password: str) -> User:
    create = User.objects.create_superuser if spec.superuser else User.objects.create_user
    return create(
        email=spec.email,
        password=password,
        role=spec.role,
        full_name=spec.full_name,
        timezone=spec.timezone,
    )


def _demo_user_repair(user: User, spec: DemoUser, *, password: str) -> str:
    """Keep an existing demo user usable with the printed logins, leaving its profile alone."""
    changes = []
    if not user.check_password(password):
        user.set_password(password)
        changes.append("password reset to the demo password")
    if not user.is_active:
        user.is_active = True
        changes.append("reactivated")
    if spec.superuser and not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = True
        changes.append("superuser restored")
    if changes:
        user.save()
        return "exists, " + ", ".join(changes)
    return "exists"


def _verified_email_ensure(user: User) -> None:
    # Mandatory verification would otherwise stop the demo logins at "confirm your email".
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    if not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])


def _demo_totp_ensure(user: User) -> bool:
    """Give `user` the demo TOTP secret unless they have an authenticator; True if added."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return False
    TOTP.activate(user, DEMO_TOTP_SECRET)
    return True


def demo_totp_code(*, at: float | None = None) -> tuple[str, int]:
    """The demo secret's current TOTP code and the seconds it stays valid."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    now = time.time() if at is None else at
    counter, elapsed = divmod(int(now), app_settings.TOTP_PERIOD)
    code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))
    return code, app_settings.TOTP_PERIOD - elapsed


def connect_and_backfill_demo(*, user, sandbox_user_key: str) -> DexcomConnection:
    """Connect `user` to an emulator sandbox user and backfill now (for the demo seeder).

    The code comes from the emulator's consent page over HTTP, then the real token exchange and
    data calls, so the web server serving the emulator must be running.
    """
    code = authorization_code_from_emulator(sandbox_user_key=sandbox_user_key)
    connection = connect_with_authorization_code(user=user, code=code, start_sync=False)
    backfill_connection(connection_id=connection.pk)
    connection.refresh_from_db()
    return connection


def demo_patient_connect(patient: User, *, sandbox_user_key: str = DEMO_SANDBOX_USER_KEY) -> StepResult:
    """Connect the patient to an emulator sandbox user and backfill, unless that already happened."""
    existing = _dexcom_connection_of(patient)
    if existing is not None and _is_connected_and_backfilled(existing):
        return StepResult(True, f"already connected, {_backfill_words(existing)}; nothing to do")
    connect_and_backfill_demo(user=patient, sandbox_user_key=sandbox_user_key)
    connection = _dexcom_connection_of(patient)
    if connection is None:
        return StepResult(False, "connect_and_backfill_demo returned but left no connection")
    return StepResult(True, f"connected to {sandbox_user_key}, {_backfill_words(connection)}")


def _dexcom_connection_of(patient: User):
    return DexcomConnection.objects.filter(user=patient).first()


def _is_connected_and_backfilled(connection) -> bool:
    return (
        connection.status == DexcomConnection.Status.ACTIVE and connection.backfill_completed_at is not None
    )


def _backfill_words(connection) -> str:
    if connection.backfill_completed_at is not None:
        return f"{connection.backfill_done_days} days backfilled"
    return (
        f"backfill {connection.backfill_percent}% "
        f"({connection.backfill_done_days}/{connection.backfill_total_days} days; the worker goes on)"
    )


def demo_share_ensure(patient: User, clinician: User) -> StepResult:
    """Let the demo clinician see the demo patient, through the sharing app's own services."""
    if patient_visible_to(viewer=clinician, patient_id=patient.pk) is not None:
        return StepResult(True, f"{patient.email} already shares with {clinician.email}")
    # No request: the audit trail records the patient as the actor, without an address.
    share_create(audit=AuditContext(actor=patient), patient=patient, clinician=clinician)
    return StepResult(True, f"{patient.email} now shares with {clinician.email}")

"""Writes: shares, invitations, share codes and the audit trail.

Every change to who may see a patient's data writes an AuditEntry in the same transaction, so the
trail cannot miss a change that happened.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.sharing.audit_context import AuditContext
from apps.sharing.models import (
    AuditEntry,
    Clinic,
    DigestSubscription,
    Invitation,
    Share,
    ShareCode,
    ShareCodeAttempt,
    token_hash,
)
from apps.sync import schedule

INVITATION_LIFETIME = timedelta(days=7)
SHARE_CODE_LIFETIME = timedelta(hours=24)
# No 0/O, 1/I/L, U: the code is read aloud and typed by hand.
SHARE_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
SHARE_CODE_LENGTH = 8  # 30^8 ≈ 6.6e11, with entry attempts rate-limited per clinician
SHARE_CODE_ATTEMPTS_PER_WINDOW = 10
SHARE_CODE_ATTEMPT_WINDOW = timedelta(minutes=15)


class SharingError(Exception):
    """A sharing request that cannot be honoured; the message is shown to the user."""


# --- audit ----------------------------------------------------------------------------------------


def audit_record(
    *, audit: AuditContext, patient: User, action: str, page: str = "", detail: str = ""
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=audit.actor,
        actor_email=audit.actor.email if audit.actor else "",
        patient=patient,
        action=action,
        page=page,
        detail=detail[:500],
        **audit.entry_fields(),
    )


def audit_record_view(*, audit: AuditContext, patient: User, page: str) -> AuditEntry:
    """One look at `patient`'s `page` by the audit context's actor."""
    return audit_record(audit=audit, patient=patient, action=AuditEntry.Action.VIEW, page=page)


# Once a page of the list has marked its patients watched, each mark lasts at least half of
# schedule.WATCH_TRIAGE_LIST beyond (mark_watched renews only marks lapsing sooner), so the same
# page looked at again within these minutes needs no UPDATE.
LIST_WATCH_RENEWED_EVERY = timedelta(minutes=5)


def mark_list_watched(*, viewer_id: int, patient_ids: list[int]) -> None:
    """The patients on a clinician's page: synced at the watched pace for the next hour."""
    key = "triage-watched:" + hashlib.sha256(repr((viewer_id, sorted(patient_ids))).encode()).hexdigest()
    if cache.get(key):
        return
    schedule.mark_watched(patient_ids=patient_ids, for_how_long=schedule.WATCH_TRIAGE_LIST)
    cache.set(key, True, LIST_WATCH_RENEWED_EVERY.total_seconds())


def audit_record_list_views(
    *, audit: AuditContext, patient_ids: list[int], page: str, quiet_minutes: int = 15
):
    """Looks at many patients at once (the triage list), in one INSERT.

    A clinician reloading the list every few minutes would bury each patient's "who saw my
    data" under identical lines, so a patient already recorded for this page in the last
    `quiet_minutes` is not recorded again. Once every patient shown has such an entry, nothing
    can be recorded for the same patients until the oldest of those entries is that old: the
    cache remembers when, and the looks until then ask the database nothing.
    """
    now = timezone.now()
    quiet = timedelta(minutes=quiet_minutes)
    key = (
        "audit-quiet:"
        + hashlib.sha256(repr((audit.actor.pk, page, sorted(patient_ids))).encode()).hexdigest()
    )
    quiet_until = cache.get(key)
    if quiet_until is not None and now < quiet_until:
        return
    newest = dict(
        AuditEntry.objects.filter(
            actor=audit.actor, page=page, at__gte=now - quiet, patient_id__in=patient_ids
        )
        .values("patient_id")
        .annotate(newest=Max("at"))
        .values_list("patient_id", "newest")
    )
    fields = audit.entry_fields()
    entries = [
        AuditEntry(
            actor=audit.actor,
            actor_email=audit.actor.email,
            patient_id=patient_id,
            action=AuditEntry.Action.VIEW,
            page=page,
            at=now,
            **fields,
        )
        for patient_id in patient_ids
        if patient_id not in newest
    ]
    if entries:
        AuditEntry.objects.bulk_create(entries)
    quiet_until = min([*newest.values(), now]) + quiet
    cache.set(key, quiet_until, (quiet_until - now).total_seconds())


# --- shares ---------------------------------------------------------------------------------------


def _open_share(*, patient: User, clinician: User | None = None, clinic: Clinic | None = None):
    return (
        Share.objects.select_for_update()
        .filter(patient=patient, clinician=clinician, clinic=clinic, revoked_at__isnull=True)
        .first()
    )


@transaction.atomic
def share_create(
    *,
    audit: AuditContext,
    patient: User,
    clinician: User | None = None,
    clinic: Clinic | None = None,
    expires_at: datetime | None = None,
) -> Share:
    """Share `patient`'s data with a clinician or a clinic; renews an existing open share.

    The actor is the patient sharing, or the clinician taking an invitation or a code.
    """
    if (clinician is None) == (clinic is None):
        raise SharingError("Share with one clinician or one clinic.")
    if clinician is not None and (not clinician.is_clinician or clinician.pk == patient.pk):
        raise SharingError("Data can only be shared with a clinician.")
    share = _open_share(patient=patient, clinician=clinician, clinic=clinic)
    if share is None:
        share = Share.objects.create(
            patient=patient, clinician=clinician, clinic=clinic, expires_at=expires_at
        )
        action = AuditEntry.Action.SHARE_CREATED
    else:
        share.expires_at = expires_at
        share.save(update_fields=["expires_at"])
        action = AuditEntry.Action.SHARE_CHANGED
    audit_record(
        audit=audit,
        patient=patient,
        action=action,
        detail=f"with {share.recipient_name}; {_expiry_words(expires_at)}",
    )
    return share


@transaction.atomic
def share_set_expiry(*, audit: AuditContext, share: Share, expires_at: datetime | None) -> Share:
    share.expires_at = expires_at
    share.save(update_fields=["expires_at"])
    audit_record(
        audit=audit,
        patient=share.patient,
        action=AuditEntry.Action.SHARE_CHANGED,
        detail=f"with {share.recipient_name}; {_expiry_words(expires_at)}",
    )
    return share


@transaction.atomic
def share_revoke(*, audit: AuditContext, share: Share) -> Share:
    """End a share now. The patient revokes; a clinician (or clinic member) 'leaves'."""
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.revoked_by = audit.actor
        share.save(update_fields=["revoked_at", "revoked_by"])
        by_patient = audit.actor is not None and audit.actor.pk == share.patient_id
        audit_record(
            audit=audit,
            patient=share.patient,
            action=AuditEntry.Action.SHARE_REVOKED if by_patient else AuditEntry.Action.SHARE_LEFT,
            detail=f"with {share.recipient_name}",
        )
    return share


def _expiry_words(expires_at: datetime | None) -> str:
    return f"until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "no expiry"


# --- invitations ----------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *, audit: AuditContext, site_url: str, patient: User, email: str, share_expires_at: datetime | None = None
) -> tuple[Invitation, str]:
    """A new invitation and its one-time token (only its hash is stored), emailed to `email`.

    site_url ("https://host", no trailing slash) is where the emailed link points.
    """
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        patient=patient,
        email=email.strip().lower(),
        secret_hash=token_hash(token),
        expires_at=timezone.now() + INVITATION_LIFETIME,
        share_expires_at=share_expires_at,
    )
    audit_record(
        audit=audit,
        patient=patient,
        action=AuditEntry.Action.INVITATION_SENT,
        detail=f"to {invitation.email}",
    )
    link = site_url + reverse("sharing:invitation", args=[token])
    transaction.on_commit(lambda: _send_invitation_email(invitation=invitation, link=link))
    return invitation, token


def _send_invitation_email(*, invitation: Invitation, link: str) -> None:
    context = {"invitation": invitation, "patient": invitation.patient, "link": link}
    send_mail(
        subject=f"{invitation.patient.display_name} invites you to see their glucose data",
        message=render_to_string("sharing/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("patient").filter(secret_hash=token_hash(token)).first()


@transaction.atomic
def invitation_accept(*, audit: AuditContext, invitation: Invitation, clinician: User) -> Share:
    """The clinician behind the link takes the invitation: it becomes a share, once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise SharingError(f"This invitation is {invitation.status}.")
    share = share_create(
        audit=audit,
        patient=invitation.patient,
        clinician=clinician,
        expires_at=invitation.share_expires_at,
    )
    _mark_used(invitation, by=clinician, share=share)
    audit_record(
        audit=audit,
        patient=invitation.patient,
        action=AuditEntry.Action.INVITATION_ACCEPTED,
        detail=f"sent to {invitation.email}",
    )
    return share


@transaction.atomic
def invitation_revoke(*, audit: AuditContext, invitation: Invitation) -> Invitation:
    _revoke_unused(
        invitation, audit=audit, action=AuditEntry.Action.INVITATION_REVOKED, detail=f"to {invitation.email}"
    )
    return invitation


def _revoke_unused(secret, *, audit: AuditContext, action: str, detail: str = "") -> None:
    """An invitation or share code not used nor revoked yet is revoked, once, and audited."""
    if secret.revoked_at is None and secret.used_at is None:
        secret.revoked_at = timezone.now()
        secret.save(update_fields=["revoked_at"])
        audit_record(audit=audit, patient=secret.patient, action=action, detail=detail)


def _mark_used(secret, *, by: User, share: Share) -> None:
    secret.used_at = timezone.now()
    secret.used_by = by
    secret.share = share
    secret.save(update_fields=["used_at", "used_by", "share"])


# --- share codes ----------------------------------------------------------------------------------


def normalize_share_code(raw: str) -> str:
    """What the clinician typed, as stored: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def format_share_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@transaction.atomic
def share_code_create(
    *, audit: AuditContext, patient: User, share_expires_at: datetime | None = None
) -> tuple[ShareCode, str]:
    """A new share code and its clear text (shown once; only its hash is stored)."""
    code = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _ in range(SHARE_CODE_LENGTH))
    share_code = ShareCode.objects.create(
        patient=patient,
        secret_hash=token_hash(code),
        expires_at=timezone.now() + SHARE_CODE_LIFETIME,
        share_expires_at=share_expires_at,
    )
    audit_record(audit=audit, patient=patient, action=AuditEntry.Action.SHARE_CODE_CREATED)
    return share_code, format_share_code(code)


def share_code_attempt_allowed(*, clinician_id: int) -> bool:
    """Count one share-code attempt by the clinician; False once they are over the limit.

    Race-safe without a lock: each attempt is inserted (and committed, outside a transaction)
    before the attempts in the window are counted, so the n-th attempt to commit sees at least n
    and no more than SHARE_CODE_ATTEMPTS_PER_WINDOW attempts pass, however many run at once (a
    burst may refuse one early, having counted later ones: the safe side).
    Attempts refused up front are not stored, so hammering cannot grow the table.
    """
    now = timezone.now()
    mine = ShareCodeAttempt.objects.filter(clinician_id=clinician_id)
    mine.filter(at__lte=now - SHARE_CODE_ATTEMPT_WINDOW).delete()  # out of the window: forget
    in_window = mine.filter(at__gt=now - SHARE_CODE_ATTEMPT_WINDOW)
    if in_window.count() >= SHARE_CODE_ATTEMPTS_PER_WINDOW:
        return False
    ShareCodeAttempt.objects.create(clinician_id=clinician_id, at=now)
    return in_window.count() <= SHARE_CODE_ATTEMPTS_PER_WINDOW


@transaction.atomic
def share_code_redeem(*, audit: AuditContext, clinician: User, code: str) -> Share:
    """A clinician enters a code: it becomes a share with them, once."""
    share_code = (
        ShareCode.objects.select_for_update()
        .filter(secret_hash=token_hash(normalize_share_code(code)))
        .first()
    )
    if share_code is None or not share_code.is_usable:
        # One message for unknown, used and expired codes: nothing to learn by guessing.
        raise SharingError("This code is not valid. Codes can be used once and expire after 24 hours.")
    share = share_create(
        audit=audit,
        patient=share_code.patient,
        clinician=clinician,
        expires_at=share_code.share_expires_at,
    )
    _mark_used(share_code, by=clinician, share=share)
    audit_record(
        audit=audit,
        patient=share_code.patient,
        action=AuditEntry.Action.SHARE_CODE_USED,
    )
    return share


@transaction.atomic
def share_code_revoke(*, audit: AuditContext, share_code: ShareCode) -> ShareCode:
    _revoke_unused(share_code, audit=audit, action=AuditEntry.Action.SHARE_CODE_REVOKED)
    return share_code


# --- weekly digest --------------------------------------------------------------------------------


def digest_subscribe(*, clinician: User, subscribed: bool) -> bool:
    """Turn the clinician's weekly digest email on or off; returns whether it is on."""
    if subscribed:
        DigestSubscription.objects.get_or_create(clinician=clinician)
    else:
        DigestSubscription.objects.filter(clinician=clinician).delete()
    return subscribed

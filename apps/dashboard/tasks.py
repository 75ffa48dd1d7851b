"""The weekly clinician digest by email: beat queues one task per subscribed clinician.

Idempotent: a clinician sent a digest in the last DIGEST_MIN_GAP is skipped, so a duplicate
delivery or a second beat sends nothing twice. Database and broker blips are retried with
backoff like every task (apps.sync.tasks.OUTAGE_RETRY).
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.dashboard import digest
from apps.sharing import selectors
from apps.sharing.models import DigestSubscription
from apps.sync.tasks import OUTAGE_RETRY

logger = logging.getLogger(__name__)

DIGEST_MIN_GAP = timedelta(days=6)


@shared_task(name="dashboard.send_weekly_digests", **OUTAGE_RETRY)
def send_weekly_digests() -> int:
    """Queue one digest per subscribed clinician; returns how many were queued."""
    ids = list(selectors.digest_subscribers().values_list("pk", flat=True))
    for clinician_id in ids:
        send_digest.delay(clinician_id)
    return len(ids)


@shared_task(name="dashboard.send_digest", acks_late=True, reject_on_worker_lost=True, **OUTAGE_RETRY)
def send_digest(clinician_id: int) -> bool:
    """Build and email one clinician's digest (PDF attached); False when nothing was sent."""
    now = timezone.now()
    with transaction.atomic():
        subscription = (
            DigestSubscription.objects.select_for_update().filter(clinician_id=clinician_id).first()
        )
        if subscription is None or (
            subscription.last_sent_at and now - subscription.last_sent_at < DIGEST_MIN_GAP
        ):
            return False
        clinician = User.objects.get(pk=clinician_id)
        patients = digest.digest_patients(clinician=clinician, now=now)
        body = digest.digest_pdf(clinician=clinician, patients=patients, now=now)
        flagged = sum(1 for p in patients if p.row.flags)
        message = EmailMessage(
            subject=f"dexweb weekly digest: {len(patients)} patients, {flagged} flagged",
            body=(
                f"Your weekly digest is attached: one page per patient who shares their data with you "
                f"({len(patients)}, {flagged} with a flag this week).\n\n"
                "Turn this email off on the digest page of dexweb."
            ),
            to=[clinician.email],
        )
        message.attach(f"dexweb-digest-{now:%Y-%m-%d}.pdf", body, "application/pdf")
        message.send()
        digest.record_digest_views(clinician=clinician, patients=patients, how="weekly digest email")
        subscription.last_sent_at = now
        subscription.save(update_fields=["last_sent_at"])
    logger.info("digest sent to clinician %s: %s patients", clinician_id, len(patients))
    return True

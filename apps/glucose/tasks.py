"""Celery tasks of apps.glucose: take ids, call a service."""

from celery import shared_task
from django.db import transaction

from apps.glucose.clarity import jobs


@shared_task(acks_late=True)
def run_clarity_import_task(job_id: int) -> None:
    """Import an uploaded Clarity export (apps.glucose.clarity.jobs)."""
    jobs.clarity_job_run(job_id=job_id)


def queue_clarity_import(*, patient, upload, timezone_name: str):
    """Store an uploaded Clarity export as a job and queue its import once the job is committed."""
    job = jobs.clarity_job_create(patient=patient, upload=upload, timezone_name=timezone_name)
    transaction.on_commit(lambda: run_clarity_import_task.delay(job.pk))
    return job

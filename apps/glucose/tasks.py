"""Celery tasks of apps.glucose: take ids, call a service."""

from celery import shared_task

from apps.glucose.clarity import jobs


@shared_task(acks_late=True)
def run_clarity_import_task(job_id: int) -> None:
    """Import an uploaded Clarity export (apps.glucose.clarity.jobs)."""
    jobs.clarity_job_run(job_id=job_id)

"""The Clarity import pages' reads: a patient's recent import jobs, and one of them."""

from apps.glucose.models import ClarityImportJob

RECENT_JOBS = 5


def recent_import_jobs(*, patient) -> list[ClarityImportJob]:
    return list(ClarityImportJob.objects.filter(patient=patient).order_by("-created_at")[:RECENT_JOBS])


def import_job_of(*, patient, job_id: int) -> ClarityImportJob | None:
    """The patient's job, or None (someone else's job is as unknown as a missing one)."""
    return ClarityImportJob.objects.filter(pk=job_id, patient=patient).first()

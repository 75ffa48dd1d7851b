"""An uploaded Clarity export becomes a ClarityImportJob, run by a Celery task.

The web request only streams the upload (Django has spooled it to a temporary file) into a
gzip-compressed copy in the job row and queues the task; the worker reads it back as a stream,
so neither process holds the file's rows in memory.
"""

import gzip
import io
import logging
import zlib
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.glucose.clarity.importer import ClarityRefused, import_clarity_file
from apps.glucose.clarity.rows import ClarityFormatError
from apps.glucose.models import ClarityImportJob

logger = logging.getLogger(__name__)
GZIP_WBITS = 31  # zlib's gzip container
Status = ClarityImportJob.Status


def _gzip_chunks(chunks) -> bytearray:
    """The gzip of the chunks, built in one buffer (no list of parts joined into a copy)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, GZIP_WBITS)
    compressed = bytearray()
    for chunk in chunks:
        compressed += compressor.compress(chunk)
    compressed += compressor.flush()
    return compressed


def clarity_job_create(*, patient, upload, timezone_name: str) -> ClarityImportJob:
    """Store the upload (an UploadedFile) and queue its import once the row is committed."""
    from apps.glucose.tasks import run_clarity_import_task

    job = ClarityImportJob.objects.create(
        patient=patient, file_name=upload.name[:255], file_size=upload.size,
        timezone=timezone_name, upload=_gzip_chunks(upload.chunks()),
    )
    transaction.on_commit(lambda: run_clarity_import_task.delay(job.pk))
    return job


def _claimable():
    """Queued jobs, and jobs whose worker died: the task time limit has passed since they
    started. Running one again is safe: the write is one transaction, so a dead worker left
    nothing behind."""
    abandoned = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return Q(status=Status.QUEUED) | Q(
        status__in=[Status.CHECKING, Status.SAVING], started_at__lt=abandoned
    )


def clarity_job_run(*, job_id: int) -> None:
    """Run a queued job; a second delivery of the same job finds it claimed and does nothing."""
    claimed = ClarityImportJob.objects.filter(_claimable(), pk=job_id).update(
        status=Status.CHECKING, started_at=timezone.now(), progress=0
    )
    if not claimed:
        return
    job = ClarityImportJob.objects.select_related("patient").get(pk=job_id)
    try:
        result = _import(job)
    except ClarityRefused as error:
        _finish(job, Status.REFUSED, message=str(error), result={"problems": error.problems})
    except ClarityFormatError as error:
        _finish(job, Status.REFUSED, message=str(error))
    except Exception:
        logger.exception("Clarity import job %s failed", job_id)
        _finish(job, Status.FAILED, message="The import failed on our side; nothing was imported.")
        raise
    else:
        _finish(job, Status.DONE, message=result.summary(), result=result.as_dict())


def _import(job: ClarityImportJob):
    stream = gzip.GzipFile(fileobj=io.BytesIO(bytes(job.upload)), mode="rb")
    return import_clarity_file(
        patient=job.patient, stream=stream, tzinfo=zoneinfo.ZoneInfo(job.timezone),
        size=job.file_size, progress=_progress_writer(job.pk),
    )


def _progress_writer(job_id: int):
    """Progress goes to the row as the file is checked. Saving happens in one transaction,
    whose writes no one else sees before it commits, so that stage is shown without a number."""
    last = [-1]

    def write(stage: str, fraction: float) -> None:
        if stage == "saving":
            ClarityImportJob.objects.filter(pk=job_id).update(status=Status.SAVING, progress=100)
            return
        percent = min(99, int(fraction * 100))
        if percent > last[0]:
            last[0] = percent
            ClarityImportJob.objects.filter(pk=job_id).update(progress=percent)

    return write


def _finish(job: ClarityImportJob, status: str, *, message: str, result: dict | None = None) -> None:
    ClarityImportJob.objects.filter(pk=job.pk).update(
        status=status, message=message, result=result or {}, upload=None,
        finished_at=timezone.now(), progress=100 if status == Status.DONE else job.progress,
    )

"""An uploaded Clarity export becomes a ClarityImportJob, run by a Celery task.

The web request only streams the upload (Django has spooled it to a temporary file) into
compressed ClarityUploadChunk rows and queues the task; the worker reads the chunks back one at
a time as a stream, so neither process holds more than one piece of the file in memory.
"""

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
from apps.glucose.models import ClarityImportJob, ClarityUploadChunk

logger = logging.getLogger(__name__)
CHUNK_BYTES = 1024 * 1024
Status = ClarityImportJob.Status


def _store_upload(job: ClarityImportJob, upload) -> None:
    for index, piece in enumerate(upload.chunks(chunk_size=CHUNK_BYTES)):
        ClarityUploadChunk.objects.create(job=job, index=index, data=zlib.compress(piece, 6))


class UploadReader(io.RawIOBase):
    """The stored upload as a binary stream: one decompressed chunk in memory at a time.
    Seeks only back to the start (the importer reads the file twice)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("an upload can only be read again from the start")
        self._index, self._piece, self._at, self._position = 0, b"", 0, 0
        return 0

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer) -> int:
        if self._at >= len(self._piece) and not self._next_piece():
            return 0
        count = min(len(buffer), len(self._piece) - self._at)
        buffer[:count] = self._piece[self._at : self._at + count]
        self._at += count
        self._position += count
        return count

    def _next_piece(self) -> bool:
        data = (
            ClarityUploadChunk.objects.filter(job_id=self.job_id, index=self._index)
            .values_list("data", flat=True)
            .first()
        )
        if data is None:
            return False
        self._piece, self._at, self._index = zlib.decompress(data), 0, self._index + 1
        return True


def clarity_job_create(*, patient, upload, timezone_name: str) -> ClarityImportJob:
    """Store the upload (an UploadedFile) as a job waiting to run (tasks.queue_clarity_import
    creates and queues it)."""
    with transaction.atomic():
        job = ClarityImportJob.objects.create(
            patient=patient,
            file_name=upload.name[:255],
            file_size=upload.size,
            timezone=timezone_name,
        )
        _store_upload(job, upload)
    return job


def _claimable():
    """Queued jobs, and jobs whose worker died: the task time limit has passed since they
    started. Running one again is safe: the write is one transaction, so a dead worker left
    nothing behind."""
    abandoned = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return Q(status=Status.QUEUED) | Q(status__in=[Status.CHECKING, Status.SAVING], started_at__lt=abandoned)


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
    stream = io.BufferedReader(UploadReader(job.pk), buffer_size=64 * 1024)
    return import_clarity_file(
        patient=job.patient,
        stream=stream,
        tzinfo=zoneinfo.ZoneInfo(job.timezone),
        size=job.file_size,
        progress=_progress_writer(job.pk),
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
        status=status,
        message=message,
        result=result or {},
        finished_at=timezone.now(),
        progress=100 if status == Status.DONE else job.progress,
    )
    ClarityUploadChunk.objects.filter(job_id=job.pk).delete()  # the data is in the records now

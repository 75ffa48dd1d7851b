"""Bench: a 1,000,000-row Dexcom Clarity export through the upload view and the import task.

    .venv/bin/python bench/clarity_import.py [--rows 1000000] [--accept-rows 300000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dexweb_bench_clarity .venv/bin/python bench/clarity_import.py

Writes a real-layout export (header, patient/device/alert rows, EGVs every 5 minutes with Low and
High, transmitter time and id), then runs each step in a fresh process and prints its wall time
and peak RSS (resource.getrusage ru_maxrss):

  upload-refused  POST of the file to the import view with the default size limit: refused from
                  its Content-Length (413), nothing read.
  upload-45MB     a 45 MB export (650,000 rows) under the default 50 MB limit: stored.
  upload-stored   the 1,000,000-row POST with the limit raised: Django spools the body to a temporary
                  file, the view streams it into compressed 1 MB chunks of a ClarityImportJob.
  task-refused    the Celery task's work on that job: refused after CLARITY_IMPORT_MAX_ROWS rows,
                  nothing written.
  task-imported   the task on a file of --accept-rows rows (the most the default limit accepts):
                  every reading checked, written in one transaction, summaries rebuilt.
Target: every step within 60 s and 150 MB RSS.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(os.environ.get("DEXWEB_VAR_DIR", "/tmp/dexweb-clarity-bench"))
os.environ.setdefault("DEXWEB_VAR_DIR", str(WORK))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
os.environ.setdefault("AXES_ENABLED", "false")
os.environ.setdefault(
    "DEBUG", "false"
)  # as in production: DEBUG keeps every query (and the upload) in memory
EMAIL = "clarity-bench@example.com"
BOUNDARY = "dexweb-bench-boundary"
HEADER = (
    "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,"
    "Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),"
    "Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),"
    "Transmitter ID\r\n"
)
PREAMBLE = [
    ",,FirstName,,Bench,,,,,,,,,",
    ",,LastName,,Patient,,,,,,,,,",
    ',,Device,,,"Dexcom G6 Mobile App, Android",Android G6,,,,,,,',
    ",,Alert,High,,,Android G6,250,,,00:00:00,,,",
    ",,Alert,Low,,,Android G6,70,,,00:00:00,,,",
    ",,Alert,Urgent Low,,,Android G6,55,,,00:00:00,,,",
    ",,Alert,Rise,,,Android G6,,,,00:00:00,3,,",
    ",,Alert,Fall,,,Android G6,,,,00:00:00,-2,,",
    ",,Alert,Signal Loss,,,Android G6,,,,00:20:00,,,",
]


def write_export(path: Path, rows: int) -> None:
    """`rows` EGVs every 5 minutes (UTC wall clock: the bench reads the file in UTC), ending an
    hour ago; a new transmitter every 90 days."""
    start = datetime.now(UTC).replace(microsecond=0, tzinfo=None) - timedelta(minutes=5 * rows + 60)
    with open(path, "w", newline="") as out:
        out.write(HEADER)
        out.writelines(f"{n}{line}\r\n" for n, line in enumerate(PREAMBLE, start=1))
        index, step = len(PREAMBLE) + 1, timedelta(minutes=5)
        for i in range(rows):
            at = start + step * i
            value = "Low" if i % 997 == 0 else "High" if i % 991 == 0 else 60 + (i * 37) % 300
            transmitter = f"8G{i // 25920:04d}"
            out.write(
                f"{index + i},{at:%Y-%m-%dT%H:%M:%S},EGV,,,,Android G6,{value},,,,"
                f"{((i % 9) - 4) * 0.3:.1f},{(i % 25920) * 300 + 7200},{transmitter}\r\n"
            )


def _setup_django(*, migrate: bool = False):
    import django

    django.setup()
    if migrate:  # once, in the parent: the measured steps load no more than a server would
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    from apps.accounts.models import User

    user, _ = User.objects.get_or_create(email=EMAIL, defaults={"timezone": "UTC"})
    return user


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _multipart_body(path: Path, token: str) -> Path:
    """The POST body a browser sends, written to disk around the export (no copy in memory)."""
    body = WORK / "upload.body"
    with open(body, "wb") as out, open(path, "rb") as export:
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f'{token}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="timezone"\r\n\r\n'
            f'UTC\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="clarity.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        )
        shutil.copyfileobj(export, out)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return body


def step_upload(path: Path, limit: int | None) -> dict:
    """POST the file to the import view through Django's WSGI handler, as a server would: the
    body is read from a file, so the peak RSS is the web process's own."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client, override_settings

    user = _setup_django()
    client = Client()
    client.force_login(user)
    token = "b" * 32
    body = _multipart_body(path, token)
    handler = WSGIHandler()
    statuses = []
    before = _peak_rss_mb()
    started = time.monotonic()
    limits = {"CLARITY_UPLOAD_MAX_BYTES": limit} if limit else {}
    with override_settings(ALLOWED_HOSTS=["testserver"], **limits), open(body, "rb") as stream:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": f"/patients/{user.pk}/import/",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "wsgi.url_scheme": "http",
            "wsgi.input": stream,
            "wsgi.errors": sys.stderr,
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "CONTENT_LENGTH": str(body.stat().st_size),
            "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={token}",
        }
        handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    from apps.glucose.models import ClarityImportJob

    job = ClarityImportJob.objects.filter(patient=user).order_by("-pk").first()
    status = int(statuses[0].split()[0])
    return {
        "status": status,
        "seconds": time.monotonic() - started,
        "rss_mb_before": before,
        "job": job.pk if job and status == 302 else None,
    }


def step_task(job_id: int, max_rows: int | None) -> dict:
    from django.test import override_settings

    _setup_django()
    from apps.glucose.clarity import jobs
    from apps.glucose.models import ClarityImportJob

    before = _peak_rss_mb()
    started = time.monotonic()
    with override_settings(**({"CLARITY_IMPORT_MAX_ROWS": max_rows} if max_rows else {})):
        jobs.clarity_job_run(job_id=job_id)
    job = ClarityImportJob.objects.get(pk=job_id)
    return {
        "status": job.status,
        "message": job.message[:160],
        "seconds": time.monotonic() - started,
        "rss_mb_before": before,
    }


def _run_step(*args) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--step", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _print(name: str, result: dict) -> None:
    status = result.get("status")
    print(
        f"{name:15} {status!s:9} {result['seconds']:6.1f} s  peak RSS {result['rss_mb']:6.1f} MB "
        f"(after setup {result['rss_mb_before']:.1f} MB)  {result.get('message', '')}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accept-rows", type=int, default=300_000)
    parser.add_argument("--step", nargs="+")
    args = parser.parse_args()
    if args.step:
        kind, *rest = args.step
        if kind == "upload":
            result = step_upload(Path(rest[0]), int(rest[1]) or None)
        else:
            result = step_task(int(rest[0]), int(rest[1]) or None)
        result["rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    _setup_django(migrate=True)
    big, accepted = WORK / "clarity-1m.csv", WORK / "clarity-accepted.csv"
    issue_size = WORK / "clarity-45mb.csv"
    started = time.monotonic()
    write_export(big, args.rows)
    write_export(accepted, args.accept_rows)
    write_export(issue_size, 650_000)  # the 45 MB file of the issue, under the default limit
    print(
        f"wrote {args.rows:,} rows ({big.stat().st_size / 2**20:.0f} MB) and {args.accept_rows:,} rows "
        f"({accepted.stat().st_size / 2**20:.0f} MB) in {time.monotonic() - started:.1f} s; "
        f"database {os.environ.get('DATABASE_URL', 'SQLite in ' + str(WORK))}"
    )
    _print("upload-refused", _run_step("upload", big, 0))
    print(f"(45 MB file: {issue_size.stat().st_size / 2**20:.0f} MB)")
    _print("upload-45MB", _run_step("upload", issue_size, 0))
    stored = _run_step("upload", big, 2**31)
    _print("upload-stored", stored)
    _print("task-refused", _run_step("task", stored["job"], 0))
    accepted_job = _run_step("upload", accepted, 2**31)
    _print("task-imported", _run_step("task", accepted_job["job"], 0))


if __name__ == "__main__":
    main()

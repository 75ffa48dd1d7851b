"""The Clarity upload: import page, job, progress, result page, size limits, a real worker."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.glucose.models import ClarityImportJob, ClarityUploadChunk, DailySummary, Egv

FIXTURE = Path(__file__).parent / "fixtures" / "clarity_export_mgdl_new_york_fall_back.csv"


@pytest.fixture
def patient_in_utc(make_user):
    return make_user("upload@example.com", timezone="UTC")


@pytest.fixture
def eager_tasks(monkeypatch):
    from dexweb.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def import_url(patient):
    return f"/patients/{patient.pk}/import/"


def upload(client, patient, data: bytes, timezone: str, callbacks):
    with callbacks(execute=True):
        return client.post(
            import_url(patient),
            {
                "file": SimpleUploadedFile("clarity.csv", data, content_type="text/csv"),
                "timezone": timezone,
            },
        )


def test_the_import_page_shows_the_time_zone_and_prefills_the_account_one(client, make_user):
    patient = make_user("tz@example.com", timezone="Europe/Berlin")
    client.force_login(patient)
    html = client.get(import_url(patient)).content.decode()
    assert '<option value="Europe/Berlin" selected>' in html
    assert "read in the time zone below" in html and "(Europe/Berlin)" in html


def test_an_upload_runs_as_a_job_in_the_chosen_zone(
    client, patient_in_utc, eager_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.glucose.clarity import jobs

    monkeypatch.setattr(jobs, "CHUNK_BYTES", 1000)  # the file is stored and read in 6 pieces
    client.force_login(patient_in_utc)
    response = upload(
        client, patient_in_utc, FIXTURE.read_bytes(), "America/New_York", django_capture_on_commit_callbacks
    )
    job = ClarityImportJob.objects.get(patient=patient_in_utc)
    assert response.status_code == 302 and response.url == f"{import_url(patient_in_utc)}{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.progress) == ("done", 100)
    assert not ClarityUploadChunk.objects.exists()  # the upload is dropped once imported
    assert job.result["egvs_added"] == 40 and job.result["timezone"] == "America/New_York"
    first = Egv.objects.filter(patient=patient_in_utc).earliest("system_time")
    assert first.system_time == datetime(2026, 11, 1, 3, 57, 11, tzinfo=UTC)  # 23:57:11 EDT
    assert DailySummary.objects.filter(patient=patient_in_utc).count() == 2
    page = client.get(response.url).content.decode()
    assert "America/New_York" in page and "40 readings added" in page
    status = client.get(f"{response.url}status.json").json()
    assert status == {"status": "done", "label": "Imported", "progress": 100, "ended": True}


def test_the_result_page_lists_the_rows_left_out(
    client, patient_in_utc, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(patient_in_utc)
    data = FIXTURE.read_bytes() + b"99,2026-11-01T03:20:11,EGV,,,,iOS G6,inf,,,,,2531566,8JP2KL\r\n"
    rows = [
        f"{100 + i},2026-11-0{2 + i // 288}T{(i % 288) // 12:02d}:{5 * (i % 12):02d}:00,EGV,,,,iOS G6,"
        f"{100 + i % 80},,,,,{2600000 + 300 * i},8JP2KL\r\n"
        for i in range(200)
    ]
    response = upload(
        client,
        patient_in_utc,
        data + "".join(rows).encode(),
        "America/New_York",
        django_capture_on_commit_callbacks,
    )
    page = client.get(response.url, follow=True).content.decode()
    assert "Rows left out" in page and "Line 57: &#x27;inf&#x27; is not a glucose value" in page


def test_a_refused_upload_adds_nothing_and_says_why(
    client, patient_in_utc, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(patient_in_utc)
    data = FIXTURE.read_bytes().replace(b",iOS G6,148,", b",iOS G6,99999,")
    response = upload(client, patient_in_utc, data, "America/New_York", django_capture_on_commit_callbacks)
    job = ClarityImportJob.objects.get(patient=patient_in_utc)
    assert job.status == "refused" and not job.chunks.exists()
    assert "Line 17: '99999' mg/dL is outside the sensor's range" in job.message
    assert not Egv.objects.filter(patient=patient_in_utc).exists()
    page = client.get(response.url).content.decode()
    assert "Refused" in page and "nothing was imported" in page


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage", b"date,value\n1,2\n"])
def test_a_file_that_is_not_an_export_is_refused_never_a_500(
    client, patient_in_utc, eager_tasks, django_capture_on_commit_callbacks, content
):
    client.force_login(patient_in_utc)
    response = upload(client, patient_in_utc, content or b"\n", "UTC", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    assert ClarityImportJob.objects.get().status == "refused"


def test_an_oversize_upload_is_refused_from_its_content_length(client, patient_in_utc, settings):
    settings.CLARITY_UPLOAD_MAX_BYTES = 10_000
    client.force_login(patient_in_utc)
    # The declared length is what counts: the body is not read (here it is far shorter).
    response = client.post(import_url(patient_in_utc), {"timezone": "UTC"}, CONTENT_LENGTH="45000000")
    assert response.status_code == 413
    assert "The file is larger than 9.8\xa0KB; export a shorter period" in response.content.decode()
    assert not ClarityImportJob.objects.exists()


def test_a_real_upload_over_the_limit_is_refused(client, patient_in_utc, settings):
    settings.CLARITY_UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    client.force_login(patient_in_utc)
    big = FIXTURE.read_bytes() * 900  # about 3 MB
    response = client.post(
        import_url(patient_in_utc), {"file": SimpleUploadedFile("big.csv", big), "timezone": "UTC"}
    )
    assert response.status_code == 413
    assert "larger than 2.0\xa0MB" in response.content.decode()
    assert not ClarityImportJob.objects.exists()


def test_only_the_patient_sees_their_imports(client, patient_in_utc, other_patient, clinician, make_share):
    job = ClarityImportJob.objects.create(
        patient=patient_in_utc, file_name="a.csv", file_size=1, timezone="UTC"
    )
    make_share(patient_in_utc, clinician=clinician)
    for viewer in (other_patient, clinician):
        client.force_login(viewer)
        assert client.get(f"{import_url(patient_in_utc)}{job.pk}/").status_code == 404
        assert client.get(f"{import_url(patient_in_utc)}{job.pk}/status.json").status_code == 404
    client.force_login(other_patient)
    assert client.get(f"{import_url(other_patient)}{job.pk}/").status_code == 404


def test_a_running_job_shows_a_progress_bar_polled_by_a_static_script(client, patient_in_utc):
    job = ClarityImportJob.objects.create(
        patient=patient_in_utc, file_name="a.csv", file_size=1, timezone="UTC", status="checking", progress=42
    )
    client.force_login(patient_in_utc)
    page = client.get(f"{import_url(patient_in_utc)}{job.pk}/").content.decode()
    assert '<progress data-job-bar max="100" value="42">' in page
    assert "/static/js/import-progress.js" in page and "<script>" not in page
    assert client.get(f"{import_url(patient_in_utc)}{job.pk}/status.json").json()["progress"] == 42


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_an_upload_is_imported_by_a_real_celery_worker(client, patient_in_utc, monkeypatch, tmp_path):
    from dexweb.celery import app
    from tests.sync.test_it_runs_in_real_processes import (
        _start_worker,
        _stop,
        _wait_for,
    )

    queue = f"test-clarity-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    client.force_login(patient_in_utc)
    with open(tmp_path / "worker.log", "w") as log:
        worker = _start_worker(emulator_url="http://127.0.0.1:9", queue=queue, log=log)
        try:
            response = client.post(
                import_url(patient_in_utc),
                {
                    "file": SimpleUploadedFile("clarity.csv", FIXTURE.read_bytes()),
                    "timezone": "America/New_York",
                },
            )
            assert response.status_code == 302
            job = ClarityImportJob.objects.get(patient=patient_in_utc)
            try:
                _wait_for(
                    lambda: ClarityImportJob.objects.get(pk=job.pk).has_ended,
                    timeout=120,
                    what="the worker's import",
                )
            except AssertionError:
                print((tmp_path / "worker.log").read_text()[-5000:])
                raise
        finally:
            _stop(worker)
    job.refresh_from_db()
    assert job.status == "done", job.message
    assert Egv.objects.filter(patient=patient_in_utc).count() == 40


def test_a_job_runs_once_and_a_dead_workers_job_runs_again(patient_in_utc, settings):
    from datetime import timedelta

    from django.utils import timezone

    from apps.glucose.clarity import jobs

    job = ClarityImportJob.objects.create(
        patient=patient_in_utc,
        file_name="a.csv",
        file_size=FIXTURE.stat().st_size,
        timezone="America/New_York",
        status="checking",
        started_at=timezone.now(),
    )
    jobs._store_upload(job, SimpleUploadedFile("a.csv", FIXTURE.read_bytes()))
    jobs.clarity_job_run(job_id=job.pk)  # another worker has it: a duplicate delivery does nothing
    assert ClarityImportJob.objects.get(pk=job.pk).status == "checking"
    assert not Egv.objects.exists()
    ClarityImportJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    )
    jobs.clarity_job_run(job_id=job.pk)  # its worker died: the job is taken over and finished
    assert ClarityImportJob.objects.get(pk=job.pk).status == "done"
    assert Egv.objects.filter(patient=patient_in_utc).count() == 40


def test_an_upload_without_the_csrf_token_is_refused(patient_in_utc):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(patient_in_utc)
    response = client.post(
        import_url(patient_in_utc),
        {"file": SimpleUploadedFile("clarity.csv", FIXTURE.read_bytes()), "timezone": "UTC"},
    )
    assert response.status_code == 403
    assert not ClarityImportJob.objects.exists()

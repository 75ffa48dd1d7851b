"""The patient's pages. Each view asks apps.sharing.access.patient_for_viewer first, then its
one report of apps.glucose.reports, and renders it (apps.dashboard.presenters)."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from apps.dashboard import charts, exports, pdf, presenters
from apps.dashboard.forms import ClarityUploadForm, max_upload_bytes, too_large_message
from apps.dashboard.patient_page import PatientPage, load_patient_page
from apps.dashboard.periods import (
    PERIOD_CHOICES,
    TRACE_CHOICES,
    last_day_from_request,
    parse_days,
    period_ending,
)
from apps.glucose import alarm_report
from apps.glucose import tasks as glucose_tasks
from apps.glucose.alert_kinds import ALERT_NAMES, alert_kind
from apps.glucose.reports.agp import AgpReport, agp_report
from apps.glucose.reports.devices import devices_report
from apps.glucose.reports.events import EVENT_TYPES, events_report
from apps.glucose.reports.imports import import_job_of, recent_import_jobs
from apps.glucose.reports.overview import overview_report
from apps.glucose.reports.trace import trace_report
from apps.sharing.access import patient_for_viewer


def _context(page, patient, name: str, **extra) -> dict:
    return {"page": page, "patient": patient, "unit": page.unit, "active": name, **extra}


def _target_context(page) -> dict:
    """What the pages that shade a range say about it: the patient's target set and its range."""
    return {"target_set": page.target_set, "target_range": page.target_set.range_text(page.unit)}


def _page_period(request, page, *, default_days: int, choices=PERIOD_CHOICES):
    """The ?days= and ?end= period of a page, in the patient's local days: (days, period).

    Every page (and the link from the clinician's triage list) names a period the same way,
    so the same ?days=&end= shows the same local days, metrics and label everywhere.
    """
    days = parse_days(request.GET.get("days"), default=default_days, choices=choices)
    last_day = last_day_from_request(request.GET.get("end"), today=page.today)
    return days, period_ending(last_day, days=days, local_now=page.local_now, tzinfo=page.patient.tzinfo)


@login_required
@require_GET
def home(request):
    """Patients land on their overview, clinicians on the triage list, admins on a page to the admin."""
    user = request.user
    if user.role == user.Role.ADMIN:
        return render(request, "dashboard/admin_home.html")
    if user.is_clinician:
        try:
            return redirect(reverse("sharing:triage"))
        except NoReverseMatch:
            return render(request, "dashboard/home.html")
    return redirect("overview", patient_id=user.pk)


@login_required
@require_GET
def overview(request, patient_id: int):
    """Latest reading, consensus metrics of a period (from DailySummary) and the one before."""
    patient = patient_for_viewer(request, patient_id, page="overview")
    page = load_patient_page(patient)
    days, period = _page_period(request, page, default_days=14)
    report = overview_report(
        patient=patient, period=period, unit=page.unit, latest=page.latest, target_set=page.target_set
    )
    return render(
        request,
        "dashboard/overview.html",
        _context(
            page,
            patient,
            "overview",
            period=period,
            days=days,
            choices=PERIOD_CHOICES,
            **_target_context(page),
            **presenters.overview_context(report, page.unit),
        ),
    )


def _trace_response(request, page, *, last_day: date, days: int, day_view: bool):
    patient = page.patient
    period = period_ending(last_day, days=days, local_now=page.local_now, tzinfo=patient.tzinfo)
    report = trace_report(patient=patient, period=period)
    return render(
        request,
        "dashboard/trace.html",
        _context(
            page,
            patient,
            "trace",
            period=period,
            days=days,
            choices=TRACE_CHOICES,
            day_view=day_view,
            **_target_context(page),
            **presenters.trace_context(report, page.unit, today=page.today, target_set=page.target_set),
        ),
    )


@login_required
@require_GET
def trace(request, patient_id: int):
    """The glucose trace of 1-90 local days ending ?end= (default today); ?day= is the day view."""
    patient = patient_for_viewer(request, patient_id, page="trace")
    page = load_patient_page(patient)
    if request.GET.get("day"):
        last_day = last_day_from_request(request.GET["day"], today=page.today)
        return redirect("trace_day", patient_id=patient.pk, day=last_day.isoformat())
    days = parse_days(request.GET.get("days"), default=1)
    last_day = last_day_from_request(request.GET.get("end"), today=page.today)
    return _trace_response(request, page, last_day=last_day, days=days, day_view=False)


@login_required
@require_GET
def trace_day(request, patient_id: int, day: str):
    """One local day of the trace with previous/next day links."""
    patient = patient_for_viewer(request, patient_id, page="trace")
    page = load_patient_page(patient)
    try:
        last_day = date.fromisoformat(day)
    except ValueError:
        raise Http404("not a date") from None
    return _trace_response(request, page, last_day=last_day, days=1, day_view=True)


def _agp_report(request, patient) -> tuple[PatientPage, AgpReport]:
    page = load_patient_page(patient)
    _days, period = _page_period(request, page, default_days=14)
    return page, agp_report(patient=patient, period=period, unit=page.unit, target_set=page.target_set)


@login_required
@require_GET
def agp(request, patient_id: int):
    """The AGP report: metrics, modal day percentiles, 14 daily profiles; prints on one page."""
    patient = patient_for_viewer(request, patient_id, page="agp")
    page, report = _agp_report(request, patient)
    context = _context(
        page,
        patient,
        "agp",
        period=report.period,
        days=report.days,
        choices=PERIOD_CHOICES,
        **_target_context(page),
        **presenters.agp_context(report),
    )
    return render(request, "dashboard/agp.html", context)


@login_required
@require_GET
def agp_pdf(request, patient_id: int):
    """The AGP report as a PDF file, drawn with reportlab (no browser or system service)."""
    patient = patient_for_viewer(request, patient_id, page="agp-pdf")
    _page, report = _agp_report(request, patient)
    body = pdf.agp_pdf(report, patient_name=patient.display_name)
    response = HttpResponse(body, content_type="application/pdf")
    filename = f"agp-{report.period.first_day}-{report.period.last_day}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def alerts(request, patient_id: int):
    """Alarms (not alert records) with the setting in force at each, and alarms per type per day."""
    patient = patient_for_viewer(request, patient_id, page="alerts")
    page = load_patient_page(patient)
    days, period = _page_period(request, page, default_days=14)
    names = [n for n in request.GET.getlist("type") if n]
    report = alarm_report.alerts_report(patient=patient, period=period, unit=page.unit, names=names)
    alarm_page = Paginator(report.alarms, 200).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/alerts.html",
        _context(
            page,
            patient,
            "alerts",
            period=period,
            days=days,
            choices=PERIOD_CHOICES,
            alert_kinds=[alert_kind(name) for name in ALERT_NAMES],
            selected=names,
            rows=list(alarm_page),
            alarm_page=alarm_page,
            total=len(report.alarms),
            records=report.records,
            chart_json=charts.to_json(report.chart),
        ),
    )


@login_required
@require_GET
def events(request, patient_id: int):
    """Carbs, insulin, exercise, health and notes of a period; deleted events are left out."""
    patient = patient_for_viewer(request, patient_id, page="events")
    page = load_patient_page(patient)
    days, period = _page_period(request, page, default_days=14)
    report = events_report(patient=patient, period=period, types=request.GET.getlist("type"))
    return render(
        request,
        "dashboard/events.html",
        _context(
            page,
            patient,
            "events",
            period=period,
            days=days,
            choices=PERIOD_CHOICES,
            event_types=EVENT_TYPES,
            selected=report.types,
            rows=report.events,
            value_units={"mg/dL", "mmol/L"},
        ),
    )


@login_required
@require_GET
def devices(request, patient_id: int):
    """Display devices with their transmitters, schedules, current settings (patient's unit)
    and every change as from -> to, in the device's local time."""
    patient = patient_for_viewer(request, patient_id, page="devices")
    page = load_patient_page(patient)
    context = presenters.devices_context(devices_report(patient=patient), page.unit, tzinfo=patient.tzinfo)
    return render(request, "dashboard/devices.html", _context(page, patient, "devices", **context))


@login_required
@require_GET
def export(request, patient_id: int):
    """CSV of a record type for a period (?type=egvs&start=&end=), ZIP of everything (?all=1)."""
    patient = patient_for_viewer(request, patient_id, page="export")
    page = load_patient_page(patient)
    if request.GET.get("all"):
        return exports.zip_response(patient=patient, made_at_local=page.local_now)
    record_type = request.GET.get("type")
    if record_type:
        if record_type not in exports.RECORD_TYPES:
            raise Http404("unknown record type")
        last_day = last_day_from_request(request.GET.get("end"), today=page.today)
        period = period_ending(last_day, days=14)
        try:
            first_day = exports.export_first_day(
                request.GET.get("start"), last_day=last_day, default=period.first_day
            )
        except exports.BadExportPeriod as error:
            return _render_export(request, page, patient, error=str(error), status=400)
        return exports.csv_response(
            patient=patient,
            record_type=record_type,
            first_day=first_day,
            end_day=period.end_day,
        )
    return _render_export(request, page, patient)


def _render_export(request, page, patient, *, error: str = "", status: int = 200):
    return render(
        request,
        "dashboard/export.html",
        _context(
            page,
            patient,
            "export",
            record_types=exports.RECORD_TYPE_NAMES,
            error=error,
            chosen=request.GET.get("type", ""),
            start=request.GET.get("start", ""),
            end=request.GET.get("end", ""),
            default_start=period_ending(page.today, days=14).first_day,
            today=page.today,
        ),
        status=status,
    )


@csrf_exempt  # the size check must come before CSRF's reading of the body; checked below
@login_required
@require_http_methods(["GET", "POST"])
def import_view(request, patient_id: int):
    """Upload a Dexcom Clarity CSV export; only the patient themselves may import.

    An upload larger than CLARITY_UPLOAD_MAX_BYTES is refused from its Content-Length, before
    its body is read; a smaller one is spooled to a temporary file by Django's upload handlers,
    stored compressed in a ClarityImportJob and imported by a Celery task.
    """
    patient = _importing_patient(request, patient_id)
    if request.method == "POST" and _declared_length(request) > max_upload_bytes():
        # Nothing of the body is read (not even by CSRF) and nothing changes.
        form = ClarityUploadForm(initial={"timezone": patient.timezone})
        return _render_import(request, patient, form, refusal=too_large_message(), status=413)
    return _import_form(request, patient)


def _importing_patient(request, patient_id: int):
    patient = patient_for_viewer(request, patient_id, page="import")
    if request.user.pk != patient.pk:
        raise Http404
    return patient


def _import_job(patient, job_id: int):
    job = import_job_of(patient=patient, job_id=job_id)
    if job is None:
        raise Http404
    return job


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_protect
def _import_form(request, patient):
    form = ClarityUploadForm(
        request.POST or None, request.FILES or None, initial={"timezone": patient.timezone}
    )
    if request.method == "POST" and form.is_valid():
        job = glucose_tasks.queue_clarity_import(
            patient=patient,
            upload=form.cleaned_data["file"],
            timezone_name=form.cleaned_data["timezone"],
        )
        return redirect("import_job", patient_id=patient.pk, job_id=job.pk)
    return _render_import(request, patient, form)


def _render_import(request, patient, form, *, refusal: str = "", status: int = 200):
    page = load_patient_page(patient)
    jobs = recent_import_jobs(patient=patient)
    return render(
        request,
        "dashboard/import.html",
        _context(
            page,
            patient,
            "import",
            form=form,
            jobs=jobs,
            refusal=refusal,
            max_size=filesizeformat(max_upload_bytes()),
        ),
        status=status,
    )


@login_required
@require_GET
def import_job(request, patient_id: int, job_id: int):
    """One import's progress (polled by static/js/import-progress.js) and its outcome."""
    patient = _importing_patient(request, patient_id)
    job = _import_job(patient, job_id)
    page = load_patient_page(patient)
    return render(request, "dashboard/import_job.html", _context(page, patient, "import", job=job))


@login_required
@require_GET
def import_job_status(request, patient_id: int, job_id: int):
    """The job's status as JSON, for the progress bar."""
    patient = _importing_patient(request, patient_id)
    job = _import_job(patient, job_id)
    return JsonResponse(
        {
            "status": job.status,
            "label": job.get_status_display(),
            "progress": job.progress,
            "ended": job.has_ended,
        }
    )

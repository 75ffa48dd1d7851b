"""The report pages: Patterns, Statistics, Daily, Compare, Data completeness, and the
clinician's weekly digest.

Each view: access check (apps.sharing.access.patient_for_viewer: the patient, or someone they
share with, every look by someone else audited) -> one report from apps.glucose.reports.periods
-> render. The presenters below only turn report numbers into text in the patient's unit.
"""

from datetime import timedelta

import numpy as np
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.dashboard import charts, digest, metric_display
from apps.dashboard.patient_page import load_patient_page
from apps.dashboard.periods import PERIOD_CHOICES, last_day_from_request, parse_days, period_ending
from apps.dashboard.views import _context, _page_period, _target_context
from apps.glucose import localtime, targets
from apps.glucose.alert_kinds import alert_kind
from apps.glucose.reports import periods as period_reports
from apps.glucose.units import format_glucose, range_limits
from apps.sharing import selectors as sharing_selectors
from apps.sharing import services as sharing_services
from apps.sharing.access import patient_for_viewer
from apps.sync import completeness

INSULIN_NAMES = {"fastActing": "Fast-acting", "longActing": "Long-acting"}


def _glucose(value_mgdl, unit: str) -> str:
    return format_glucose(value_mgdl, unit) if value_mgdl is not None else "—"


def _period_page(request, patient_id: int, *, name: str, build, present, shades_targets=False) -> object:
    """The shape of every page here: access check, the ?days=&end= period, one report, render.
    `name` is the URL name, the template and (with dashes) the audited page. A page that
    `shades_targets` draws the patient's target range: its presenter is given the target set."""
    patient = patient_for_viewer(request, patient_id, page=name)
    page = load_patient_page(patient)
    days, period = _page_period(request, page, default_days=14)
    report = build(patient=patient, period=period, unit=page.unit)
    if shades_targets:
        extra = {**_target_context(page), **present(report, page.unit, page.target_set)}
    else:
        extra = present(report, page.unit)
    context = _context(page, patient, name, period=period, days=days, choices=PERIOD_CHOICES, **extra)
    return render(request, f"dashboard/{name}.html", context)


def _event_text(note: period_reports.EventNote) -> str:
    kind = INSULIN_NAMES.get(note.sub_type, note.sub_type) if note.event_type == "insulin" else note.sub_type
    label = " ".join(part for part in (note.event_type.capitalize(), kind) if part)
    amount = f" {note.value} {note.unit}".rstrip() if note.value and note.value != "-1" else ""
    return f"{note.local_start:%H:%M} {label}{amount}"


def _episode_item(row: period_reports.EpisodeRow, unit: str) -> dict:
    return {
        "start": row.local_start,
        "minutes": row.episode.minutes,
        "extreme": _glucose(row.episode.extreme_mgdl, unit),
        "events": [_event_text(note) for note in row.events],
        "alarms": [f"{alarm.local_start:%H:%M} {alert_kind(alarm.name).label}" for alarm in row.alarms],
    }


def _patterns_context(report: period_reports.PatternsReport, unit: str) -> dict:
    """Episodes follow the consensus' event definition (<70, >250), whatever the target set."""
    return {
        "report": report,
        "limits": range_limits(unit),
        "low_patterns": report.low_patterns,
        "high_patterns": report.high_patterns,
        "lows": [_episode_item(row, unit) for row in reversed(report.lows)],
        "highs": [_episode_item(row, unit) for row in reversed(report.highs)],
    }


@login_required
@require_GET
def patterns(request, patient_id: int):
    """Recurring lows and highs by time of day, every episode with what came before it."""
    return _period_page(
        request, patient_id, name="patterns", build=period_reports.patterns_report, present=_patterns_context
    )


def _hour_row(row: dict, unit: str) -> dict:
    return {
        "hour": f"{row['hour']:02d}:00–{(row['hour'] + 1) % 24:02d}:00",
        "readings": row["readings"],
        "mean": _glucose(row["mean_mgdl"], unit),
        "sd": _glucose(row["sd_mgdl"], unit),
        "percentiles": [_glucose(row[f"p{p}_mgdl"], unit) for p in (10, 25, 50, 75, 90)],
        "tbr": row["tbr_percent"],
        "tir": row["tir_percent"],
        "tar": row["tar_percent"],
    }


def _statistics_context(report: period_reports.StatisticsReport, unit: str) -> dict:
    """The consensus statistics, also per hour (whatever the patient's target set)."""
    return {
        "metrics": report.metrics,
        "summary": metric_display.summary_rows(report.metrics, unit),
        "limits": range_limits(unit),
        "hours": [_hour_row(row, unit) for row in report.hours],
    }


@login_required
@require_GET
def statistics(request, patient_id: int):
    """The period's statistics and the same per hour of the day."""
    return _period_page(
        request,
        patient_id,
        name="statistics",
        build=period_reports.statistics_report,
        present=_statistics_context,
    )


def _day_item(row: period_reports.DayRow, unit: str) -> dict:
    m = row.metrics
    below = [m[k] for k in ("tbr_below_54_percent", "tbr_54_69_percent") if m[k] is not None]
    above = [m[k] for k in ("tar_181_250_percent", "tar_above_250_percent") if m[k] is not None]
    return {
        "day": row.day,
        "readings": m["readings"],
        "wear": m["wear_percent"],
        "mean": _glucose(m["mean_mgdl"], unit),
        "tir": m["tir_70_180_percent"],
        "tbr": sum(below) if below else None,
        "tar": sum(above) if above else None,
        "cv": m["cv_percent"],
        "carbs": row.carbs_grams,
        "insulin": [
            (INSULIN_NAMES.get(kind, kind), units) for kind, units in sorted(row.insulin_units.items())
        ],
        "alarms": row.alarms,
    }


def overlay_chart_data(report: period_reports.DailyReport, target_set=targets.STANDARD_SET) -> dict:
    """One line per local day by time of day (minutes since local midnight), newest last."""
    series = report.series
    local = series.local_epoch_s
    days = local // localtime.SECONDS_PER_DAY
    lines = []
    for number in np.unique(days):
        inside = days == number
        minutes = (local[inside] % localtime.SECONDS_PER_DAY) // 60
        day = localtime.date_of_day_number(int(number))
        lines.append(
            {
                "label": f"{day:%a} {day.day} {day:%b}",
                "weekday": day.weekday(),
                "t": minutes.astype(np.int32),
                "v": np.clip(series.value[inside], 40, 400).astype(np.int16),
            }
        )
    return {
        **charts.unit_fields(report.unit),
        **charts.target_band(target_set, report.unit),
        "lines": lines,
    }


def _daily_context(report: period_reports.DailyReport, unit: str, target_set) -> dict:
    """The per-day table has the consensus metrics; the overlay shades the target set's range."""
    return {
        "rows": [_day_item(row, unit) for row in report.rows],
        "readings": len(report.series),
        "limits": range_limits(unit),
        "chart_json": charts.to_json(overlay_chart_data(report, target_set)),
    }


@login_required
@require_GET
def daily(request, patient_id: int):
    """Every day of the period overlaid by time of day, and a table of each day."""
    return _period_page(
        request,
        patient_id,
        name="daily",
        build=period_reports.daily_report,
        present=_daily_context,
        shades_targets=True,
    )


def _compared_period(request, page, prefix: str, *, default_end, default_days: int):
    days = parse_days(request.GET.get(f"{prefix}_days"), default=default_days, choices=PERIOD_CHOICES)
    last_day = last_day_from_request(request.GET.get(f"{prefix}_end"), today=default_end)
    return days, period_ending(last_day, days=days, local_now=page.local_now, tzinfo=page.patient.tzinfo)


def _compare_rows(report: period_reports.CompareReport) -> list[dict]:
    first = metric_display.summary_rows(report.first.metrics, report.unit)
    second = metric_display.summary_rows(report.second.metrics, report.unit)
    return [
        {"label": a["label"], "first": a["value"], "second": b["value"]}
        for a, b in zip(first, second, strict=True)
    ]


@login_required
@require_GET
def compare(request, patient_id: int):
    """Any two periods side by side (default: the last 14 days and the 14 before): metrics and
    the AGP of both on one chart."""
    patient = patient_for_viewer(request, patient_id, page="compare")
    page = load_patient_page(patient)
    a_days, first = _compared_period(request, page, "a", default_end=page.today, default_days=14)
    b_default_end = min(first.first_day - timedelta(days=1), page.today)
    b_days, second = _compared_period(request, page, "b", default_end=b_default_end, default_days=a_days)
    if not request.GET.get("b_end"):
        second = period_ending(b_default_end, days=b_days, tzinfo=patient.tzinfo)
    report = period_reports.compare_report(
        patient=patient, first=first, second=second, unit=page.unit, target_set=page.target_set
    )
    chart = {
        **charts.unit_fields(page.unit),
        **charts.target_band(page.target_set, page.unit),
        "first": {"label": first.label, "agp": report.first.agp},
        "second": {"label": second.label, "agp": report.second.agp},
    }
    return render(
        request,
        "dashboard/compare.html",
        _context(
            page,
            patient,
            "compare",
            **_target_context(page),
            choices=PERIOD_CHOICES,
            first=first,
            second=second,
            a_days=a_days,
            b_days=b_days,
            report=report,
            rows=_compare_rows(report),
            first_bands=metric_display.range_bands(report.first.target_measures, page.unit, page.target_set),
            second_bands=metric_display.range_bands(
                report.second.target_measures, page.unit, page.target_set
            ),
            chart_json=charts.to_json(chart),
        ),
    )


# One fixed colour per reason, on the chart and the hour strip.
COMPLETENESS_COLOURS = {
    "present": "#2e9d5b",
    completeness.SENSOR_GAP: "#9aa5b1",
    completeness.NOT_AT_DEXCOM: "#f0a800",
    completeness.NOT_SYNCED: "#d9480f",
    completeness.ACCESS_LOST: "#7a0019",
    completeness.NO_DATA_YET: "#dfe3e8",
}


def _duration_text(readings: int) -> str:
    minutes = readings * completeness.READING_SECONDS // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _completeness_day(day: completeness.DayCompleteness) -> dict:
    return {
        "day": day.day,
        "expected": day.expected,
        "present": day.present,
        "percent": 100 * day.present / day.expected if day.expected else None,
        "missing": [
            {
                "label": completeness.REASONS[reason],
                "readings": count,
                "time": _duration_text(count),
                "reason": reason,
            }
            for reason, count in sorted(day.missing_by_reason.items(), key=lambda item: -item[1])
        ],
        "hours": [
            {
                "hour": hour.hour,
                "colour": COMPLETENESS_COLOURS[hour.reason]
                if hour.reason
                else COMPLETENESS_COLOURS["present"],
                "title": f"{hour.hour:02d}:00 {min(hour.present, hour.expected)} of {hour.expected}"
                + "".join(f", {n} {completeness.REASONS[r]}" for r, n in hour.missing_by_reason.items()),
                "empty": hour.expected == 0,
            }
            for hour in day.hours
        ],
    }


def completeness_chart_data(report: completeness.CompletenessReport) -> dict:
    """Hours per day: held, and missing by reason (stacked bars, oldest day first)."""
    days = list(reversed(report.days))
    series = [("present", "Readings held", [d.present for d in days])]
    for reason, label in completeness.REASONS.items():
        series.append((reason, label, [d.missing_by_reason.get(reason, 0) for d in days]))
    per_hour = 3600 / completeness.READING_SECONDS
    return {
        "dates": [d.day.isoformat() for d in days],
        "series": [
            {
                "name": label,
                "colour": COMPLETENESS_COLOURS[key],
                "hours": [round(n / per_hour, 2) for n in counts],
            }
            for key, label, counts in series
            if any(counts)
        ],
    }


def _completeness_context(report: completeness.CompletenessReport, unit: str) -> dict:
    facts, zone = report.facts, report.period.tzinfo
    return {
        "facts": facts,
        "cursor_text": localtime.viewer_clock_text(facts.cursor, zone),
        "dexcom_end_text": localtime.viewer_clock_text(facts.dexcom_end, zone),
        "last_sync_text": localtime.viewer_clock_text(facts.last_sync_at, zone),
        "rows": [_completeness_day(day) for day in report.days],
        "reasons": [(completeness.REASONS[key], COMPLETENESS_COLOURS[key]) for key in completeness.REASONS],
        "chart_json": charts.to_json(completeness_chart_data(report)),
    }


@login_required
@require_GET
def data_completeness(request, patient_id: int):
    """For each day, where every missing reading went (rule in apps.sync.completeness)."""
    return _period_page(
        request,
        patient_id,
        name="completeness",
        build=lambda *, patient, period, unit: completeness.completeness_report(
            patient=patient, period=period
        ),
        present=_completeness_context,
    )


def _clinician_or_404(request):
    if not request.user.is_clinician:
        raise Http404("the digest is for clinicians")
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def digest_page(request):
    """The clinician's weekly digest: download it now, or have it emailed every Monday."""
    clinician = _clinician_or_404(request)
    if request.method == "POST":
        sharing_services.digest_subscribe(clinician=clinician, subscribed=request.POST.get("email") == "on")
        return redirect("digest")
    return render(
        request,
        "dashboard/digest.html",
        {"subscribed": sharing_selectors.is_digest_subscriber(clinician), "days": digest.DIGEST_DAYS},
    )


@login_required
@require_GET
def digest_download(request):
    """The digest as a PDF, one page per patient shared with the clinician."""
    clinician = _clinician_or_404(request)
    now = timezone.now()
    patients = digest.digest_patients(clinician=clinician, now=now)
    body = digest.digest_pdf(clinician=clinician, patients=patients, now=now)
    digest.record_digest_views(clinician=clinician, patients=patients, how=request.get_full_path()[:500])
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dexweb-digest-{now:%Y-%m-%d}.pdf"'
    return response

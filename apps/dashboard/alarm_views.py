"""The alarm pages no CGM site has: "Alarm burden" and "Settings timeline".

Same access as the alerts page: apps.sharing.access.patient_for_viewer first (the patient, or
someone they share with; every look by someone else is audited). Each view asks its report
from apps.glucose.alarm_report once and renders it.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.dashboard import charts
from apps.dashboard.patient_page import load_patient_page
from apps.dashboard.periods import PERIOD_CHOICES
from apps.dashboard.views import _context, _page_period
from apps.glucose import alarm_report
from apps.glucose.units import format_glucose, range_limits
from apps.sharing.access import patient_for_viewer


@login_required
@require_GET
def alarm_burden(request, patient_id: int):
    """Alarms per day and night, time alarming, snoozes, causes, urgent-low warnings, and alarms
    before/after each settings change."""
    patient = patient_for_viewer(request, patient_id, page="alarm-burden")
    page = load_patient_page(patient)
    days, period = _page_period(request, page, default_days=14)
    report = alarm_report.alarm_burden_report(patient=patient, period=period, unit=page.unit)
    return render(
        request,
        "dashboard/alarm_burden.html",
        _context(
            page,
            patient,
            "alarm_burden",
            period=period,
            days=days,
            choices=PERIOD_CHOICES,
            report=report,
            chart_json=charts.to_json({"daily": report.chart, "hours": report.hours}),
        ),
    )


@login_required
@require_GET
def settings_timeline(request, patient_id: int):
    """Every settings change with the glucose metrics and alarms of equal periods around it."""
    patient = patient_for_viewer(request, patient_id, page="settings-timeline")
    page = load_patient_page(patient)
    report = alarm_report.settings_timeline_report(patient=patient, unit=page.unit)
    entries = [{"entry": entry, "rows": _compare_rows(entry, page.unit)} for entry in report.entries]
    return render(
        request,
        "dashboard/settings_timeline.html",
        _context(
            page,
            patient,
            "settings_timeline",
            report=report,
            entries=entries,
            limits=range_limits(page.unit),
            chart_json=charts.to_json(report.chart),
        ),
    )


def _shown(metrics: dict, unit: str) -> dict:
    """The metrics a comparison row shows, mean in the patient's unit (apps.glucose.units)."""

    def plus(*keys):
        parts = [metrics[key] for key in keys if metrics[key] is not None]
        return sum(parts) if parts else None

    return {
        "mean": format_glucose(metrics["mean_mgdl"], unit),
        "tir": metrics["tir_70_180_percent"],
        "tbr": plus("tbr_below_54_percent", "tbr_54_69_percent"),
        "tar": plus("tar_181_250_percent", "tar_above_250_percent"),
        "cv": metrics["cv_percent"],
        "wear": metrics["wear_percent"],
        "readings": metrics["readings"],
    }


def _compare_rows(entry, unit: str) -> list[tuple]:
    if entry.window_days is None:
        return []
    return [
        ("Before", _shown(entry.before, unit), entry.alarms_before),
        ("After", _shown(entry.after, unit), entry.alarms_after),
    ]

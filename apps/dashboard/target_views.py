"""The targets page: which target set the patient is held to (apps.glucose.targets), a form to
choose another, and who changed it when.

Who may change it: the patient, and a clinician with an active share (the same access check as
every patient page: apps.sharing.access, so a clinician without a share, or whose share was
revoked, gets a 404). Staff who may look at every patient's data can read the page, not change
it. Every look by someone else is audited as a view of "targets"; every change is written to
the patient's history of target changes (apps.glucose.target_choice).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.dashboard.forms import TargetsForm, targets_initial
from apps.dashboard.patient_page import load_patient_page
from apps.dashboard.views import _context, _target_context
from apps.glucose import target_choice, targets
from apps.glucose.reports.targets import targets_report
from apps.sharing.access import may_act_for, patient_for_viewer
from apps.sharing.audit_context import audit_context_of


def _sets_shown(unit: str) -> list[dict]:
    """Each named set as the page describes it, in the patient's unit."""
    return [
        {
            "key": s.key,
            "name": s.name,
            "range": s.range_text(unit),
            "goals": [f"{s.measure_label(g.measure, unit)} {g.text}" for g in s.goals],
        }
        for s in targets.NAMED_SETS.values()
    ]


@login_required
@require_http_methods(["GET", "POST"])
def targets_page(request, patient_id: int):
    """GET: the set in force, the choices and the history. POST: choose a set (then back here)."""
    patient = patient_for_viewer(request, patient_id, page="targets")
    page = load_patient_page(patient)
    report = targets_report(patient=patient)
    may_change = may_act_for(request.user, patient)
    if request.method == "POST":
        if not may_change:
            raise Http404("Only the patient or their clinician may change the targets")
        form = TargetsForm(request.POST, unit=page.unit)
        if form.is_valid():
            chosen = target_choice.targets_choose(
                patient_id=patient.pk,
                choice=target_choice.TargetsChoice(
                    form.cleaned_data["target_set"], form.cleaned_data["custom"]
                ),
                actor=request.user,
                ip_address=audit_context_of(request).ip_address,
                unit=page.unit,
            )
            messages.success(request, f"Targets: {chosen.name}, {chosen.range_text(page.unit)}.")
            return redirect("targets", patient_id=patient.pk)
    else:
        form = TargetsForm(
            initial=targets_initial(report.target_set, report.custom, page.unit), unit=page.unit
        )
    context = _context(
        page,
        patient,
        "targets",
        **_target_context(page),
        form=form,
        may_change=may_change,
        current=report.target_set,
        current_goals=[
            f"{report.target_set.measure_label(g.measure, page.unit)} {g.text}"
            for g in report.target_set.goals
        ],
        sets=_sets_shown(page.unit),
        custom_bounds=targets.CUSTOM_BOUNDS[page.unit],
        changes=report.changes,
    )
    return render(request, "dashboard/targets.html", context)

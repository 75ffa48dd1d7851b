"""The one writer of a patient's target set (apps.glucose.targets): the choice, its history and
the triage snapshots that flag by it, in one transaction.

The caller (the targets page) has checked who may change it: the patient, or a clinician with
an active share. `actor` and `ip_address` are who did it and from where (the audit context the
view built); they go to the TargetsChange history the patient and their clinicians read.
"""

from dataclasses import dataclass

from django.db import transaction

from apps.glucose import selectors, snapshots, targets
from apps.glucose.models import PatientTargets, TargetsChange
from apps.glucose.units import MGDL


@dataclass(frozen=True)
class TargetsChoice:
    """What the patient (or their clinician) chose: a set's key, and for custom its numbers."""

    key: str
    custom: targets.CustomChoice | None = None


def describe(target_set: targets.TargetSet, unit: str = MGDL) -> str:
    """One line for the history: "Pregnancy with type 1: 63–140 mg/dL; in range >70%, ..."."""
    goals = ", ".join(
        f"{target_set.measure_label(goal.measure, unit)} {goal.text}" for goal in target_set.goals
    )
    return f"{target_set.name}: {target_set.range_text(unit)}; {goals}"[:200]


def _custom_fields(custom: targets.CustomChoice | None) -> dict:
    if custom is None:
        return {}
    return {
        "custom_low": custom.low,
        "custom_high": custom.high,
        "custom_unit": custom.unit,
        "custom_in_range_min": custom.in_range_min,
        "custom_below_max": custom.below_max,
        "custom_above_max": custom.above_max,
    }


def targets_choose(
    *, patient_id: int, choice: TargetsChoice, actor, ip_address: str | None, unit: str = MGDL
) -> targets.TargetSet:
    """Store the patient's target set; write the change to the history and rebuild their
    triage snapshots (flags follow the new goals at once). Choosing the set already in force
    changes nothing and writes no history. A custom choice must have passed
    targets.custom_errors. Returns the set now in force."""
    if choice.key not in targets.NAMED_SETS and choice.key != targets.CUSTOM:
        raise ValueError(f"unknown target set {choice.key!r}")
    if choice.key == targets.CUSTOM and (choice.custom is None or targets.custom_errors(choice.custom)):
        raise ValueError("a custom target set needs a sane range and goals (targets.custom_errors)")
    with transaction.atomic():
        # Lock the patient's choice row (if any): two changes at once write two history lines
        # in order, each "before" the set the other left.
        current = PatientTargets.objects.select_for_update().filter(patient_id=patient_id).first()
        before = current.as_target_set() if current else targets.STANDARD_SET
        after = targets.target_set(choice.key, choice.custom)
        if before == after:
            return before
        fields = {"target_set": choice.key, "changed_by": actor, **_custom_fields(choice.custom)}
        PatientTargets.objects.update_or_create(patient_id=patient_id, defaults=fields)
        TargetsChange.objects.create(
            patient_id=patient_id,
            actor=actor,
            actor_email=getattr(actor, "email", "") or "",
            ip_address=ip_address,
            before=describe(before, unit),
            after=describe(after, unit),
        )
        snapshots.build_snapshots(patient_ids=[patient_id])
    return selectors.patient_target_set(patient_id=patient_id)

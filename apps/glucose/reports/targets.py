"""The targets page's report: the set the patient is held to, what a custom set was made of
(to fill the form) and the history of changes."""

from dataclasses import dataclass

from apps.glucose import selectors, targets
from apps.glucose.models import TargetsChange


@dataclass(frozen=True)
class TargetsReport:
    target_set: targets.TargetSet
    custom: targets.CustomChoice | None  # the last custom set entered, if any
    changes: list[TargetsChange]


def targets_report(*, patient) -> TargetsReport:
    """Two reads: the patient's choice, their last 20 changes."""
    choice = selectors.patient_targets(patient_id=patient.pk)
    return TargetsReport(
        target_set=choice.as_target_set() if choice else targets.STANDARD_SET,
        custom=choice.custom if choice else None,
        changes=selectors.targets_changes(patient_id=patient.pk),
    )

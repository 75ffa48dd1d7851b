"""What every patient page is framed by: the newest reading, the unit, the patient's clock."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from apps.glucose import localtime, selectors, targets
from apps.glucose.models import Egv
from apps.glucose.units import effective_unit

# Dexcom publishes readings with a delay of 1 h (US) to 3 h (elsewhere); older than this is stale.
STALE_AFTER = timedelta(hours=4)


def unit_for(patient) -> str:
    """The unit the patient reads (their choice, else their device's): it decides the bands."""
    device_unit = None if patient.glucose_unit else selectors.device_glucose_unit(patient_id=patient.pk)
    return effective_unit(patient, device_unit=device_unit)


def _local_now(patient, latest: Egv | None, now: datetime) -> datetime:
    return localtime.local_now(
        patient, now=now, latest_delta_seconds=latest.display_delta_seconds if latest else None
    )


def local_now_for(patient, *, now: datetime) -> datetime:
    """The patient's wall clock now (one query: their newest reading's offset)."""
    return _local_now(patient, selectors.latest_egv(patient_id=patient.pk, now=now), now)


@dataclass(frozen=True)
class PatientHeader:
    """The patient, the unit they read, their current reading and their wall clock now."""

    patient: object
    unit: str
    latest: Egv | None
    now: datetime
    local_now: datetime

    @cached_property
    def target_set(self) -> targets.TargetSet:
        """The target set the patient is held to (shading, checkmarks and flags follow it):
        read when a page first asks, so the pages that draw no range pay no query."""
        return selectors.patient_target_set(patient_id=self.patient.pk)

    @property
    def today(self) -> date:
        """The patient's "today" (never the viewer's): periods end on it."""
        return self.local_now.date()

    @property
    def latest_age(self) -> timedelta | None:
        return self.now - self.latest.system_time if self.latest else None

    @property
    def is_stale(self) -> bool:
        return self.latest is not None and self.latest_age > STALE_AFTER


def patient_header(patient, *, now: datetime) -> PatientHeader:
    """One or two queries: the newest real reading, the device's unit if the patient chose none."""
    latest = selectors.latest_egv(patient_id=patient.pk, now=now)
    return PatientHeader(
        patient=patient,
        unit=unit_for(patient),
        latest=latest,
        now=now,
        local_now=_local_now(patient, latest, now),
    )

"""The devices page's report: each display device (phone app or receiver) with its
transmitters, schedules and whole settings history (apps.glucose.alert_settings)."""

from dataclasses import dataclass

from apps.glucose import selectors
from apps.glucose.alert_settings import DisplayHistory, display_histories


@dataclass(frozen=True)
class DevicesReport:
    histories: list[DisplayHistory]


def devices_report(*, patient) -> DevicesReport:
    """Three queries: devices, their schedules, their settings versions."""
    return DevicesReport(histories=display_histories(selectors.devices_with_settings(patient_id=patient.pk)))

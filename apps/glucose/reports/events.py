"""The events page's report: carbs, insulin, exercise, health and notes of a period."""

from dataclasses import dataclass

from apps.glucose import localtime, selectors
from apps.glucose.models import Event

EVENT_TYPES = ("carbs", "insulin", "exercise", "health", "notes", "bloodGlucose")


@dataclass(frozen=True)
class EventsReport:
    period: localtime.Period
    types: list[str]  # the types asked for; empty: all
    events: list[Event]  # newest first; deleted events are left out


def events_report(*, patient, period: localtime.Period, types=()) -> EventsReport:
    types = [t for t in types if t]
    rows = selectors.events_in(patient_id=patient.pk, period=period, types=types).order_by("-system_time")
    return EventsReport(period=period, types=types, events=list(rows))

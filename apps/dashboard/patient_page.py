"""What every patient page needs: the patient header of apps.glucose.reports.patient (unit,
newest reading, local clock) with the sync state, and the words the pages say about them."""

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.glucose.reports.patient import PatientHeader, patient_header
from apps.glucose.units import format_glucose
from apps.sync import schedule

TREND_ARROWS = {
    "doubleUp": "⇈",
    "singleUp": "↑",
    "fortyFiveUp": "↗",
    "flat": "→",
    "fortyFiveDown": "↘",
    "singleDown": "↓",
    "doubleDown": "⇊",
}
TREND_WORDS = {
    "doubleUp": "rising quickly",
    "singleUp": "rising",
    "fortyFiveUp": "rising slowly",
    "flat": "steady",
    "fortyFiveDown": "falling slowly",
    "singleDown": "falling",
    "doubleDown": "falling quickly",
    "notComputable": "trend not computable",
    "rateOutOfRange": "rate out of range",
}

DISPLAY_DEVICE_WORDS = {"iOS": "iPhone app", "android": "Android app", "receiver": "Dexcom receiver"}
TRANSMITTER_WORDS = {"g7": "G7", "g6": "G6", "g6+": "G6+", "g6Pro": "G6 Pro"}


def device_text(reading) -> str:
    """Which device a reading came from, in words: "Dexcom G7 · Android app (G7Android)"."""
    sensor = TRANSMITTER_WORDS.get(reading.transmitter_generation, "")
    display = DISPLAY_DEVICE_WORDS.get(reading.display_device, reading.display_device or "")
    app = f" ({reading.display_app})" if reading.display_app else ""
    parts = [f"Dexcom {sensor}" if sensor else "", f"{display}{app}" if display else app.strip()]
    return " · ".join(part for part in parts if part) or "device not reported"


def age_text(age: timedelta) -> str:
    """How old a reading is, plainly: "just now", "12 min old", "3 h 05 min old", "2 days old"."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min old"
    if minutes < 48 * 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min old"
    return f"{minutes // 1440} days old"


@dataclass(frozen=True)
class PatientPage(PatientHeader):
    """The patient header (apps.glucose.reports.patient) with the Dexcom sync state."""

    connection: DexcomConnection | None
    waiting_for_dexcom: bool = False  # due for a sync, queued until the Dexcom budget allows

    @property
    def last_attempt_failed(self) -> bool:
        """The newest sync attempt has not succeeded (a run that succeeds ends after it began)."""
        connection = self.connection
        if connection is None or connection.last_sync_attempt_at is None:
            return False
        return connection.last_sync_at is None or connection.last_sync_at < connection.last_sync_attempt_at

    @property
    def sync_problem(self) -> str:
        """Plain words on why the sync is not working, or ''."""
        connection = self.connection
        if connection is None:
            return ""
        if connection.status == DexcomConnection.Status.NEEDS_REAUTH:
            return connection.last_error or "Dexcom no longer accepts our access: please reconnect."
        if connection.status == DexcomConnection.Status.DISCONNECTED:
            return "The Dexcom account is disconnected."
        return connection.last_error

    @property
    def backfill_running(self) -> bool:
        return self.connection is not None and self.connection.backfill_percent < 100

    @property
    def latest_display(self) -> dict | None:
        latest = self.latest
        if latest is None:
            return None
        text = format_glucose(latest.value, self.unit) if latest.value is not None else "—"
        if latest.status == "low" or (latest.value is not None and latest.value < 40):
            text = "LOW"
        elif latest.status == "high" or (latest.value is not None and latest.value > 400):
            text = "HIGH"
        return {
            "text": text,
            "arrow": TREND_ARROWS.get(latest.trend, ""),
            "trend": TREND_WORDS.get(latest.trend, ""),
            "local_time": latest.local_time,
            "age": self.latest_age,
            "age_text": age_text(self.latest_age),
            "device": device_text(latest),
        }


def load_patient_page(patient, *, now: datetime | None = None) -> PatientPage:
    """Two or three queries: the connection, the newest reading, the device unit if needed."""
    now = now or timezone.now()
    connection = DexcomConnection.objects.filter(user_id=patient.pk).select_related("schedule").first()
    waiting = False
    if connection is not None:
        # Someone is looking: sync at the watched pace (no extra query; an UPDATE a few times an hour).
        waiting = schedule.note_page_view(connection=connection, now=now)
    header = patient_header(patient, now=now)
    fields = {field.name: getattr(header, field.name) for field in dataclasses.fields(header)}
    return PatientPage(**fields, connection=connection, waiting_for_dexcom=waiting)

"""What each Dexcom alert is called on screen and the one colour it has on every chart.

Dexcom's alertName values (devices and alerts endpoints) are identifiers, not words a patient
reads: "urgentLowSoon" is the app's "Urgent Low Soon", "outOfRange" its "Signal Loss". Every page
and chart asks here, so an alert type looks the same everywhere.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class AlertKind:
    name: str  # Dexcom's alertName
    label: str  # what the Dexcom app calls it
    colour: str  # the same on every chart
    order: int  # urgent first, as the app lists them


_KINDS = (
    AlertKind("urgentLow", "Urgent low", "#7a0019", 0),
    AlertKind("fixedLow", "Urgent low (fixed 55 mg/dL)", "#4a0010", 1),
    AlertKind("urgentLowSoon", "Urgent low soon", "#d9480f", 2),
    AlertKind("low", "Low", "#e8590c", 3),
    AlertKind("high", "High", "#f0a800", 4),
    AlertKind("rise", "Rising fast", "#9c36b5", 5),
    AlertKind("fall", "Falling fast", "#1c7ed6", 6),
    AlertKind("outOfRange", "Signal loss", "#495057", 7),
    AlertKind("noReadings", "No readings", "#868e96", 8),
)
KINDS = {kind.name: kind for kind in _KINDS}
ALERT_NAMES = tuple(kind.name for kind in _KINDS)
UNKNOWN_COLOUR = "#adb5bd"


def alert_kind(name: str) -> AlertKind:
    """The kind of an alertName; a name newer than this list keeps its own name, in grey."""
    return KINDS.get(name) or AlertKind(name, name or "Unknown alert", UNKNOWN_COLOUR, 99)


def alert_label(name: str) -> str:
    return alert_kind(name).label


def alert_colour(name: str) -> str:
    return alert_kind(name).colour

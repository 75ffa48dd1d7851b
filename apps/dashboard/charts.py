"""Chart data for the static chart scripts: pure functions from numpy arrays to JSON bytes.

Sizes matter (90 days = 25,920 readings): times go out as one base instant plus integer second
offsets and values as integer mg/dL, serialised by orjson straight from numpy. 90 days come to
about 300 KB. Times are drawn as the patient's local wall clock written as if UTC, so Plotly,
which has no time zones, shows what the patient's device showed; the trace's axis runs with real
time from the period's first local midnight (see localtime.TimeAxis).
"""

import numpy as np
import orjson

from apps.glucose import localtime, targets
from apps.glucose.alert_kinds import alert_colour, alert_label
from apps.glucose.metrics import HIGH_LIMIT_MGDL, LOW_LIMIT_MGDL
from apps.glucose.reports.agp import AgpReport, daily_profile_day_numbers
from apps.glucose.units import MGDL_PER_MMOLL, MMOLL

# The consensus says never interpolate: a break of more than 15 minutes (3 missed readings)
# is drawn as a gap.
GAP_SECONDS = 15 * 60
# The AGP v4 report draws these two lines besides the target band (the patient's target set's
# range: 70-180 unless they chose another, target_band).
REFERENCE_LINES_MGDL = (54, 250)
# Beyond two weeks one marker per event would cover the trace (90 days: thousands of
# diamonds): markers then become one per local day, sized and labelled by their count.
MARKERS_PER_RECORD_MAX_DAYS = 14
# Beyond two weeks a date label a day overlaps its neighbours, and Plotly measures every label it
# draws (90 labels were a third of the 90-day trace's first draw): a label a week from the first
# day then.
DAILY_TICKS_MAX_DAYS = 14

EVENT_LABELS = {
    "carbs": "Carbs",
    "insulin": "Insulin",
    "exercise": "Exercise",
    "health": "Health",
    "notes": "Note",
    "note": "Note",
    "bloodGlucose": "Blood glucose",
}


# As Django's json_script: JSON strings may spell these as \u escapes, and without them no text
# (a note "</script>" or "<!--<script>") can end or re-open the <script> element holding it.
_HTML_SCRIPT_ESCAPES = (("<", "\\u003C"), (">", "\\u003E"), ("&", "\\u0026"))


def to_json(data) -> str:
    """orjson with numpy support, safe inside a <script type="application/json"> element."""
    raw = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    text = raw.decode()
    for character, escape in _HTML_SCRIPT_ESCAPES:  # str.replace: fast on 400 kB of 90 days
        text = text.replace(character, escape)
    return text


def gap_breaks(epoch_s: np.ndarray) -> np.ndarray:
    """Indexes i where the line must break before point i: a gap of more than 15 minutes.
    (The axis runs with real time, so a wall clock going back draws no loop.)"""
    if epoch_s.size < 2:
        return np.array([], dtype=np.int64)
    return np.flatnonzero(np.diff(epoch_s) > GAP_SECONDS) + 1


def unit_fields(unit: str) -> dict:
    # The JS divides mg/dL by this one constant for mmol/L; mg/dL is shown as is.
    mmol = unit == MMOLL
    return {"unit": unit, "divisor": MGDL_PER_MMOLL if mmol else 1, "decimals": 1 if mmol else 0}


def target_band(target_set: targets.TargetSet, unit: str) -> dict:
    """The shaded range of every glucose chart: the patient's target set's, in mg/dL values
    that read as its limits in `unit` (charts.js divides), and its name for the legend."""
    return {"target": target_set.shading_mgdl(unit), "target_label": target_set.range_text(unit)}


def trace_chart_data(
    series,
    *,
    unit: str,
    period,
    events=(),
    alerts=(),
    calibrations=(),
    target_set: targets.TargetSet = targets.STANDARD_SET,
) -> dict:
    """The glucose trace of a period: readings, gap breaks, LOW/HIGH marks and markers.

    The x axis runs with real time (localtime.TimeAxis), so it only goes forward, also on the
    day DST ends; `ticks` label it with the patient's wall clock and `shifts` tell the hover
    label how far a reading's own wall clock is from the axis. `events`, `alerts`,
    `calibrations` are marker rows (epoch, delta, *fields) from selectors.
    """
    axis = localtime.time_axis(period, epoch_s=series.epoch_s, delta_s=series.delta_s)
    positions = axis.positions(series.epoch_s)
    return {
        **unit_fields(unit),
        "t0": axis.t0_local * 1000,
        "t": positions.astype(np.int32),
        # [index, seconds]: from that reading on, its wall clock is `seconds` from the axis.
        "shifts": [[int(np.searchsorted(positions, start)), shift] for start, shift in axis.segments],
        "v": series.value.astype(np.int16),
        "breaks": gap_breaks(series.epoch_s).astype(np.int32),
        "limits": [LOW_LIMIT_MGDL, HIGH_LIMIT_MGDL],
        **target_band(target_set, unit),
        "window": [axis.t0_local * 1000, (axis.t0_local + axis.length) * 1000],
        "ticks": _trace_ticks(axis, days=period.days),
        "events": _event_markers(events, axis, per_day=period.days > MARKERS_PER_RECORD_MAX_DAYS),
        "alerts": _alert_markers(alerts, axis, per_day=period.days > MARKERS_PER_RECORD_MAX_DAYS),
        "calibrations": _calibration_markers(calibrations, axis),
    }


def _trace_ticks(axis, *, days: int) -> dict:
    """Every 3 hours for up to 3 days, every local midnight up to two weeks, else every 7th."""
    ticks = axis.ticks(step_hours=3 if days <= 3 else 24)
    if days <= DAILY_TICKS_MAX_DAYS:
        return ticks
    return {"values": ticks["values"][::7], "text": ticks["text"][::7]}


def _offsets(rows, axis) -> list[int]:
    return [epoch - axis.start_epoch for epoch, *_ in rows]


def _clock(epoch: int, delta: int) -> str:
    """A record's own wall clock, for marker labels (the axis may be shifted after DST)."""
    return f"{localtime.wall_clock_of_local_epoch(epoch + delta):%a %d %b %H:%M}"


def _daily_markers(rows, axis, labels) -> dict:
    """One marker per local day at local noon: its count and what it holds ("3 Carbs, 2 Note").

    `labels` gives each row's label, in the rows' order."""
    per_day: dict[int, dict[str, int]] = {}
    for (epoch, delta, *_), label in zip(rows, labels, strict=True):
        kinds = per_day.setdefault((epoch + delta) // 86400, {})
        kinds[label] = kinds.get(label, 0) + 1
    t, text, clock, count = [], [], [], []
    for number in sorted(per_day):
        noon = axis.position_of_clock(number * 86400 + 43200)
        kinds = per_day[number]
        t.append(noon if noon is not None else number * 86400 + 43200 - axis.t0_local)
        count.append(sum(kinds.values()))
        text.append(", ".join(f"{n} {label}" for label, n in sorted(kinds.items(), key=lambda kv: -kv[1])))
        clock.append(f"{localtime.date_of_day_number(number):%a %d %b} (whole day)")
    return {"t": t, "text": text, "clock": clock, "count": count, "per_day": True}


def _event_label(event_type: str) -> str:
    return EVENT_LABELS.get(event_type, event_type)


def _event_markers(rows, axis, *, per_day: bool = False) -> dict:
    if per_day:
        return _daily_markers(rows, axis, [_event_label(row[2]) for row in rows])
    text = []
    for _epoch, _delta, event_type, sub_type, value, unit in rows:
        label = _event_label(event_type)
        detail = " ".join(part for part in (sub_type, value, unit) if part)
        text.append(f"{label}: {detail}" if detail else label)
    return {
        "t": _offsets(rows, axis),
        "text": text,
        "kind": [row[2] for row in rows],
        "clock": [_clock(epoch, delta) for epoch, delta, *_ in rows],
    }


def _alert_markers(rows, axis, *, per_day: bool = False) -> dict:
    if per_day:
        return _daily_markers(rows, axis, [alert_label(row[2]) for row in rows])
    return {
        "t": _offsets(rows, axis),
        "text": [_alert_text(name, state) for _, _, name, state in rows],
        "colour": [alert_colour(name) for _, _, name, _ in rows],
        "clock": [_clock(epoch, delta) for epoch, delta, *_ in rows],
    }


ALERT_STATE_WORDS = {"activeAlarming": "alarming", "activeSnoozed": "snoozed", "inactive": "ended"}


def _alert_text(name: str, state: str) -> str:
    label = alert_label(name)
    return f"{label} alert ({ALERT_STATE_WORDS.get(state, state)})" if state else f"{label} alert"


def _calibration_markers(rows, axis) -> dict:
    return {
        "t": _offsets(rows, axis),
        "v": [value for _, _, value in rows],
        "clock": [_clock(epoch, delta) for epoch, delta, *_ in rows],
    }


MINI_TRACE_SECONDS = 24 * 3600


def mini_trace_chart_data(series, *, unit: str, target_set: targets.TargetSet = targets.STANDARD_SET) -> dict:
    """The last 24 h before the newest reading, for the overview's small trace.

    Like the trace, the axis runs with real time (localtime.records_time_axis), labelled with
    the readings' wall clock: on the night DST ends the repeated hour is drawn after the first,
    not on top of it, and the hover label shows each reading's own clock (`shifts`)."""
    if series.epoch_s.size:
        keep = series.epoch_s > series.epoch_s[-1] - MINI_TRACE_SECONDS
        epoch, delta, values = series.epoch_s[keep], series.delta_s[keep], series.value[keep]
    else:
        epoch = delta = values = np.array([], dtype=np.int64)
    axis = localtime.records_time_axis(epoch_s=epoch, delta_s=delta)
    positions = axis.positions(epoch)
    return {
        **unit_fields(unit),
        "t0": axis.t0_local * 1000,
        "t": positions.astype(np.int32),
        "shifts": [[int(np.searchsorted(positions, start)), shift] for start, shift in axis.segments],
        "ticks": axis.ticks(step_hours=3),
        "v": values.astype(np.int16),
        "breaks": gap_breaks(epoch).astype(np.int32),
        "limits": [LOW_LIMIT_MGDL, HIGH_LIMIT_MGDL],
        **target_band(target_set, unit),
        "reference_lines": list(REFERENCE_LINES_MGDL),
    }


def agp_chart_data(report: AgpReport) -> dict:
    """AGP modal day (percentiles per 5-minute slot) and the daily profiles (last 14 days)."""
    profiles = [
        {
            "date": profile.day.isoformat(),
            "label": f"{profile.day:%a} {profile.day.day} {profile.day:%b}",
            "t": profile.minutes,
            "v": profile.values.astype(np.int16),
        }
        for profile in report.profiles
    ]
    return {
        **unit_fields(report.unit),
        "agp": report.percentiles,
        "profiles": profiles,
        "profiles_caption": daily_profiles_caption(report.period.first_day, report.days),
        "reference_lines": list(REFERENCE_LINES_MGDL),
        "limits": [LOW_LIMIT_MGDL, HIGH_LIMIT_MGDL],
        **target_band(report.target_set, report.unit),
    }


def daily_profiles_caption(first_day, days: int) -> str:
    """Which days the daily profiles show, e.g. "Mon 23 Nov 2026 – Sun 6 Dec 2026 (last 14 of 90 days)"."""
    numbers = daily_profile_day_numbers(first_day, days)
    first, last = (localtime.date_of_day_number(n) for n in (numbers[0], numbers[-1]))
    text = f"{first:%a} {first.day} {first:%b %Y} – {last:%a} {last.day} {last:%b %Y}"
    if len(numbers) < days:
        return f"{text} (the last {len(numbers)} of the period's {days} days)"
    return f"{text} (every day of the period)"


def alert_counts_chart_data(rows, *, first_day, days: int) -> dict:
    """Alerts per type per local day: rows are (epoch, delta, alert_name)."""
    first = localtime.day_number(first_day)
    dates = [localtime.date_of_day_number(first + i).isoformat() for i in range(days)]
    counts: dict[str, list[int]] = {}
    for epoch, delta, name in rows:
        index = (epoch + delta) // 86400 - first
        if 0 <= index < days:
            counts.setdefault(name, [0] * days)[index] += 1
    return {"dates": dates, "series": [{"name": n, "counts": c} for n, c in sorted(counts.items())]}

"""The alarm pages' numbers: the alerts list, "Alarm burden" and "Settings timeline".

One typed report per page: the view checks who may see the data, asks for its report once and
renders it. Alarms are grouped from alert records by apps.glucose.alarms (the rule is there),
the setting in force comes from apps.glucose.alert_settings, glucose metrics from
apps.glucose.metrics. Facts only: the pages describe what happened, they advise nothing.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

import numpy as np

from apps.glucose import localtime, metrics, selectors
from apps.glucose.alarms import MAX_SILENCE, Alarm, group_alarms, records_from_rows
from apps.glucose.alert_kinds import alert_kind
from apps.glucose.alert_settings import (
    SettingChange,
    SettingsHistory,
    ThresholdThen,
    all_changes,
)

# An urgent-low-soon alarm warned of an urgent low when it started at most this long before it:
# Dexcom predicts 20 minutes ahead; 10 more allow for a fall that slowed on the way.
WARNING_WINDOW = timedelta(minutes=30)
URGENT_LOWS = ("urgentLow", "fixedLow")
# Before/after a settings change: the same number of days on each side, at most this many,
# and never past the first or last reading.
EFFECT_WINDOW = timedelta(days=14)
MIN_EFFECT_WINDOW = timedelta(days=1)


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _after(moment: datetime) -> datetime:
    """The end of a [start, end) read that keeps the record at `moment`."""
    return moment + timedelta(seconds=1)


@dataclass(frozen=True)
class AlarmRow:
    alarm: Alarm
    threshold: ThresholdThen
    device: str


def _alarms_between(patient_id: int, start: datetime, end: datetime) -> list[Alarm]:
    # Records from MAX_SILENCE before the start, so an alarm begun just before is not cut in two.
    rows = selectors.alert_state_rows(patient_id=patient_id, start=start - MAX_SILENCE, end=end)
    return [a for a in group_alarms(records_from_rows(rows)) if a.start_epoch >= start.timestamp()]


def alarms_in_period(*, patient_id: int, period: localtime.Period) -> list[Alarm]:
    """Alarms that started in the period's local days (their own wall clock), oldest first."""
    start, end = period.utc_bounds()
    first, last = period.local_epoch_window()
    return [a for a in _alarms_between(patient_id, start, end) if first <= a.local_start_epoch < last]


def _alarm_rows(alarms, history: SettingsHistory, unit: str) -> list[AlarmRow]:
    rows = []
    for alarm in alarms:
        display = history.history_for(alarm.first)
        rows.append(
            AlarmRow(
                alarm=alarm,
                threshold=history.threshold_at(
                    alarm.first,
                    alert_name=alarm.name,
                    moment=_utc(alarm.start_epoch),
                    local_time=alarm.local_start,
                    unit=unit,
                ),
                device=display.label if display else (alarm.first.display_device or "unknown device"),
            )
        )
    return rows


def daily_counts(alarms, *, period: localtime.Period) -> dict:
    """Alarms per type per local day, for the stacked bar chart (each type its own colour)."""
    first = localtime.day_number(period.first_day)
    counts: dict[str, list[int]] = {}
    for alarm in alarms:
        index = alarm.local_start_epoch // localtime.SECONDS_PER_DAY - first
        if 0 <= index < period.days:
            counts.setdefault(alarm.name, [0] * period.days)[index] += 1
    return {
        "dates": [localtime.date_of_day_number(first + i).isoformat() for i in range(period.days)],
        "series": [
            {
                "name": name,
                "label": alert_kind(name).label,
                "colour": alert_kind(name).colour,
                "counts": values,
            }
            for name, values in sorted(counts.items(), key=lambda item: alert_kind(item[0]).order)
        ],
    }


@dataclass(frozen=True)
class AlertsReport:
    """The alerts page: alarms (not records) of a period with the setting in force at each."""

    period: localtime.Period
    records: int
    alarms: list[AlarmRow]
    chart: dict


def alerts_report(*, patient, period: localtime.Period, unit: str, names=()) -> AlertsReport:
    alarms = alarms_in_period(patient_id=patient.pk, period=period)
    if names:
        alarms = [a for a in alarms if a.name in names]
    history = SettingsHistory(selectors.devices_with_settings(patient_id=patient.pk))
    rows = _alarm_rows(alarms, history, unit)
    return AlertsReport(
        period=period,
        records=sum(a.records for a in alarms),
        alarms=list(reversed(rows)),
        chart=daily_counts(alarms, period=period),
    )


# --- Alarm burden -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CauseRow:
    name: str
    label: str
    colour: str
    threshold: str
    alarms: int
    percent: float


@dataclass(frozen=True)
class UrgentLowWarnings:
    urgent_lows: int
    warned: int
    lead_minutes: tuple[float, ...]

    @property
    def percent(self) -> float | None:
        return 100 * self.warned / self.urgent_lows if self.urgent_lows else None

    @property
    def median_lead_minutes(self) -> float | None:
        return median(self.lead_minutes) if self.lead_minutes else None


@dataclass(frozen=True)
class WindowCounts:
    days: float
    alarms: int
    by_name: dict

    @property
    def per_day(self) -> float:
        return self.alarms / self.days if self.days else 0.0


@dataclass(frozen=True)
class ChangeEffect:
    change: SettingChange
    window_days: float | None  # None: not enough data on both sides
    before: WindowCounts | None
    after: WindowCounts | None
    changed_alarms_before: int | None  # alarms of the alert types the change touched
    changed_alarms_after: int | None


@dataclass(frozen=True)
class AlarmBurden:
    period: localtime.Period
    records: int
    alarms: int
    night_alarms: int
    day_alarms: int
    days: float
    nights: int
    alarming_minutes: float
    active_minutes: float
    snoozes: int
    realarms: int
    causes: list[CauseRow]
    warnings: UrgentLowWarnings
    effects: list[ChangeEffect]
    chart: dict
    hours: dict

    @property
    def per_day(self) -> float:
        return self.alarms / self.days if self.days else 0.0

    @property
    def per_night(self) -> float:
        return self.night_alarms / self.nights if self.nights else 0.0


def cause_rows(rows: list[AlarmRow]) -> list[CauseRow]:
    """Alarms per (alert, setting in force then), most first."""
    counts = Counter((row.alarm.name, row.threshold.text) for row in rows)
    total = sum(counts.values())
    return [
        CauseRow(
            name=name,
            label=alert_kind(name).label,
            colour=alert_kind(name).colour,
            threshold=threshold,
            alarms=count,
            percent=100 * count / total,
        )
        for (name, threshold), count in sorted(
            counts.items(), key=lambda item: (-item[1], alert_kind(item[0][0]).order, item[0][1])
        )
    ]


def urgent_low_warnings(alarms: list[Alarm]) -> UrgentLowWarnings:
    """How many urgent lows an urgent-low-soon alarm of the same device warned of, and how early:
    the latest one that started at most WARNING_WINDOW before the urgent low."""
    window = int(WARNING_WINDOW.total_seconds())
    soon = [a for a in alarms if a.name == "urgentLowSoon"]
    urgent = [a for a in alarms if a.name in URGENT_LOWS]
    leads = []
    for alarm in urgent:
        before = [
            s.start_epoch
            for s in soon
            if s.first.source == alarm.first.source and 0 <= alarm.start_epoch - s.start_epoch <= window
        ]
        if before:
            leads.append((alarm.start_epoch - max(before)) / 60)
    return UrgentLowWarnings(urgent_lows=len(urgent), warned=len(leads), lead_minutes=tuple(leads))


def _window(alarms: list[Alarm], start: int, end: int) -> WindowCounts:
    inside = [a for a in alarms if start <= a.start_epoch < end]
    return WindowCounts(
        days=(end - start) / 86400, alarms=len(inside), by_name=dict(Counter(a.name for a in inside))
    )


def effect_window(at: datetime, span: tuple[datetime, datetime] | None) -> timedelta | None:
    """The same length before and after `at` inside the readings' span, at most EFFECT_WINDOW."""
    if span is None:
        return None
    length = min(EFFECT_WINDOW, at - span[0], span[1] - at)
    return length if length >= MIN_EFFECT_WINDOW else None


def change_effects(changes, alarms: list[Alarm], span) -> list[ChangeEffect]:
    effects = []
    for change in changes:
        length = effect_window(change.at, span)
        if length is None:
            effects.append(ChangeEffect(change, None, None, None, None, None))
            continue
        at, seconds = int(change.at.timestamp()), int(length.total_seconds())
        before, after = _window(alarms, at - seconds, at), _window(alarms, at, at + seconds)
        names = change.alert_names
        effects.append(
            ChangeEffect(
                change,
                length.total_seconds() / 86400,
                before,
                after,
                sum(before.by_name.get(n, 0) for n in names),
                sum(after.by_name.get(n, 0) for n in names),
            )
        )
    return effects


def _hour_counts(alarms: list[Alarm]) -> dict:
    counts: dict[str, list[int]] = {}
    for alarm in alarms:
        counts.setdefault(alarm.name, [0] * 24)[alarm.local_start.hour] += 1
    return {
        "hours": list(range(24)),
        "series": [
            {"name": n, "label": alert_kind(n).label, "colour": alert_kind(n).colour, "counts": c}
            for n, c in sorted(counts.items(), key=lambda item: alert_kind(item[0]).order)
        ],
    }


def _nights(period: localtime.Period) -> int:
    """Local nights (00:00-06:00) of the period already begun."""
    if period.local_now is None:
        return period.days
    return max(0, min(period.days, (period.local_now.date() - period.first_day).days + 1))


def burden_from(*, period, rows: list[AlarmRow], effects: list[ChangeEffect]) -> AlarmBurden:
    """The burden of the period's alarms (pure: the report builder and the tests call it)."""
    alarms = [row.alarm for row in rows]
    night = sum(1 for a in alarms if a.at_night)
    return AlarmBurden(
        period=period,
        records=sum(a.records for a in alarms),
        alarms=len(alarms),
        night_alarms=night,
        day_alarms=len(alarms) - night,
        days=period.elapsed_days,
        nights=_nights(period),
        alarming_minutes=sum(a.alarming_seconds for a in alarms) / 60,
        active_minutes=sum(a.active_seconds for a in alarms) / 60,
        snoozes=sum(a.snoozes for a in alarms),
        realarms=sum(a.realarms for a in alarms),
        causes=cause_rows(rows),
        warnings=urgent_low_warnings(alarms),
        effects=effects,
        chart=daily_counts(alarms, period=period),
        hours=_hour_counts(alarms),
    )


def alarm_burden_report(*, patient, period: localtime.Period, unit: str) -> AlarmBurden:
    """Alarm burden of a period, and how alarms went before/after every settings change."""
    devices = selectors.devices_with_settings(patient_id=patient.pk)
    history = SettingsHistory(devices)
    rows = _alarm_rows(alarms_in_period(patient_id=patient.pk, period=period), history, unit)
    span = selectors.reading_span(patient_id=patient.pk)
    changes = all_changes(devices, unit=unit, tzinfo=patient.tzinfo)
    every_alarm = _alarms_between(patient.pk, span[0], _after(span[1])) if span else []
    effects = change_effects(changes, every_alarm, span)
    return burden_from(period=period, rows=rows, effects=list(reversed(effects)))


# --- Settings timeline --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    change: SettingChange
    window_days: float | None
    before: dict | None  # apps.glucose.metrics.compute_metrics of the readings before
    after: dict | None
    alarms_before: int | None
    alarms_after: int | None


@dataclass(frozen=True)
class SettingsTimeline:
    entries: list[TimelineEntry]  # newest first
    first_known: datetime | None
    chart: dict


def _metrics_between(series, start: int, end: int, unit: str) -> dict:
    mask = (series.epoch_s >= start) & (series.epoch_s < end)
    return metrics.compute_metrics(
        series.value[mask],
        period_start=_utc(start),
        period_end=_utc(end),
        unit=unit,
        days_with_data=len(set(series.local_day[mask].tolist())),
    )


def timeline_from(*, changes, series, alarms: list[Alarm], span, unit: str) -> list[TimelineEntry]:
    """Each change with the glucose metrics and alarms of the same-length periods around it."""
    entries = []
    for change in changes:
        length = effect_window(change.at, span)
        if length is None:
            entries.append(TimelineEntry(change, None, None, None, None, None))
            continue
        at, seconds = int(change.at.timestamp()), int(length.total_seconds())
        entries.append(
            TimelineEntry(
                change,
                length.total_seconds() / 86400,
                _metrics_between(series, at - seconds, at, unit),
                _metrics_between(series, at, at + seconds, unit),
                _window(alarms, at - seconds, at).alarms,
                _window(alarms, at, at + seconds).alarms,
            )
        )
    return list(reversed(entries))


def _daily_tir_chart(series, changes, unit: str) -> dict:
    """Daily time in range over the whole history, with a mark at each change (local times)."""
    days = series.local_day
    numbers = np.unique(days)
    tir = []
    for number in numbers.tolist():
        values = series.value[days == number]
        result = metrics.compute_metrics(
            values,
            period_start=localtime.date_of_day_number(number),
            period_end=localtime.date_of_day_number(number + 1),
            unit=unit,
        )
        tir.append(None if result["tir_70_180_percent"] is None else round(result["tir_70_180_percent"], 1))
    return {
        "dates": [localtime.date_of_day_number(n).isoformat() for n in numbers.tolist()],
        "tir": tir,
        "changes": [{"at": f"{c.local:%Y-%m-%d %H:%M}", "text": "; ".join(c.lines)} for c in changes],
    }


def settings_timeline_report(*, patient, unit: str) -> SettingsTimeline:
    devices = selectors.devices_with_settings(patient_id=patient.pk)
    changes = all_changes(devices, unit=unit, tzinfo=patient.tzinfo)
    span = selectors.reading_span(patient_id=patient.pk)
    series = (
        selectors.egv_series(patient_id=patient.pk, start=span[0], end=_after(span[1]))
        if span
        else selectors.EgvSeries(*(np.zeros(0, dtype=np.int64) for _ in range(3)))
    )
    alarms = _alarms_between(patient.pk, span[0], _after(span[1])) if span else []
    histories = SettingsHistory(devices).histories
    known = [h.first_known for h in histories if h.first_known is not None]
    return SettingsTimeline(
        entries=timeline_from(changes=changes, series=series, alarms=alarms, span=span, unit=unit),
        first_known=min(known) if known else None,
        chart=_daily_tir_chart(series, changes, unit),
    )

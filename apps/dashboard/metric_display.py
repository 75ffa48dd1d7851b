"""Metrics as the pages show them: formatted in the patient's unit, with targets and warnings."""

from decimal import Decimal

from apps.glucose import metrics as m
from apps.glucose import targets
from apps.glucose.targets import TargetSet
from apps.glucose.units import MGDL, MMOLL, format_glucose, format_limit, mgdl_to_mmoll, range_limits

# Sensor wear as the AGP report names it; its one definition is metrics.sensor_wear_percent.
WEAR_LABEL = "Time CGM active"
BAND_COLORS = {
    "very_high": "#e67e22",
    "high": "#f4c542",
    "in_range": "#2e9d5b",
    "low": "#e05252",
    "very_low": "#a31b1b",
}


def _time_per_day(percent: float | None) -> str:
    if percent is None:
        return ""
    minutes = round(percent / 100 * 1440)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min/day" if hours else f"{minutes} min/day"


def _pct(value: float | None) -> str:
    if value is None:
        return "—"
    if 0 < value < 1:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def _next_limit(value, unit: str, step: int) -> str:
    """The first number the patient reads past a limit: 180 -> 181, 10.0 -> 10.1, 70 -> 69."""
    if unit == MMOLL:
        return format_limit(Decimal(str(value)) + Decimal("0.1") * step, unit)
    return format_limit(int(value) + step, unit)


def _goal_cell(target_set: TargetSet, measure: str, unit: str, measures: dict) -> tuple[str, bool | None]:
    """A band's goal as written ("<25% above 180") and whether the period met it."""
    goal = target_set.goal(measure)
    if goal is None:
        return "", None
    suffix = (
        f" {target_set.measure_label(measure, unit)}" if measure in (targets.BELOW, targets.ABOVE) else ""
    )
    return goal.text + suffix, goal.met(measures[measure])


def range_bands(measures: dict, unit: str, target_set: TargetSet = targets.STANDARD_SET) -> list[dict]:
    """The five bands of the patient's target set, top to bottom as on the AGP report, with
    its goals: very high (>250), above the set's range, in it, below it, very low (<54).
    `measures` are metrics.target_measures of the period."""
    unit = MMOLL if unit == MMOLL else MGDL
    low, high = target_set.range_in(unit)
    very_low = format_limit(targets.VERY_LOW_BELOW[unit], unit)
    very_high = format_limit(targets.VERY_HIGH_ABOVE[unit], unit)
    rows = [
        ("very_high", f"Very high (>{very_high})", targets.VERY_HIGH, targets.VERY_HIGH),
        ("high", f"High ({_next_limit(high, unit, 1)}–{very_high})", "high", targets.ABOVE),
        (
            "in_range",
            f"In range ({format_limit(low, unit)}–{format_limit(high, unit)})",
            targets.IN_RANGE,
            targets.IN_RANGE,
        ),
        ("low", f"Low ({very_low}–{_next_limit(low, unit, -1)})", "low", targets.BELOW),
        ("very_low", f"Very low (<{very_low})", targets.VERY_LOW, targets.VERY_LOW),
    ]
    bands = []
    for key, label, shown, measure in rows:
        percent = measures[shown]
        target, met = _goal_cell(target_set, measure, unit, measures)
        bands.append(
            {
                "key": key,
                "label": label,
                "percent": percent,
                "percent_text": _pct(percent),
                "time_per_day": _time_per_day(percent),
                "target": target,
                "met": met,
                "color": BAND_COLORS[key],
                "width": round(percent or 0, 2),
            }
        )
    return bands


def _sum(a, b):
    return None if a is None or b is None else a + b


def summary_rows(metrics: dict, unit: str, target_set: TargetSet = targets.STANDARD_SET) -> list[dict]:
    """Mean, GMI, SD, CV, GRI, TITR, wear: each with a value or the reason there is none."""
    readings = metrics["readings"]
    too_few = "not enough data"
    mean = metrics["mean_mgdl"]
    sd = metrics["sd_mgdl"]
    gmi = metrics["gmi_percent"]
    gri = metrics["gri"]
    rows = [
        ("Mean glucose", f"{format_glucose(mean, unit)} {unit}" if mean is not None else too_few, ""),
        (
            "GMI",
            f"{gmi:.1f}% ({metrics['gmi_mmol_mol']:.0f} mmol/mol)"
            if gmi is not None
            else f"needs {m.GMI_MIN_DAYS_WITH_DATA}+ days of data"
            if readings
            else too_few,
            "",
        ),
        ("SD (sample)", f"{_sd(sd, unit)} {unit}" if sd is not None else too_few, ""),
        (
            "CV",
            f"{metrics['cv_percent']:.1f}%" if metrics["cv_percent"] is not None else too_few,
            _cv_note(target_set),
        ),
        ("GRI", f"{gri:.0f} (zone {metrics['gri_zone']})" if gri is not None else too_few, "zone A is best"),
        (
            "Time in tight range (70–140 mg/dL)" if unit == MGDL else "Time in tight range (3.9–7.8 mmol/L)",
            _pct(metrics["titr_70_140_percent"]) if readings else too_few,
            _time_per_day(metrics["titr_70_140_percent"]),
        ),
    ]
    return [{"label": label, "value": value, "note": note} for label, value, note in rows]


def _cv_note(target_set: TargetSet) -> str:
    goal = target_set.goal(targets.CV)
    return f"target {goal.text}" if goal else ""


def _sd(sd: float, unit: str) -> str:
    return format_glucose(sd, unit) if unit == MGDL else f"{mgdl_to_mmoll(sd):.1f}"


def wear_warning(metrics: dict, *, period_days: int) -> str:
    """The consensus sufficiency: 14 days and 70% wear; say plainly when it is not met."""
    wear = metrics["wear_percent"]
    if not metrics["readings"]:
        return "No readings in this period."
    if wear is not None and wear < m.SUFFICIENT_WEAR_PERCENT:
        return (
            f"{WEAR_LABEL} was {wear:.0f}%; the consensus asks for at least "
            f"{m.SUFFICIENT_WEAR_PERCENT}% over {m.SUFFICIENT_DAYS} days for reliable metrics."
        )
    if period_days < m.SUFFICIENT_DAYS:
        return f"Fewer than {m.SUFFICIENT_DAYS} days: the consensus metrics are meant for 14 days or more."
    return ""


def comparison_rows(current: dict, previous: dict, unit: str) -> list[dict]:
    """This period against the one before it, in the consensus metrics (whatever the target
    set: the labels say the consensus limits)."""
    limits = range_limits(unit)

    def pct(key):
        return _pct(current[key]), _pct(previous[key])

    rows = [
        (f"Time in range ({limits['low']}–{limits['high']})", *pct("tir_70_180_percent")),
        (
            f"Time below range (<{limits['low']})",
            _pct(_sum(current["tbr_below_54_percent"], current["tbr_54_69_percent"])),
            _pct(_sum(previous["tbr_below_54_percent"], previous["tbr_54_69_percent"])),
        ),
        (
            f"Time above range (>{limits['high']})",
            _pct(_sum(current["tar_181_250_percent"], current["tar_above_250_percent"])),
            _pct(_sum(previous["tar_181_250_percent"], previous["tar_above_250_percent"])),
        ),
        ("Mean", format_glucose(current["mean_mgdl"], unit), format_glucose(previous["mean_mgdl"], unit)),
        ("GMI", _fmt(current["gmi_percent"], "%"), _fmt(previous["gmi_percent"], "%")),
        ("CV", _fmt(current["cv_percent"], "%"), _fmt(previous["cv_percent"], "%")),
        ("GRI", _fmt(current["gri"], "", 0), _fmt(previous["gri"], "", 0)),
        (WEAR_LABEL, *pct("wear_percent")),
    ]
    return [{"label": label, "current": a, "previous": b} for label, a, b in rows]


def _fmt(value, suffix: str, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}{suffix}"


def ranked_day(ranked, unit: str) -> dict | None:
    """A best or worst day as the overview shows it: date, time in range, mean."""
    if ranked is None:
        return None
    return {
        "day": ranked.day,
        "tir": _pct(ranked.tir_percent),
        "mean": f"{format_glucose(ranked.mean_mgdl, unit)} {unit}",
    }

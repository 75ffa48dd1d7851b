"""Glucose units: one conversion constant, the formatting every page uses, and where a reading
falls among the consensus ranges.

Values are stored and computed in mg/dL as Dexcom sends them (whole numbers); mmol/L exists only
on screen, as mg/dL / 18.018 rounded to one decimal.

Where classification happens: in the unit the patient reads. A patient who reads mmol/L sees
181 mg/dL as 10.0 mmol/L, and 10.0 is in range (3.9-10.0), so for them it counts in range; a
patient who reads mg/dL sees 181, which is above 180. The stored integers carry enough precision
for both: each consensus limit in mmol/L is turned into the largest whole mg/dL value whose
*displayed* number is still inside the limit (`band_limits_mgdl`), so the displayed number and
the band always agree. The two units differ only at 141, 181 and 251 mg/dL (7.8, 10.0 and 13.9
mmol/L on screen); the low limits 54 and 70 display as 3.0 and 3.9 exactly.
"""

from dataclasses import dataclass

MGDL = "mg/dL"
MMOLL = "mmol/L"
MGDL_PER_MMOLL = 18.018
GLUCOSE_UNITS = (MGDL, MMOLL)


def mgdl_to_mmoll(value_mgdl: float) -> float:
    return value_mgdl / MGDL_PER_MMOLL


def mmoll_to_mgdl(value_mmoll: float) -> float:
    return value_mmoll * MGDL_PER_MMOLL


def displayed_mmoll(value_mgdl: float) -> float:
    """The mmol/L number a patient reads for a mg/dL value: one decimal."""
    return round(value_mgdl / MGDL_PER_MMOLL, 1)


def convert_mgdl(value_mgdl, unit: str):
    """A mg/dL value in `unit` (None stays None): the only place mmol/L numbers are made."""
    if value_mgdl is None:
        return None
    if unit == MMOLL:
        return displayed_mmoll(value_mgdl)
    return round(value_mgdl)


@dataclass(frozen=True)
class BandLimits:
    """The largest whole mg/dL value of each consensus band, as the patient's unit draws them.

    very low <= very_low_max < low <= low_max < in range <= in_range_max < high <= high_max <
    very high; tight range is low_max < value <= tight_max.
    """

    very_low_max: int
    low_max: int
    tight_max: int
    in_range_max: int
    high_max: int


# Consensus limits as written in each unit: (very low below, low below, tight up to,
# in range up to, high up to).
CONSENSUS_LIMITS = {MGDL: (54, 70, 140, 180, 250), MMOLL: (3.0, 3.9, 7.8, 10.0, 13.9)}
# Readings are whole mg/dL from 39 (LOW) to 401 (HIGH).
_MGDL_VALUES = range(39, 402)


def _largest_mgdl(inside) -> int:
    return max(value for value in _MGDL_VALUES if inside(value))


def _band_limits(unit: str) -> BandLimits:
    shown = displayed_mmoll if unit == MMOLL else (lambda value: value)
    very_low, low, tight, in_range, high = CONSENSUS_LIMITS[unit]
    return BandLimits(
        very_low_max=_largest_mgdl(lambda v: shown(v) < very_low),
        low_max=_largest_mgdl(lambda v: shown(v) < low),
        tight_max=_largest_mgdl(lambda v: shown(v) <= tight),
        in_range_max=_largest_mgdl(lambda v: shown(v) <= in_range),
        high_max=_largest_mgdl(lambda v: shown(v) <= high),
    )


_BAND_LIMITS = {unit: _band_limits(unit) for unit in (MGDL, MMOLL)}


@dataclass(frozen=True)
class RangeEdges:
    """A glucose range as whole mg/dL edges, drawn as the patient's unit reads it:
    below <= below_max < in range <= in_range_max < above."""

    below_max: int
    in_range_max: int


def range_edges_mgdl(low, high, unit: str) -> RangeEdges:
    """The edges of the range `low`-`high` written in `unit` (e.g. 3.5-7.8 mmol/L, 63-140 mg/dL),
    by the rule of band_limits_mgdl: a reading is in range when the number the patient reads is
    at least `low` and at most `high` (63 mg/dL reads 3.5, 141 reads 7.8)."""
    shown = displayed_mmoll if unit == MMOLL else (lambda value: value)
    # As floats: the displayed number is a float, and float(3.9) < Decimal("3.9") exactly.
    low, high = float(low), float(high)
    return RangeEdges(
        below_max=_largest_mgdl(lambda v: shown(v) < low),
        in_range_max=_largest_mgdl(lambda v: shown(v) <= high),
    )


def limit_in_mgdl(value, unit: str) -> int:
    """A range limit written in `unit` as a whole mg/dL number that reads as that limit (where
    the charts draw it): 3.5 mmol/L -> 63 (reads 3.5), 7.8 -> 141 (reads 7.8); mg/dL as is.
    One mg/dL is 0.056 mmol/L, so the rounded value always reads back as the limit."""
    return round(mmoll_to_mgdl(float(value))) if unit == MMOLL else int(value)


def format_limit(value, unit: str) -> str:
    """A range limit as written in `unit`: mmol/L with one decimal, mg/dL whole."""
    return f"{float(value):.1f}" if unit == MMOLL else f"{int(value):d}"


def band_limits_mgdl(unit: str) -> BandLimits:
    """Band edges in whole mg/dL for a patient reading `unit`: mg/dL 53/69/140/180/250,
    mmol/L 53/69/141/181/251 (141 reads 7.8, 181 reads 10.0, 251 reads 13.9)."""
    return _BAND_LIMITS[unit if unit == MMOLL else MGDL]


def format_glucose(value_mgdl, unit: str) -> str:
    """mmol/L with one decimal, mg/dL as a whole number; an empty value is an em dash."""
    value = convert_mgdl(value_mgdl, unit)
    if value is None:
        return "—"
    return f"{value:.1f}" if unit == MMOLL else f"{value:d}"


def convert_setting_value(value, setting_unit: str, unit: str) -> tuple[str, str]:
    """An alert setting (value, its unit) shown in the patient's unit: (text, unit label).

    Dexcom reports a device's settings in the unit the device displays (mmol/L settings carry
    decimals, e.g. 3.9 or 0.11 mmol/L/min); settings in minutes stay as they are.
    """
    if value is None:
        return "—", setting_unit
    if setting_unit in (MGDL, MMOLL):
        value_mgdl = value * MGDL_PER_MMOLL if setting_unit == MMOLL else value
        return format_glucose(value_mgdl, unit), unit
    if setting_unit in ("mg/dL/min", "mmol/L/min"):
        rate_mgdl = value * MGDL_PER_MMOLL if setting_unit == "mmol/L/min" else value
        if unit == MMOLL:
            return f"{rate_mgdl / MGDL_PER_MMOLL:.2f}", "mmol/L/min"
        return f"{round(rate_mgdl):d}", "mg/dL/min"
    return f"{value:g}", setting_unit


def range_limits(unit: str) -> dict:
    """The consensus range limits as shown: 54/70/180/250 mg/dL are 3.0/3.9/10.0/13.9 mmol/L."""
    if unit == MMOLL:
        return {
            "very_low": "3.0",
            "below_low": "3.8",
            "low": "3.9",
            "high": "10.0",
            "above_high": "10.1",
            "very_high": "13.9",
            "tight": "7.8",
        }
    return {
        "very_low": "54",
        "below_low": "69",
        "low": "70",
        "high": "180",
        "above_high": "181",
        "very_high": "250",
        "tight": "140",
    }


def effective_unit(patient, *, device_unit: str | None) -> str:
    """The patient's own choice, else the unit their Dexcom device shows, else mg/dL."""
    if patient.glucose_unit in GLUCOSE_UNITS:
        return patient.glucose_unit
    if device_unit in GLUCOSE_UNITS:
        return device_unit
    return MGDL

from datetime import date

import pytest

from apps.glucose import metrics
from apps.glucose.units import (
    MGDL,
    MMOLL,
    BandLimits,
    band_limits_mgdl,
    convert_mgdl,
    convert_setting_value,
    format_glucose,
)


def test_it_shows_mmol_settings_in_either_unit():
    assert convert_setting_value(3.9, "mmol/L", "mmol/L") == ("3.9", "mmol/L")
    assert convert_setting_value(3.9, "mmol/L", "mg/dL") == ("70", "mg/dL")
    assert convert_setting_value(180, "mg/dL", "mmol/L") == ("10.0", "mmol/L")
    assert convert_setting_value(0.11, "mmol/L/min", "mg/dL") == ("2", "mg/dL/min")
    assert convert_setting_value(2, "mg/dL/min", "mmol/L") == ("0.11", "mmol/L/min")
    assert convert_setting_value(30, "minutes", "mg/dL") == ("30", "minutes")
    assert convert_setting_value(None, "mg/dL", "mg/dL") == ("—", "mg/dL")


# (mg/dL edge, mmol/L edge, band): each consensus edge as written in each unit.
CONSENSUS_EDGES = [
    (53, 2.9, "very_low"),
    (54, 3.0, "low"),
    (69, 3.8, "low"),
    (70, 3.9, "tight"),
    (140, 7.8, "tight"),
    (180, 10.0, "in_range"),
    (181, 10.1, "high"),
    (250, 13.9, "high"),
    (251, 14.0, "very_high"),
]


def _band(value_mgdl: int, unit: str) -> str:
    """The one band a reading falls in, from the metrics module's own counting."""
    result = metrics.compute_metrics(
        [value_mgdl], period_start=date(2026, 11, 1), period_end=date(2026, 11, 2), unit=unit
    )
    bands = {
        "very_low": result["tbr_below_54_percent"],
        "low": result["tbr_54_69_percent"],
        "tight": result["titr_70_140_percent"],
        "high": result["tar_181_250_percent"],
        "very_high": result["tar_above_250_percent"],
    }
    hit = [band for band, percent in bands.items() if percent == 100]
    if result["tir_70_180_percent"] == 100 and not hit:
        return "in_range"
    assert len(hit) == 1, (value_mgdl, unit, result)
    return hit[0]


def _mgdl_reading_as(mmol: float) -> list[int]:
    """A stored whole mg/dL value that a mmol/L patient reads as `mmol` (every one of them)."""
    return [v for v in range(39, 402) if convert_mgdl(v, MMOLL) == mmol]


@pytest.mark.parametrize(("mgdl", "mmol", "band"), CONSENSUS_EDGES)
def test_each_consensus_edge_counts_as_the_patient_reads_it_in_mgdl(mgdl, mmol, band):
    assert format_glucose(mgdl, MGDL) == str(mgdl)
    assert _band(mgdl, MGDL) == band


@pytest.mark.parametrize(("mgdl", "mmol", "band"), CONSENSUS_EDGES)
def test_each_consensus_edge_counts_as_the_patient_reads_it_in_mmol(mgdl, mmol, band):
    readings = _mgdl_reading_as(mmol)
    assert readings  # every edge number can be shown
    for value in readings:
        assert format_glucose(value, MMOLL) == f"{mmol:.1f}"
        assert _band(value, MMOLL) == band, (value, mmol)


@pytest.mark.parametrize(
    ("mgdl", "shown", "mgdl_band", "mmol_band"),
    [
        # The three stored values where the units part: the mmol/L number decides for them.
        (141, "7.8", "in_range", "tight"),
        (181, "10.0", "high", "in_range"),
        (251, "13.9", "very_high", "high"),
    ],
)
def test_the_units_part_only_where_the_displayed_number_says_so(mgdl, shown, mgdl_band, mmol_band):
    assert format_glucose(mgdl, MMOLL) == shown
    assert _band(mgdl, MGDL) == mgdl_band
    assert _band(mgdl, MMOLL) == mmol_band


def test_every_stored_value_counts_in_the_band_its_displayed_number_is_in():
    limits = {MGDL: (54, 70, 140, 180, 250), MMOLL: (3.0, 3.9, 7.8, 10.0, 13.9)}
    for unit, (very_low, low, tight, in_range, high) in limits.items():
        for value in range(40, 401):
            shown = convert_mgdl(value, unit)
            expected = (
                "very_low"
                if shown < very_low
                else "low"
                if shown < low
                else "tight"
                if shown <= tight
                else "in_range"
                if shown <= in_range
                else "high"
                if shown <= high
                else "very_high"
            )
            assert _band(value, unit) == expected, (unit, value, shown)


def test_the_band_limits_in_whole_mgdl():
    assert band_limits_mgdl(MGDL) == BandLimits(53, 69, 140, 180, 250)
    assert band_limits_mgdl(MMOLL) == BandLimits(53, 69, 141, 181, 251)


def test_summaries_store_each_units_bands():
    for unit, columns in metrics.BAND_COLUMNS.items():
        limits = band_limits_mgdl(unit)
        assert columns["tight"] == f"from_70_to_{limits.tight_max}"
        assert columns["in_range"] == f"from_70_to_{limits.in_range_max}"
        assert columns["high"] == f"from_{limits.in_range_max + 1}_to_{limits.high_max}"
        assert columns["very_high"] == f"above_{limits.high_max}"

"""Target sets on hand-made readings: which range a reading falls in for each set, in both
units, the stored pregnancy counts against the readings, the goals met, and a custom set's
checks."""

from decimal import Decimal

import numpy as np
import pytest

from apps.glucose import metrics, targets
from apps.glucose.targets import (
    CUSTOM,
    OLDER_HIGH_RISK_SET,
    PREGNANCY_T1_SET,
    STANDARD_SET,
    CustomChoice,
    TargetSet,
    custom_errors,
    custom_set,
)
from apps.glucose.units import MGDL, MMOLL, displayed_mmoll

ALL_VALUES = np.arange(39, 402)  # every stored reading, LOW (39) to HIGH (401)


def where(value: int, target_set: TargetSet, unit: str = MGDL) -> str:
    """ "below", "in_range" or "above" the set's range for one reading."""
    counts = metrics.range_counts_of_values([value], target_set=target_set, unit=unit)
    return "below" if counts["below"] else "in_range" if counts["in_range"] else "above"


def test_150_is_in_range_for_adults_and_above_it_in_pregnancy():
    assert where(150, STANDARD_SET) == "in_range"
    assert where(150, OLDER_HIGH_RISK_SET) == "in_range"
    assert where(150, PREGNANCY_T1_SET) == "above"
    assert where(150, PREGNANCY_T1_SET, MMOLL) == "above"  # 8.3 mmol/L


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (62, MGDL, "below"),
        (63, MGDL, "in_range"),
        (140, MGDL, "in_range"),
        (141, MGDL, "above"),
        (62, MMOLL, "below"),  # reads 3.4
        (63, MMOLL, "in_range"),  # reads 3.5
        (141, MMOLL, "in_range"),  # reads 7.8: in range for a patient reading mmol/L
        (142, MMOLL, "above"),  # reads 7.9
        (69, MGDL, "in_range"),  # below the adults' range, in the pregnancy one
    ],
)
def test_the_pregnancy_range_is_63_to_140_as_the_patient_reads_it(value, unit, expected):
    assert where(value, PREGNANCY_T1_SET, unit) == expected


def test_the_adults_range_is_70_to_180_in_both_units():
    assert [where(v, STANDARD_SET) for v in (69, 70, 180, 181)] == ["below", "in_range", "in_range", "above"]
    assert [where(v, STANDARD_SET, MMOLL) for v in (69, 70, 181, 182)] == [
        "below",
        "in_range",
        "in_range",  # 181 reads 10.0
        "above",
    ]


def test_mmol_limits_are_first_class():
    assert PREGNANCY_T1_SET.range_text(MMOLL) == "3.5–7.8 mmol/L"
    assert PREGNANCY_T1_SET.range_text(MGDL) == "63–140 mg/dL"
    assert STANDARD_SET.range_text(MMOLL) == "3.9–10.0 mmol/L"
    # The charts shade in mg/dL values that read as the limits in the patient's unit.
    assert PREGNANCY_T1_SET.shading_mgdl(MGDL) == [63, 140]
    assert [displayed_mmoll(v) for v in PREGNANCY_T1_SET.shading_mgdl(MMOLL)] == [3.5, 7.8]
    assert STANDARD_SET.shading_mgdl(MGDL) == [70, 180]


@pytest.mark.parametrize("unit", [MGDL, MMOLL])
@pytest.mark.parametrize("target_set", [STANDARD_SET, OLDER_HIGH_RISK_SET, PREGNANCY_T1_SET])
def test_stored_counts_are_the_counts_of_the_readings(unit, target_set):
    # What a DailySummary row holds for every possible reading gives the same counts as
    # counting the readings themselves (the custom path).
    sums = metrics.value_sums(ALL_VALUES)
    assert metrics.range_counts_of_sums(sums, target_set=target_set, unit=unit) == (
        metrics.range_counts_of_values(ALL_VALUES, target_set=target_set, unit=unit)
    )


def test_a_custom_range_has_no_stored_counts_until_a_snapshot_carries_them():
    custom = custom_set(CustomChoice(Decimal(80), Decimal(160), MGDL, Decimal(60), Decimal(3), Decimal(30)))
    sums = metrics.value_sums([79, 80, 160, 161])
    assert metrics.range_counts_of_sums(sums, target_set=custom, unit=MGDL) is None
    counts = metrics.range_counts_of_values([79, 80, 160, 161], target_set=custom, unit=MGDL)
    assert counts == {"below": 1, "in_range": 2}
    carried = {**sums, "range_below": 1, "range_in_range": 2}
    assert metrics.range_counts_of_sums(carried, target_set=custom, unit=MGDL) == counts


def _measures(values, target_set, unit=MGDL):
    sums = metrics.value_sums(values)
    counts = metrics.range_counts_of_values(values, target_set=target_set, unit=unit)
    return metrics.target_measures(sums, counts, unit=unit, cv_percent=30.0)


def test_the_five_bands_of_each_set():
    # 10 readings: 50, 60, 65, 100, 100, 100, 150, 150, 200, 300.
    values = [50, 60, 65, 100, 100, 100, 150, 150, 200, 300]
    adults = _measures(values, STANDARD_SET)
    assert (adults["very_low"], adults["low"], adults["in_range"], adults["high"], adults["very_high"]) == (
        10,
        20,
        50,
        10,
        10,
    )
    pregnancy = _measures(values, PREGNANCY_T1_SET)
    # 65 is in the pregnancy range; 150 and 200 are above it.
    assert (pregnancy["very_low"], pregnancy["low"], pregnancy["in_range"], pregnancy["high"]) == (
        10,
        10,
        40,
        30,
    )
    assert pregnancy["below"] == 20 and pregnancy["above"] == 40 and pregnancy["very_high"] == 10
    for measures in (adults, pregnancy):
        bands = ("very_low", "low", "in_range", "high", "very_high")
        assert sum(measures[band] for band in bands) == pytest.approx(100)


def test_goals_differ_by_set():
    # 60% in range, 2% below 70: misses the adults' goals, meets the older / high-risk TIR goal
    # and misses its stricter TBR goal.
    values = [120] * 60 + [200] * 38 + [65] * 2
    m = _measures(values, STANDARD_SET)
    assert STANDARD_SET.goal("in_range").met(m["in_range"]) is False
    assert OLDER_HIGH_RISK_SET.goal("in_range").met(m["in_range"]) is True
    assert STANDARD_SET.goal("below").met(m["below"]) is True
    assert OLDER_HIGH_RISK_SET.goal("below").met(m["below"]) is False
    assert OLDER_HIGH_RISK_SET.goal("very_low") is None  # the consensus gives none for this group
    assert PREGNANCY_T1_SET.goal("cv") is None and PREGNANCY_T1_SET.goal("very_high") is None
    assert targets.Goal("cv", "≤", 36).met(36) is True and targets.Goal("in_range", ">", 70).met(70) is False


def test_flag_names_say_the_sets_own_limits():
    flags = {g.measure: PREGNANCY_T1_SET.flag_name(g, MGDL) for g in PREGNANCY_T1_SET.goals}
    assert flags == {
        "very_low": "TBR <54 > 1%",
        "below": "TBR <63 > 4%",
        "in_range": "TIR 63–140 < 70%",
        "above": "TAR >140 > 25%",
    }
    assert STANDARD_SET.flag_name(STANDARD_SET.goal("in_range"), MGDL) == "TIR < 70%"
    assert PREGNANCY_T1_SET.flag_name(PREGNANCY_T1_SET.goal("below"), MMOLL) == "TBR <3.5 > 4%"
    # The standard set flags >250, not >180 (as the triage list always did).
    assert STANDARD_SET.goal("above").flag_above is None and STANDARD_SET.goal("very_high").flag_above == 5


@pytest.mark.parametrize("target_set", [STANDARD_SET, OLDER_HIGH_RISK_SET, PREGNANCY_T1_SET])
def test_a_set_survives_its_json(target_set):
    assert TargetSet.from_dict(target_set.as_dict()) == target_set
    mmol_custom = custom_set(
        CustomChoice(Decimal("3.8"), Decimal("8.0"), MMOLL, Decimal(65), Decimal(4), Decimal(30))
    )
    assert TargetSet.from_dict(mmol_custom.as_dict()) == mmol_custom


# --- custom sets ----------------------------------------------------------------------------------


def choice(low="80", high="160", unit=MGDL, in_range="60", below="3", above="30") -> CustomChoice:
    number = targets.parse_number
    return CustomChoice(number(low), number(high), unit, number(in_range), number(below), number(above))


def test_a_sane_custom_set_has_no_errors():
    assert custom_errors(choice()) == {}
    assert custom_errors(choice("80.0", "160", in_range="65.5")) == {}  # 80.0 is a whole number
    assert custom_errors(choice("3,8", "8.0", MMOLL)) == {}  # a comma is a decimal point


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"low": "50"}, "low", "The low limit must be between 54 and 100 mg/dL."),
        ({"low": "101"}, "low", "The low limit must be between 54 and 100 mg/dL."),
        ({"high": "119"}, "high", "The high limit must be between 120 and 250 mg/dL."),
        ({"high": "251"}, "high", "The high limit must be between 120 and 250 mg/dL."),
        ({"low": "70.5"}, "low", "Use a whole number in mg/dL."),
        ({"low": "abc"}, "low", "Enter a number."),
        ({"high": ""}, "high", "Enter a number."),
        (
            {"low": "2.9", "unit": MMOLL, "high": "8.0"},
            "low",
            "The low limit must be between 3.0 and 5.6 mmol/L.",
        ),
        ({"low": "3.85", "unit": MMOLL, "high": "8.0"}, "low", "Use one decimal in mmol/L."),
        (
            {"high": "14.0", "unit": MMOLL, "low": "3.9"},
            "high",
            "The high limit must be between 6.7 and 13.9 mmol/L.",
        ),
        ({"in_range": "99"}, "in_range_min", "Choose between 10% and 95%."),
        ({"below": "0"}, "below_max", "Choose between 0.5% and 25%."),
        ({"above": "80"}, "above_max", "Choose between 1% and 75%."),
        ({"above": ""}, "above_max", "Enter a percentage."),
        ({"below": "2.25"}, "below_max", "Use at most one decimal."),
        ({"low": "1e30"}, "low", "The low limit must be between 54 and 100 mg/dL."),
    ],
)
def test_a_custom_set_out_of_bounds_says_what_is_wrong(kwargs, field, message):
    assert custom_errors(choice(**kwargs)) == {field: message}


def test_a_custom_range_entered_in_mmol_reads_the_same_in_mgdl():
    custom = custom_set(choice("3.8", "8.0", MMOLL))
    assert custom.key == CUSTOM and custom.stored_range is None
    assert custom.range_text(MMOLL) == "3.8–8.0 mmol/L"
    assert custom.range_text(MGDL) == "68–144 mg/dL"
    # As the mmol/L reader sees it: 67 reads 3.7 (below), 68 reads 3.8 (in), 144 and 145 read
    # 8.0 (in), 146 reads 8.1 (above).
    assert [where(v, custom, MMOLL) for v in (67, 68, 144, 145, 146)] == [
        "below",
        "in_range",
        "in_range",
        "in_range",
        "above",
    ]
    assert custom.goal("in_range").percent == 60 and custom.goal("very_low").percent == 1

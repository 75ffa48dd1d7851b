"""Metrics against hand-computed fixtures and the consensus edge cases."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from apps.glucose import metrics
from apps.glucose.metrics import agp_percentiles, compute_metrics, gri_zone, metrics_from_daily_summaries
from apps.glucose.units import MGDL_PER_MMOLL, MMOLL, format_glucose, range_limits

START = datetime(2026, 11, 1)


def test_it_computes_the_hand_worked_example_with_low_and_high():
    # 39 (LOW) counts as 40 and 401 (HIGH) as 400: 40 50 60 100 150 200 300 400, sum 1300.
    result = compute_metrics(
        [39, 50, 60, 100, 150, 200, 300, 401], period_start=START, period_end=START + timedelta(minutes=40)
    )
    assert result["readings"] == 8
    assert result["mean_mgdl"] == pytest.approx(162.5)
    # Sum of squared deviations 118950, sample variance 118950 / 7.
    assert result["sd_mgdl"] == pytest.approx((118950 / 7) ** 0.5)
    assert result["sd_kind"] == "sample"
    assert result["cv_percent"] == pytest.approx(100 * (118950 / 7) ** 0.5 / 162.5)
    assert result["gmi_percent"] == pytest.approx(3.31 + 0.02392 * 162.5)
    assert result["tbr_below_54_percent"] == pytest.approx(25.0)  # 40 and 50
    assert result["tbr_54_69_percent"] == pytest.approx(12.5)
    assert result["tir_70_180_percent"] == pytest.approx(25.0)
    assert result["titr_70_140_percent"] == pytest.approx(12.5)
    assert result["tar_181_250_percent"] == pytest.approx(12.5)
    assert result["tar_above_250_percent"] == pytest.approx(25.0)  # 300 and HIGH
    # 3*25 + 2.4*12.5 + 1.6*25 + 0.8*12.5 = 155, capped at 100.
    assert result["gri"] == 100.0
    assert result["gri_zone"] == "E"
    assert result["wear_percent"] == pytest.approx(100.0)


def test_it_computes_gri_and_its_components():
    values = [50, 65, 100, 120, 140, 160, 180, 200, 240, 260]
    result = compute_metrics(values, period_start=START, period_end=START + timedelta(minutes=50))
    assert result["mean_mgdl"] == pytest.approx(151.5)
    assert result["titr_70_140_percent"] == pytest.approx(30.0)
    assert result["tir_70_180_percent"] == pytest.approx(50.0)
    assert result["gri_hypo_component"] == pytest.approx(10 + 0.8 * 10)
    assert result["gri_hyper_component"] == pytest.approx(10 + 0.5 * 20)
    assert result["gri"] == pytest.approx(3 * 10 + 2.4 * 10 + 1.6 * 10 + 0.8 * 20)  # 86
    assert result["gri_zone"] == "E"
    assert result["sd_mgdl"] == pytest.approx(float(np.std(values, ddof=1)))


@pytest.mark.parametrize(
    ("gri", "zone"),
    [(0, "A"), (20, "A"), (20.1, "B"), (40, "B"), (59.9, "C"), (80, "D"), (80.1, "E"), (100, "E")],
)
def test_it_puts_gri_in_its_zone(gri, zone):
    assert gri_zone(gri) == zone


def test_it_counts_band_edges_by_the_consensus():
    result = compute_metrics(
        [53, 54, 69, 70, 140, 141, 180, 181, 250, 251],
        period_start=START,
        period_end=START + timedelta(minutes=50),
    )
    assert result["tbr_below_54_percent"] == pytest.approx(10)
    assert result["tbr_54_69_percent"] == pytest.approx(20)
    assert result["tir_70_180_percent"] == pytest.approx(40)
    assert result["titr_70_140_percent"] == pytest.approx(20)
    assert result["tar_181_250_percent"] == pytest.approx(20)
    assert result["tar_above_250_percent"] == pytest.approx(10)


def test_it_measures_wear_over_a_period_with_gaps_without_interpolating():
    # One day (288 expected), half the readings missing: wear 50%, metrics over what exists.
    values = [100] * 100 + [200] * 44
    result = compute_metrics(values, period_start=date(2026, 11, 1), period_end=date(2026, 11, 2))
    assert result["wear_percent"] == pytest.approx(50.0)
    assert result["days"] == 1
    assert result["mean_mgdl"] == pytest.approx((100 * 100 + 200 * 44) / 144)
    assert result["sufficient_data"] is False


def test_it_says_when_there_is_too_little_data():
    empty = compute_metrics([], period_start=date(2026, 11, 1), period_end=date(2026, 11, 15))
    assert empty["readings"] == 0
    assert empty["mean_mgdl"] is None and empty["tir_70_180_percent"] is None and empty["gri"] is None
    assert empty["wear_percent"] == 0
    one = compute_metrics([120], period_start=START, period_end=START + timedelta(minutes=5))
    assert one["mean_mgdl"] == 120 and one["sd_mgdl"] is None and one["cv_percent"] is None
    short = compute_metrics(
        [120, 130], period_start=START, period_end=START + timedelta(minutes=10), days_with_data=3
    )
    assert short["gmi_percent"] is None  # GMI needs 10+ days of data


def test_it_is_sufficient_with_14_days_and_70_percent_wear():
    values = [120] * (288 * 10)
    result = compute_metrics(values, period_start=date(2026, 11, 1), period_end=date(2026, 11, 15))
    assert result["wear_percent"] == pytest.approx(100 * 10 / 14)
    assert result["sufficient_data"] is True


def test_it_gives_the_same_numbers_from_daily_sums():
    rng = np.random.default_rng(1)
    days = [rng.integers(39, 402, 288) for _ in range(3)]

    class Row:
        def __init__(self, values):
            clamped = metrics.clamp_to_sensor_range(values)
            self.readings = clamped.size
            self.value_sum = float(clamped.sum())
            self.value_sq_sum = float((clamped.astype(float) ** 2).sum())
            for key, count in metrics.band_counts(clamped).items():
                setattr(self, key, count)

    from_sums = metrics_from_daily_summaries([Row(d) for d in days], period_days=3)
    raw = compute_metrics(
        np.concatenate(days), period_start=date(2026, 11, 1), period_end=date(2026, 11, 4), days_with_data=3
    )
    for key in metrics.METRIC_KEYS:
        assert from_sums[key] == pytest.approx(raw[key]), key


def test_it_shows_mmol_with_the_one_constant():
    assert MGDL_PER_MMOLL == 18.018
    assert format_glucose(180, MMOLL) == "10.0"
    assert format_glucose(70, MMOLL) == "3.9"
    assert format_glucose(54, MMOLL) == "3.0"
    assert format_glucose(250, MMOLL) == "13.9"
    assert format_glucose(123, "mg/dL") == "123"
    limits = range_limits(MMOLL)
    assert (limits["very_low"], limits["low"], limits["high"], limits["very_high"]) == (
        "3.0",
        "3.9",
        "10.0",
        "13.9",
    )


def test_it_computes_agp_percentiles_per_local_slot():
    # Slot 0 (00:00-00:05) holds 1..100 over 100 days; slot 12 (01:00) holds one reading.
    local = [day * 86400 + 60 for day in range(100)] + [3600 + 30]
    values = list(range(1, 101)) + [250]
    agp = agp_percentiles(np.array(local), np.array(values))
    # Values below 40 count as 40: the slot is 40 x 40 then 41..100.
    clamped = np.clip(np.arange(1, 101), 40, 400)
    assert agp["p50"][0] == pytest.approx(round(float(np.percentile(clamped, 50)), 1))
    assert agp["p5"][0] == 40
    assert agp["p95"][0] == pytest.approx(round(float(np.percentile(clamped, 95)), 1))
    assert agp["p50"][12] == 250 and agp["readings"][12] == 1
    assert agp["p50"][1] is None
    assert len(agp["slot_minutes"]) == 288

"""Overview (issue 11): 24 h mini trace, best and worst day by a stated rule, the current
reading's age and device."""

import json
from datetime import UTC, date, datetime, timedelta

from apps.dashboard.patient_page import age_text, device_text
from apps.glucose.metrics import best_and_worst_days
from apps.glucose.models import DailySummary
from tests.glucose import factories


def _day(day, *, readings=288, in_range=0, mean=120.0, **bands):
    columns = {"from_70_to_180": in_range, "from_70_to_181": in_range, **bands}
    return DailySummary(
        day=day, readings=readings, value_sum=mean * readings, value_sq_sum=(mean**2) * readings, **columns
    )


def test_best_is_highest_tir_worst_is_lowest_ties_by_mean():
    rows = [
        _day(date(2026, 11, 1), in_range=200, mean=150),
        _day(date(2026, 11, 2), in_range=280, mean=140),
        _day(date(2026, 11, 3), in_range=280, mean=110),  # same TIR as the 2nd, lower mean: best
        _day(date(2026, 11, 4), in_range=100, mean=160),
        _day(date(2026, 11, 5), in_range=100, mean=190),  # same TIR as the 4th, higher mean: worst
    ]
    best, worst = best_and_worst_days(rows)
    assert best.day == date(2026, 11, 3) and worst.day == date(2026, 11, 5)
    assert round(best.tir_percent, 1) == round(100 * 280 / 288, 1)


def test_days_under_70_percent_cgm_active_do_not_count():
    rows = [
        _day(date(2026, 11, 1), readings=100, in_range=100, mean=110),  # 35%: perfect but too short
        _day(date(2026, 11, 2), in_range=250),
        _day(date(2026, 11, 3), in_range=150),
    ]
    best, worst = best_and_worst_days(rows)
    assert best.day == date(2026, 11, 2) and worst.day == date(2026, 11, 3)
    assert best_and_worst_days(rows[:2]) == (None, None)  # one day is best of nothing


def test_the_current_reading_says_its_age_and_device():
    assert age_text(timedelta(seconds=30)) == "just now"
    assert age_text(timedelta(minutes=12)) == "12 min old"
    assert age_text(timedelta(hours=3, minutes=5)) == "3 h 05 min old"
    assert age_text(timedelta(days=3)) == "3 days old"
    reading = factories.egv(None, datetime(2026, 11, 1, tzinfo=UTC), 120)
    assert device_text(reading) == "Dexcom G7 · Android app (G7Android)"


def test_the_overview_shows_mini_trace_best_worst_and_the_readings_device(client, patient_with_data):
    client.force_login(patient_with_data)
    html = client.get(f"/patients/{patient_with_data.pk}/overview/?days=14").content.decode()
    data = json.loads(html.split('id="mini-data">')[1].split("</script>")[0])
    assert 280 <= len(data["t"]) <= 288  # the 24 h before the newest reading
    assert (data["t"][-1] - data["t"][0]) <= 24 * 3600  # seconds on a real-time axis
    assert "Best day" in html and "Worst day" in html and "highest time in range" in html
    assert "min old" in html and "from Dexcom G7 · Android app (G7Android)" in html
    assert 'src="/static/js/charts.js"' in html


def test_the_mini_trace_draws_the_repeated_dst_hour_after_the_first():
    """The night DST ends in New York (1 Nov 2026): 01:00-01:55 happens twice on the device's
    clock. On the real-time axis the second pass comes after the first, and ticks read the clock."""
    import numpy as np

    from apps.dashboard.charts import mini_trace_chart_data
    from apps.glucose.selectors import EgvSeries

    start = int(datetime(2026, 11, 1, 4, 0, tzinfo=UTC).timestamp())  # 00:00 EDT
    epoch = start + 300 * np.arange(72)  # 6 real hours: 00:00 EDT to 04:55 EST
    delta = np.where(epoch < start + 2 * 3600, -4 * 3600, -5 * 3600)
    data = mini_trace_chart_data(EgvSeries(epoch, delta, np.full(72, 120)), unit="mg/dL")
    assert list(np.diff(data["t"])) == [300] * 71  # never back, never on top of itself
    assert data["shifts"] == [[0, 0], [24, -3600]]
    assert data["ticks"]["text"] == ["00:00", "03:00"]
    assert data["breaks"].size == 0

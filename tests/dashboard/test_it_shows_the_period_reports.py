"""The Clarity-style report pages (Patterns, Statistics, Daily, Compare) on hand-made data:
who may see them, and that their numbers are the ones the data holds."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.sharing.models import AuditEntry
from tests.dashboard.conftest import _connection
from tests.glucose import factories

REPORT_PAGES = ("patterns", "statistics", "daily", "compare", "completeness")
MAX_QUERIES = 14
PER_DAY = 288


def url(page, patient, query=""):
    return reverse(page, kwargs={"patient_id": patient.pk}) + query


@pytest.fixture
def report_patient(patient):
    """14 full days ending yesterday (device clock = UTC): the older 7 at 200 mg/dL; the newer 7
    at 150, with a 35-minute low (60) at 03:00 on 4 of them and a high (300) at 18:00 on 2.
    Carbs 45 g at 01:00 and a low alarm (2 records) at 03:05 on the first low day; fast-acting
    4 u and long-acting 20 u on the next day."""
    last_day = factories.recent_day_start(1)
    first = last_day - timedelta(days=13)

    def value_for(i):
        day, slot = divmod(i, PER_DAY)
        if day < 7:
            return 200
        if day in (7, 8, 10, 12) and 36 <= slot < 43:  # 03:00-03:30
            return 60
        if day in (9, 11) and 216 <= slot < 228:  # 18:00-18:55
            return 300
        return 150

    factories.make_days(patient, last_day_start=last_day, days=14, value_for=value_for)
    low_day = first + timedelta(days=7)
    factories.make_event(patient, low_day + timedelta(hours=1), "carbs", "45")
    factories.make_alert(patient, low_day + timedelta(hours=3, minutes=5), "low", "activeAlarming")
    factories.make_alert(patient, low_day + timedelta(hours=3, minutes=40), "low", "inactive")
    next_day = low_day + timedelta(days=1)
    factories.make_event(
        patient, next_day + timedelta(hours=12), "insulin", "4", unit="units", sub_type="fastActing"
    )
    factories.make_event(
        patient, next_day + timedelta(hours=22), "insulin", "20", unit="units", sub_type="longActing"
    )
    _connection(
        patient, last_sync_at=last_day + timedelta(days=1), backfill_total_days=90, backfill_done_days=90
    )
    patient.last_day = last_day.date()
    return patient


def week(patient) -> str:
    return f"?days=7&end={patient.last_day.isoformat()}"


@pytest.mark.parametrize("page", REPORT_PAGES)
def test_each_report_page_renders_with_data(client, report_patient, page, django_assert_max_num_queries):
    client.force_login(report_patient)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url(page, report_patient, week(report_patient)))
    assert response.status_code == 200
    assert 'aria-current="page"' in response.content.decode()


@pytest.mark.parametrize("page", REPORT_PAGES)
def test_each_report_page_renders_without_data(client, patient_without_data, page):
    client.force_login(patient_without_data)
    assert client.get(url(page, patient_without_data)).status_code == 200


def test_patterns_finds_the_night_lows_and_what_came_before(client, report_patient):
    client.force_login(report_patient)
    response = client.get(url("patterns", report_patient, week(report_patient)))
    report = response.context["report"]
    assert [p.text for p in report.low_patterns] == ["Lows between 02:00 and 04:00 on 4 of 7 days"]
    assert report.high_patterns == ()  # two days are not a pattern
    assert [round(row.episode.minutes) for row in report.lows] == [35, 35, 35, 35]
    assert len(report.highs) == 2
    first_low = response.context["lows"][-1]
    assert first_low["extreme"] == "60"
    assert first_low["events"] == ["01:00 Carbs 45 grams"]
    assert first_low["alarms"] == ["03:05 Low"]
    assert "Lows between 02:00 and 04:00 on 4 of 7 days" in response.content.decode()


def test_statistics_per_hour_hold_the_readings_of_that_hour(client, report_patient):
    client.force_login(report_patient)
    response = client.get(url("statistics", report_patient, week(report_patient)))
    hours = response.context["hours"]
    assert len(hours) == 24
    three = hours[3]
    # 12 readings a day for 7 days; 7 of them at 60 on 4 days, the rest 150.
    assert three["readings"] == 84
    assert three["mean"] == "120"
    assert three["tbr"] == pytest.approx(100 * 28 / 84)
    assert hours[12]["mean"] == "150" and hours[12]["tir"] == 100
    assert response.context["metrics"]["readings"] == 7 * PER_DAY


def test_daily_lists_each_day_with_its_carbs_insulin_and_alarms(client, report_patient):
    client.force_login(report_patient)
    response = client.get(url("daily", report_patient, week(report_patient)))
    rows = response.context["rows"]
    assert [r["day"] for r in rows] == [report_patient.last_day - timedelta(days=n) for n in range(7)]
    first, second = rows[-1], rows[-2]
    assert (first["carbs"], first["alarms"], first["readings"]) == (45, 1, PER_DAY)
    assert second["insulin"] == [("Fast-acting", 4.0), ("Long-acting", 20.0)]
    assert rows[0]["tir"] == 100 and rows[0]["mean"] == "150"
    assert len(response.context["rows"]) == 7
    html = response.content.decode()
    assert 'id="overlay-chart"' in html and "Fast-acting 4 u" in html


def test_compare_shows_any_two_periods_side_by_side(client, report_patient):
    client.force_login(report_patient)
    older_end = (report_patient.last_day - timedelta(days=7)).isoformat()
    query = f"?a_days=7&a_end={report_patient.last_day.isoformat()}&b_days=7&b_end={older_end}"
    response = client.get(url("compare", report_patient, query))
    report = response.context["report"]
    assert report.second.metrics["mean_mgdl"] == 200
    assert report.first.metrics["readings"] == report.second.metrics["readings"] == 7 * PER_DAY
    assert report.second.agp["p50"][100] == 200
    mean_row = next(r for r in response.context["rows"] if r["label"] == "Mean glucose")
    assert mean_row["second"] == "200 mg/dL"
    # Without B's dates, B is the same number of days just before A.
    default = client.get(
        url("compare", report_patient, f"?a_days=7&a_end={report_patient.last_day.isoformat()}")
    )
    assert default.context["second"].last_day.isoformat() == older_end


def test_a_sharing_clinician_sees_them_and_the_look_is_audited(client, report_patient, clinician, make_share):
    make_share(report_patient, clinician=clinician)
    client.force_login(clinician)
    for page in REPORT_PAGES:
        assert client.get(url(page, report_patient)).status_code == 200
    pages = set(AuditEntry.objects.filter(patient=report_patient).values_list("page", flat=True))
    assert set(REPORT_PAGES) <= pages


@pytest.mark.parametrize("page", REPORT_PAGES)
def test_a_stranger_gets_a_404(client, report_patient, other_patient, page):
    client.force_login(other_patient)
    assert client.get(url(page, report_patient)).status_code == 404


def test_an_mmol_reader_gets_the_reports_in_mmol(client, report_patient):
    report_patient.glucose_unit = "mmol/L"
    report_patient.save(update_fields=["glucose_unit"])
    client.force_login(report_patient)
    hours = client.get(url("statistics", report_patient, week(report_patient))).context["hours"]
    assert hours[3]["mean"] == "6.7"  # 120 mg/dL
    patterns = client.get(url("patterns", report_patient, week(report_patient)))
    assert patterns.context["lows"][0]["extreme"] == "3.3"  # 60 mg/dL
    assert "below 3.9 mmol/L" in patterns.content.decode()

"""The triage list against hand-computed DailySummary fixtures; its query count is pinned."""

import math
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.glucose.models import DailySummary
from apps.sharing import selectors
from apps.sharing.models import AuditEntry

pytestmark = pytest.mark.django_db


def _day(patient, day, **fields):
    return DailySummary.objects.create(patient=patient, day=day, **fields)


def _split_day(patient, day):
    """288 readings: 144 at 100 mg/dL, 144 at 200 mg/dL."""
    return _day(
        patient,
        day,
        readings=288,
        value_sum=144 * 100 + 144 * 200,
        value_sq_sum=144 * 100**2 + 144 * 200**2,
        from_70_to_140=144,
        from_70_to_180=144,
        from_181_to_250=144,
        last_reading_at=timezone.now() - timedelta(hours=2),
    )


@pytest.fixture
def yesterday():
    return timezone.localdate() - timedelta(days=1)


@pytest.fixture
def cohort(make_user, make_share, clinician, yesterday):
    steady = make_user("steady@example.com", "patient", full_name="Steady Sam")
    for offset in range(14):
        _split_day(steady, yesterday - timedelta(days=offset))
    for offset in range(14, 28):  # previous period: all 288 readings at 120
        _day(
            steady,
            yesterday - timedelta(days=offset),
            readings=288,
            value_sum=288 * 120,
            value_sq_sum=288 * 120**2,
            from_70_to_140=288,
            from_70_to_180=288,
        )
    # Outside both periods and today's partial day: must not count.
    _day(
        steady,
        yesterday - timedelta(days=40),
        readings=288,
        value_sum=288 * 300,
        value_sq_sum=288 * 300**2,
        above_250=288,
    )
    _day(
        steady,
        yesterday + timedelta(days=1),
        readings=10,
        value_sum=10 * 40,
        value_sq_sum=10 * 1600,
        below_54=10,
        last_reading_at=timezone.now() - timedelta(hours=1),
    )

    hypo = make_user("hypo@example.com", "patient", full_name="Hypo Hana")
    for offset in range(7):
        _day(
            hypo,
            yesterday - timedelta(days=offset),
            readings=144,
            value_sum=10 * 50 + 134 * 100,
            value_sq_sum=10 * 50**2 + 134 * 100**2,
            below_54=10,
            from_70_to_140=134,
            from_70_to_180=134,
            last_reading_at=timezone.now() - timedelta(days=3, hours=offset),
        )

    silent = make_user("silent@example.com", "patient", full_name="Silent Sid")
    for patient in (steady, hypo, silent):
        make_share(patient, clinician=clinician)
    return steady, hypo, silent


def _rows(clinician, yesterday):
    rows = selectors.triage_rows(viewer=clinician, period_days=14)
    assert {row.period.last_day for row in rows} == {yesterday}  # the patients' own (UTC) days
    return {row.email: row for row in rows}


def test_it_computes_the_steady_patient_by_hand(cohort, clinician, yesterday):
    row = _rows(clinician, yesterday)["steady@example.com"]
    m = row.current
    n = 14 * 288
    assert m.readings == n and m.days_with_data == 14
    assert m.wear_percent == pytest.approx(100.0)
    assert m.mean_mgdl == pytest.approx(150.0)
    sd = math.sqrt((14 * (144 * 100**2 + 144 * 200**2) - n * 150**2) / (n - 1))
    assert m.cv_percent == pytest.approx(100 * sd / 150)  # sample SD, 33.34%
    assert m.gmi_percent == pytest.approx(3.31 + 0.02392 * 150)
    assert m.tir_70_180_percent == pytest.approx(50.0)
    assert m.tar_above_180_percent == pytest.approx(50.0)
    assert m.tar_above_250_percent == 0
    assert m.tbr_below_70_percent == 0 and m.tbr_below_54_percent == 0
    assert m.gri == pytest.approx(0.8 * 50)
    assert row.previous.tir_70_180_percent == pytest.approx(100.0)
    assert row.tir_change == pytest.approx(-50.0)
    assert row.hours_since_reading == pytest.approx(1.0, abs=0.01)  # newest day row, even today's
    assert row.flags == ["TIR < 70%"]


def test_it_computes_and_flags_the_hypo_patient(cohort, clinician, yesterday):
    row = _rows(clinician, yesterday)["hypo@example.com"]
    m = row.current
    assert m.readings == 7 * 144
    assert m.wear_percent == pytest.approx(25.0)
    assert m.tbr_below_54_percent == pytest.approx(100 * 70 / 1008)
    assert m.gri == pytest.approx(3.0 * 100 * 70 / 1008)
    assert m.gmi_percent is None  # fewer than 10 days with data, as the dashboard
    assert row.previous.readings == 0 and row.tir_change is None
    assert row.flags == ["TBR <54 > 1%", "TBR <70 > 4%", "No data 24 h", "Time CGM active < 70%"]


def test_it_flags_patients_without_data(cohort, clinician, yesterday):
    row = _rows(clinician, yesterday)["silent@example.com"]
    assert row.last_reading_at is None and row.current.readings == 0
    assert "No data 24 h" in row.flags and "Time CGM active < 70%" in row.flags


def test_it_agrees_with_the_dashboards_metrics(cohort, clinician, yesterday):
    from apps.glucose.metrics import metrics_from_daily_summaries

    steady = cohort[0]
    rows = DailySummary.objects.filter(
        patient=steady, day__gte=yesterday - timedelta(days=13), day__lte=yesterday
    )
    theirs = metrics_from_daily_summaries(rows, period_days=14)
    ours = _rows(clinician, yesterday)["steady@example.com"].current
    for key in [
        "wear_percent",
        "cv_percent",
        "gmi_percent",
        "tir_70_180_percent",
        "gri",
        "tbr_below_54_percent",
        "tar_above_250_percent",
    ]:
        assert getattr(ours, key) == pytest.approx(theirs[key]), key


def test_it_lists_only_active_shares(cohort, clinician, make_user, make_share, yesterday):
    gone = make_user("gone@example.com", "patient")
    make_share(gone, clinician=clinician, revoked=True)
    stranger = make_user("stranger@example.com", "patient")
    assert set(_rows(clinician, yesterday)) == {
        "steady@example.com",
        "hypo@example.com",
        "silent@example.com",
    }
    assert stranger.email not in _rows(clinician, yesterday)


def test_it_puts_who_needs_attention_first(client, cohort, clinician):
    client.force_login(clinician)
    response = client.get(reverse("sharing:triage"))
    assert response.status_code == 200
    names = [row.name for row in response.context["rows"]]
    assert names == ["Hypo Hana", "Silent Sid", "Steady Sam"]


def test_it_sorts_and_searches(client, cohort, clinician):
    client.force_login(clinician)
    by_tir = client.get(reverse("sharing:triage"), {"sort": "tir", "order": "desc"}).context["rows"]
    assert [r.name for r in by_tir] == ["Hypo Hana", "Steady Sam", "Silent Sid"]
    by_name = client.get(reverse("sharing:triage"), {"sort": "name"}).context["rows"]
    assert [r.name for r in by_name] == ["Hypo Hana", "Silent Sid", "Steady Sam"]
    found = client.get(reverse("sharing:triage"), {"q": "steady"}).context["rows"]
    assert [r.name for r in found] == ["Steady Sam"]


def test_it_takes_a_period(client, cohort, clinician):
    client.force_login(clinician)
    response = client.get(reverse("sharing:triage"), {"period": 7})
    steady = next(r for r in response.context["rows"] if r.name == "Steady Sam")
    assert steady.current.readings == 7 * 288
    # The 7 days before are split days too (not the all-in-range days of 14 to 28 days ago).
    assert steady.tir_change == 0
    rows = {row.email: row for row in selectors.triage_rows(viewer=clinician, period_days=7)}
    assert rows["steady@example.com"].previous.readings == 7 * 288


def test_it_records_the_list_in_each_patients_trail_once_per_quarter_hour(client, cohort, clinician):
    client.force_login(clinician)
    client.get(reverse("sharing:triage"))
    client.get(reverse("sharing:triage"))
    assert AuditEntry.objects.filter(page="triage", actor=clinician).count() == 3


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_it_pins_its_query_count_whatever_the_number_of_patients(
    client, cohort, clinician, make_user, make_share, yesterday, settings
):
    settings.TRIAGE_ORDER_CACHE_SECONDS = 0  # the order computed on every look
    client.force_login(clinician)
    url = reverse("sharing:triage")
    # First look: starts the idle timeout (one session write), builds the 3 patients' snapshots
    # (their summaries were written without the sync) and records them in their trails.
    _count_queries(client, url + "?q=")
    few = _count_queries(client, url + "?q=")
    for number in range(20):
        extra = make_user(f"p{number}@example.com", "patient")
        _split_day(extra, yesterday)
        make_share(extra, clinician=clinician)
    # The 20 new ones: the page finds snapshots missing, finds whose (one query), builds them in
    # one batch (savepoint pair, patients, their target sets, sums, upsert), reads the page
    # again, finds which are in the trail already (the 3) and records the others in one insert,
    # and marks the new page's patients watched (one UPDATE).
    assert _count_queries(client, url + "?q=") == few + 11
    many = _count_queries(client, url + "?q=")
    assert many == few
    # user, TOTP check, the shares reaching the clinician, the page's ids with the counts and
    # the staleness check, the page's rows = 5. No session read (through the cache) or write
    # (the idle timeout is pushed at most once a minute), no look at the trail for the same
    # patients within the quarter hour, no UPDATE marking them watched again (renewed every few
    # minutes).
    assert few == 5, few


def test_a_look_soon_after_reads_the_rows_in_the_kept_order(client, cohort, clinician):
    client.force_login(clinician)
    client.get(reverse("sharing:triage"))  # builds the snapshots, records the trail entries
    url = reverse("sharing:triage") + "?sort=tir&order=desc"
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with CaptureQueriesContext(connection) as again:
        shown = client.get(url).context["rows"]
    ordering = [q["sql"] for q in again.captured_queries if " OVER " in q["sql"]]
    assert [q["sql"] for q in first.captured_queries if " OVER " in q["sql"]] != [] and ordering == []
    assert len(again.captured_queries) == len(first.captured_queries) - 1 == 4
    assert [r.name for r in shown] == ["Hypo Hana", "Steady Sam", "Silent Sid"]


def test_it_uses_the_patients_local_days_not_the_clinicians(client, make_user, make_share):
    # UTC+14 and UTC-11 are 25 hours apart: their calendar dates never agree.
    far_east = make_user("kiritimati@example.com", "patient", timezone="Pacific/Kiritimati")
    clinician = make_user("pago@example.com", "clinician", timezone="Pacific/Pago_Pago")
    make_share(far_east, clinician=clinician)
    now = timezone.now()
    theirs = timezone.localdate(now, timezone=far_east.tzinfo) - timedelta(days=1)
    for offset in range(14):
        _split_day(far_east, theirs - timedelta(days=offset))
    client.force_login(clinician)
    row = client.get(reverse("sharing:triage")).context["rows"][0]
    assert row.current.readings == 14 * 288 and row.current.wear_percent == pytest.approx(100)
    assert row.period.last_day == theirs


def test_its_wear_counts_the_real_hours_of_a_dst_day(clinician, make_user, make_share):
    # 2026-11-01 in New York has 25 hours: 288 readings are 96% of the 300 it can hold.
    new_york = make_user("ny@example.com", "patient", timezone="America/New_York")
    make_share(new_york, clinician=clinician)
    _split_day(new_york, timezone.datetime(2026, 11, 1).date())
    now = timezone.datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    [row] = selectors.triage_rows(viewer=clinician, period_days=1, now=now)
    assert row.period.label == "1 Nov 2026 – 1 Nov 2026 (1 day)"
    assert row.current.wear_percent == pytest.approx(100 * 288 / 300)


def test_the_list_marks_its_patients_watched_and_renews_the_mark_only_when_due(client, cohort, clinician):
    from apps.dexcom.models import DexcomConnection
    from apps.sync.models import SyncSchedule

    steady = cohort[0]
    dexcom = DexcomConnection.objects.create(
        user=steady,
        base_url="https://dexcom.test",
        refresh_token_encrypted="x",
        backfill_completed_at=timezone.now(),
    )
    SyncSchedule.objects.create(connection=dexcom)  # the scheduler's tick makes it
    client.force_login(clinician)

    def schedule_writes():
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("sharing:triage"))
        return [
            q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "sync_syncschedule" in q["sql"]
        ]

    assert len(schedule_writes()) == 1
    watched_until = SyncSchedule.objects.get(connection=dexcom).watched_until
    assert watched_until > timezone.now() + timedelta(minutes=55)
    assert schedule_writes() == []  # the same page again soon: the mark still has long to run
    SyncSchedule.objects.filter(connection=dexcom).update(watched_until=None)
    from django.core.cache import cache

    cache.clear()  # as when LIST_WATCH_RENEWED_EVERY has passed
    assert len(schedule_writes()) == 1 and SyncSchedule.objects.get(connection=dexcom).watched_until

"""The triage list from TriageSnapshot: kept with the summaries, rebuilt when outgrown, and
sorted, searched, counted and paged in SQL exactly as the rows computed in Python would be."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.glucose import snapshots
from apps.glucose.models import DailySummary, TriageSnapshot
from apps.sharing import selectors, triage
from tests.glucose import factories

pytestmark = pytest.mark.django_db


def test_the_summaries_rebuild_writes_the_snapshots_in_the_same_transaction(patient, monkeypatch):
    factories.make_days(patient, last_day_start=factories.recent_day_start(1), days=3)
    assert sorted(TriageSnapshot.objects.filter(patient=patient).values_list("period_days", flat=True)) == [7, 14, 30, 90]
    seven = TriageSnapshot.objects.get(patient=patient, period_days=7)
    assert seven.readings == 3 * 288 and seven.sums["current"]["readings"] == 3 * 288

    # A failing snapshot build undoes the summaries too: never one without the other.
    def broken(**kwargs):
        raise RuntimeError("snapshot build failed")

    monkeypatch.setattr(snapshots, "build_snapshots", broken)
    before = list(DailySummary.objects.filter(patient=patient).values_list("day", "readings"))
    factories.make_egvs(patient, factories.recent_day_start(0), [150] * 10, summaries=False)
    from apps.glucose.summaries import rebuild_daily_summaries

    with pytest.raises(RuntimeError):
        rebuild_daily_summaries(patient_id=patient.pk, since=None)
    assert list(DailySummary.objects.filter(patient=patient).values_list("day", "readings")) == before


def test_the_rebuild_summaries_command_rebuilds_them(patient):
    factories.make_days(patient, last_day_start=factories.recent_day_start(1), days=2)
    TriageSnapshot.objects.all().delete()
    call_command("rebuild_summaries", "--all", stdout=open("/dev/null", "w"))
    assert TriageSnapshot.objects.filter(patient=patient).count() == len(snapshots.TRIAGE_PERIOD_DAYS)


def test_the_list_shows_what_the_snapshot_was_built_from(client, clinician, patient, make_share):
    make_share(patient, clinician=clinician)
    factories.make_days(patient, last_day_start=factories.recent_day_start(1), days=14)
    client.force_login(clinician)
    [row] = client.get(reverse("sharing:triage")).context["rows"]
    assert row.current.readings == 14 * 288 and row.current.wear_percent == pytest.approx(100)


def test_a_local_day_rolling_over_rebuilds_the_snapshot(clinician, make_user, make_share):
    patient = make_user("late@example.com", "patient", timezone="UTC")
    make_share(patient, clinician=clinician)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    factories.make_egvs(patient, day, [120] * 288, summaries=False)
    factories.make_egvs(patient, day + timedelta(days=1), [200] * 288)
    on_21st = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    [row] = selectors.triage_rows(viewer=clinician, period_days=1, now=on_21st)
    assert row.period.last_day.isoformat() == "2026-11-20" and row.current.mean_mgdl == 120
    # Past the patient's midnight, yesterday is the 21st: the same call now shows that day.
    [row] = selectors.triage_rows(viewer=clinician, period_days=1, now=on_21st + timedelta(hours=12, seconds=1))
    assert row.period.last_day.isoformat() == "2026-11-21" and row.current.mean_mgdl == 200


def test_a_new_time_zone_or_unit_choice_rebuilds_the_snapshot(clinician, make_user, make_share):
    patient = make_user("moving@example.com", "patient", timezone="UTC")
    make_share(patient, clinician=clinician)
    # 181 mg/dL is above range in mg/dL, but reads 10.0 mmol/L: in range for mmol/L readers.
    factories.make_days(patient, last_day_start=factories.recent_day_start(1), days=1,
                        value_for=lambda i: 181)
    [row] = selectors.triage_rows(viewer=clinician, period_days=1)
    assert row.current.tir_70_180_percent == 0
    patient.glucose_unit = "mmol/L"
    patient.save(update_fields=["glucose_unit"])
    [row] = selectors.triage_rows(viewer=clinician, period_days=1)
    assert row.current.tir_70_180_percent == 100
    patient.timezone = "Pacific/Kiritimati"
    patient.save(update_fields=["timezone"])
    selectors.triage_rows(viewer=clinician, period_days=1)
    assert TriageSnapshot.objects.get(patient=patient, period_days=1).time_zone == "Pacific/Kiritimati"


def test_a_synced_device_unit_forgets_the_snapshots(patient):
    factories.make_days(patient, last_day_start=factories.recent_day_start(1), days=1)
    assert TriageSnapshot.objects.filter(patient=patient).exists()
    factories.make_device(patient, unit="mmol/L")  # as the sync writes it
    snapshots.forget(patient_id=patient.pk)
    assert not TriageSnapshot.objects.filter(patient=patient).exists()


# --- SQL and Python agree ---------------------------------------------------------------------------

@pytest.fixture
def crowd(make_user, make_share, clinician):
    """30 patients with random days, ties (equal values, equal names), no data, old data."""
    rng = random.Random(12)
    yesterday = timezone.localdate() - timedelta(days=1)
    for n in range(30):
        name = rng.choice(["Ana Alves", "bob Brown", "Émile Zola", "", "Zed", f"Pat {n:02d}"])
        patient = make_user(f"p{n:02d}@example.org", "patient", full_name=name)
        make_share(patient, clinician=clinician)
        if n % 7 == 6:
            continue  # no data at all
        hours_ago = rng.choice([1, 2, 30, 100])
        for offset in range(28):
            readings = rng.choice([288, 288, 200, 100, 0]) if n % 5 else 288  # n % 5 == 0: ties
            low = min(readings, rng.choice([0, 0, 3, 20])) if n % 5 else 0
            high = rng.randint(0, readings - low) if n % 5 else 50
            mean = rng.uniform(90, 220) if n % 5 else 150.0
            DailySummary.objects.create(
                patient=patient, day=yesterday - timedelta(days=offset), readings=readings,
                value_sum=mean * readings, value_sq_sum=(mean * mean + 900) * readings,
                below_54=low // 2, from_54_to_69=low - low // 2, from_70_to_180=readings - low - high,
                from_181_to_250=high // 2, above_250=high - high // 2,
                last_reading_at=timezone.now() - timedelta(hours=hours_ago) if readings else None,
            )


@pytest.mark.parametrize("key", sorted(triage.SORT_KEYS))
@pytest.mark.parametrize("descending", [False, True])
def test_sql_sorts_as_python_sorts(crowd, clinician, key, descending):
    now = timezone.now()
    rows = selectors.triage_rows(viewer=clinician, period_days=14, now=now)
    expected = [r.email for r in triage.sort_rows(rows, key=key, descending=descending)]
    page = selectors.triage_page(viewer=clinician, period_days=14, sort=key, descending=descending,
                                 page_size=100, now=now)
    assert [r.email for r in page.page.object_list] == expected


@pytest.mark.parametrize("query", ["", "ana", "BOB", "p1", "zola", "@example", "nobody", " zed "])
def test_sql_searches_and_counts_as_python(crowd, clinician, query):
    now = timezone.now()
    rows = triage.search_rows(selectors.triage_rows(viewer=clinician, period_days=14, now=now), query)
    page = selectors.triage_page(viewer=clinician, period_days=14, query=query, now=now)
    assert sorted(r.email for r in page.page.object_list) == sorted(r.email for r in rows)
    assert page.total == len(rows)
    assert page.flagged == sum(1 for r in rows if r.flags)
    assert page.period_labels == sorted({r.period.label for r in rows})


def test_the_stored_sort_columns_are_the_numbers_shown(crowd, clinician):
    rows = {r.patient_id: r for r in selectors.triage_rows(viewer=clinician, period_days=14)}
    for snapshot in TriageSnapshot.objects.filter(period_days=14):
        row = rows[snapshot.patient_id]
        for column in snapshots.SORT_COLUMNS:
            assert getattr(snapshot, column) == getattr(row.current, column), column
        assert snapshot.tir_change == row.tir_change


def test_it_pages_by_100(client, clinician, make_user, make_share):
    for n in range(230):
        make_share(make_user(f"q{n:03d}@example.org", "patient"), clinician=clinician)
    client.force_login(clinician)
    first = client.get(reverse("sharing:triage"), {"sort": "name", "order": "asc"}).context
    third = client.get(reverse("sharing:triage"), {"sort": "name", "order": "asc", "page": 3}).context
    assert first["total"] == 230 and len(first["rows"]) == 100 and len(third["rows"]) == 30
    assert third["rows"][-1].email == "q229@example.org"

"""The triage list from TriageSnapshot: kept with the summaries, rebuilt when outgrown, and
sorted, searched, counted and paged in SQL exactly as the rows computed in Python would be."""

import io
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
    assert sorted(TriageSnapshot.objects.filter(patient=patient).values_list("period_days", flat=True)) == [
        7,
        14,
        30,
        90,
    ]
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
    call_command("rebuild_summaries", "--all", stdout=io.StringIO())
    assert TriageSnapshot.objects.filter(patient=patient).count() == len(snapshots.TRIAGE_PERIOD_DAYS)


def test_the_list_shows_what_the_snapshot_was_built_from(client, clinician, patient, make_share):
    make_share(patient, clinician=clinician)
    factories.make_days(patient, last_day_start=factories.recent_day_start(1), days=14)
    client.force_login(clinician)
    [row] = client.get(reverse("sharing:triage")).context["rows"]
    assert row.current.readings == 14 * 288 and row.current.wear_percent == pytest.approx(100)


def _every_row(*, viewer, period_days, now=None):
    return selectors.triage_rows(viewer=viewer, period_days=period_days, now=now)


def _one_page(*, viewer, period_days, now=None):
    return selectors.triage_page(viewer=viewer, period_days=period_days, now=now).page.object_list


# Both readers rebuild what is outgrown: the full list (digest) and the page (its own check).
READERS = [pytest.param(_every_row, id="every_row"), pytest.param(_one_page, id="one_page")]


@pytest.mark.parametrize("read", READERS)
def test_a_local_day_rolling_over_rebuilds_the_snapshot(clinician, make_user, make_share, read):
    patient = make_user("late@example.com", "patient", timezone="UTC")
    make_share(patient, clinician=clinician)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    factories.make_egvs(patient, day, [120] * 288, summaries=False)
    factories.make_egvs(patient, day + timedelta(days=1), [200] * 288)
    on_21st = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    [row] = read(viewer=clinician, period_days=1, now=on_21st)
    assert row.period.last_day.isoformat() == "2026-11-20" and row.current.tir_70_180_percent == 100
    # Past the patient's midnight, yesterday is the 21st: the same call now shows that day.
    [row] = read(viewer=clinician, period_days=1, now=on_21st + timedelta(hours=12, seconds=1))
    assert row.period.last_day.isoformat() == "2026-11-21" and row.current.tir_70_180_percent == 0


@pytest.mark.parametrize("read", READERS)
def test_a_new_time_zone_or_unit_choice_rebuilds_the_snapshot(clinician, make_user, make_share, read):
    patient = make_user("moving@example.com", "patient", timezone="UTC")
    make_share(patient, clinician=clinician)
    # 181 mg/dL is above range in mg/dL, but reads 10.0 mmol/L: in range for mmol/L readers.
    factories.make_days(
        patient, last_day_start=factories.recent_day_start(1), days=1, value_for=lambda i: 181
    )
    [row] = read(viewer=clinician, period_days=1)
    assert row.current.tir_70_180_percent == 0
    patient.glucose_unit = "mmol/L"
    patient.save(update_fields=["glucose_unit"])
    [row] = read(viewer=clinician, period_days=1)
    assert row.current.tir_70_180_percent == 100 and row.unit == "mmol/L"
    patient.timezone = "Pacific/Kiritimati"
    patient.save(update_fields=["timezone"])
    [row] = read(viewer=clinician, period_days=1)
    assert row.period.tzinfo.key == "Pacific/Kiritimati"
    assert TriageSnapshot.objects.get(patient=patient, period_days=1).time_zone == "Pacific/Kiritimati"


def test_a_synced_device_unit_forgets_the_snapshots(patient):
    import copy

    from apps.sync import devices
    from tests.sync.test_it_keeps_device_settings_history import DEVICE

    factories.make_days(patient, last_day_start=factories.recent_day_start(1), days=1)
    assert TriageSnapshot.objects.filter(patient=patient).exists()
    devices.write_device(copy.deepcopy(DEVICE), patient_id=patient.pk)  # as the sync writes it
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
                patient=patient,
                day=yesterday - timedelta(days=offset),
                readings=readings,
                value_sum=mean * readings,
                value_sq_sum=(mean * mean + 900) * readings,
                below_54=low // 2,
                from_54_to_69=low - low // 2,
                from_70_to_180=readings - low - high,
                from_181_to_250=high // 2,
                above_250=high - high // 2,
                last_reading_at=timezone.now() - timedelta(hours=hours_ago) if readings else None,
            )


@pytest.mark.parametrize("key", sorted(triage.SORT_KEYS))
@pytest.mark.parametrize("descending", [False, True])
def test_sql_sorts_as_python_sorts(crowd, clinician, key, descending):
    now = timezone.now()
    rows = selectors.triage_rows(viewer=clinician, period_days=14, now=now)
    expected = [r.email for r in triage.sort_rows(rows, key=key, descending=descending)]
    page = selectors.triage_page(
        viewer=clinician, period_days=14, sort=key, descending=descending, page_size=100, now=now
    )
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


def test_a_page_shows_what_the_full_rows_show(crowd, clinician):
    """The page reads the stored columns; the full list recomputes from the stored sums."""
    now = timezone.now()
    full = {r.patient_id: r for r in selectors.triage_rows(viewer=clinician, period_days=14, now=now)}
    page = selectors.triage_page(viewer=clinician, period_days=14, now=now).page.object_list
    assert len(page) == len(full) == 30
    for row in page:
        expected = full[row.patient_id]
        shown = lambda r: (  # noqa: E731
            r.name,
            r.email,
            r.last_reading_at,
            r.hours_since_reading,
            r.flags,
            r.attention,
            r.unit,
            r.period.label,
            r.period.tzinfo,
            r.metric_cells,
            r.wear_cell,
            r.tir_change_cell,
        )
        assert shown(row) == shown(expected), row.email
    assert any(row.flags for row in page) and any(row.tir_change for row in page)


def test_the_period_labels_name_each_local_yesterday_of_the_patients(clinician, make_user, make_share):
    # At 11:00 UTC it is already the 16th in Kiritimati (UTC+14) and still the 14th at UTC-12:
    # three local yesterdays at once, the earliest and latest two days apart.
    for zone in ("Pacific/Kiritimati", "UTC", "Etc/GMT+12", "Etc/GMT+12"):
        make_share(
            make_user(f"{zone.replace('/', '.')}.{random.random()}@example.org", "patient", timezone=zone),
            clinician=clinician,
        )
    now = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
    page = selectors.triage_page(viewer=clinician, period_days=7, now=now)
    rows = selectors.triage_rows(viewer=clinician, period_days=7, now=now)
    assert page.period_labels == sorted({r.period.label for r in rows})
    assert len(page.period_labels) == 3
    assert selectors.triage_page(viewer=clinician, period_days=7, query="UTC", now=now).period_labels == [
        "8 Jun 2026 – 14 Jun 2026 (7 days)"
    ]


@pytest.mark.parametrize(
    ("asked", "shown"), [(None, 1), ("2", 2), ("3", 3), ("4", 3), ("99", 3), ("0", 3), ("x", 1), ("2.5", 1)]
)
def test_it_takes_page_numbers_as_the_paginator_does(clinician, make_user, make_share, asked, shown):
    for n in range(25):
        make_share(make_user(f"r{n:02d}@example.org", "patient"), clinician=clinician)
    page = selectors.triage_page(
        viewer=clinician, period_days=14, sort="name", descending=False, page_number=asked, page_size=10
    ).page
    assert page.number == shown and page.paginator.num_pages == 3
    first = (shown - 1) * 10
    assert [r.email for r in page.object_list] == [
        f"r{n:02d}@example.org" for n in range(first, min(first + 10, 25))
    ]


def test_an_empty_list_and_a_search_finding_nobody(clinician, make_user, make_share):
    page = selectors.triage_page(viewer=clinician, period_days=14)
    assert page.total == page.flagged == 0 and page.page.object_list == [] and page.period_labels == []
    make_share(make_user("someone@example.org", "patient"), clinician=clinician)
    page = selectors.triage_page(viewer=clinician, period_days=14, query="nobody")
    assert page.total == 0 and page.page.object_list == [] and page.page.number == 1
    assert selectors.triage_page(viewer=clinician, period_days=14).total == 1


def test_it_pages_by_100(client, clinician, make_user, make_share):
    for n in range(230):
        make_share(make_user(f"q{n:03d}@example.org", "patient"), clinician=clinician)
    client.force_login(clinician)
    first = client.get(reverse("sharing:triage"), {"sort": "name", "order": "asc"}).context
    third = client.get(reverse("sharing:triage"), {"sort": "name", "order": "asc", "page": 3}).context
    assert first["total"] == 230 and len(first["rows"]) == 100 and len(third["rows"]) == 30
    assert third["rows"][-1].email == "q229@example.org"


# --- the cells show what the floatformat filters showed ------------------------------------------


def test_fixed_formats_as_floatformat():
    from django.template.defaultfilters import floatformat

    rng = random.Random(3)
    values = [
        None,
        0,
        0.0,
        -0.0,
        -0.04,
        -0.05,
        0.05,
        0.25,
        0.35,
        2.675,
        1.005,
        99.95,
        100,
        100.0,
        -12.349999,
        33.33333333333333,
        1e-9,
        -1e-9,
        66.66666666666667,
        12.5,
        13.5,
        -12.5,
    ]
    values += [rng.uniform(-100, 100) for _ in range(3000)]
    values += [round(rng.uniform(-100, 100), 2) for _ in range(3000)]  # many exact .x5 ties
    values += [rng.randint(0, 288) / rng.choice([288, 300, 4032, 1008]) * 100 for _ in range(3000)]
    for value in values:
        for places in (0, 1):
            assert triage.fixed(value, places) == floatformat(value, places), (value, places)


OLD_CELLS = """{% with m=row.current %}<td>{{ m.wear_percent|floatformat:0 }}%</td>{% if m.readings %}<td>{{ m.tir_70_180_percent|floatformat:1 }}%</td><td>{{ m.tbr_below_70_percent|floatformat:1 }}%</td><td>{{ m.tbr_below_54_percent|floatformat:1 }}%</td><td>{{ m.tar_above_180_percent|floatformat:1 }}%</td><td>{% if m.gmi_percent is not None %}{{ m.gmi_percent|floatformat:1 }}%{% else %}—{% endif %}</td><td>{% if m.cv_percent is not None %}{{ m.cv_percent|floatformat:1 }}%{% else %}—{% endif %}</td><td>{{ m.gri|floatformat:0 }}</td>{% else %}<td colspan="7">no readings in this period</td>{% endif %}{% endwith %}<td>{% with change=row.tir_change %}{% if change is not None %}{% if change > 0 %}+{% endif %}{{ change|floatformat:1 }} pts{% else %}—{% endif %}{% endwith %}</td>"""
NEW_CELLS = """<td>{{ row.wear_cell }}</td>{% with cells=row.metric_cells %}{% if cells %}{% for cell in cells %}<td>{{ cell }}</td>{% endfor %}{% else %}<td colspan="7">no readings in this period</td>{% endif %}{% endwith %}<td>{{ row.tir_change_cell }}</td>"""


def test_the_rows_show_what_the_floatformat_template_showed(crowd, clinician):
    from django.template import Context, Template

    old, new = Template(OLD_CELLS), Template(NEW_CELLS)
    rows = selectors.triage_rows(viewer=clinician, period_days=14)
    assert any(r.current.readings == 0 for r in rows) and any(r.tir_change for r in rows)
    for row in rows:
        assert new.render(Context({"row": row})) == old.render(Context({"row": row})), row.email


OLD_ROW = (
    """<tr class="{% if row.flags %}needs-attention{% endif %}" data-patient-id="{{ row.patient_id }}">
    <td>{% for flag in row.flags %}<span class="flag">{{ flag }}</span> {% endfor %}</td>
    <td><a href="/patients/{{ row.patient_id }}/overview/?days={{ row.period.days }}&amp;end={{ row.period.last_day|date:'Y-m-d' }}" title="{{ row.period.label }}">{{ row.name }}</a></td>
    <td>{% if row.last_reading_at %}{{ row.last_reading_at|timesince }} ago{% else %}never{% endif %}</td>
    """
    + OLD_CELLS
    + "</tr>"
)


def test_the_rows_html_is_the_markup_the_template_wrote(crowd, clinician, make_user, make_share):
    import re

    from django.template import Context, Template

    from apps.sharing.triage_table import rows_html

    make_share(
        make_user("x@example.org", "patient", full_name='<b>"Bobby" & Tables</b>'), clinician=clinician
    )
    old = Template(OLD_ROW)
    rows = selectors.triage_rows(viewer=clinician, period_days=14)
    squeeze = lambda html: re.sub(r">\s+<", "><", html.strip())  # noqa: E731
    for row in rows:
        assert squeeze(rows_html([row])) == squeeze(old.render(Context({"row": row}))), row.email
    assert "&lt;b&gt;&quot;Bobby&quot; &amp; Tables&lt;/b&gt;" in rows_html(rows)


def test_time_since_is_what_the_timesince_filter_shows():
    from django.utils.timesince import timesince

    from apps.sharing.triage_table import time_since

    rng = random.Random(8)
    nows = [datetime(2026, 3, 1, 0, 0, 30, tzinfo=UTC), datetime(2024, 2, 29, 23, 59, tzinfo=UTC)]
    nows += [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 3e7)) for _ in range(20)]
    edges = [timedelta(0), timedelta(seconds=-5), timedelta(seconds=59.999999), timedelta(minutes=1)]
    edges += [timedelta(days=28) - timedelta(microseconds=1), timedelta(days=28), timedelta(days=400)]
    for now in nows:
        deltas = edges + [timedelta(seconds=rng.uniform(0, 40 * 86400)) for _ in range(300)]
        deltas += [timedelta(minutes=rng.randint(0, 28 * 1440)) for _ in range(100)]  # on the minute
        for delta in deltas:
            assert time_since(now - delta, now=now) == timesince(now - delta, now), (now, delta)


# --- the kept order: what is shown, and to whom, is current ----------------------------------------


def _page(clinician, now, **kwargs):
    return selectors.triage_page(
        viewer=clinician, period_days=14, sort="tir", descending=True, now=now, **kwargs
    )


def test_a_kept_order_shows_the_rows_as_they_are_now(crowd, clinician, settings):
    now = timezone.now()
    before = _page(clinician, now)
    last = before.page.object_list[-1]
    TriageSnapshot.objects.filter(patient_id=last.patient_id, period_days=14).update(tir_70_180_percent=99.5)
    soon = _page(clinician, now + timedelta(seconds=5))
    assert [r.patient_id for r in soon.page.object_list] == [r.patient_id for r in before.page.object_list]
    assert soon.page.object_list[-1].current.tir_70_180_percent == 99.5  # read anew, in the kept order
    # Once the order is older than TRIAGE_ORDER_CACHE_SECONDS, it is computed again.
    later = _page(clinician, now + timedelta(seconds=settings.TRIAGE_ORDER_CACHE_SECONDS))
    assert later.page.object_list[0].patient_id == last.patient_id


def _revoke_share(patient_id: int, now) -> None:
    from apps.sharing.models import Share

    Share.objects.filter(patient_id=patient_id).update(revoked_at=now)


def _deactivate(patient_id: int, now) -> None:
    from apps.accounts.models import User

    User.objects.filter(pk=patient_id).update(is_active=False)


@pytest.mark.parametrize("leave", [_revoke_share, _deactivate])
def test_a_patient_leaving_leaves_a_kept_page_at_once(crowd, clinician, leave):
    now = timezone.now()
    before = _page(clinician, now)
    gone = before.page.object_list[3]
    leave(gone.patient_id, now)
    after = _page(clinician, now + timedelta(seconds=1))
    assert gone.patient_id not in [r.patient_id for r in after.page.object_list]
    assert after.total == before.total - 1 == len(after.page.object_list)


def test_a_new_share_joins_a_kept_page_at_once(crowd, clinician, make_user, make_share):
    now = timezone.now()
    before = _page(clinician, now)
    newcomer = make_user("newcomer@example.org", "patient")
    make_share(newcomer, clinician=clinician)
    after = _page(clinician, now + timedelta(seconds=1))
    assert after.total == before.total + 1 and newcomer.pk in [r.patient_id for r in after.page.object_list]


def test_each_search_sort_and_page_keeps_its_own_order(crowd, clinician):
    now = timezone.now()
    by_tir = _page(clinician, now, page_size=10)
    second = _page(clinician, now, page_size=10, page_number=2)
    found = _page(clinician, now, query="ana")
    by_name = selectors.triage_page(viewer=clinician, period_days=14, sort="name", descending=False, now=now)
    assert [r.patient_id for r in by_tir.page.object_list] != [r.patient_id for r in second.page.object_list]
    assert second.page.number == 2 and found.total == sum(
        1 for r in by_name.page.object_list if "ana" in r.name.lower()
    )
    assert [r.name.lower() for r in by_name.page.object_list] == sorted(
        r.name.lower() for r in by_name.page.object_list
    )

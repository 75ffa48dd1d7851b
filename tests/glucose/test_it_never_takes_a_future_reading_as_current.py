"""Readings stored with a systemTime ahead of the clock (an older rule accepted up to 2 days)
never become the "current reading": not on the overview, not for the patient's "today", not in
the clinicians' triage list."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.glucose import selectors
from apps.glucose.models import DailySummary, Egv
from apps.sharing import selectors as sharing_selectors
from tests.glucose import factories

pytestmark = pytest.mark.django_db

NEW_YORK = -5 * 3600


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def with_a_future_reading(patient, now):
    """Real readings up to 5 minutes ago (New York), and one stored a day ahead of the clock
    with another offset, as the old two-day rule let in."""
    factories.make_egvs(
        patient, now - timedelta(hours=2), [110] * 23, delta_seconds=NEW_YORK, summaries=False
    )
    Egv.objects.bulk_create([factories.egv(patient, now + timedelta(days=1), 333, delta_seconds=9 * 3600)])
    factories.rebuild_daily_summaries(patient_id=patient.pk, since=None)
    return patient


def test_the_latest_reading_is_the_newest_one_not_in_the_future(with_a_future_reading, now):
    latest = selectors.latest_egv(patient_id=with_a_future_reading.pk, now=now)
    assert latest.value == 110
    assert latest.system_time == now - timedelta(hours=2) + timedelta(minutes=5 * 22)


def test_a_few_minutes_of_clock_skew_still_count_as_now(patient, now):
    Egv.objects.bulk_create([factories.egv(patient, now + timedelta(minutes=3), 140)])
    assert selectors.latest_egv(patient_id=patient.pk, now=now).value == 140


def test_the_overview_shows_the_real_current_reading(client, with_a_future_reading):
    client.force_login(with_a_future_reading)
    page = client.get(reverse("dashboard:overview", args=[with_a_future_reading.pk]))
    assert page.status_code == 200
    assert page.context["page"].latest.value == 110
    # Not b"333" anywhere: a CSRF token or a share code may hold those digits by chance.
    assert b'<span class="big">110</span>' in page.content
    assert b'<span class="big">333</span>' not in page.content


def test_summaries_never_date_the_last_reading_in_the_future(with_a_future_reading, now):
    dated = DailySummary.objects.filter(patient=with_a_future_reading).values_list("day", "last_reading_at")
    last_readings = [last for _, last in dated if last is not None]
    assert last_readings and max(last_readings) <= now
    # The day holding only the reading stored ahead of the clock has no last reading at all.
    assert [last for _, last in dated].count(None) == 1


def test_triage_takes_the_last_reading_and_today_from_real_readings(
    with_a_future_reading, clinician, make_share, now
):
    make_share(with_a_future_reading, clinician=clinician)
    # Summaries written under the old rule still date the last reading a day ahead.
    DailySummary.objects.filter(patient=with_a_future_reading).update(last_reading_at=now + timedelta(days=1))
    DailySummary.objects.create(
        patient=with_a_future_reading,
        day=(now - timedelta(days=3)).date(),
        readings=1,
        value_sum=100,
        value_sq_sum=10000,
        from_70_to_180=1,
        last_reading_at=now - timedelta(days=3),
    )
    [row] = sharing_selectors.triage_rows(viewer=clinician, period_days=14, now=now)
    assert row.hours_since_reading is not None and row.hours_since_reading >= 0
    [patient] = selectors.with_local_clock_and_unit(
        type(with_a_future_reading).objects.filter(pk=with_a_future_reading.pk), now=now
    )
    assert patient.latest_delta_seconds == NEW_YORK

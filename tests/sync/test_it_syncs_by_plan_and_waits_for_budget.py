"""The fetch plans against the emulator over HTTP, and a spent budget shown as waiting, not failing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.glucose.models import Egv
from apps.sync import schedule, services
from apps.sync.models import ApiBudgetWindow, SyncRun, SyncSchedule
from apps.sync.tasks import sync_connection_task
from tests.sync.conftest import api_as_of, assert_db_equals_truth, load_truth

live = pytest.mark.django_db(transaction=True)


def _publish_more(settings, minutes: int) -> None:
    # Dexcom publishes readings as time passes: a shorter delay publishes the next minutes.
    settings.EMULATOR_DATA_DELAY_MINUTES = settings.EMULATOR_DATA_DELAY_MINUTES - minutes


@pytest.mark.django_db
def test_a_quick_sync_fetches_new_readings_in_one_call(connect_fake):
    now = timezone.now()
    api = api_as_of(now - timedelta(minutes=30))
    connection = connect_fake(api)
    services.sync_connection(connection_id=connection.pk, api=api)
    before = Egv.objects.filter(patient=connection.user).count()
    load_truth(api, now=now)  # Dexcom has published the next 30 minutes
    api.calls.clear()
    run = services.sync_connection(connection_id=connection.pk, plan=services.QUICK, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.api_calls == 1 and api.calls == {"egvs": 1}
    assert 5 <= Egv.objects.filter(patient=connection.user).count() - before <= 7
    # A standard run afterwards (dataRange first) finds nothing missing and the data equals truth.
    run = services.sync_connection(connection_id=connection.pk, plan=services.STANDARD, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.api_calls <= 2
    run = services.sync_connection(connection_id=connection.pk, api=api)  # full: events, alerts caught up
    assert_db_equals_truth(connection, api=api)


@pytest.mark.django_db
def test_a_standard_sync_with_nothing_new_costs_one_call(api, api_connection):
    connection = api_connection
    services.sync_connection(connection_id=connection.pk, api=api)
    api.calls.clear()
    run = services.sync_connection(connection_id=connection.pk, plan=services.STANDARD, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.api_calls == 1 and api.calls == {"dataRange": 1}  # no events re-read, no alerts


@live
def test_a_spent_budget_mid_sync_waits_and_says_so(connection, settings, client):
    services.sync_connection(connection_id=connection.pk)
    _publish_more(settings, 30)
    settings.DEXCOM_RATE_LIMIT_PER_HOUR = 60  # one call a minute
    ApiBudgetWindow.objects.all().delete()
    # This minute's one call goes to the sync's first request; the next minutes are spent
    # already, so a minute that rolls over mid-test (or the few seconds the budget waits for
    # the next one) gives the sync no second call either.
    minute = _now().replace(second=0, microsecond=0)
    ApiBudgetWindow.objects.bulk_create(
        ApiBudgetWindow(window_start=minute + timedelta(minutes=m), calls=1) for m in (1, 2, 3)
    )
    SyncSchedule.objects.get_or_create(connection=connection)
    schedule.claim(
        connection_id=connection.pk, plan="standard", now=_now(), policy=schedule.policy_from_settings()
    )
    result = sync_connection_task.apply(args=[connection.pk], kwargs={"plan": "standard"})
    assert result.successful() and result.get() is None
    run = SyncRun.objects.filter(connection=connection).first()
    assert run.status == SyncRun.Status.WAITING
    connection.refresh_from_db()
    assert connection.last_error == ""
    row = SyncSchedule.objects.get(connection=connection)
    assert row.waiting_since is not None and row.queued_at is None  # the scheduler queues it again
    client.force_login(connection.user)
    page = client.get(reverse("overview", args=[connection.user_id])).content.decode()
    assert "Waiting for Dexcom" in page
    assert "Sync failing" not in page and "failed" not in page.lower()


def _now():
    from django.utils import timezone

    return timezone.now()


@live
def test_a_sync_asked_directly_counts_as_fresh_for_the_scheduler(connection):
    SyncSchedule.objects.create(connection=connection)
    result = sync_connection_task.apply(args=[connection.pk])
    assert result.successful()
    row = SyncSchedule.objects.get(connection=connection)
    run = SyncRun.objects.get(pk=result.get())
    assert row.fresh_as_of == run.started_at and row.last_full_at == run.started_at

"""The broker (Redis) is down: "Sync now" and the OAuth callback answer a friendly page, never a
500, and the sync is left to beat, which queues it at its next tick once the broker is back."""

import pytest
from django.test import Client
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.sync import schedule
from apps.sync.models import SyncSchedule
from tests.dexcom.test_it_connects_through_allauth import _decide, _path, _to_consent
from tests.dexcom.test_it_shows_the_connection_page import connection  # noqa: F401  (fixture)
from tests.sync.conftest import emulator  # noqa: F401  (fixture)

pytestmark = pytest.mark.faults

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_down(monkeypatch):
    """Point the Celery app at a port nobody listens on, as when Redis is down."""
    from dexweb.celery import app

    working = app.conf.broker_url

    def _use(url):
        app.conf.broker_url = url
        app._pool = None  # connection pools were made for the old URL
        app.amqp._producer_pool = None

    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_PORT_BROKER)
    _use(CLOSED_PORT_BROKER)
    yield
    monkeypatch.undo()
    _use(working)


def _next_tick_queues(connection_id: int) -> bool:
    return connection_id in [choice.connection_id for choice in schedule.plan_tick()[0]]


def test_sync_now_says_the_sync_will_start_on_its_own(client, connection, broker_down):  # noqa: F811
    schedule.load_candidates(now=timezone.now(), policy=schedule.policy_from_settings())  # its row
    SyncSchedule.objects.filter(connection=connection).update(queued_at=timezone.now())
    client.force_login(connection.user)
    response = client.post("/dexcom/sync/", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "briefly unavailable" in page and "will start on its own" in page
    # Left to beat: the claim is released, so the next tick queues it at once.
    assert SyncSchedule.objects.get(connection=connection).queued_at is None
    assert _next_tick_queues(connection.pk)


def test_the_beat_task_un_claims_what_it_could_not_send(connection, broker_down):  # noqa: F811
    from apps.sync.tasks import enqueue_due_syncs_task

    result = enqueue_due_syncs_task.apply()
    assert result.failed()  # retried, then given up: beat sends a fresh one next minute
    # Claimed by the tick, then un-claimed when the broker refused it: the next tick queues it.
    row = SyncSchedule.objects.get(connection=connection)
    assert row.last_attempt_at is not None and row.queued_at is None


@pytest.mark.django_db(transaction=True)
def test_the_oauth_callback_connects_without_a_500(emulator, patient, broker_down):  # noqa: F811
    browser = Client()
    browser.force_login(patient)
    query = _to_consent(browser, "connect")
    response = browser.get(_path(_decide(browser, query, "authorize")))
    assert response.status_code == 302
    made = DexcomConnection.objects.get(user=patient)
    assert made.status == DexcomConnection.Status.ACTIVE and made.has_tokens
    assert _next_tick_queues(made.pk)

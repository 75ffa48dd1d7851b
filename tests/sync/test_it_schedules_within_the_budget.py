"""The budget-aware scheduler's decisions: fairness, no starvation, no double sync, budget kept,
watched patients first, backfills' share bounded, waiting (never failing) when the budget is spent.

Correctness only: how fresh it keeps 20,000 patients is measured by bench/sched_simulation.py.
"""

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.sync import budget, schedule, scheduler
from apps.sync.models import ApiBudgetWindow, SyncSchedule
from apps.sync.scheduler import Candidate, Policy, choose

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
POLICY = Policy()


def _synced(minutes_ago: float, **fields) -> dict:
    """A steady-state connection last synced this long ago, recently ranged and fully synced."""
    fresh = NOW - timedelta(minutes=minutes_ago)
    return {"fresh_as_of": fresh, "last_range_at": NOW, "last_full_at": NOW, **fields}


def _candidates(count: int, *, start_id: int = 1, **fields) -> list[Candidate]:
    return [
        Candidate(connection_id=start_id + i, **{"watched": False, **_synced(55), **fields})
        for i in range(count)
    ]


def _advance(candidates, chosen_ids, now):
    """What a tick's runs do to the candidates: chosen ones are fresh as of now."""
    return [
        replace(c, fresh_as_of=now, last_attempt_at=now) if c.connection_id in chosen_ids else c
        for c in candidates
    ]


# --- pure decisions --------------------------------------------------------------------------


def test_it_serves_every_due_connection_once_before_any_twice():
    candidates = _candidates(100)
    seen = []
    now = NOW
    for _ in range(10):
        tick = choose(candidates, now=now, calls_available=10, policy=POLICY)
        ids = [c.connection_id for c in tick.chosen]
        seen += ids
        candidates = _advance(candidates, set(ids), now)
        now += timedelta(minutes=1)
    assert sorted(seen) == list(range(1, 101))  # each exactly once in 10 minutes


def test_it_starves_nobody_when_new_work_keeps_arriving():
    # 30 connections already overdue; every minute 5 more fall due. The budget fits 6 a minute.
    old = _candidates(30, **_synced(70))
    waits = {}
    candidates = list(old)
    now = NOW
    for minute in range(40):
        # fall due this very minute: synced 50 minutes before it
        candidates += _candidates(5, start_id=1000 + 5 * minute, fresh_as_of=now - timedelta(minutes=50))
        tick = choose(candidates, now=now, calls_available=6, policy=POLICY)
        for choice in tick.chosen:
            waits.setdefault(choice.connection_id, minute)
        candidates = _advance(candidates, {c.connection_id for c in tick.chosen}, now)
        now += timedelta(minutes=1)
    assert all(c.connection_id in waits for c in old)
    assert max(waits[c.connection_id] for c in old) <= 5  # the oldest deadlines go first


def test_it_takes_watched_patients_first():
    watched = _candidates(5, start_id=1, watched=True, **_synced(9))
    unwatched = _candidates(50, start_id=100, **_synced(55))
    tick = choose(unwatched + watched, now=NOW, calls_available=5, policy=POLICY)
    assert {c.connection_id for c in tick.chosen} == {1, 2, 3, 4, 5}
    assert len(tick.waiting) == 50  # marked waiting, not dropped


def test_a_crowd_of_watched_patients_cannot_starve_one_past_its_hard_limit():
    watched = _candidates(50, start_id=1, watched=True, **_synced(9))
    late = _candidates(1, start_id=999, **_synced(61))
    tick = choose(watched + late, now=NOW, calls_available=5, policy=POLICY)
    assert 999 in {c.connection_id for c in tick.chosen}


def test_it_never_plans_past_the_calls_available():
    rng = random.Random(7)
    for _ in range(200):
        candidates = [
            Candidate(
                connection_id=i,
                watched=rng.random() < 0.1,
                fresh_as_of=None if rng.random() < 0.05 else NOW - timedelta(minutes=rng.uniform(0, 90)),
                last_range_at=NOW - timedelta(hours=rng.uniform(0, 3)),
                last_full_at=None if rng.random() < 0.1 else NOW - timedelta(hours=rng.uniform(0, 7)),
                backfilling=rng.random() < 0.1,
                queued=rng.random() < 0.1,
            )
            for i in range(rng.randint(1, 300))
        ]
        available = rng.uniform(0, 100)
        tick = choose(candidates, now=NOW, calls_available=available, policy=POLICY)
        assert sum(c.expected_calls for c in tick.chosen) <= available
        backfill_calls = sum(c.expected_calls for c in tick.chosen if c.plan == scheduler.BACKFILL)
        assert backfill_calls <= available * POLICY.backfill_share


def test_it_never_chooses_a_connection_already_queued():
    candidates = _candidates(10) + _candidates(10, start_id=100, queued=True)
    tick = choose(candidates, now=NOW, calls_available=1000, policy=POLICY)
    assert {c.connection_id for c in tick.chosen} == set(range(1, 11))


def test_backfills_take_a_bounded_share_and_still_progress():
    steady = _candidates(200, start_id=1)
    backfills = _candidates(20, start_id=500, fresh_as_of=None, backfilling=True)
    candidates = steady + backfills
    progressed = set()
    now = NOW
    for _ in range(30):
        tick = choose(candidates, now=now, calls_available=40, policy=POLICY)
        planned = [c for c in tick.chosen if c.plan == scheduler.BACKFILL]
        assert sum(c.expected_calls for c in planned) <= 40 * POLICY.backfill_share
        due_steady = [c for c in candidates if not c.backfilling and scheduler.due_at(c, POLICY) <= now]
        if due_steady:  # the steady state keeps the rest of the minute
            assert sum(c.expected_calls for c in tick.chosen if c.plan != scheduler.BACKFILL) >= min(
                len(due_steady), 40 * (1 - POLICY.backfill_share) - 1
            )
        progressed |= {c.connection_id for c in planned}
        # Backfills keep going (a 90-day history takes many runs): only their turn moves.
        turns = {c.connection_id for c in planned}
        synced = {c.connection_id for c in tick.chosen} - turns
        candidates = [replace(c, last_attempt_at=now) if c.connection_id in turns else c for c in candidates]
        candidates = _advance(candidates, synced, now)
        now += timedelta(minutes=1)
    assert progressed == set(range(500, 520))  # round robin: every new patient gets turns


def test_it_picks_the_cheapest_plan_that_keeps_data_complete():
    base = Candidate(connection_id=1, watched=False, **_synced(55))
    assert scheduler.plan_for(base, NOW, POLICY) == scheduler.QUICK
    assert (
        scheduler.plan_for(replace(base, last_range_at=NOW - timedelta(hours=3)), NOW, POLICY)
        == scheduler.STANDARD
    )
    assert (
        scheduler.plan_for(replace(base, last_full_at=NOW - timedelta(hours=7)), NOW, POLICY)
        == scheduler.FULL
    )
    assert scheduler.plan_for(replace(base, backfilling=True), NOW, POLICY) == scheduler.BACKFILL


# --- the rows ------------------------------------------------------------------------------------


@pytest.fixture
def make_connection(make_user):
    def _make(email):
        user = make_user(email, "patient")
        return DexcomConnection.objects.create(
            user=user,
            base_url="https://dexcom.test",
            refresh_token_encrypted="x",
            backfill_completed_at=timezone.now(),
        )

    return _make


def test_two_ticks_at_once_never_queue_one_connection_twice(make_connection, settings):
    settings.DEXCOM_RATE_LIMIT_PER_HOUR = 60_000
    connections = [make_connection(f"p{i}@example.com") for i in range(5)]
    first, _ = schedule.plan_tick()
    second, _ = schedule.plan_tick()
    assert {c.connection_id for c in first} == {c.pk for c in connections}
    assert second == []
    assert not schedule.claim(
        connection_id=connections[0].pk,
        plan="quick",
        now=timezone.now(),
        policy=schedule.policy_from_settings(),
    )


def test_a_spent_budget_marks_connections_waiting_not_failed(make_connection, settings):
    settings.DEXCOM_RATE_LIMIT_PER_HOUR = 120  # 2 calls a minute: one backfill-free FULL does not fit
    connections = [make_connection(f"p{i}@example.com") for i in range(3)]
    chosen, waiting = schedule.plan_tick()
    assert chosen == []
    assert set(waiting) == {c.pk for c in connections}
    assert SyncSchedule.objects.filter(waiting_since__isnull=False).count() == 3
    for connection in connections:
        connection.refresh_from_db()
        assert connection.last_error == ""
        assert schedule.waiting_for_dexcom(connection_id=connection.pk)


def test_a_page_view_marks_the_patient_watched_with_few_writes(make_connection):
    connection = make_connection("watched@example.com")
    SyncSchedule.objects.create(connection=connection)  # the tick makes it
    now = timezone.now()
    assert (
        schedule.mark_watched(patient_ids=[connection.user_id], for_how_long=timedelta(minutes=15), now=now)
        == 1
    )
    # viewed again a minute later: nothing to write
    later = now + timedelta(minutes=1)
    assert (
        schedule.mark_watched(patient_ids=[connection.user_id], for_how_long=timedelta(minutes=15), now=later)
        == 0
    )
    candidates, _ = schedule.load_candidates(now=later, policy=schedule.policy_from_settings())
    assert [c.watched for c in candidates] == [True]


def test_backfill_calls_stop_at_their_share_while_steady_calls_go_on(db, settings):
    import time

    settings.DEXCOM_RATE_LIMIT_PER_HOUR = 600  # 10 a minute
    settings.SYNC_BACKFILL_SHARE = 0.2  # 2 of them for backfills
    if timezone.now().second >= 55:
        time.sleep(60 - timezone.now().second)
    for _ in range(2):
        budget.take_api_call(max_wait_seconds=0, lane=budget.BACKFILL)
    with pytest.raises(budget.RequestBudgetExhausted):
        budget.take_api_call(max_wait_seconds=0, lane=budget.BACKFILL)
    for _ in range(8):
        budget.take_api_call(max_wait_seconds=0)
    with pytest.raises(budget.RequestBudgetExhausted):
        budget.take_api_call(max_wait_seconds=0)
    window = ApiBudgetWindow.objects.get()
    assert (window.calls, window.backfill_calls) == (10, 2)


def test_a_patient_page_view_asks_for_the_watched_pace_without_a_query(
    make_connection, django_assert_max_num_queries
):
    connection = make_connection("viewer@example.com")
    SyncSchedule.objects.create(connection=connection)
    now = timezone.now()

    def viewed(at):
        loaded = DexcomConnection.objects.select_related("schedule").get(pk=connection.pk)
        return schedule.note_page_view(connection=loaded, now=at)

    assert viewed(now) is False  # marks it watched (one UPDATE)
    with django_assert_max_num_queries(1):  # the connection's own SELECT, nothing more
        assert viewed(now + timedelta(minutes=1)) is False
    SyncSchedule.objects.filter(connection=connection).update(waiting_since=now)
    assert viewed(now + timedelta(minutes=2)) is True
    candidates, _ = schedule.load_candidates(
        now=now + timedelta(minutes=2), policy=schedule.policy_from_settings()
    )
    assert [c.watched for c in candidates] == [True]

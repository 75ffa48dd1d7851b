"""The budget-aware scheduler: who is synced when, with which fetch plan, within the Dexcom budget.

One app key allows 60,000 calls an hour for every patient together. Beat runs `run_tick` every
minute; it spends at most that minute's calls (DEXCOM_RATE_LIMIT_PER_HOUR / 60, less what syncs
already queued will still spend):

- Each connection is due `watched_every` (8 min) after its last complete sync when someone is
  looking (its patient page was opened, or it was on a clinician's triage list, within the
  last hour), `unwatched_every` (50 min) otherwise. Due connections are taken watched first,
  then by due time (earliest deadline first), so nobody waits behind newer arrivals; an
  unwatched one past its hard limit (60 min) ranks with the watched, so a crowd of watched
  patients cannot starve it.
- Each sync gets the cheapest plan that keeps the data complete (services.PLANS): "quick" (the
  EGVs past the cursor, 1 call) most of the time, "standard" (dataRange first, then only what
  it says changed) every `range_every`, "full" (plus the 24 h events re-read, alerts, devices)
  every `full_every`.
- New patients' backfills share a bounded part of each minute (SYNC_BACKFILL_SHARE, enforced
  call by call in budget.py), round robin so each progresses.
- What does not fit waits for a later minute and is marked "waiting for Dexcom": never an
  error.

`choose` is pure (no database): the Celery tick and bench/sched_simulation.py run the same code.
"""

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

QUICK = "quick"
STANDARD = "standard"
FULL = "full"
BACKFILL = "backfill"

# Calls a run of each plan costs on average (see services.PLANS; the figures the simulation and
# the bench measure). Used to plan a minute, never to enforce it: budget.py does that exactly.
EXPECTED_CALLS = {QUICK: 1.0, STANDARD: 2.3, FULL: 5.0, BACKFILL: 4.0}


@dataclass(frozen=True)
class Policy:
    watched_every: timedelta = timedelta(minutes=8)
    unwatched_every: timedelta = timedelta(minutes=50)
    unwatched_limit: timedelta = timedelta(minutes=60)  # past this, ranks with the watched
    watched_range_every: timedelta = timedelta(minutes=30)
    range_every: timedelta = timedelta(hours=2)
    full_every: timedelta = timedelta(hours=6)
    backfill_share: float = 0.2
    lookahead: timedelta = timedelta(minutes=1)  # take what falls due before the next tick
    claim_timeout: timedelta = timedelta(minutes=15)  # a queued sync that never reported back


@dataclass(frozen=True)
class Candidate:
    connection_id: int
    watched: bool
    fresh_as_of: datetime | None  # start of the last complete sync; None = never synced
    last_range_at: datetime | None = None
    last_full_at: datetime | None = None
    backfilling: bool = False
    queued: bool = False  # a sync of it is queued or running
    last_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Choice:
    connection_id: int
    plan: str
    expected_calls: float


@dataclass(frozen=True)
class TickPlan:
    chosen: list[Choice]
    waiting: list[int]  # due now, but this minute's budget is spent


def interval(candidate: Candidate, policy: Policy) -> timedelta:
    return policy.watched_every if candidate.watched else policy.unwatched_every


def due_at(candidate: Candidate, policy: Policy) -> datetime | None:
    if candidate.fresh_as_of is None:
        return None  # never synced: due at once
    return candidate.fresh_as_of + interval(candidate, policy)


def plan_for(candidate: Candidate, now: datetime, policy: Policy) -> str:
    if candidate.backfilling:
        return BACKFILL
    if candidate.last_full_at is None or now - candidate.last_full_at >= policy.full_every:
        return FULL
    range_every = policy.watched_range_every if candidate.watched else policy.range_every
    if candidate.last_range_at is None or now - candidate.last_range_at >= range_every:
        return STANDARD
    return QUICK


def _urgency(candidate: Candidate, now: datetime, policy: Policy) -> tuple:
    """Sort key: watched (or past the hard limit) first, then the earliest deadline."""
    due = due_at(candidate, policy)
    if due is None:
        return (0, datetime.min.replace(tzinfo=now.tzinfo), candidate.connection_id)
    overdue_hard = candidate.fresh_as_of + policy.unwatched_limit <= now
    tier = 0 if candidate.watched or overdue_hard else 1
    return (tier, due, candidate.connection_id)


def _is_due(candidate: Candidate, now: datetime, policy: Policy) -> bool:
    due = due_at(candidate, policy)
    return due is None or due <= now + policy.lookahead


def _take(ordered, budget: float, now: datetime, policy: Policy):
    chosen, left_out = [], []
    for candidate in ordered:
        plan = plan_for(candidate, now, policy)
        cost = EXPECTED_CALLS[plan]
        if cost <= budget:
            chosen.append(Choice(candidate.connection_id, plan, cost))
            budget -= cost
        else:
            left_out.append(candidate)
    return chosen, left_out


def choose(candidates: list[Candidate], *, now: datetime, calls_available: float, policy: Policy) -> TickPlan:
    """Which connections to sync in this minute, and how, within calls_available."""
    free = [c for c in candidates if not c.queued]
    backfills = [c for c in free if c.backfilling]
    steady = [c for c in free if not c.backfilling and _is_due(c, now, policy)]
    backfill_budget = math.floor(calls_available * policy.backfill_share) if backfills else 0
    steady_budget = calls_available - backfill_budget
    steady.sort(key=lambda c: _urgency(c, now, policy))
    chosen, left_out = _take(steady, steady_budget, now, policy)
    # Round robin: the backfill that ran longest ago goes first, so every new patient progresses.
    backfills.sort(key=lambda c: (c.last_attempt_at is not None, c.last_attempt_at or now, c.connection_id))
    more, _ = _take(backfills, backfill_budget, now, policy)
    # Left out only because of the lookahead is not waiting yet.
    waiting = [c.connection_id for c in left_out if (due_at(c, policy) or now) <= now]
    return TickPlan(chosen=chosen + more, waiting=waiting)


def in_flight_calls(candidates: list[Candidate], plans: dict[int, str]) -> float:
    """What already-queued syncs will still spend (a queue that is not draining holds back more)."""
    return sum(EXPECTED_CALLS.get(plans.get(c.connection_id, QUICK), 1.0) for c in candidates if c.queued)


def with_share(policy: Policy, share: float) -> Policy:
    return replace(policy, backfill_share=share)

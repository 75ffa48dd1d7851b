"""20,000 patients on one 60,000 calls/hour Dexcom key for 24 simulated hours, decided by the
real scheduler (apps/sync/scheduler.choose, plan_for) and budgeted by the real per-minute rule
(apps/sync/budget.lane_allows). No database, no HTTP: the clock is simulated, one tick a minute
as beat runs it.

    .venv/bin/python bench/sched_simulation.py [--patients 20000] [--hours 24] [--seed 1]

What is modelled (the rest is the scheduler's own code):
- every patient wears a CGM: a reading every 5 minutes, each available at Dexcom at its own
  moment (Dexcom's data delay is a constant offset, so lag counts from availability);
- at any moment 5 % of patients are watched (page open or on a triage list in the last hour);
  watching is handed over gradually, 1/60 of the watched set each minute;
- new patients connect through the day (--new-per-day) and need a 90-day backfill;
- calls a run makes, per plan, as apps/sync/services.py makes them: quick 1; standard 1 +
  EGVs 1 + calibrations (2 %) + new events (30 %); full 5 (dataRange, EGVs, events re-read,
  alerts, devices) + calibrations; backfill 14 in all, spent run after run as its lane allows;
- a run chosen at a tick starts 0-20 s into the minute and shows what was available then;
  a call the minute's bucket refuses ends the run as "waiting" (nothing shown; re-queued).

Prints calls per patient-hour, the busiest minute against the cap, p50/p95/max freshness lag of
readings for watched and unwatched patients, runs by outcome (waiting, failed), backfill times.
"""

import argparse
import os
import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")

import django  # noqa: E402

django.setup()  # budget.py imports its model; the simulation never touches the database

from apps.sync import scheduler  # noqa: E402
from apps.sync.budget import BACKFILL, STEADY, lane_allows  # noqa: E402

START = datetime(2026, 12, 3, tzinfo=UTC)
READING_EVERY = 300.0
BACKFILL_CALLS = 14


def run_calls(plan: str, rng: random.Random) -> int:
    if plan == scheduler.QUICK:
        return 1
    if plan == scheduler.STANDARD:
        return 2 + (rng.random() < 0.02) + (rng.random() < 0.3)
    return 5 + (rng.random() < 0.02)  # FULL


class Sim:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.policy = scheduler.Policy()
        self.per_minute = args.calls_per_hour // 60
        n = args.patients
        self.phase = np.array([self.rng.uniform(0, READING_EVERY) for _ in range(n)])
        self.watched_since = {}  # patient -> when its current watch began
        self.lags = {"watched": [], "unwatched": []}
        self.calls_by_plan = {}
        self.outcomes = {"succeeded": 0, "waiting": 0, "failed": 0}
        self.busiest_minute = 0
        self.backfill_left = {}
        self.backfill_started = {}
        self.backfill_took = []
        self.candidates = []
        for pid in range(n):
            ago = timedelta(seconds=self.rng.uniform(0, 50 * 60))
            self.candidates.append(
                scheduler.Candidate(
                    connection_id=pid,
                    watched=False,
                    fresh_as_of=START - ago,
                    last_range_at=START - timedelta(seconds=self.rng.uniform(0, 7200)),
                    last_full_at=START - timedelta(seconds=self.rng.uniform(0, 6 * 3600)),
                )
            )
        self.fresh = {c.connection_id: c.fresh_as_of for c in self.candidates}
        for pid in self.rng.sample(range(n), int(n * args.watched_share)):
            self._watch(pid, START)

    def _watch(self, pid, now):
        self.watched_since[pid] = now
        self.candidates[pid] = replace(self.candidates[pid], watched=True)

    def _unwatch(self, pid):
        del self.watched_since[pid]
        self.candidates[pid] = replace(self.candidates[pid], watched=False)

    def _hand_over_watching(self, now):
        count = max(1, round(len(self.watched_since) / 60))
        for pid in self.rng.sample(sorted(self.watched_since), count):
            self._unwatch(pid)
        steady = [c.connection_id for c in self.candidates if not c.backfilling and not c.watched]
        for pid in self.rng.sample(steady, count):
            self._watch(pid, now)

    def _connect_new_patients(self, now, minute):
        per_minute = self.args.new_per_day / 1440
        arrivals = int(per_minute * (minute + 1)) - int(per_minute * minute)
        for _ in range(arrivals):
            pid = len(self.candidates)
            self.phase = np.append(self.phase, self.rng.uniform(0, READING_EVERY))
            self.candidates.append(
                scheduler.Candidate(connection_id=pid, watched=False, fresh_as_of=None, backfilling=True)
            )
            self.fresh[pid] = None
            self.backfill_left[pid] = BACKFILL_CALLS
            self.backfill_started[pid] = now

    def _show(self, pid, since, shown_at, watched_from):
        """Lags of the readings that became available in (since, shown_at]."""
        start = (since - START).total_seconds() if since else (shown_at - START).total_seconds() - 600
        end = (shown_at - START).total_seconds()
        phase = self.phase[pid]
        first = np.ceil((start - phase) / READING_EVERY)
        available = phase + READING_EVERY * np.arange(first, np.floor((end - phase) / READING_EVERY) + 1)
        available = available[available > start]
        if not len(available):
            return
        if watched_from is None:
            self.lags["unwatched"].append(end - available)
            return
        cut = (watched_from - START).total_seconds()
        self.lags["watched"].append(end - available[available >= cut])
        self.lags["unwatched"].append(end - available[available < cut])

    def tick(self, minute):
        now = START + timedelta(minutes=minute)
        self._connect_new_patients(now, minute)
        if minute:
            self._hand_over_watching(now)
        plan = scheduler.choose(self.candidates, now=now, calls_available=self.per_minute, policy=self.policy)
        bucket = {"calls": 0, "backfill_calls": 0}
        for choice in sorted(plan.chosen, key=lambda c: self.rng.random()):  # workers in any order
            self._run(choice, now + timedelta(seconds=self.rng.uniform(0, 20)), bucket)
        self.busiest_minute = max(self.busiest_minute, bucket["calls"])

    def _spend(self, bucket, lane, calls) -> int:
        spent = 0
        while spent < calls and lane_allows(
            calls=bucket["calls"],
            backfill_calls=bucket["backfill_calls"],
            lane=lane,
            per_minute=self.per_minute,
            share=self.policy.backfill_share,
        ):
            bucket["calls"] += 1
            bucket["backfill_calls"] += lane == BACKFILL
            spent += 1
        return spent

    def _run(self, choice, started, bucket):
        pid, candidate = choice.connection_id, self.candidates[choice.connection_id]
        if choice.plan == scheduler.BACKFILL:
            spent = self._spend(bucket, BACKFILL, self.backfill_left[pid])
            self.calls_by_plan[BACKFILL] = self.calls_by_plan.get(BACKFILL, 0) + spent
            self.backfill_left[pid] -= spent
            if self.backfill_left[pid]:
                self.outcomes["waiting"] += 1
                self.candidates[pid] = replace(candidate, last_attempt_at=started)
                return
            self.outcomes["succeeded"] += 1
            self.backfill_took.append((started - self.backfill_started[pid]).total_seconds())
            self.fresh[pid] = started
            self.candidates[pid] = replace(
                candidate, backfilling=False, fresh_as_of=started, last_range_at=started, last_full_at=started
            )
            return
        wanted = run_calls(choice.plan, self.rng)
        spent = self._spend(bucket, STEADY, wanted)
        self.calls_by_plan[choice.plan] = self.calls_by_plan.get(choice.plan, 0) + spent
        if spent < wanted:
            self.outcomes["waiting"] += 1
            return
        self.outcomes["succeeded"] += 1
        self._show(pid, self.fresh[pid], started, self.watched_since.get(pid))
        self.fresh[pid] = started
        updates = {"fresh_as_of": started}
        if choice.plan != scheduler.QUICK:
            updates["last_range_at"] = started
        if choice.plan == scheduler.FULL:
            updates["last_full_at"] = started
        self.candidates[pid] = replace(candidate, **updates)


def _figures(values) -> str:
    values = np.concatenate(values) / 60 if values else np.array([0.0])
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50:5.1f} min  p95 {p95:5.1f} min  max {values.max():5.1f} min  ({len(values):,} readings)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--calls-per-hour", type=int, default=60_000)
    parser.add_argument("--watched-share", type=float, default=0.05)
    parser.add_argument("--new-per-day", type=int, default=400)
    parser.add_argument(
        "--warmup-hours", type=float, default=1.0, help="not measured: the start is synthetic"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sim = Sim(args)
    began = time.monotonic()
    warmup = int(args.warmup_hours * 60)
    for minute in range(warmup + args.hours * 60):
        if minute == warmup:  # measure from here
            sim.lags = {"watched": [], "unwatched": []}
            sim.calls_by_plan, sim.busiest_minute = {}, 0
            sim.outcomes = dict.fromkeys(sim.outcomes, 0)
        sim.tick(minute)
    calls = sum(sim.calls_by_plan.values())
    patient_hours = args.patients * args.hours  # the steady patients; new ones add a little
    print(
        f"scheduler simulation: {args.patients:,} patients (+{args.new_per_day}/day new, 90-day backfill), "
        f"{args.watched_share:.0%} watched, budget {args.calls_per_hour:,} calls/h, {args.hours} h simulated "
        f"after {args.warmup_hours:g} h warm-up, seed {args.seed} ({time.monotonic() - began:.0f} s wall)"
    )
    print(
        f"calls per patient-hour: {calls / patient_hours:.2f}  (total {calls:,}; "
        + ", ".join(f"{plan} {count:,}" for plan, count in sorted(sim.calls_by_plan.items()))
        + ")"
    )
    print(
        f"calls per hour: {calls / args.hours:,.0f} of {args.calls_per_hour:,}; busiest minute "
        f"{sim.busiest_minute} of {sim.per_minute} (cap never exceeded: {sim.busiest_minute <= sim.per_minute})"
    )
    print(f"freshness lag, watched:   {_figures(sim.lags['watched'])}  (target <= 10 min)")
    print(f"freshness lag, unwatched: {_figures(sim.lags['unwatched'])}  (target <= 60 min)")
    print(
        f"runs: {sim.outcomes['succeeded']:,} succeeded, {sim.outcomes['waiting']:,} waiting for budget "
        f"(re-queued, not errors), {sim.outcomes['failed']} failed"
    )
    if sim.backfill_took:
        took = np.array(sim.backfill_took) / 60
        print(
            f"backfills finished: {len(took)}; time to finish p50 {np.percentile(took, 50):.1f} min, "
            f"max {took.max():.1f} min"
        )


if __name__ == "__main__":
    main()

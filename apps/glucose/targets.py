"""Target sets: the glucose range and the time-in-ranges goals a patient is held to.

The consensus metrics (TIR 70-180, TBR <70 and <54, TAR >180 and >250, TITR, GMI, CV, GRI)
stay the consensus ones for every patient: the AGP's statistics, the API, the exports and the
triage list's columns always report them. A target set decides only
- the range the charts shade and the time-in-ranges bar shows: five bands, very low (<54),
  below the set's range, in it, above it, very high (>250);
- the goals the checkmarks compare with, and which missed goals raise a clinician's triage flag.

The sets (International Consensus on Time in Range, Battelino et al., Diabetes Care
2019;42:1593, figure 2 and "Pregnancy"):
- standard, most adults with type 1 or type 2: 70-180 mg/dL (3.9-10.0 mmol/L); in range >70%,
  below 70 <4%, below 54 <1%, above 180 <25%, above 250 <5%; CV <=36%.
- older / high-risk: 70-180 mg/dL; in range >50%, below 70 <1%, above 250 <10%; CV <=36% (the
  consensus' variability target, for every adult).
- pregnancy with type 1: 63-140 mg/dL (3.5-7.8 mmol/L); in range >70%, below 63 <4%, below 54
  <1%, above 140 <25%. The consensus gives no CV or >250 target in pregnancy, so none here.
- custom: a range the patient or their clinician chooses within CUSTOM_BOUNDS and goals for in
  range, below and above it; below 54 <1%, above 250 <5% and CV <=36% stay the consensus ones.

Which missed goals raise a triage flag: all of them, except the standard set's "above 180": for
it the triage list flags the very high band (>250), as it always has and as Tidepool's TIDE
does; the >180 goal shows on the pages.

Limits are first-class in both units, written as the consensus writes them (63-140 mg/dL is
3.5-7.8 mmol/L); a reading is in range when the number the patient reads is (units.py).
Pure definitions: no database (the choice is stored in apps.glucose.models.PatientTargets).
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from apps.glucose.units import (
    MGDL,
    MMOLL,
    RangeEdges,
    displayed_mmoll,
    format_limit,
    limit_in_mgdl,
    mmoll_to_mgdl,
    range_edges_mgdl,
)

STANDARD = "standard"
OLDER_HIGH_RISK = "older_high_risk"
PREGNANCY_T1 = "pregnancy_t1"
CUSTOM = "custom"

# What a goal measures, as percent of readings (cv: the coefficient of variation).
VERY_LOW, BELOW, IN_RANGE, ABOVE, VERY_HIGH, CV = "very_low", "below", "in_range", "above", "very_high", "cv"
MEASURES = (VERY_LOW, BELOW, IN_RANGE, ABOVE, VERY_HIGH, CV)
# The outer bands are the consensus' level-2 limits for every set.
VERY_LOW_BELOW = {MGDL: 54, MMOLL: Decimal("3.0")}
VERY_HIGH_ABOVE = {MGDL: 250, MMOLL: Decimal("13.9")}
CONSENSUS_RANGE = {MGDL: (70, 180), MMOLL: (Decimal("3.9"), Decimal("10.0"))}
PREGNANCY_RANGE = {MGDL: (63, 140), MMOLL: (Decimal("3.5"), Decimal("7.8"))}


@dataclass(frozen=True)
class Goal:
    """A goal on one measure: "<4" (below 4%), ">70" (above 70%), "≤36"."""

    measure: str
    comparison: str
    percent: float
    flags: bool = True  # a missed goal raises a triage flag

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        if self.comparison == "<":
            return value < self.percent
        if self.comparison == ">":
            return value > self.percent
        return value <= self.percent

    @property
    def text(self) -> str:
        return f"{self.comparison}{self.percent:g}%"

    @property
    def flag_above(self) -> float | None:
        """A triage flag is raised when the value is above this (upper-bound goals)..."""
        return self.percent if self.flags and self.comparison != ">" else None

    @property
    def flag_below(self) -> float | None:
        """... or below this (the in-range goal). Exactly on the goal raises no flag."""
        return self.percent if self.flags and self.comparison == ">" else None


@dataclass(frozen=True)
class TargetSet:
    key: str
    name: str
    # (low, high) of the range as written in each unit.
    limits: dict
    goals: tuple
    # The per-day counts of this range are stored (DailySummary, metrics.RANGE_BANDS): "consensus"
    # or "pregnancy"; None for a custom range, counted from the readings.
    stored_range: str | None

    def range_in(self, unit: str) -> tuple:
        return self.limits[MMOLL if unit == MMOLL else MGDL]

    def edges_mgdl(self, unit: str) -> RangeEdges:
        """The range's whole mg/dL edges as `unit` reads them (63 reads 3.5, 141 reads 7.8)."""
        unit = MMOLL if unit == MMOLL else MGDL
        low, high = self.range_in(unit)
        return range_edges_mgdl(low, high, unit)

    def shading_mgdl(self, unit: str) -> list[int]:
        """[low, high] in mg/dL for the charts, which show them in `unit` (see charts.js shown())."""
        unit = MMOLL if unit == MMOLL else MGDL
        return [limit_in_mgdl(limit, unit) for limit in self.range_in(unit)]

    def range_text(self, unit: str) -> str:
        low, high = self.range_in(unit)
        return f"{format_limit(low, unit)}–{format_limit(high, unit)} {MMOLL if unit == MMOLL else MGDL}"

    def goal(self, measure: str) -> Goal | None:
        return next((goal for goal in self.goals if goal.measure == measure), None)

    @property
    def is_consensus_range(self) -> bool:
        return self.limits == CONSENSUS_RANGE

    def measure_label(self, measure: str, unit: str) -> str:
        """ "below 63", "in range 3.5–7.8", "above 250", "CV" as the patient reads the limits."""
        unit = MMOLL if unit == MMOLL else MGDL
        low, high = self.range_in(unit)
        return {
            VERY_LOW: f"below {format_limit(VERY_LOW_BELOW[unit], unit)}",
            BELOW: f"below {format_limit(low, unit)}",
            IN_RANGE: f"in range {format_limit(low, unit)}–{format_limit(high, unit)}",
            ABOVE: f"above {format_limit(high, unit)}",
            VERY_HIGH: f"above {format_limit(VERY_HIGH_ABOVE[unit], unit)}",
            CV: "CV",
        }[measure]

    def flag_name(self, goal: Goal, unit: str) -> str:
        """The triage flag of a missed goal, e.g. "TBR <54 > 1%", "TIR 63–140 < 70%"."""
        unit = MMOLL if unit == MMOLL else MGDL
        low, high = (format_limit(limit, unit) for limit in self.range_in(unit))
        name = {
            VERY_LOW: f"TBR <{format_limit(VERY_LOW_BELOW[unit], unit)}",
            BELOW: f"TBR <{low}",
            IN_RANGE: "TIR" if self.is_consensus_range else f"TIR {low}–{high}",
            ABOVE: f"TAR >{high}",
            VERY_HIGH: f"TAR >{format_limit(VERY_HIGH_ABOVE[unit], unit)}",
            CV: "CV",
        }[goal.measure]
        sign = "<" if goal.comparison == ">" else ">"
        return f"{name} {sign} {goal.percent:g}%"

    def as_dict(self) -> dict:
        """JSON for a TriageSnapshot (the set its flags were computed with)."""
        return {
            "key": self.key,
            "name": self.name,
            "limits": {unit: [str(low), str(high)] for unit, (low, high) in self.limits.items()},
            "goals": [[g.measure, g.comparison, g.percent, g.flags] for g in self.goals],
            "stored_range": self.stored_range,
        }

    @staticmethod
    def from_dict(data: dict) -> "TargetSet":
        return TargetSet(
            key=data["key"],
            name=data["name"],
            limits={unit: _limit_pair(pair, unit) for unit, pair in data["limits"].items()},
            goals=tuple(Goal(m, c, p, f) for m, c, p, f in data["goals"]),
            stored_range=data["stored_range"],
        )


def _limit_pair(pair, unit: str) -> tuple:
    return tuple(Decimal(v) if unit == MMOLL else int(v) for v in pair)


CV_GOAL = Goal(CV, "≤", 36)

STANDARD_SET = TargetSet(
    key=STANDARD,
    name="Standard (most adults with type 1 or type 2)",
    limits=CONSENSUS_RANGE,
    goals=(
        Goal(VERY_LOW, "<", 1),
        Goal(BELOW, "<", 4),
        Goal(IN_RANGE, ">", 70),
        Goal(ABOVE, "<", 25, flags=False),
        Goal(VERY_HIGH, "<", 5),
        CV_GOAL,
    ),
    stored_range="consensus",
)
OLDER_HIGH_RISK_SET = TargetSet(
    key=OLDER_HIGH_RISK,
    name="Older or high-risk",
    limits=CONSENSUS_RANGE,
    goals=(Goal(BELOW, "<", 1), Goal(IN_RANGE, ">", 50), Goal(VERY_HIGH, "<", 10), CV_GOAL),
    stored_range="consensus",
)
PREGNANCY_T1_SET = TargetSet(
    key=PREGNANCY_T1,
    name="Pregnancy with type 1",
    limits=PREGNANCY_RANGE,
    goals=(Goal(VERY_LOW, "<", 1), Goal(BELOW, "<", 4), Goal(IN_RANGE, ">", 70), Goal(ABOVE, "<", 25)),
    stored_range="pregnancy",
)
NAMED_SETS = {s.key: s for s in (STANDARD_SET, OLDER_HIGH_RISK_SET, PREGNANCY_T1_SET)}
CHOICES = [(key, s.name) for key, s in NAMED_SETS.items()] + [(CUSTOM, "Custom")]


# --- custom sets ----------------------------------------------------------------------------------

# Sane limits for a custom range, as written in each unit: the low limit between the
# consensus' very-low limit and 100 mg/dL, the high limit between 120 mg/dL and the very-high
# limit, so the range always sits between the outer bands and is never empty.
CUSTOM_BOUNDS = {
    MGDL: {"low": (54, 100), "high": (120, 250)},
    MMOLL: {"low": (Decimal("3.0"), Decimal("5.6")), "high": (Decimal("6.7"), Decimal("13.9"))},
}
# Sane goals (percent of readings), each (smallest, largest).
CUSTOM_GOAL_BOUNDS = {IN_RANGE: (10, 95), BELOW: (Decimal("0.5"), 25), ABOVE: (1, 75)}
CUSTOM_GOAL_FIELDS = {IN_RANGE: "in_range_min", BELOW: "below_max", ABOVE: "above_max"}


@dataclass(frozen=True)
class CustomChoice:
    """What a custom set is made of, as entered: the range in `unit` and three goals."""

    low: Decimal
    high: Decimal
    unit: str
    in_range_min: Decimal
    below_max: Decimal
    above_max: Decimal


def _decimal(value) -> Decimal | None:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def custom_errors(choice: CustomChoice) -> dict[str, str]:
    """Field name -> what is wrong, in words a patient understands; {} when the set is sane."""
    errors: dict[str, str] = {}
    unit = choice.unit
    if unit not in (MGDL, MMOLL):
        return {"unit": "Choose mg/dL or mmol/L."}
    places = 1 if unit == MMOLL else 0
    for name in ("low", "high"):
        value = getattr(choice, name)
        smallest, largest = CUSTOM_BOUNDS[unit][name]
        if value is None:
            errors[name] = "Enter a number."
        elif not smallest <= value <= largest:
            errors[name] = (
                f"The {name} limit must be between "
                f"{format_limit(smallest, unit)} and {format_limit(largest, unit)} {unit}."
            )
        elif not _has_places(value, places):
            errors[name] = f"Use {'one decimal' if places else 'a whole number'} in {unit}."
    for measure, name in CUSTOM_GOAL_FIELDS.items():
        value = getattr(choice, name)
        smallest, largest = CUSTOM_GOAL_BOUNDS[measure]
        if value is None:
            errors[name] = "Enter a percentage."
        elif not smallest <= value <= largest:
            errors[name] = f"Choose between {smallest:g}% and {largest:g}%."
        elif not _has_places(value, 1):
            errors[name] = "Use at most one decimal."
    return errors


def _has_places(value: Decimal, places: int) -> bool:
    """At most `places` decimals ("80.0" is a whole number). Checked after the bounds, so the
    number is small enough to quantize."""
    value = Decimal(value)
    return value == value.quantize(Decimal(1).scaleb(-places))


def parse_number(value) -> Decimal | None:
    return _decimal(value) if value not in (None, "") else None


def _other_unit_limit(value: Decimal, unit: str):
    """The limit as the other unit writes it: mg/dL -> one-decimal mmol/L, mmol/L -> whole mg/dL."""
    if unit == MGDL:
        return Decimal(f"{displayed_mmoll(float(value)):.1f}")
    return round(mmoll_to_mgdl(float(value)))


def custom_set(choice: CustomChoice) -> TargetSet:
    """The target set of a custom choice (already checked with custom_errors)."""
    unit = choice.unit
    if unit == MMOLL:
        limits = {
            MMOLL: (choice.low, choice.high),
            MGDL: tuple(_other_unit_limit(v, unit) for v in (choice.low, choice.high)),
        }
    else:
        low, high = int(choice.low), int(choice.high)
        limits = {MGDL: (low, high), MMOLL: tuple(_other_unit_limit(Decimal(v), unit) for v in (low, high))}
    return TargetSet(
        key=CUSTOM,
        name="Custom",
        limits=limits,
        goals=(
            Goal(VERY_LOW, "<", 1),
            Goal(BELOW, "<", float(choice.below_max)),
            Goal(IN_RANGE, ">", float(choice.in_range_min)),
            Goal(ABOVE, "<", float(choice.above_max)),
            Goal(VERY_HIGH, "<", 5),
            CV_GOAL,
        ),
        stored_range=None,
    )


def target_set(key: str, custom: CustomChoice | None = None) -> TargetSet:
    """The set a patient chose (an unknown key reads as standard)."""
    if key == CUSTOM and custom is not None:
        return custom_set(custom)
    return NAMED_SETS.get(key, STANDARD_SET)

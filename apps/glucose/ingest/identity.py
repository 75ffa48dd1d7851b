"""Is a reading one we already have? Identity first, then transmitter and time.

1. Identity. A synced reading's record_id is Dexcom's recordId; an imported reading's is a hash
   of what Clarity says it is (timestamp, fold, Source Device ID, Transmitter Time, Transmitter
   ID): the same file imported again produces the same ids and adds nothing.
2. The same reading from another source: synced from the API after a Clarity import (or the
   other way round), or uploaded by a second display device (receiver and phone both list it). Dexcom's `transmitterTicks` and Clarity's
   "Transmitter Time" are the same counter: when both sides have it, equal ticks (±1 s) mean the
   same reading and different ticks mean different readings, whatever the clock says.
   Without ticks, the same transmitter (when both ids are comparable) and wall clocks less than
   MATCH_SECONDS apart mean the same reading.

   Why 60 s: a transmitter sends one reading per 5 minutes (300 s), so two real readings of one
   transmitter are never closer than ~5 minutes and are never merged (4 min 59 s apart are two
   readings); a receiver's and a phone's copy of one reading differ by a few seconds of clock
   and rounding. The UTC instants must also be within 30 minutes, which keeps the two passes
   through a repeated autumn hour (same wall clock, an hour apart) apart while allowing for a
   receiver's clock drift.

No "one reading per 5-minute slot" rule: two readings in one slot are both kept when nothing
says they are the same reading.
"""

from dataclasses import dataclass

MATCH_SECONDS = 60
MAX_DRIFT_SECONDS = 30 * 60
TICKS_SLACK = 1
API_TRANSMITTER_ID_LENGTH = 64  # the API sends a 64-hex hash; Clarity shows the serial


@dataclass(frozen=True)
class Stamp:
    """What matching needs of a reading."""

    record_id: str
    epoch: int  # UTC epoch seconds
    wall: int  # wall clock as naive epoch seconds
    transmitter_id: str
    ticks: int | None


def _comparable_ids(a: str, b: str) -> bool:
    """Both ids present and from the same namespace (API hash vs Clarity serial)."""
    return bool(a and b) and (len(a) == API_TRANSMITTER_ID_LENGTH) == (len(b) == API_TRANSMITTER_ID_LENGTH)


def same_reading(stored: Stamp, new: Stamp) -> bool:
    """The API's transmitterId is a hash that cannot be matched to Clarity's serial, so across
    sources the transmitter is recognised by its ticks; within one source the ids must agree."""
    if abs(stored.wall - new.wall) >= MATCH_SECONDS or abs(stored.epoch - new.epoch) >= MAX_DRIFT_SECONDS:
        return False
    if (
        _comparable_ids(stored.transmitter_id, new.transmitter_id)
        and stored.transmitter_id != new.transmitter_id
    ):
        return False
    if stored.ticks is not None and new.ticks is not None:
        return abs(stored.ticks - new.ticks) <= TICKS_SLACK
    return True


class ReadingIndex:
    """Readings known so far (stored ones of the time range, plus those accepted from the file),
    bucketed by wall-clock minute so each lookup looks at a handful of neighbours."""

    def __init__(self, stamps=()):
        self._ids: set[str] = set()
        self._buckets: dict[int, list[Stamp]] = {}
        for stamp in stamps:
            self.add(stamp)

    def add(self, stamp: Stamp) -> None:
        self._ids.add(stamp.record_id)
        self._buckets.setdefault(stamp.wall // MATCH_SECONDS, []).append(stamp)

    def knows(self, new: Stamp) -> bool:
        return new.record_id in self._ids or self.match(new) is not None

    def match(self, new: Stamp) -> Stamp | None:
        """A known reading under another record_id that is the same reading as `new`."""
        bucket = new.wall // MATCH_SECONDS
        return next(
            (
                stored
                for key in (bucket - 1, bucket, bucket + 1)
                for stored in self._buckets.get(key, ())
                if same_reading(stored, new)
            ),
            None,
        )

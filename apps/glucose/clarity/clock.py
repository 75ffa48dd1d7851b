"""From Clarity's local wall-clock timestamps to UTC instants, across daylight-saving changes.

Clarity writes the wall clock the device showed, without an offset. Twice a year that is not
enough:

- The repeated hour (autumn, e.g. 01:00–01:59 twice in New York): each wall-clock time exists
  twice. The transmitter's own clock (the "Transmitter Time" column, seconds since the
  transmitter started) runs on monotonically, so `UTC − transmitter time` is a constant per
  transmitter (its start). We learn it from the readings of that transmitter outside the
  ambiguous hour and pick the fold whose UTC instant agrees with it. Rows without a transmitter
  time (events, older exports) fall back to the order of rows: the first pass through the hour
  is the first fold, and once the wall clock goes back we are in the second.
- The skipped hour (spring, e.g. 02:00–02:59 in New York) does not exist on the wall clock; a
  device can still show it if its clock had not moved on yet. Such a time is read with the UTC
  offset in force before the change (PEP 495 fold=0: 02:30 is 07:30 UTC, i.e. 03:30 daylight
  time), unless the transmitter time places it otherwise. The stored wall clock stays what the
  device showed.
"""

from datetime import UTC, datetime


def transmitter_start(utc: datetime, ticks: int) -> int:
    """Epoch second at which the transmitter's clock read zero."""
    return int(utc.timestamp()) - ticks


class WallClock:
    """Reads a file's timestamps in order; remembers what the rows so far said about the folds."""

    def __init__(self, tzinfo, *, starts: dict | None = None):
        self.tzinfo = tzinfo
        # transmitter id -> transmitter_start(), learned from unambiguous readings; a first pass
        # over the file can hand over what it learned so a file opening in the fold reads right.
        self.starts = dict(starts or {})
        self._last_ambiguous = None
        self._second_fold = False

    def to_utc(self, local: datetime, *, transmitter: str, ticks: int | None) -> tuple[datetime, bool]:
        """(UTC instant, second fold?) of a wall-clock time of this file."""
        if local.tzinfo is not None:  # an offset in the file (not Clarity's habit) is unambiguous
            return local.astimezone(UTC), False
        first = local.replace(tzinfo=self.tzinfo, fold=0).astimezone(UTC)
        second = local.replace(tzinfo=self.tzinfo, fold=1).astimezone(UTC)
        if first == second:
            self._last_ambiguous, self._second_fold = None, False
            if ticks is not None:
                self.starts[transmitter] = transmitter_start(first, ticks)
            return first, False
        start = self.starts.get(transmitter)
        if ticks is not None and start is not None:
            expected = start + ticks
            use_second = abs(second.timestamp() - expected) < abs(first.timestamp() - expected)
            self._last_ambiguous, self._second_fold = local, use_second
        elif first > second:  # a skipped (non-existent) time: the offset before the change
            use_second = False
        else:
            use_second = self._by_row_order(local)
        return (second if use_second else first), use_second

    def _by_row_order(self, local: datetime) -> bool:
        if self._last_ambiguous is not None and local < self._last_ambiguous:
            self._second_fold = True
        self._last_ambiguous = local
        return self._second_fold


def display_delta_seconds(local: datetime, utc: datetime) -> int:
    """The wall clock the device showed minus the instant: what Egv.display_delta_seconds keeps."""
    wall = local.replace(tzinfo=None).replace(tzinfo=UTC)
    return int((wall - utc).total_seconds())

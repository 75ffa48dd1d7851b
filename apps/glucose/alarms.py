"""Alarms from Dexcom alert records: the patient heard one alarm, Dexcom sent several records.

Dexcom's /alerts endpoint sends one record per change of an alert's state, with alertState one
of `activeAlarming` (the device is alarming), `activeSnoozed` (the patient acknowledged it; the
condition goes on and the device will alarm again after the snooze time), `inactive` (the
condition ended) and `unknown`. So a high that alarmed, was snoozed, alarmed again and ended is
four records and one alarm.

The grouping rule, per source device (transmitter, else display device and app) and alertName,
records in time order:
  * `activeAlarming` with no alarm open starts an alarm; with one open it is a re-alarm after a
    snooze and belongs to it;
  * `activeSnoozed` is a snooze of the open alarm; with none open (its start came before what we
    hold) it starts one;
  * `inactive` ends the open alarm; with none open it belongs to an alarm we never saw start
    and counts for nothing;
  * `unknown` counts for nothing;
  * an alarm still open after `MAX_SILENCE` without a record (Dexcom missed its end: a gap)
    ends at its last record, and the next `activeAlarming` starts a new alarm.
Time alarming is the time in `activeAlarming` until the next record of the alarm (the device
sounding until acknowledged); time active is start to end (the condition lasting).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from apps.glucose import localtime
from apps.glucose.alert_kinds import alert_kind

ALARMING = "activeAlarming"
SNOOZED = "activeSnoozed"
INACTIVE = "inactive"
MAX_SILENCE = timedelta(hours=6)
# The consensus' night (Battelino 2019): 00:00-06:00 local time.
NIGHT_END_HOUR = 6


@dataclass(frozen=True)
class AlertStateRecord:
    """One /alerts record as the grouping needs it (epoch seconds, UTC, and the display delta)."""

    epoch: int
    delta: int
    name: str
    state: str
    transmitter_id: str = ""
    display_device: str = ""
    display_app: str = ""

    @property
    def source(self) -> tuple:
        return (self.transmitter_id,) if self.transmitter_id else (self.display_device, self.display_app)


@dataclass
class Alarm:
    """One alarm: its first record, its snoozes, re-alarms and end."""

    name: str
    start_epoch: int
    start_delta: int
    first: AlertStateRecord
    last_epoch: int
    end_epoch: int | None = None  # None: no `inactive` record (still open, or its end was missed)
    snoozes: int = 0
    realarms: int = 0
    alarming_seconds: int = 0
    records: int = 1
    _alarming_since: int | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return alert_kind(self.name).label

    @property
    def colour(self) -> str:
        return alert_kind(self.name).colour

    @property
    def local_start_epoch(self) -> int:
        return self.start_epoch + self.start_delta

    @property
    def local_start(self):
        return localtime.wall_clock_of_local_epoch(self.local_start_epoch)

    @property
    def local_day(self):
        return localtime.date_of_day_number(self.local_start_epoch // localtime.SECONDS_PER_DAY)

    @property
    def at_night(self) -> bool:
        return self.local_start.hour < NIGHT_END_HOUR

    @property
    def active_seconds(self) -> int:
        return (self.end_epoch if self.end_epoch is not None else self.last_epoch) - self.start_epoch

    def _stop_alarming(self, epoch: int) -> None:
        if self._alarming_since is not None:
            self.alarming_seconds += epoch - self._alarming_since
            self._alarming_since = None

    def add(self, record: AlertStateRecord) -> None:
        """A later record of this alarm (re-alarm, snooze or end)."""
        self.records += 1
        self.last_epoch = record.epoch
        self._stop_alarming(record.epoch)
        if record.state == ALARMING:
            self.realarms += 1
            self._alarming_since = record.epoch
        elif record.state == SNOOZED:
            self.snoozes += 1
        elif record.state == INACTIVE:
            self.end_epoch = record.epoch


def _start(record: AlertStateRecord) -> Alarm:
    alarm = Alarm(
        name=record.name,
        start_epoch=record.epoch,
        start_delta=record.delta,
        first=record,
        last_epoch=record.epoch,
    )
    if record.state == ALARMING:
        alarm._alarming_since = record.epoch
    else:
        alarm.snoozes = 1
    return alarm


def group_alarms(records) -> list[Alarm]:
    """The alarms of alert records (any order), by the rule in the module docstring, by start."""
    alarms: list[Alarm] = []
    open_alarms: dict[tuple, Alarm] = {}
    silence = int(MAX_SILENCE.total_seconds())
    for record in sorted(records, key=lambda r: r.epoch):
        key = (record.source, record.name)
        current = open_alarms.get(key)
        if current is not None and record.epoch - current.last_epoch > silence:
            current._stop_alarming(current.last_epoch)
            del open_alarms[key]
            current = None
        if record.state not in (ALARMING, SNOOZED, INACTIVE):
            continue
        if current is None:
            if record.state != INACTIVE:
                open_alarms[key] = _start(record)
                alarms.append(open_alarms[key])
            continue
        current.add(record)
        if record.state == INACTIVE:
            del open_alarms[key]
    for alarm in open_alarms.values():
        alarm._stop_alarming(alarm.last_epoch)
    return sorted(alarms, key=lambda a: a.start_epoch)


def records_from_rows(rows) -> list[AlertStateRecord]:
    """Rows of selectors.alert_state_rows: (epoch, delta, name, state, transmitter, device, app)."""
    return [AlertStateRecord(*row) for row in rows]

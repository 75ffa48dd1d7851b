"""The sandbox users and what kind of Dexcom user each one is.

Together they cover what a client meets in the wild: G6 and G7 (10 and 15 day), an iPhone, an
Android phone and a receiver, mg/dL and mmol/L display settings, time zones on both sides of UTC
with and without DST, every time-string style Dexcom sends, and one user with the rare quirks.
"""

from dataclasses import dataclass, field

# How systemTime / displayTime strings look (apps carry offsets, receivers do not):
#   "receiver": "2026-11-25T10:00:00" / "2026-11-25T04:00:00"
#   "zulu":     "2026-11-25T10:00:00Z" / "2026-11-25T05:00:00-05:00"
#   "plus00":   "2026-11-25T10:00:00+00:00" / "2026-11-25T11:00:00+01:00"
#   "drift":    like zulu, but the phone clock runs a second behind, so the offset carries seconds
#               ("-06:59:59"), as in Dexcom's own devices sample.
TIME_STYLES = ("receiver", "zulu", "plus00", "drift")


@dataclass(frozen=True)
class ExtraDevice:
    """A second display device listed by /devices (a retired receiver, a backup receiver)."""

    display_device: str
    display_app: str | None
    time_style: str
    retired: bool


@dataclass(frozen=True)
class SandboxProfile:
    key: str
    description: str
    timezone: str
    generation: str  # transmitterGeneration
    variant: str  # transmitterGenerationVariant
    display_device: str  # iOS | android | receiver
    display_app: str | None
    session_days: int
    warmup_minutes: int
    time_style: str
    glucose_unit: str  # the unit of the device's alert settings (its display unit)
    control: float  # 0 = very steady glucose .. 1 = wide swings beyond 40-400 mg/dL
    hypo_rate: float  # chance of a hypo on a given day
    signal_loss_rate: float  # chance of a signal-loss gap on a given day
    calibrates: bool = False
    settings_period_days: int = 14  # how often the user revisits the alert settings
    quiet_override: bool = False  # the default schedule shows an active "quiet" override
    # The rare things Dexcom really sends (dexcom-facts.md "Real-data quirks"), all in one user:
    # empty transmitterId, eventType "note", exercise value "-1", event times without seconds,
    # unpadded schedule times ("0:00"), health events carrying a value, urgentLow snooze 28,
    # an occasional "unknown" trend.
    quirks: bool = False
    extra_devices: tuple[ExtraDevice, ...] = field(default_factory=tuple)
    # Readings that reach Dexcom late (generator.late_upload): the chance per day of a stretch
    # uploaded an hour or more after it was measured, and how: "backfill" (the transmitter
    # kept a 1-3 h signal gap and the phone sent it later) or "receiver" (the phone was away and
    # a receiver's 6-20 h of readings were uploaded at once when it was docked).
    late_upload_rate: float = 0.0
    late_upload_kind: str = "backfill"


PROFILES: tuple[SandboxProfile, ...] = (
    SandboxProfile(
        key="SandboxUser1",
        description="G6 on an iPhone, mg/dL, New York; calibrates; an old receiver on file",
        timezone="America/New_York",
        generation="g6",
        variant="g6",
        display_device="iOS",
        display_app="G6",
        session_days=10,
        warmup_minutes=120,
        time_style="zulu",
        glucose_unit="mg/dL",
        control=0.45,
        hypo_rate=0.15,
        signal_loss_rate=0.3,
        calibrates=True,
        settings_period_days=13,
        extra_devices=(ExtraDevice("receiver", "receiver", "receiver", retired=True),),
        late_upload_rate=0.15,
    ),
    SandboxProfile(
        key="SandboxUser2",
        description="G7 on Android, mmol/L display, Berlin",
        timezone="Europe/Berlin",
        generation="g7",
        variant="g7",
        display_device="android",
        display_app="G7",
        session_days=10,
        warmup_minutes=30,
        time_style="plus00",
        glucose_unit="mmol/L",
        control=0.3,
        hypo_rate=0.12,
        signal_loss_rate=0.25,
        settings_period_days=17,
    ),
    SandboxProfile(
        key="SandboxUser3",
        description="G6 receiver (times without UTC offset), Chicago; calibrates",
        timezone="America/Chicago",
        generation="g6",
        variant="g6",
        display_device="receiver",
        display_app="receiver",
        session_days=10,
        warmup_minutes=120,
        time_style="receiver",
        glucose_unit="mg/dL",
        control=0.6,
        hypo_rate=0.2,
        signal_loss_rate=0.35,
        calibrates=True,
        settings_period_days=19,
    ),
    SandboxProfile(
        key="SandboxUser4",
        description="G7 on an iPhone, Auckland (UTC+12/+13 with DST)",
        timezone="Pacific/Auckland",
        generation="g7",
        variant="g7",
        display_device="iOS",
        display_app="G7",
        session_days=10,
        warmup_minutes=30,
        time_style="zulu",
        glucose_unit="mg/dL",
        control=0.5,
        hypo_rate=0.15,
        signal_loss_rate=0.3,
        settings_period_days=11,
        quiet_override=True,
        late_upload_rate=0.2,
    ),
    SandboxProfile(
        key="SandboxUser5",
        description="G7 15-day on Android, Denver; phone clock drifts (offset -06:59:59)",
        timezone="America/Denver",
        generation="g7",
        variant="g715day",
        display_device="android",
        display_app="G7",
        session_days=15,
        warmup_minutes=30,
        time_style="drift",
        glucose_unit="mg/dL",
        control=0.4,
        hypo_rate=0.1,
        signal_loss_rate=0.2,
        settings_period_days=16,
    ),
    SandboxProfile(
        key="SandboxUser6",
        description="New G7 user in Tokyo with Dexcom's rare quirks (empty transmitterId, ...)",
        timezone="Asia/Tokyo",
        generation="g7",
        variant="g7",
        display_device="iOS",
        display_app="G7",
        session_days=10,
        warmup_minutes=30,
        time_style="zulu",
        glucose_unit="mg/dL",
        control=0.35,
        hypo_rate=0.12,
        signal_loss_rate=0.25,
        settings_period_days=15,
        quirks=True,
    ),
    SandboxProfile(
        key="SandboxUser7",
        description="G7 on Android with a backup G7 receiver, London; wide swings (LOW/HIGH)",
        timezone="Europe/London",
        generation="g7",
        variant="g7",
        display_device="android",
        display_app="G7",
        session_days=10,
        warmup_minutes=30,
        time_style="zulu",
        glucose_unit="mg/dL",
        control=0.95,
        hypo_rate=0.35,
        signal_loss_rate=0.4,
        settings_period_days=12,
        extra_devices=(ExtraDevice("receiver", "receiver", "receiver", retired=False),),
        late_upload_rate=0.1,
        late_upload_kind="receiver",
    ),
)

PROFILES_BY_KEY = {profile.key: profile for profile in PROFILES}


def profile_for(key: str) -> SandboxProfile:
    try:
        return PROFILES_BY_KEY[key]
    except KeyError:
        raise ValueError(f"unknown sandbox user {key!r}; known: {', '.join(PROFILES_BY_KEY)}") from None

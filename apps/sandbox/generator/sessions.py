"""Devices over time: sensor sessions, their warm-up, and the transmitters that serve them."""

import hashlib

import numpy as np

from apps.sandbox.generator.seeds import stable_int
from apps.sandbox.generator.slots import DAY_SECONDS, SLOT_SECONDS, origin
from apps.sandbox.profiles import SandboxProfile


def session_length(profile: SandboxProfile) -> int:
    return profile.session_days * DAY_SECONDS


def session_index(profile: SandboxProfile, times: np.ndarray) -> np.ndarray:
    return (np.asarray(times, dtype=np.int64) - origin(profile)) // session_length(profile)


def session_start(profile: SandboxProfile, index: int) -> int:
    return origin(profile) + int(index) * session_length(profile)


def warmup_end(profile: SandboxProfile, index: int) -> int:
    """Sensor change (5-45 min, varies) plus warm-up: no readings before this."""
    changeover = SLOT_SECONDS * (1 + stable_int(profile.key, "changeover", int(index)) % 9)
    return session_start(profile, index) + changeover + profile.warmup_minutes * 60


def transmitter_index(profile: SandboxProfile, session: np.ndarray) -> np.ndarray:
    """A G6 transmitter serves nine 10-day sensors (90 days); a G7 sensor is its own transmitter."""
    per_transmitter = 9 if profile.generation == "g6" else 1
    return np.asarray(session) // per_transmitter


def transmitter_id(profile: SandboxProfile, index: int) -> str:
    if profile.quirks:
        return ""  # Dexcom sends "" for some new users (Tidepool accepts it, dexcom.go)
    return hashlib.sha256(f"{profile.key}/transmitter/{int(index)}".encode()).hexdigest()


def transmitter_start(profile: SandboxProfile, index: int) -> int:
    per_transmitter = 9 if profile.generation == "g6" else 1
    return session_start(profile, int(index) * per_transmitter)

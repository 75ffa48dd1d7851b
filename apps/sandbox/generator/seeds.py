"""Seeds that are the same in every process: a user's whole history follows from them."""

import hashlib

import numpy as np


def stable_int(*parts) -> int:
    """A 64-bit seed from any parts; unlike hash() it is the same in every process."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rng_for(*parts) -> np.random.Generator:
    return np.random.default_rng(stable_int(*parts))


def unit_hash(seed: int, values: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) number per value (splitmix64), vectorized: per-reading noise and drops."""
    x = np.asarray(values).astype(np.uint64) + np.uint64(seed % 2**64)
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)

"""Exponential backoff with jitter: base * 2^n capped, then half of it fixed and half random."""
from __future__ import annotations

import random


class Backoff:
    def __init__(self, base: float = 1.0, cap: float = 600.0, rng: random.Random | None = None):
        self.base, self.cap = base, cap
        self.failures = 0
        self.rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2 ** self.failures))
        self.failures += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.failures = 0

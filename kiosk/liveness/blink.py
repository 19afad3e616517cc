"""Blink: the eyes close (eye signal below 60% of the person's own open level) and open again.

A real blink passes through half-closed frames; two photos (eyes open / closed) flipped
on a phone jump straight between the two levels, so `gradual` records whether any
in-between frame was seen on the way down or back up.
"""
from __future__ import annotations

from kiosk.liveness.events import ActionEvent
from kiosk.liveness.signals import Baseline, Sample
from kiosk.liveness.thresholds import LivenessThresholds


class BlinkRule:
    action = "blink"

    def __init__(self, baseline: Baseline, th: LivenessThresholds):
        self.base = max(baseline.eye, 1e-6)
        self.th = th
        self._closed_at: float | None = None
        self._min = 1.0
        self._path: list[float] = []  # relative values since the eyes were last fully open
        # After a closure too long to be a blink, the eyes must reopen before a new blink can
        # start: otherwise the next still-closed frame would re-arm and the reopening count.
        self._wait_open = False

    def update(self, s: Sample) -> ActionEvent | None:
        rel = s.eye / self.base
        th = self.th
        if self._wait_open:
            if rel < th.blink_open_ratio:
                return None
            self._wait_open = False
        if self._closed_at is None:
            if rel >= th.blink_open_ratio:
                self._path = [rel]
                return None
            self._path.append(rel)
            if rel < th.blink_closed_ratio:
                self._closed_at, self._min = s.t, rel
            return None
        self._path.append(rel)
        self._min = min(self._min, rel)
        if rel < th.blink_open_ratio:
            if s.t - self._closed_at > th.blink_max_closed_s:  # eyes just shut, or the face looks down
                self._closed_at = None
                self._path = []
                self._wait_open = True
            return None
        start, lowest, path = self._closed_at, self._min, self._path
        self._closed_at, self._path = None, [rel]
        if s.t - start < th.blink_min_closed_s:
            return None
        # In-between: strictly between the lowest level and the open level, with a margin.
        span = 1.0 - lowest
        lo, hi = lowest + 0.2 * span, 1.0 - 0.2 * span
        gradual = any(lo < v < hi for v in path[1:-1])
        return ActionEvent("blink", start, s.t, lowest, gradual, {"min_ratio": round(lowest, 3)})

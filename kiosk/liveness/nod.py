"""Nod: the head tips down 10° or more from the baseline (pitch > 0 = down) and comes back up."""
from __future__ import annotations

from kiosk.liveness.events import ActionEvent
from kiosk.liveness.motion import parallax
from kiosk.liveness.signals import Baseline, Sample
from kiosk.thresholds import LivenessThresholds


class NodRule:
    action = "nod"

    def __init__(self, baseline: Baseline, th: LivenessThresholds):
        self.base = baseline
        self.th = th
        self._start: float | None = None
        self._peak = 0.0
        self._parallax = 0.0

    def update(self, s: Sample) -> ActionEvent | None:
        th = self.th
        rel = s.pitch - self.base.pitch
        if self._start is None:
            if rel >= th.nod_min_deg:
                self._start, self._peak = s.t, rel
                self._parallax = parallax(self.base.shape, s.landmarks)
            return None
        self._peak = max(self._peak, rel)
        if rel >= th.nod_min_deg:
            self._parallax = max(self._parallax, parallax(self.base.shape, s.landmarks))
        if s.t - self._start > th.nod_max_s:
            self._start = None  # head kept down: not a nod
            return None
        if rel > th.nod_return_deg:
            return None
        start, self._start = self._start, None
        if self._parallax < th.nod_parallax_min:
            return None
        return ActionEvent("nod", start, s.t, self._peak, True,
                           {"pitch_deg": round(self._peak, 1), "parallax": round(self._parallax, 3)})

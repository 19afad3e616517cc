"""Head turn: yaw moves 15° or more from the person's own frontal baseline, with 3-D parallax.

turn_left = the person turns to THEIR OWN left (yaw > 0; in an unmirrored image the nose
moves to the image's right). A flat photo turned in front of the camera keeps its
landmarks in an affine relation to the frontal shape; a real head does not (the nose
moves against the cheeks), which `parallax` measures.
"""
from __future__ import annotations

from kiosk.liveness.events import ActionEvent
from kiosk.liveness.motion import parallax
from kiosk.liveness.signals import Baseline, Sample
from kiosk.thresholds import LivenessThresholds


class TurnRule:
    def __init__(self, direction: str, baseline: Baseline, th: LivenessThresholds):
        assert direction in ("left", "right")
        self.action = f"turn_{direction}"
        self.sign = 1.0 if direction == "left" else -1.0
        self.base = baseline
        self.th = th
        self._start: float | None = None
        self._held = 0
        self._peak = 0.0
        self._parallax = 0.0
        self.reported = False

    def update(self, s: Sample) -> ActionEvent | None:
        th = self.th
        rel = self.sign * (s.yaw - self.base.yaw)
        if rel < th.turn_return_deg:
            self._start, self._held, self.reported = None, 0, False
            return None
        if self._start is None:
            self._start, self._peak, self._parallax = s.t, rel, 0.0
        self._peak = max(self._peak, rel)
        if rel >= th.turn_min_deg:
            self._held += 1
            self._parallax = max(self._parallax, parallax(self.base.shape, s.landmarks))
        if self._held >= th.turn_hold_frames and not self.reported and self._parallax >= th.parallax_min:
            self.reported = True
            return ActionEvent(self.action, self._start, s.t, self._peak, True,
                               {"yaw_deg": round(self._peak, 1), "parallax": round(self._parallax, 3)})
        return None

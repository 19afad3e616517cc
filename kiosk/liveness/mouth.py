"""Open mouth: the inner-lip gap grows well past the person's resting level, then closes.

Only an opening that starts from a closed mouth seen by this rule is judged (`gradual`: an
in-between frame on the way up), so a step that begins while the mouth is already moving
waits for the next opening instead of calling the half-seen one a jump.
"""
from __future__ import annotations

from kiosk.liveness.events import ActionEvent
from kiosk.liveness.signals import Baseline, Sample
from kiosk.thresholds import LivenessThresholds


class OpenMouthRule:
    action = "open_mouth"

    def __init__(self, baseline: Baseline, th: LivenessThresholds):
        self.rest = baseline.mouth
        self.th = th
        self.open_level = max(self.rest + th.mouth_open_delta, th.mouth_open_min)
        self._start: float | None = None
        self._held = 0
        self._peak = 0.0
        self._path: list[float] = []
        self.reported = False

    def update(self, s: Sample) -> ActionEvent | None:
        th = self.th
        closed = s.mouth < self.rest + th.mouth_closed_delta
        if self._start is None:
            if closed:
                self._path = [s.mouth]
                return None
            if not self._path:
                # Not seen closed since this step began: a movement already under way when the
                # prompt came (the previous step passed mid-expression) is neither a pass nor a
                # jump, since its first frames were never seen. Wait for the mouth to close.
                return None
            self._path.append(s.mouth)
            if s.mouth >= self.open_level:
                self._start, self._held, self._peak, self.reported = s.t, 1, s.mouth, False
            return None
        self._path.append(s.mouth)
        self._peak = max(self._peak, s.mouth)
        if s.mouth >= self.open_level:
            self._held += 1
        if closed:
            self._start = None
            self._path = [s.mouth]
            return None
        if self._held >= th.mouth_hold_frames and not self.reported:
            # Report once, as soon as the mouth is clearly held open (no need to wait for closing).
            self.reported = True
            lo, hi = self.rest + 0.2 * (self._peak - self.rest), self.rest + 0.8 * (self._peak - self.rest)
            gradual = any(lo < v < hi for v in self._path[:-1])
            return ActionEvent("open_mouth", self._start, s.t, self._peak, gradual,
                               {"peak_ratio": round(self._peak, 3)})
        return None

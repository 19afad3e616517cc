"""Blink: the eyes close (eye signal below 60% of the person's own open level) and open again.

A real blink passes through half-closed frames; two photos (eyes open / closed) flipped
on a phone jump straight between the two levels, so `gradual` records whether any
in-between frame was seen on the way down or back up.

"In-between" is judged against the baseline (a frame inside the dip, 20% of its depth
from either end) and, failing that, against the eyes' own level just before the blink
(the median of the last open frames): an expressive face often opens its eyes wider than
when it was calibrated (1.2-1.3x), and a fast real blink at 25-30 fps then shows its
half-closed frames above the fixed 80% "open" level (e.g. 1.22 -> 0.82 ->
0.16 -> 0.04 -> 0.11 -> 1.15). The last open frame before the dip and the first frame
after it are candidates too. A frame is in-between only when it is clearly away from both
levels (20% of the depth of the blink, and never less than `blink_inbetween_margin`,
well above the frame-to-frame noise of the eye signal on a still picture), so the two
levels of a slideshow never produce one.
"""
from __future__ import annotations

from collections import deque
from statistics import median

from kiosk.liveness.events import ActionEvent
from kiosk.liveness.signals import Baseline, Sample
from kiosk.thresholds import LivenessThresholds


class BlinkRule:
    action = "blink"

    def __init__(self, baseline: Baseline, th: LivenessThresholds):
        self.base = max(baseline.eye, 1e-6)
        self.th = th
        self._closed_at: float | None = None
        self._min = 1.0
        self._path: list[float] = []  # relative values since the eyes were last fully open
        self._open: deque[float] = deque(maxlen=th.blink_open_level_frames)  # recent open frames
        self._open_level = 1.0  # the eyes' own level just before the current dip
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
                self._open.append(rel)
                return None
            if len(self._path) <= 1:  # first frame of a dip: fix the level the eyes left from
                self._open_level = median(self._open) if self._open else 1.0
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
                self._open.clear()
                self._wait_open = True
            return None
        start, lowest, path = self._closed_at, self._min, self._path
        self._closed_at, self._path = None, [rel]
        self._open.clear()
        self._open.append(rel)
        if s.t - start < th.blink_min_closed_s:
            return None
        # In-between against the baseline: strictly inside the dip, 20% of its depth from either end.
        span, top = 1.0 - lowest, max(self._open_level, th.blink_open_ratio)
        gradual = any(lowest + 0.2 * span < v < 1.0 - 0.2 * span for v in path[1:-1])
        if not gradual:
            # ...or against the eyes' own level just before the dip (wider-open expressive eyes),
            # the last open frame and the reopening frame included.
            margin = max(0.2 * (top - lowest), th.blink_inbetween_margin)
            gradual = any(lowest + margin < v < top - margin for v in path)
        return ActionEvent("blink", start, s.t, lowest, gradual,
                           {"min_ratio": round(lowest, 3), "open_ratio": round(top, 3)})

"""Shape-motion measures that tell a live face from a picture.

- `parallax`: how far the rigid landmarks are from any affine image of the baseline
  shape. A flat picture, however it is moved, tilted or turned, stays close to affine
  (< 0.06 of the interocular distance when turned by 40°); a real head turning 15°
  shows 0.08 or more.
- `NaturalMotion`: a live face keeps drifting a little (breathing, expression), so its
  smoothed shape wanders away from the baseline; a still photo, even slid or rotated
  in the plane, stays at the landmark-noise floor.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from kiosk.arrays import Floats
from kiosk.liveness.signals import SHAPE_POINTS


def _interocular(p: Floats) -> float:
    return max(float(np.linalg.norm(p[33, :2] - p[263, :2])), 1e-6)


def parallax(reference: Floats, current: Floats) -> float:
    a = np.c_[reference[SHAPE_POINTS, :2], np.ones(len(SHAPE_POINTS))]
    b = current[SHAPE_POINTS, :2]
    x, *_ = np.linalg.lstsq(a, b, rcond=None)
    res = b - a @ x
    return float(np.sqrt((res ** 2).sum(axis=1).mean()) / _interocular(current))


def similarity_residual(reference: Floats, current: Floats) -> float:
    """Residual after the best 2-D similarity (shift, rotation, scale) / interocular."""
    a = reference[SHAPE_POINTS, :2].astype(np.float64)
    b = current[SHAPE_POINTS, :2].astype(np.float64)
    a0, b0 = a - a.mean(0), b - b.mean(0)
    u, s, vt = np.linalg.svd(a0.T @ b0)
    rot = (u @ vt).T
    scale = s.sum() / max((a0 ** 2).sum(), 1e-9)
    res = b0 - scale * (rot @ a0.T).T
    return float(np.sqrt((res ** 2).sum(axis=1).mean()) / _interocular(current))


class NaturalMotion:
    """p90 drift of the 5-frame-smoothed face shape from the baseline shape."""

    def __init__(self, reference: Floats, window: int = 5):
        self.reference = reference
        self._recent: deque[Floats] = deque(maxlen=window)
        self._drifts: list[float] = []
        self._t0: float | None = None
        self._t1: float | None = None

    def update(self, landmarks: Floats, t: float | None = None) -> None:
        self._recent.append(landmarks)
        if len(self._recent) == self._recent.maxlen:
            smoothed = np.mean(self._recent, axis=0)
            self._drifts.append(similarity_residual(self.reference, smoothed))
            if t is not None:
                self._t0 = t if self._t0 is None else self._t0
                self._t1 = t

    @property
    def frames(self) -> int:
        return len(self._drifts)

    @property
    def span_s(self) -> float:
        """Seconds covered by the smoothed frames (0 when no timestamps were given)."""
        return 0.0 if self._t0 is None or self._t1 is None else self._t1 - self._t0

    @property
    def drift(self) -> float:
        return float(np.percentile(self._drifts, 90)) if self._drifts else 0.0

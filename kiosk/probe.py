"""The probe: which frames of a challenge are fit to match on, and how they are chosen.

Every challenge frame is put through explicit quality gates relative to the person's own
baseline (bright, sharp, big enough, frontal, eyes open, mouth closed: the PROBE_* numbers in
kiosk/thresholds.py). The probe matched to the template is the fused embedding of the best
PROBE_FRAMES encoded frames that pass them; when none does, the gate that kept the most frames
out becomes the verdict reason, so the resident hears why instead of a match on a poor frame.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from types import EllipsisType
from typing import Any, Protocol

from kiosk.arrays import Image
from kiosk.liveness.signals import Baseline, eye_signal
from kiosk.observe import FaceObservation
from kiosk.thresholds import (PROBE_FRAMES, PROBE_MAX_MOUTH_DELTA, PROBE_MAX_PITCH_DEV, PROBE_MAX_ROLL,
                              PROBE_MAX_YAW_DEV, PROBE_MIN_BRIGHTNESS, PROBE_MIN_EYE_RATIO, PROBE_MIN_FACE_PX,
                              PROBE_MIN_SHARPNESS)

# Gate -> verdict reason when no frame passed (the gate that blocked the most frames).
POOR_QUALITY_REASONS = {"dark": "poor_quality_dark", "blurry": "poor_quality_blurry",
                        "small": "poor_quality_small", "not_frontal": "poor_quality_not_frontal"}


@dataclass
class Candidate:
    """A frame that may be encoded: its probe score, its pixels (dropped once queued), the
    first probe gate it fails (None = fit for the probe)."""

    score: float
    rgb: Image | None
    face: FaceObservation
    gate: str | None


def probe_score(face: FaceObservation, baseline: Baseline | None) -> float:
    """Higher is a better frame to recognise: frontal, eyes open, mouth closed, sharp."""
    q = face.quality
    s = min(q.sharpness, 400.0) / 400.0 + min(q.face_width_px, 250.0) / 250.0
    if baseline is not None:
        s -= abs(face.yaw - baseline.yaw) / 15.0 + abs(face.pitch - baseline.pitch) / 15.0
        s -= max(0.0, face.mouth_openness - baseline.mouth - 0.05) * 5
    s -= abs(face.roll) / 30.0
    return s


def probe_gate(face: FaceObservation, baseline: Baseline) -> str | None:
    """The first quality gate a frame fails for the probe, or None when it is fit to match on."""
    q = face.quality
    if q.brightness < PROBE_MIN_BRIGHTNESS:
        return "dark"
    if q.sharpness < PROBE_MIN_SHARPNESS:
        return "blurry"
    if q.face_width_px < PROBE_MIN_FACE_PX:
        return "small"
    if (abs(face.yaw - baseline.yaw) > PROBE_MAX_YAW_DEV or abs(face.pitch - baseline.pitch) > PROBE_MAX_PITCH_DEV
            or abs(face.roll) > PROBE_MAX_ROLL):
        return "not_frontal"
    if eye_signal(face) < PROBE_MIN_EYE_RATIO * baseline.eye:
        return "eyes_closed"
    if face.mouth_openness > baseline.mouth + PROBE_MAX_MOUTH_DELTA:
        return "mouth_open"
    return None


def candidate(face: FaceObservation, rgb: Image | None, baseline: Baseline,
              gate: str | None | EllipsisType = ...) -> Candidate:
    """A frame as a candidate for encoding (its gate computed unless given)."""
    return Candidate(probe_score(face, baseline), rgb, face,
                     probe_gate(face, baseline) if isinstance(gate, EllipsisType) else gate)


def quality_summary(face: FaceObservation, baseline: Baseline) -> dict[str, Any]:
    """What is kept of a probe frame: its quality, never its pixels."""
    q = face.quality
    return {"t": round(face.t, 3), "sharpness": round(q.sharpness, 1), "brightness": round(q.brightness, 1),
            "face_px": round(q.face_width_px), "yaw_dev": round(face.yaw - baseline.yaw, 1),
            "pitch_dev": round(face.pitch - baseline.pitch, 1)}


def poor_quality_reason(gates: Counter[str]) -> str:
    """The gate that kept the most frames out of the probe, as a verdict reason."""
    blocked = Counter({g: n for g, n in gates.items() if g != "ok"})
    if not blocked:
        return "poor_quality"
    return POOR_QUALITY_REASONS.get(blocked.most_common(1)[0][0], "poor_quality")


class Ranked(Protocol):
    probe_ok: bool
    score: float
    t: float


def select_probe(encodings: Sequence[Ranked]) -> list[int]:
    """Indices of the encodings fused into the probe: the best PROBE_FRAMES fit for it, in time order.
    `encodings` have `probe_ok`, `score` and `t`."""
    fit = sorted((i for i, e in enumerate(encodings) if e.probe_ok), key=lambda i: -encodings[i].score)
    return sorted(fit[:PROBE_FRAMES], key=lambda i: encodings[i].t)

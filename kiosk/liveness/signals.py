"""Per-frame liveness signals and the per-person neutral baseline.

The eye signal divides the eyelid gap by the vertical length of the nose bridge
(landmark 168 between the eyes to 2 below the nose) rather than by the eye width:
both are vertical lengths, so tilting or turning a flat photo changes them in the
same proportion and a picture can never "blink" by being tilted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kiosk.arrays import Floats
from kiosk.observe import EYE_IMAGE_LEFT, EYE_IMAGE_RIGHT, FaceObservation, RIGID_POINTS

_NOSE_BRIDGE_TOP, _NOSE_BRIDGE_BOTTOM = 168, 2
# Rigid points without the eye corners (which move a little when the eyes close).
SHAPE_POINTS = [i for i in RIGID_POINTS if i not in (33, 133, 263, 362)]


@dataclass(frozen=True)
class Sample:
    t: float
    eye: float  # eyelid gap / nose-bridge length
    mouth: float  # inner lip gap / mouth width
    yaw: float
    pitch: float
    landmarks: Floats
    interocular: float


def eye_signal(face: FaceObservation) -> float:
    p = face.landmarks
    bridge = float(np.linalg.norm(p[_NOSE_BRIDGE_TOP, :2] - p[_NOSE_BRIDGE_BOTTOM, :2]))
    if bridge < 1e-6:
        return 0.0
    gaps = [np.linalg.norm(p[u, :2] - p[lo, :2]) for eye in (EYE_IMAGE_LEFT, EYE_IMAGE_RIGHT) for u, lo in eye[2]]
    return float(np.mean(gaps) / bridge)


def sample_of(face: FaceObservation) -> Sample:
    return Sample(face.t, eye_signal(face), face.mouth_openness, face.yaw, face.pitch,
                  face.landmarks, face.interocular)


@dataclass(frozen=True)
class Baseline:
    eye: float
    mouth: float
    yaw: float
    pitch: float
    shape: Floats  # mean landmarks of the neutral frames (for parallax / drift)

    @classmethod
    def from_samples(cls, samples: list[Sample]) -> "Baseline":
        eyes = np.array([s.eye for s in samples])
        # Upper percentile: a blink during calibration must not lower the open-eye level.
        return cls(
            eye=float(np.percentile(eyes, 70)),
            mouth=float(np.median([s.mouth for s in samples])),
            yaw=float(np.median([s.yaw for s in samples])),
            pitch=float(np.median([s.pitch for s in samples])),
            shape=np.mean([s.landmarks for s in samples], axis=0),
        )

"""Is this frame good enough to start, and if not, what should the resident do?

Thresholds are deliberately loose for starting (old webcams, dim village rooms) and
strict only for the frames used for matching (see PROBE_* and `probe_gate` in session.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.observe import FrameObservation


@dataclass(frozen=True)
class QualityLimits:
    min_brightness: float = 45.0
    max_brightness: float = 225.0
    min_face_px: float = 90.0  # FaceMesh box width; dlib needs ~80 px between the cheeks
    min_face_ratio: float = 0.15  # of the frame width: closer is easier for elderly eyes too
    max_face_ratio: float = 0.92
    max_off_centre: float = 0.45
    min_sharpness: float = 15.0
    max_abs_yaw: float = 25.0
    max_abs_pitch: float = 30.0


# Every code guidance_for can return (front ends find their words in kiosk.texts).
GUIDANCE_CODES = ("multiple_faces", "no_face", "too_dark", "too_bright", "too_far", "too_close", "off_centre",
                  "not_frontal", "blurry")


def guidance_for(obs: FrameObservation, lim: QualityLimits = QualityLimits()) -> str | None:
    """The most important problem as a GUIDANCE code, or None when the frame is fine."""
    if obs.num_faces > 1:
        return "multiple_faces"
    f = obs.face
    if f is None:
        return "no_face"
    q = f.quality
    if q.brightness < lim.min_brightness:
        return "too_dark"
    if q.brightness > lim.max_brightness:
        return "too_bright"
    if q.face_width_px < lim.min_face_px or q.face_width_ratio < lim.min_face_ratio:
        return "too_far"
    if q.face_width_ratio > lim.max_face_ratio:
        return "too_close"
    if q.off_centre > lim.max_off_centre:
        return "off_centre"
    if abs(f.yaw) > lim.max_abs_yaw or abs(f.pitch) > lim.max_abs_pitch:
        return "not_frontal"
    if q.sharpness < lim.min_sharpness:
        return "blurry"
    return None

"""PAD thresholds, in one place (to be merged into kiosk/thresholds.py as its `PAD` section).

Values were calibrated on ../shared/data/faces (spoof/pad_videos, spoof/videos, videos,
spoof stills) with `python -m kiosk.pad.evaluate`; see docs/pad.md for the measurements.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PadThresholds:
    # --- sampling (decision.PadMonitor) ---
    sample_every: int = 3  # score every Nth frame handed to observe() (25 fps: ~8 a second)
    max_pending: int = 2  # frames queued for the scoring thread; more are skipped, never waited for
    detect_when_no_mesh: bool = True  # no FaceMesh face: find one with the face detector (a small phone screen)

    # --- quality gates: frames outside MiniFASNet's range do not vote ---
    # Upstream: faces turned more than 30 deg are out of the models' range. FaceMesh angles are
    # approximate (it flattens depth), so the gate keeps a margin below that.
    max_abs_yaw: float = 20.0  # degrees
    max_abs_pitch: float = 25.0
    min_face_px: float = 48.0  # face box width in pixels
    eye_closed_ratio: float = 0.6  # eye openness below this x the session median: closed/blinking
    blur_ratio: float = 0.35  # sharpness below this x the session median: motion blur

    # --- MiniFASNet decision ---
    live_quantile: float = 0.5  # per-session score: the median of the gated per-frame live scores
    # Per-session score below this: attack. Measured (docs/pad.md, every 3rd frame, all 3
    # sampling phases): hardest screen replay (zalo_s1, fills the camera's view, no bezel)
    # 0.66-0.70; live clips 0.83+ except one (nuaa_s0005_live, 0.49). Set midway in that gap.
    # (Every 5th frame the replay reaches 0.76 on one phase: do not raise sample_every alone.)
    live_min: float = 0.76
    min_frames: int = 3  # fewer gated frames: the median of all scored frames instead

    # --- screen cues (cues.py): measured, reported as evidence, NOT deciding (docs/pad.md) ---
    measure_cues: bool = False  # bezel + glare per frame (~1 ms); kiosk.pad.evaluate turns it on
    bezel_min_len: float = 0.9  # straight edge at least this x the face width
    bezel_max_angle: float = 15.0  # degrees from the side of the face it runs along
    bezel_min_sides: int = 3  # edges on this many sides of the face frame it
    glare_v_min: int = 245  # HSV value of a specular pixel
    glare_s_max: int = 40  # ...with this little colour
    bezel_min_share: float = 0.5  # a screen frame: bezel seen on this share of scored frames
    glare_min: float = 0.05  # median share of specular pixels on the face
    planar_max: float = 0.05  # affine residual / interocular: a flat face stays below...
    planar_min_yaw_range: float = 12.0  # ...while the head turned at least this much (degrees)


PAD = PadThresholds()

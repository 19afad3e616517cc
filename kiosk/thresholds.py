"""Every threshold of the face check, in one place: liveness, session start, identity
continuity and probe quality (the matching operating point is calibrated per backend:
kiosk.matching.scoring and kiosk.toml).

Liveness (`LivenessThresholds`): signals are measured relative to the person's own neutral baseline (see signals.py),
so small eyes, drooping eyelids, glasses and a face held slightly turned still work.
Values were chosen on public live clips (blinks drop the eye signal to 0.05–0.35 of
the baseline; head turns of a real head exceed 15° with a large 3-D parallax) and
on attacks made from still photos (a flat photo turned by ±40° reaches ~11° of
measured yaw and an affine residual below 0.06).
"""
from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401


@dataclass(frozen=True)
class LivenessThresholds:
    # --- calibration (signals.py) ---
    calibration_frames: int = 10  # neutral frames averaged into the baseline
    calibration_max_abs_yaw: float = 20.0  # degrees: only near-frontal frames calibrate
    calibration_max_abs_pitch: float = 25.0

    # --- blink (blink.py): eye signal = lid gap / vertical nose-bridge length ---
    blink_closed_ratio: float = 0.60  # eyes count as closed below 60% of baseline
    blink_open_ratio: float = 0.80  # ...and open again above 80%
    blink_max_closed_s: float = 4.0  # elderly users close their eyes slowly and long
    blink_min_closed_s: float = 0.0
    # In-between frames (blink.py) are judged against the median of the last few open frames
    # before the dip, and must sit this far (relative to the baseline) from both the open and
    # the lowest level, or 20% of the blink's depth if larger. The eye signal of a still
    # picture moves at most 0.06-0.10 between frames (held/slid photos, 25 fps mp4).
    blink_open_level_frames: int = 5
    blink_inbetween_margin: float = 0.15

    # --- open mouth (mouth.py): inner lip gap / mouth width ---
    mouth_open_delta: float = 0.25  # above baseline
    mouth_open_min: float = 0.35  # and at least this wide open
    mouth_closed_delta: float = 0.12  # back below baseline + this = closed again
    mouth_hold_frames: int = 2

    # --- head turn (turn.py): yaw relative to baseline, degrees ---
    turn_min_deg: float = 15.0
    turn_return_deg: float = 7.0
    turn_hold_frames: int = 2
    # A real head shows parallax (nose vs cheeks) that no flat picture can:
    # affine-fit residual of the rigid landmarks against the baseline shape / interocular.
    parallax_min: float = 0.07

    # --- nod (nod.py): pitch relative to baseline, degrees, positive = down ---
    nod_min_deg: float = 10.0
    nod_return_deg: float = 4.0
    nod_max_s: float = 5.0
    nod_parallax_min: float = 0.05

    # --- anti-replay (motion.py) ---
    # A real action passes through in-between frames; a slideshow of two stills jumps.
    inbetween_min_fps: float = 14.0  # below this frame rate a blink may legitimately jump
    # The rest of a live face drifts a little (breathing, expression); a still does not.
    # p90 residual of the 5-frame-smoothed rigid shape vs the baseline shape / interocular.
    natural_motion_min: float = 0.009
    natural_motion_min_frames: int = 15
    # Judge over at least this long after calibration: in its first second a calm live
    # face drifts only 0.005-0.008 (under the floor above); over 2.5 s it shows 0.009+.
    natural_motion_min_s: float = 2.5
    # Below the floor after that, keep watching (the resident just stays in front of the camera)
    # up to this long before failing: a live face's p90 drift grows as it is watched longer
    # (blinkdetector_man: 0.0079 over his first 5 s, 0.010 at 6.5 s), a held or slid picture's
    # does not (tests/spoofs.py photos: 0.003-0.0086 over every window of 2.5-7.4 s). Never
    # longer than the 7.4 s the photo attack clips are measured over (test_liveness.py).
    natural_motion_max_s: float = 7.0

    # --- faces in view (challenge.py) ---
    # A second face for a moment (a relative leaning in to help) is guidance ("second_face":
    # 请只留老人一人在镜头前), not a failure; one that stays longer than this fails the check.
    max_multi_face_s: float = 2.0
    max_face_lost_s: float = 3.0  # face gone longer than this: identity must be re-checked
    max_jump_face_widths: float = 0.6  # a box that jumps further between frames is a new face


# ------------------------------------------------------------------ session start (session.py)
GOOD_FRAMES_TO_START = 5  # frames in a row with nothing to correct before the challenge starts
NO_FACE_TIMEOUT_S = 60.0

# ------------------------------------------------------------------ identity continuity (identity.py)
# Two encodings of the same live person across a challenge (frontal vs slightly turned,
# blink, light change) stay well under this; it is looser than the match threshold on
# purpose: it only has to catch a *different* person stepping in.
CONTINUITY_THRESHOLD = 0.55
# A turn or nod passes 15-25 degrees off the baseline, where one person's distance to their
# own frontal frames grows (up to 0.53 on liveportrait_d3's expressive turn); pairs with such
# a frame get this looser bound. Pairs of near-frontal frames keep the strict one, so an
# in-place swap is still caught on the frontal samples taken every SAMPLE_EVERY_S.
CONTINUITY_THRESHOLD_TURNED = 0.62
CONTINUITY_FRONTAL_DEV = 12.0  # degrees from the baseline

# Frames encoded for continuity: usable enough that dlib's embedding is not noise.
MIN_ENCODE_SHARPNESS = 20.0
MIN_ENCODE_BRIGHTNESS = 40.0
MIN_ENCODE_FACE_PX = 60.0
MAX_ENCODE_POSE_DEV = 30.0  # degrees from the baseline (a turn step passes at 15-25)
# One encoding per stretch of challenge: ~75-120 ms of dlib each, so bounded. After
# LATE_AFTER encodings (a long, slow challenge) the stretches get longer.
SAMPLE_EVERY_S = 1.5
SAMPLE_EVERY_LATE_S = 4.0
LATE_AFTER = 10

# ------------------------------------------------------------------ probe quality (probe.py)
# Quality gates for the frames fused into the probe (the person's own baseline pose).
# Stricter than what it takes to start (quality.QualityLimits): start loose, match strict.
PROBE_FRAMES = 5
PROBE_MIN_BRIGHTNESS = 50.0
PROBE_MIN_SHARPNESS = 20.0
PROBE_MIN_FACE_PX = 80.0  # dlib needs ~80 px between the cheeks
PROBE_MAX_YAW_DEV = 10.0
PROBE_MAX_PITCH_DEV = 10.0
PROBE_MAX_ROLL = 25.0
PROBE_MIN_EYE_RATIO = 0.75  # eye signal / the person's open-eye level
PROBE_MAX_MOUTH_DELTA = 0.10  # inner-lip gap / width above the person's resting level


# ------------------------------------------------------------------ presentation-attack detection (kiosk/pad)
# Calibrated on ../shared/data/faces (spoof/pad_videos, spoof/videos, videos, spoof stills) with
# `python -m kiosk.pad.evaluate`; the measurements are in docs/pad.md and docs/liveness-and-attacks.md.
# kiosk.toml may override `live_min` (pad_live_min) and `sample_every` (pad_sample_every).
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

"""A virtual camera for demo mode: a still portrait that performs liveness actions.

Machines in the field often have no camera. `VirtualCamera` animates the public-domain
NASA astronaut portrait shipped as assets/demo/astronaut.png (from scikit-image, copied
there by packaging/build_assets.py) so that the real liveness pipeline can be shown end
to end: the face blinks, turns left/right, opens its mouth and nods on request.

How it works
------------
* The 478 refined FaceMesh landmarks of the neutral photo (assets/demo/
  astronaut_landmarks.npy, or a FaceMesh pass at construction if that file is missing)
  are the vertices of a triangle mesh, extended by 9 "teeth line" vertices inside the
  mouth, an inner ring around the face (hair, ears, neck: follows half of the face
  outline's motion) and a fixed outer ring (background: never moves).
* Each frame moves the vertices and warps the photo piecewise-affinely
  (`kiosk.demo.warp.MeshWarper`: one cv2.remap of a per-triangle inverse map).
  - blink: the upper-lid contour (246,161,160,159,158,157,173 / 466,388,387,386,385,
    384,398) moves down to a closure line just above the lower lid (7,163,144,145,153,
    154,155 / 249,390,373,374,380,381,382), which rises a little; the iris (468-477) is
    squashed onto the same line; the eyelid skin above follows with a fall-off; a soft
    lash line is drawn along the shut lids.
  - turn_left / turn_right / nod: the landmarks are rotated in 3-D (x, y and FaceMesh's
    relative depth z, capped at the cheek edges so the near cheek does not fold) and
    far triangles are drawn first, so the nose hides the far cheek. Yaw turns about a
    pivot behind the face (the neck); turn_left is the person's OWN left: in the
    unmirrored image the nose moves to the image's right (yaw > 0, as in
    kiosk.observe). The nod pitches down about an axis at mouth height with the depths
    exaggerated x1.9 (FaceMesh reads a warped frontal photo as much less pitched than
    its true geometry), so the nose tip drops over the upper lip; it looks somewhat
    caricatured at its peak.
  - look (enrolment's pose guidance, 请稍微向左看): the same rotation, a slight angle
    (LOOK_YAW_DEG) reached in LOOK_RAMP_S and HELD until the next `look()` (0: back to
    frontal); actions and natural motion add to it.
  - open_mouth: the lower lip, chin and jaw line drop, the upper lip lifts slightly,
    the corners draw in; the upper teeth ride with the upper lip and the cavity below
    them is painted dark.
* Idle or not, the face keeps a small, smooth natural motion: micro head rotation,
  sway and breathing scale, a smooth non-rigid landmark field and a tiny independent
  per-landmark jitter (together ~0.5-1 % of the face width), plus mild sensor noise.
  A perfectly frozen face would rightly be rejected as a photo.

Measured with FaceMesh on the rendered frames (tests/test_virtual_camera.py): the eye
aspect ratio falls well below 60 % of neutral during a blink, the yaw proxy
2*(x1 - x234)/(x454 - x234) - 1 passes +/-0.45, the inner-lip gap / mouth width passes
0.35 and the nose tip drops by more than 8 % of the face height relative to the eyes.

Colour flash (kiosk.pad.flash): `show_flash(sequence, start_t)` lights the portrait as the
kiosk's screen would: in linear light, face pixels (a feathered FaceMesh oval) are multiplied
by (1 + 0.2 * screen_c) / (1 + 0.2 * neutral_c) (applied as that ** (1/2.2) to the encoded
pixels), the rest of the frame by the same with 0.11 of
the light (farther from the screen), the screen's colour taken 0.1 s late (camera latency,
averaged over the frame's exposure), then a grey-world auto white balance pulls the colours
back with a 1.5 s time constant. Without a sequence nothing changes (no extra random draws).

Timestamps are frame_index / fps. With realtime=True the iterator sleeps to keep pace
with fps (for the live UI); otherwise frames come as fast as they are rendered.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

from kiosk.core.actions import ACTIONS  # (one list of action codes; re-exported)
from kiosk.core.paths import assets_dir
from kiosk.demo.warp import MeshWarper
from kiosk.frames import Frame, FrameSourceError, read_image

ASSET_DIR = assets_dir("demo")
FACE_IMAGE = ASSET_DIR / "astronaut.png"
FACE_LANDMARKS = ASSET_DIR / "astronaut_landmarks.npy"

# (ramp up, hold, ramp down) in seconds for each action.
ACTION_TIMING: dict[str, tuple[float, float, float]] = {
    "blink": (0.20, 0.16, 0.24),
    "turn_left": (0.40, 0.36, 0.40),
    "turn_right": (0.40, 0.36, 0.40),
    "open_mouth": (0.32, 0.40, 0.32),
    "nod": (0.40, 0.24, 0.40),
}

YAW_DEG = 26.0  # peak head turn
# A slight held turn (enrolment's 请稍微向左看 / 向右看): FaceMesh measures ±7° rendered as about ±8°
# (the natural motion moves it by up to ~3° more), inside the probe's frontal gate
# (thresholds.PROBE_MAX_YAW_DEV, 10°), so the turned frames are still fit to enrol.
LOOK_YAW_DEG = {"left": 7.0, "right": -7.0, "straight": 0.0}
LOOK_RAMP_S = 0.5
PITCH_DEG = 30.0  # peak nod (looking down)
# For the nod, depths are exaggerated: FaceMesh reads a pitched 2-D warp of a frontal
# photo as much less pitched than its true geometry.
PITCH_DEPTH_GAIN = 1.9
JAW_DROP = 0.36  # peak jaw drop, as a fraction of the mouth width
LIP_LIFT = 0.12  # upper-lip lift, as a fraction of the jaw drop
MOUTH_DRAW_IN = 0.10  # mouth corners draw in by this fraction of the half width
LID_CLOSE_AT = 0.22  # closure line: this fraction of the opening above the lower lid
# Depth cap for the rotation, above the eye corners' depth, as a fraction of the face
# width. The cheek edges (234, 454 ...) sit nearly edge-on in the photo with a large
# FaceMesh depth; rotating them at full depth would fold the near cheek over itself
# (the photo has no texture for the side of the head), so they rotate as if at this depth.
DEPTH_CAP = 0.2
FACE_WIDTH_FRACTION = 0.40  # face width (234-454) / frame width
MOUTH_CAVITY_RGB = (52, 20, 22)
TONGUE_RGB = (128, 52, 56)
LASH_RGB = (58, 40, 34)

# Landmark indices (FaceMesh canonical topology, refined: 478 points).
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
             54, 103, 67, 109]
# Eyes as (image-left corner, image-right corner, upper lid, lower lid), lids from
# corner to corner. The image-left eye is the person's right eye.
EYES = (
    (33, 133, [246, 161, 160, 159, 158, 157, 173], [7, 163, 144, 145, 153, 154, 155]),
    (362, 263, [398, 384, 385, 386, 387, 388, 466], [382, 381, 380, 374, 373, 390, 249]),
)
IRIS_GROUPS = (list(range(468, 473)), list(range(473, 478)))
MOUTH_LEFT, MOUTH_RIGHT = 78, 308
# Inner-lip pairs (upper, lower), image-left to image-right, corners excluded.
INNER_LIP_PAIRS = [(191, 95), (80, 88), (81, 178), (82, 87), (13, 14), (312, 317),
                   (311, 402), (310, 318), (415, 324)]
TEETH_LINE_AT = 0.7  # teeth line: this fraction of the neutral gap below the upper inner lip

N_LANDMARKS = 478


def detect_landmarks(rgb: np.ndarray) -> np.ndarray:
    """Refined FaceMesh landmarks of a still image: (478, 3) float32 pixels (z scaled like x)."""
    import mediapipe as mp

    h, w = rgb.shape[:2]
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                         refine_landmarks=True,
                                         min_detection_confidence=0.5) as mesh:
        res = mesh.process(np.ascontiguousarray(rgb))
    if not res.multi_face_landmarks:
        raise FrameSourceError("no_face", detail="FaceMesh found no face", why="demo_no_face")
    lm = res.multi_face_landmarks[0].landmark
    return np.array([[p.x * w, p.y * h, p.z * w] for p in lm], dtype=np.float32)


def action_duration(action: str) -> float:
    """Seconds one action takes from neutral back to neutral."""
    if action not in ACTION_TIMING:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    return float(sum(ACTION_TIMING[action]))


def _lid_profile(pts, idx, a, b, e, n_up) -> tuple[np.ndarray, np.ndarray]:
    """A lid contour from corner a to corner b as (along-eye u, upward v), sorted by u."""
    length = float(np.linalg.norm(b - a))
    uu = np.concatenate([[0.0], (pts[idx] - a) @ e, [length]])
    vv = np.concatenate([[0.0], (pts[idx] - a) @ n_up, [(b - a) @ n_up]])
    order = np.argsort(uu)
    return uu[order], vv[order]


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _falloff(x):
    """1 at 0, easing to 0 at 1 and beyond."""
    return 1.0 - _smoothstep(x)


# The colour-flash reflection (show_flash): the screen adds this fraction of the ambient light on
# the face at full white (a 15.6" screen's border at 0.5 m, ~33 lx, in a 150-300 lx room); the
# background (wall, clothes) gets FLASH_WALL_FALLOFF of that (about 3x farther from the screen).
FLASH_SCREEN_SHARE = 0.2
FLASH_WALL_FALLOFF = 0.11
FLASH_LATENCY_S = 0.1  # the camera shows the screen's colour this late
FLASH_AWB_TAU_S = 1.5  # auto white balance converges with this time constant
FLASH_GAMMA = 2.2  # the tint is applied to the encoded pixels as factor ** (1 / 2.2)


class _FlashLight:
    """The kiosk screen's light on the portrait. In linear light a face pixel becomes
    pixel * (1 + share * screen_c) / (1 + share * neutral_c) (the photo is the face under the
    app's neutral screen), other pixels the same with share * FLASH_WALL_FALLOFF; applied to the
    encoded image as that factor ** (1 / 2.2), the tint field being smooth. Then a grey-world auto
    white balance (per-channel gains pulling the frame's mean colour back to the first frame's,
    first-order with time constant awb_tau_s)."""

    def __init__(self, seq, start_t, strength, latency_s, awb_tau_s, fps):
        from kiosk.pad.flash import srgb_to_linear

        self.seq, self.start_t = seq, start_t
        self.strength, self.latency_s, self.fps = strength, latency_s, fps
        self.alpha = 1.0 - math.exp(-(1.0 / fps) / max(1e-3, awb_tau_s))
        self.neutral = srgb_to_linear(np.array(seq.neutral, np.float64))
        self.gains = np.ones(3)
        self.ref: np.ndarray | None = None
        self.end_t = start_t + seq.duration + 3.0

    def render(self, img: np.ndarray, oval: np.ndarray, t: float) -> bool:
        """Tint img (uint8 RGB) in place; True when the flash is over (the caller drops it)."""
        if t < self.start_t:
            return False
        ts = t - self.start_t - self.latency_s - np.linspace(0.0, 1.0 / self.fps, 3)
        s = self.seq.linear_at(ts).mean(axis=0)
        k, n, wall = self.strength, self.neutral, FLASH_WALL_FALLOFF
        fa = ((1 + k * s) / (1 + k * n)) ** (1 / FLASH_GAMMA)  # on the face
        fb = ((1 + k * wall * s) / (1 + k * wall * n)) ** (1 / FLASH_GAMMA)  # elsewhere
        g = self.gains
        h, w = img.shape[:2]
        x0, y0 = np.maximum(0, np.floor(oval.min(axis=0)).astype(int) - 12)
        x1, y1 = np.minimum([w, h], np.ceil(oval.max(axis=0)).astype(int) + 13)
        if x1 > x0 + 1 and y1 > y0 + 1:
            roi = img[y0:y1, x0:x1]
            mask = np.zeros(roi.shape[:2], np.float32)
            cv2.fillPoly(mask, [np.round((oval - [x0, y0]) * 4).astype(np.int32)], (1.0,), cv2.LINE_AA, 2)
            mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), 3), dtype=np.float32)[..., None]
            factor = (fb * g).astype(np.float32) + mask * ((fa - fb) * g).astype(np.float32)
            tinted = np.clip(roi * factor + 0.5, 0, 255).astype(np.uint8)
            cv2.multiply(img, tuple(float(v) for v in fb * g) + (0.0,), dst=img)  # type: ignore[call-overload]  # src2 may be a Scalar
            img[y0:y1, x0:x1] = tinted
        else:
            cv2.multiply(img, tuple(float(v) for v in fb * g) + (0.0,), dst=img)  # type: ignore[call-overload]  # src2 may be a Scalar
        # Grey-world AWB on what the sensor saw (this frame's mean without the gains applied).
        means = np.array(cv2.mean(img)[:3]) / g
        if self.ref is None:
            self.ref = means.copy()  # the first frame: neutral screen, no tint yet
        target = self.ref / np.maximum(means, 1e-6) * (means.mean() / self.ref.mean())
        self.gains = g + self.alpha * (target - g)
        return t > self.end_t


@dataclass(frozen=True)
class ActionState:
    """What the virtual face is doing in one frame."""

    action: str | None  # one of ACTIONS, or None when idle / pausing
    progress: float  # 0..1 through the action
    amount: float  # 0..1 envelope: 1 = peak (eyes shut, head fully turned ...)


@dataclass
class _Scheduled:
    kind: str  # an action name or "pause"
    start_t: float
    duration: float
    start_index: int


@dataclass(frozen=True)
class PerformedAction:
    """A finished (or running) action: for logs, tests and demo overlays."""

    action: str
    start_t: float
    end_t: float
    start_index: int


class _NaturalMotion:
    """Small smooth pseudo-random motion of a living face, as a function of time."""

    def __init__(self, rng: np.random.Generator, unit: np.ndarray, face_width: float, n: int):
        def waves(k, lo, hi, size=()):
            return (rng.uniform(lo, hi, (k,) + size), rng.uniform(0, 2 * np.pi, (k,) + size))

        self.rot = {name: (amp, waves(2, 0.08, 0.45)) for name, amp in
                    (("yaw", 1.4), ("pitch", 1.1), ("roll", 0.7))}
        self.shift = [waves(2, 0.05, 0.35) for _ in range(2)]
        self.shift_amp = 0.0045 * face_width
        self.breath = (rng.uniform(0.2, 0.3), rng.uniform(0, 2 * np.pi))
        self.breath_amp = 0.004
        # Smooth non-rigid field: low-order polynomial modes over the face.
        u, v = unit[:, 0], unit[:, 1]
        basis = np.stack([u * v, u * u - 0.3, v * v - 0.3, u * u * v, u * v * v, v * np.abs(v)], axis=1)
        dirs = rng.normal(size=(basis.shape[1], 2))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        self.modes = basis[:, :, None] * dirs[None, :, :]  # (n, K, 2)
        rms = np.sqrt((self.modes ** 2).sum(axis=2).mean(axis=0))  # per mode
        self.modes /= rms[None, :, None]
        self.mode_waves = waves(basis.shape[1], 0.15, 0.7)
        self.mode_amp = 0.0035 * face_width / math.sqrt(basis.shape[1] / 2)
        # Tiny independent jitter per vertex.
        self.jit_f = rng.uniform(0.6, 1.8, (n, 2))
        self.jit_p = rng.uniform(0, 2 * np.pi, (n, 2))
        self.jit_amp = 0.0008 * face_width

    @staticmethod
    def _wave(w, t):
        f, p = w
        return float(np.mean(np.sin(2 * np.pi * f * t + p)) * math.sqrt(2))

    def at(self, t: float) -> dict:
        f, p = self.mode_waves
        coef = np.sin(2 * np.pi * f * t + p) * self.mode_amp
        field = np.einsum("nkd,k->nd", self.modes, coef)
        field += np.sin(2 * np.pi * self.jit_f * t + self.jit_p) * self.jit_amp
        return {
            "yaw": self.rot["yaw"][0] * self._wave(self.rot["yaw"][1], t),
            "pitch": self.rot["pitch"][0] * self._wave(self.rot["pitch"][1], t),
            "roll": self.rot["roll"][0] * self._wave(self.rot["roll"][1], t),
            "shift": np.array([self._wave(self.shift[0], t), self._wave(self.shift[1], t)]) * self.shift_amp,
            "scale": 1.0 + self.breath_amp * math.sin(2 * np.pi * self.breath[0] * t + self.breath[1]),
            "field": field,
        }


class VirtualCamera:
    """A FrameSource showing a demo face that performs liveness actions on request.

    VirtualCamera(width=640, height=480, fps=25.0, realtime=False, seed=None,
                  max_frames=None, natural_motion=True, noise=True)

    - iterate it for `Frame`s (forever, or `max_frames`); `read()` renders one frame;
    - `perform(action)` queues one of ACTIONS; `perform_sequence([...], gap_s=1.0)`
      queues several with idle gaps; `pause(s)` queues idle time; `cancel()` empties the
      queue. All of these are thread-safe (a UI thread may call them while another
      thread iterates);
    - `busy` tells whether an action is running or queued; `state` is the
      `ActionState` of the last frame; `history` lists the actions performed so far;
    - `last_landmarks` are the (478, 2) landmark positions the last frame was drawn with.
    """

    def __init__(self, width: int = 640, height: int = 480, fps: float = 25.0,
                 realtime: bool = False, seed: int | None = None,
                 max_frames: int | None = None, natural_motion: bool = True,
                 noise: bool = True, image_path: str | Path | None = None,
                 landmarks_path: str | Path | None = None):
        if width < 64 or height < 64:
            raise ValueError("frame size must be at least 64x64")
        if not fps > 0:
            raise ValueError("fps must be positive")
        self.width, self.height = int(width), int(height)
        self.fps = float(fps)
        self.realtime = realtime
        self.max_frames = max_frames
        self.natural_motion = natural_motion
        self.noise = noise
        self._rng = np.random.default_rng(seed)

        src, lm = self._load_face(image_path, landmarks_path)
        self._setup_geometry(src, lm)

        self._queue: deque[tuple[str, float]] = deque()
        self._current: _Scheduled | None = None
        self._lock = threading.Lock()  # guards the queue, the current action and history
        self._render_lock = threading.Lock()  # one frame at a time
        self._index = 0
        self._closed = threading.Event()
        self.history: list[PerformedAction] = []
        self.state = ActionState(None, 0.0, 0.0)
        self.last_landmarks = self.neutral_landmarks.copy()
        self._flash: _FlashLight | None = None
        # the held pose of look(): (yaw from, pitch from, yaw to, pitch to, ramp start t, ramp s)
        self._look = (0.0, 0.0, 0.0, 0.0, 0.0, LOOK_RAMP_S)

    # ------------------------------------------------------------------ setup

    @staticmethod
    def _load_face(image_path, landmarks_path) -> tuple[np.ndarray, np.ndarray]:
        img_path = Path(image_path) if image_path else FACE_IMAGE
        if not img_path.is_file():
            raise FrameSourceError(
                "no_demo_face", detail=f"{img_path} missing: run `uv run python packaging/build_assets.py face`",
                why="demo_face_missing")
        src = read_image(img_path)
        lm_path = Path(landmarks_path) if landmarks_path else (FACE_LANDMARKS if image_path is None else None)
        if lm_path is not None and lm_path.is_file():
            lm = np.load(lm_path).astype(np.float64)
            if lm.shape != (N_LANDMARKS, 3):
                raise FrameSourceError("no_demo_face", detail=f"{lm_path}: shape {lm.shape}", why="demo_face_damaged")
        else:
            lm = detect_landmarks(src).astype(np.float64)
        return src, lm

    def _setup_geometry(self, src: np.ndarray, lm: np.ndarray) -> None:
        W, H = self.width, self.height
        face_w_src = float(np.linalg.norm(lm[454, :2] - lm[234, :2]))
        face_h_src = float(np.linalg.norm(lm[152, :2] - lm[10, :2]))
        s = min(FACE_WIDTH_FRACTION * W / face_w_src, 0.85 * H / face_h_src)
        oval_src = lm[FACE_OVAL, :2]
        centre_src = (oval_src.min(axis=0) + oval_src.max(axis=0)) / 2.0
        t = np.array([W / 2.0, H / 2.0]) - s * centre_src
        affine = np.array([[s, 0.0, t[0]], [0.0, s, t[1]]])
        interp = cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA
        # The base picture keeps a margin of real content around the frame so that
        # stretching near the frame edge (hair pulled down by a nod) samples the photo.
        self._margin = m = int(0.15 * max(W, H))
        padded = affine.copy()
        padded[:, 2] += m
        self._base = cv2.warpAffine(src, padded, (W + 2 * m, H + 2 * m), flags=interp,
                                    borderMode=cv2.BORDER_REPLICATE)

        pts = lm[:, :2] * s + t
        z = lm[:, 2] * s
        self.neutral_landmarks = pts.copy()
        self.scale = s
        fw = float(np.linalg.norm(pts[454] - pts[234]))
        self.face_width = fw
        self.face_height = float(np.linalg.norm(pts[152] - pts[10]))
        self._centre = np.array([W / 2.0, H / 2.0])

        # Teeth-line vertices inside the mouth (ride with the upper lip).
        up = np.array([p[0] for p in INNER_LIP_PAIRS])
        lo = np.array([p[1] for p in INNER_LIP_PAIRS])
        teeth_xy = pts[up] + TEETH_LINE_AT * (pts[lo] - pts[up])
        teeth_z = z[up]
        self._teeth_partner = up
        face_xy = np.vstack([pts, teeth_xy])
        face_z = np.concatenate([z, teeth_z])
        self._n_face = len(face_xy)

        # Rings: inner (follows half the outline's motion) and outer (fixed).
        oval = pts[FACE_OVAL]
        c = self._centre
        rel = oval - c
        k_in = np.where(rel[:, 1] > 0, 1.45, 1.28)[:, None] * np.array([1.22, 1.0])
        k_out = np.where(rel[:, 1] > 0, 2.1, 1.8)[:, None] * np.array([1.45, 1.0])
        inner = c + rel * k_in
        outer = c + rel * k_out
        self._ring_in = inner
        self._ring_out = outer
        self._all_src = np.vstack([face_xy, inner, outer])
        z_cap = float(z[[33, 263]].mean()) + DEPTH_CAP * fw
        self._face_xyz = np.column_stack([face_xy, np.minimum(face_z, z_cap)])
        self._warper = MeshWarper(self._all_src, (W, H), step=2)
        lo_xy, hi_xy = outer.min(axis=0), outer.max(axis=0)
        self._roi = (int(np.floor(lo_xy[0])) - 2, int(np.floor(lo_xy[1])) - 2,
                     int(np.ceil(hi_xy[0])) + 3, int(np.ceil(hi_xy[1])) + 3)

        # Yaw pivot: between the cheek edges, a quarter face width behind them (the neck).
        self._pivot = np.array([
            (pts[234, 0] + pts[454, 0]) / 2.0,
            (pts[234, 1] + pts[454, 1]) / 2.0,
            z_cap + 0.25 * fw,
        ])
        # Pitch pivot: level with the nose tip and as deep as the eye corners: the nose
        # tip drops, the forehead and the chin foreshorten (a nod as the camera sees
        # it) without sliding the whole face down the frame.
        eyes = [33, 133, 362, 263]
        self._pitch_pivot = np.array([self._pivot[0], pts[14, 1], z[eyes].mean()])
        self._blink_disp = self._blink_field(face_xy)
        self._mouth_disp = self._mouth_field(face_xy)

        unit = (face_xy - c) / (fw / 2.0)
        self._motion = _NaturalMotion(self._rng, unit, fw, len(face_xy))
        if self.noise:
            n = self._rng.normal(0.0, 1.8, (6, H, W, 3))
            self._noise_pos = np.clip(n, 0, 255).astype(np.uint8)
            self._noise_neg = np.clip(-n, 0, 255).astype(np.uint8)

    def _blink_field(self, xy: np.ndarray) -> np.ndarray:
        """Vertex displacement (N, 2) with both eyes fully shut."""
        disp = np.zeros_like(xy)
        pts = self.neutral_landmarks
        for left, right, upper, lower in EYES:
            a, b = pts[left], pts[right]
            length = float(np.linalg.norm(b - a))
            e = (b - a) / length
            n_up = np.array([e[1], -e[0]])  # perpendicular, pointing up in the image
            rel = xy - a
            u = rel @ e
            v = rel @ n_up

            uu_up, vv_up = _lid_profile(pts, upper, a, b, e, n_up)
            uu_lo, vv_lo = _lid_profile(pts, lower, a, b, e, n_up)
            vu = np.interp(u, uu_up, vv_up)
            vl = np.interp(u, uu_lo, vv_lo)
            vc = vl + LID_CLOSE_AT * (vu - vl)
            inside = (u > 0) & (u < length)
            # The iris group belonging to this eye is the one whose centre is nearest.
            centre = (a + b) / 2.0
            groups = sorted(IRIS_GROUPS, key=lambda g: float(np.linalg.norm(pts[g[0]] - centre)))
            iris = np.zeros(len(xy), bool)
            iris[groups[0]] = True
            between = inside & (((v >= vl) & (v <= vu)) | iris)
            above = inside & ~between & (v > vu)
            below = inside & ~between & (v < vl)
            dv = np.zeros(len(xy))
            dv[between] = (vc - v)[between]
            dv[above] = ((vc - vu) * _falloff((v - vu) / (0.6 * length)))[above]
            dv[below] = ((vc - vl) * _falloff((vl - v) / (0.4 * length)))[below]
            disp += dv[:, None] * n_up[None, :]
        return disp

    def _mouth_field(self, xy: np.ndarray) -> np.ndarray:
        """Vertex displacement (N, 2) with the mouth fully open."""
        pts = self.neutral_landmarks
        a, b = pts[MOUTH_LEFT], pts[MOUTH_RIGHT]
        mw = float(np.linalg.norm(b - a))
        e = (b - a) / mw
        n_down = np.array([-e[1], e[0]])
        m = (a + b) / 2.0
        rel = xy - m
        u = rel @ e
        v = rel @ n_down
        # Split curve between the upper and the lower jaw: the neutral teeth line inside
        # the mouth, the corner line outside it.
        up = np.array([p[0] for p in INNER_LIP_PAIRS])
        lo = np.array([p[1] for p in INNER_LIP_PAIRS])
        split_pts = pts[up] + TEETH_LINE_AT * (pts[lo] - pts[up])
        su = np.concatenate([[(a - m) @ e], (split_pts - m) @ e, [(b - m) @ e]])
        sv = np.concatenate([[(a - m) @ n_down], (split_pts - m) @ n_down, [(b - m) @ n_down]])
        vs = np.interp(u, su, sv)
        half = mw / 2.0
        lateral = np.maximum(0.0, np.abs(u) - half)
        ramp0 = max(1.0, float((pts[14] - m) @ n_down - np.interp(0.0, su, sv)))
        ramp = ramp0 + 0.8 * lateral
        below = v > vs
        jaw = np.where(below, _smoothstep((v - vs) / ramp), 0.0)
        jaw *= 1.0 - 0.7 * _smoothstep((np.abs(u) / (self.face_width / 2.0) - 0.35) / 0.7)
        drop = JAW_DROP * mw
        dv = jaw * drop
        lift_profile = np.clip(1.0 - (u / (1.1 * half)) ** 2, 0.0, 1.0)
        lift = np.where(~below, LIP_LIFT * drop * lift_profile * _falloff((vs - v) / (0.35 * mw)), 0.0)
        dv -= lift
        du = -MOUTH_DRAW_IN * u * np.exp(-((np.hypot(u, v) / (0.6 * mw)) ** 2))
        disp = dv[:, None] * n_down[None, :] + du[:, None] * e[None, :]
        # The teeth-line vertices ride with their upper inner-lip partners.
        disp[N_LANDMARKS:] = disp[self._teeth_partner]
        return disp

    # ------------------------------------------------------------------ control

    def perform(self, action: str) -> None:
        """Queue one liveness action (thread-safe); it starts on the next frame if idle."""
        duration = action_duration(action)
        with self._lock:
            self._queue.append((action, duration))

    def pause(self, seconds: float) -> None:
        """Queue idle time (natural motion only) before the next queued action."""
        if seconds > 0:
            with self._lock:
                self._queue.append(("pause", float(seconds)))

    def perform_sequence(self, actions: Iterable[str], gap_s: float = 1.0) -> None:
        """Queue several actions with `gap_s` seconds of idle time between them."""
        items: list[tuple[str, float]] = []
        for i, a in enumerate(actions):  # validate everything before queueing anything
            if i and gap_s > 0:
                items.append(("pause", float(gap_s)))
            items.append((a, action_duration(a)))
        with self._lock:  # atomically: another thread's perform() cannot interleave
            self._queue.extend(items)

    def look(self, yaw_deg: float = 0.0, pitch_deg: float = 0.0, ramp_s: float = LOOK_RAMP_S) -> None:
        """Turn the head to (yaw, pitch) degrees, smoothly over `ramp_s` from the next frame, and hold
        it there until the next call (thread-safe). Signs as kiosk.observe: yaw > 0 the person's own
        left, pitch > 0 down; look() is frontal again."""
        with self._lock:
            t = self._index / self.fps
            yaw0, pitch0 = self._look_at(t)
            self._look = (yaw0, pitch0, float(yaw_deg), float(pitch_deg), t, max(1e-3, float(ramp_s)))

    @property
    def looking(self) -> tuple[float, float]:
        """The held (yaw, pitch) look() is turning to."""
        with self._lock:
            return self._look[2], self._look[3]

    def _look_at(self, t: float) -> tuple[float, float]:
        yaw0, pitch0, yaw1, pitch1, t0, ramp = self._look
        k = float(_smoothstep(min(1.0, max(0.0, (t - t0) / ramp))))
        return yaw0 + (yaw1 - yaw0) * k, pitch0 + (pitch1 - pitch0) * k

    def cancel(self) -> None:
        """Drop queued actions (the running one finishes smoothly)."""
        with self._lock:
            self._queue.clear()

    def show_flash(self, sequence, start_t: float | None = None, *, strength: float = FLASH_SCREEN_SHARE,
                   latency_s: float = FLASH_LATENCY_S, awb_tau_s: float = FLASH_AWB_TAU_S) -> float:
        """Light the face with a colour-flash sequence (kiosk.pad.flash.FlashSequence) as the
        kiosk's screen would, from `start_t` on the camera's clock (default: the next frame).

        Returns start_t. Frames then show the screen's reflection `latency_s` late, with a drifting
        auto white balance; it stops by itself 3 s after the sequence ends, or at `clear_flash()`.
        """
        if start_t is None:
            start_t = self._index / self.fps
        light = _FlashLight(sequence, float(start_t), strength, latency_s, awb_tau_s, self.fps)
        with self._lock:
            self._flash = light
        return float(start_t)

    def clear_flash(self) -> None:
        with self._lock:
            self._flash = None

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._current is not None or bool(self._queue)

    @property
    def frame_index(self) -> int:
        """Index of the next frame to be rendered."""
        return self._index

    # ------------------------------------------------------------------ rendering

    def _action_at(self, t: float, index: int) -> ActionState:
        with self._lock:
            while True:
                cur = self._current
                if cur is not None and t >= cur.start_t + cur.duration - 1e-9:
                    self._current = None
                    continue
                if cur is None and self._queue:
                    kind, dur = self._queue.popleft()
                    self._current = _Scheduled(kind, t, dur, index)
                    if kind != "pause":
                        self.history.append(PerformedAction(kind, t, t + dur, index))
                    continue
                break
            cur = self._current
        if cur is None or cur.kind == "pause":
            return ActionState(None, 0.0, 0.0)
        up, hold, down = ACTION_TIMING[cur.kind]
        tau = t - cur.start_t
        if tau < up:
            amount = float(_smoothstep(tau / up))
        elif tau < up + hold:
            amount = 1.0
        else:
            amount = float(_falloff((tau - up - hold) / down))
        return ActionState(cur.kind, min(1.0, tau / cur.duration), amount)

    def _vertices(self, st: ActionState, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Destination vertex positions (all mesh vertices) and their depth."""
        xyz = self._face_xyz.copy()
        blink = st.amount if st.action == "blink" else 0.0
        mouth = st.amount if st.action == "open_mouth" else 0.0
        yaw = YAW_DEG * st.amount * (1 if st.action == "turn_left" else -1 if st.action == "turn_right" else 0)
        pitch = PITCH_DEG * st.amount if st.action == "nod" else 0.0
        with self._lock:
            look_yaw, look_pitch = self._look_at(t)
        yaw, pitch = yaw + look_yaw, pitch + look_pitch
        nat = self._motion.at(t) if self.natural_motion else None
        if nat is not None:
            yaw += nat["yaw"]
            pitch += nat["pitch"]
        if blink:
            xyz[:, :2] += blink * self._blink_disp
        if mouth:
            xyz[:, :2] += mouth * self._mouth_disp
        # 3-D rotation: pitch (about the x axis through the pitch pivot), then yaw
        # (about the y axis through the yaw pivot). Image axes: x right, y down, z away
        # from the camera.
        ph, th = math.radians(pitch), math.radians(yaw)
        cp, sp, ct, stt = math.cos(ph), math.sin(ph), math.cos(th), math.sin(th)
        pp = self._pitch_pivot
        y_rel, z_rel = xyz[:, 1] - pp[1], (xyz[:, 2] - pp[2]) * PITCH_DEPTH_GAIN
        y1 = y_rel * cp - z_rel * sp + pp[1]
        z1 = y_rel * sp + z_rel * cp + pp[2]
        pv = self._pivot
        x_rel, z_rel = xyz[:, 0] - pv[0], z1 - pv[2]
        x2 = x_rel * ct - z_rel * stt + pv[0]
        depth = x_rel * stt + z_rel * ct + pv[2]
        face = np.column_stack([x2, y1])
        if nat is not None:
            c = self._centre
            r = math.radians(nat["roll"])
            rot = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]]) * nat["scale"]
            face = c + (face - c) @ rot.T + nat["shift"] + nat["field"]
        # Inner ring follows half of the outline's motion; the outer ring never moves.
        oval_motion = face[FACE_OVAL] - self.neutral_landmarks[FACE_OVAL]
        inner = self._ring_in + 0.5 * oval_motion
        verts = np.vstack([face, inner, self._ring_out])
        far = self._pivot[2] + self.face_width
        depth = np.concatenate([depth, np.full(len(inner) + len(self._ring_out), far)])
        return verts, depth

    def _region(self, points: np.ndarray) -> tuple[int, int, int, int] | None:
        """The pixels around `points` (a small margin for anti-aliasing), clipped to the frame;
        None when too little of it is inside."""
        x0, y0 = np.floor(points.min(axis=0)).astype(int) - 3
        x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 4
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.width, x1), min(self.height, y1)
        return None if x1 - x0 < 2 or y1 - y0 < 2 else (x0, y0, x1, y1)

    def _paint_mouth(self, img: np.ndarray, verts: np.ndarray, amount: float) -> None:
        teeth = verts[N_LANDMARKS:self._n_face]
        lower = verts[[p[1] for p in INNER_LIP_PAIRS]]
        poly = np.vstack([verts[MOUTH_LEFT], teeth, verts[MOUTH_RIGHT], lower[::-1]])
        box = self._region(poly)
        if box is None:
            return
        x0, y0, x1, y1 = box
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(mask, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], (1.0,), cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (3, 3), 0) * min(1.0, 1.4 * amount)
        roi = img[y0:y1, x0:x1].astype(np.float32)
        # Dark throat at the top, a dull tongue colour towards the lower lip.
        top, bottom = float(poly[:, 1].min()), float(poly[:, 1].max())
        ys = (np.arange(y0, y1, dtype=np.float32) - top) / max(1.0, bottom - top)
        k = np.clip((ys - 0.45) / 0.55, 0.0, 1.0)[:, None, None]
        colour = (1 - k) * np.array(MOUTH_CAVITY_RGB, np.float32) + k * np.array(TONGUE_RGB, np.float32)
        roi += mask[..., None] * (colour - roi)
        img[y0:y1, x0:x1] = roi.astype(np.uint8)

    def _paint_lashes(self, img: np.ndarray, verts: np.ndarray, amount: float) -> None:
        """A soft dark lash line along the shut lids (hides slivers of the squashed eye)."""
        for left, right, upper, _ in EYES:
            line = verts[[left] + upper + [right]]
            box = self._region(line)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            mask = np.zeros((y1 - y0, x1 - x0), np.float32)
            pts = np.round((line - [x0, y0]) * 16).astype(np.int32)
            thick = max(1, int(round(self.face_width / 110)))
            cv2.polylines(mask, [pts], False, (1.0,), thick, cv2.LINE_AA, 4)
            mask = cv2.GaussianBlur(mask, (3, 3), 0) * (0.75 * amount)
            roi = img[y0:y1, x0:x1].astype(np.float32)
            roi += mask[..., None] * (np.array(LASH_RGB, np.float32) - roi)
            img[y0:y1, x0:x1] = roi.astype(np.uint8)

    def _render(self, index: int) -> tuple[np.ndarray, ActionState, np.ndarray]:
        """Render frame `index` (advances the action queue to its time)."""
        t = index / self.fps
        st = self._action_at(t, index)
        verts, depth = self._vertices(st, t)
        img = self._warper.warp(self._base, verts, depth, roi=self._roi, margin=self._margin)
        if st.action == "open_mouth" and st.amount > 0.02:
            self._paint_mouth(img, verts, st.amount)
        elif st.action == "blink" and st.amount > 0.5:
            self._paint_lashes(img, verts, (st.amount - 0.5) / 0.5)
        flash = self._flash
        if flash is not None:
            if flash.render(img, verts[FACE_OVAL], t):
                with self._lock:
                    if self._flash is flash:
                        self._flash = None
        if self.noise:
            k = int(self._rng.integers(len(self._noise_pos)))
            cv2.add(img, self._noise_pos[k], dst=img)
            cv2.subtract(img, self._noise_neg[k], dst=img)
        return img, st, verts[:N_LANDMARKS]

    def read(self) -> Frame:
        """Render and return the next frame."""
        with self._render_lock:
            i = self._index
            img, st, lms = self._render(i)
            self._index = i + 1
            self.state = st
            self.last_landmarks = lms
        return Frame(img, i / self.fps, i)

    def __iter__(self) -> Iterator[Frame]:
        start_wall = time.monotonic()
        start_index = self._index
        while not self._closed.is_set():
            if self.max_frames is not None and self._index >= self.max_frames:
                return
            if self.realtime:
                due = start_wall + (self._index - start_index) / self.fps
                delay = due - time.monotonic()
                if delay > 0:
                    # Wake early if closed meanwhile.
                    if self._closed.wait(delay):
                        return
                elif delay < -0.25:  # fell far behind (a slow consumer): don't burst
                    start_wall = time.monotonic()
                    start_index = self._index
            yield self.read()

    def close(self) -> None:
        self._closed.set()

    def __enter__(self) -> "VirtualCamera":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""The demo virtual camera: real FaceMesh on the rendered frames must see each action.

Signals (FaceMesh refined landmarks, measured on the rendered frame, never taken from
the camera's own geometry):
- EAR: ((|p160-p144| + |p158-p153|) / (2|p33-p133|) + the same with 385/380, 387/373,
  362/263) / 2
- yaw proxy: 2 * (x1 - x234) / (x454 - x234) - 1 (> 0: nose toward the image's right)
- mouth ratio: |p13-p14| / |p78-p308|
- nod: (y1 - mean y of the eye corners 33, 133, 362, 263), its rise over neutral
  divided by the neutral face height |p10-p152|
"""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from kiosk.demo import ACTIONS, VirtualCamera
from kiosk.demo.virtual_camera import FACE_IMAGE, FACE_LANDMARKS, detect_landmarks
from kiosk.frames import Frame, read_image

pytestmark = pytest.mark.slow  # renders the virtual face frame by frame (seconds per test)

ROOT = Path(__file__).resolve().parents[1]
IDLE_FRAMES = 20


def _facemesh(static: bool = False):
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(static_image_mode=static, max_num_faces=1,
                                           refine_landmarks=True, min_detection_confidence=0.5,
                                           min_tracking_confidence=0.5)


def _landmarks(mesh, rgb: np.ndarray) -> np.ndarray | None:
    res = mesh.process(rgb)
    if not res.multi_face_landmarks:
        return None
    h, w = rgb.shape[:2]
    return np.array([[p.x * w, p.y * h] for p in res.multi_face_landmarks[0].landmark])


def _signals(p: np.ndarray) -> dict[str, float]:
    d = lambda a, b: float(np.linalg.norm(p[a] - p[b]))  # noqa: E731
    ear_a = (d(160, 144) + d(158, 153)) / (2 * d(33, 133))
    ear_b = (d(385, 380) + d(387, 373)) / (2 * d(362, 263))
    return {
        "ear": (ear_a + ear_b) / 2,
        "yaw": 2 * (p[1, 0] - p[234, 0]) / (p[454, 0] - p[234, 0]) - 1,
        "mouth": d(13, 14) / d(78, 308),
        "nose": float(p[1, 1] - p[[33, 133, 362, 263], 1].mean()),
        "face_h": d(10, 152),
        "face_w": d(234, 454),
        "nose_x": float(p[1, 0]),
        "cx": float(p[[234, 454], 0].mean()),
        "cy": float(p[[10, 152], 1].mean()),
    }


class Recording:
    """One camera run measured frame by frame with FaceMesh in tracking mode (as the app)."""

    def __init__(self, seed: int):
        self.cam = VirtualCamera(seed=seed)
        self.rows: list[tuple[str | None, float, dict | None]] = []
        self.frames: list[Frame] = []
        mesh = _facemesh()
        try:
            for _ in range(IDLE_FRAMES):
                self._step(mesh)
            self.cam.perform_sequence(list(ACTIONS), gap_s=0.5)
            while self.cam.busy:
                self._step(mesh)
            for _ in range(8):
                self._step(mesh)
        finally:
            mesh.close()
        idle = [s for a, _, s in self.rows[:IDLE_FRAMES]]
        assert all(s is not None for s in idle), "FaceMesh lost the neutral face"
        self.neutral = {k: float(np.median([s[k] for s in idle])) for k in idle[0]}

    def _step(self, mesh) -> None:
        f = self.cam.read()
        self.frames.append(f)
        lm = _landmarks(mesh, f.rgb)
        self.rows.append((self.cam.state.action, self.cam.state.amount,
                          None if lm is None else _signals(lm)))

    def series(self, action: str, key: str) -> list[tuple[float, float]]:
        out = [(amt, s[key]) for a, amt, s in self.rows if a == action and s is not None]
        assert len(out) >= 10, f"too few measured frames during {action}"
        return out

    def after(self, action: str, key: str, n: int = 4) -> list[float]:
        """The signal on the first n measured frames after `action` ended."""
        idx = max(i for i, (a, _, _) in enumerate(self.rows) if a == action)
        vals = [s[key] for a, _, s in self.rows[idx + 1:] if s is not None]
        return vals[:n]


@pytest.fixture(scope="module", params=[0, 1], ids=["seed0", "seed1"])
def rec(request) -> Recording:
    return Recording(request.param)


# ----------------------------------------------------------------------- actions

def test_every_frame_shows_a_face(rec):
    missing = [i for i, (_, _, s) in enumerate(rec.rows) if s is None]
    assert not missing, f"FaceMesh found no face in frames {missing}"


def test_blink_closes_both_eyes_with_in_between_frames(rec):
    neutral = rec.neutral["ear"]
    values = [v for _, v in rec.series("blink", "ear")]
    closed = min(values)
    assert closed <= 0.6 * neutral, (neutral, closed)
    lo = closed + 0.15 * (neutral - closed)
    hi = neutral - 0.15 * (neutral - closed)
    assert any(lo < v < hi for v in values), f"no half-closed frame: {values}"
    # The minimum is inside the blink, not at its edges, and the eyes open again.
    assert 0 < values.index(closed) < len(values) - 1
    assert min(rec.after("blink", "ear")) >= 0.85 * neutral


@pytest.mark.parametrize("action,sign", [("turn_left", 1), ("turn_right", -1)])
def test_head_turn_yaw_proxy(rec, action, sign):
    neutral = rec.neutral["yaw"]
    assert abs(neutral) < 0.15
    values = [sign * v for _, v in rec.series(action, "yaw")]
    peak = max(values)
    assert peak >= 0.45, (action, peak)
    # It ramps: frames part-way between neutral and the peak exist on the way.
    assert any(0.25 * peak < v < 0.75 * peak for v in values), values
    # And it never goes the wrong way.
    assert min(values) > -0.15
    assert max(abs(v - neutral) for v in rec.after(action, "yaw")) < 0.15


@pytest.mark.parametrize("action,sign", [("turn_left", 1), ("turn_right", -1)])
def test_turn_direction_in_the_unmirrored_image(rec, action, sign):
    """turn_left is the person's OWN left: the nose moves toward the image's right."""
    i_peak = max((i for i, (a, _, _) in enumerate(rec.rows) if a == action),
                 key=lambda i: rec.rows[i][1])
    moved = rec.rows[i_peak][2]["nose_x"] - rec.neutral["nose_x"]
    assert sign * moved > 0.1 * rec.neutral["face_w"], moved


def test_open_mouth(rec):
    neutral = rec.neutral["mouth"]
    values = [v for _, v in rec.series("open_mouth", "mouth")]
    peak = max(values)
    assert peak >= 0.35, (neutral, peak)
    assert any(neutral + 0.1 * (peak - neutral) < v < peak - 0.1 * (peak - neutral) for v in values)
    assert max(rec.after("open_mouth", "mouth")) < neutral + 0.08


def test_open_mouth_paints_a_dark_cavity(rec):
    i_peak = max((i for i, (a, amt, _) in enumerate(rec.rows) if a == "open_mouth"),
                 key=lambda i: rec.rows[i][1])
    rgb = rec.frames[i_peak].rgb
    mesh = _facemesh(static=True)
    try:
        p = _landmarks(mesh, rgb)
    finally:
        mesh.close()
    centre = ((p[13] + p[14]) / 2).round().astype(int)
    patch = rgb[centre[1] - 3:centre[1] + 4, centre[0] - 3:centre[0] + 4].astype(float)
    assert patch.mean() < 110, patch.mean(axis=(0, 1))


def test_nod_moves_the_nose_down_then_back(rec):
    n0, h0 = rec.neutral["nose"], rec.neutral["face_h"]
    values = [(v - n0) / h0 for _, v in rec.series("nod", "nose")]
    peak = max(values)
    assert peak >= 0.08, peak
    assert any(0.2 * peak < v < 0.8 * peak for v in values)
    assert max(abs((v - n0) / h0) for v in rec.after("nod", "nose")) < 0.03


# ------------------------------------------------------------ natural motion, framing

def test_idle_frames_are_alive(rec):
    frames = [f.rgb for f in rec.frames[:IDLE_FRAMES]]
    for a, b in zip(frames, frames[1:]):
        assert not np.array_equal(a, b)
    # The measured landmarks move a little (non-rigidly), but the face is not acting.
    ears = [s["ear"] for _, _, s in rec.rows[:IDLE_FRAMES]]
    yaws = [s["yaw"] for _, _, s in rec.rows[:IDLE_FRAMES]]
    assert max(ears) - min(ears) < 0.25 * rec.neutral["ear"]
    assert max(yaws) - min(yaws) < 0.15


def test_natural_motion_is_small_smooth_and_non_rigid():
    cam = VirtualCamera(seed=4)
    pts = []
    for _ in range(75):
        cam.read()
        pts.append(cam.last_landmarks.copy())
    pts = np.array(pts)
    fw = cam.face_width
    mean = pts.mean(axis=0)
    rms = np.sqrt(((pts - mean) ** 2).sum(axis=2).mean()) / fw
    assert 0.002 < rms < 0.02, rms
    step = np.sqrt((np.diff(pts, axis=0) ** 2).sum(axis=2).mean()) / fw
    assert step < 0.004, step  # smooth over time: no frame-to-frame jumps

    def residual(a, b):  # after the best similarity transform a -> b
        a0, b0 = a - a.mean(0), b - b.mean(0)
        u, s, vt = np.linalg.svd(b0.T @ a0)
        r = u @ vt
        scale = s.sum() / (a0 ** 2).sum()
        return np.sqrt(((scale * a0 @ r.T - b0) ** 2).sum(axis=1).mean())

    res = max(residual(p, mean) for p in pts) / fw
    assert res > 0.001, res


def test_frozen_camera_option_really_freezes():
    cam = VirtualCamera(seed=0, natural_motion=False, noise=False)
    a, b = cam.read().rgb, cam.read().rgb
    assert np.array_equal(a, b)


def test_face_is_centred_and_sized(rec):
    n = rec.neutral
    w, h = rec.frames[0].size
    assert (w, h) == (640, 480)
    assert 0.35 <= n["face_w"] / w <= 0.45, n["face_w"] / w
    assert abs(n["cx"] - w / 2) < 0.06 * w
    assert abs(n["cy"] - h / 2) < 0.08 * h


def test_background_is_preserved_during_actions(rec):
    idle = rec.frames[0].rgb.astype(float)
    for f in rec.frames[::7]:
        for sl in (np.s_[:40, :40], np.s_[:40, -40:], np.s_[-40:, :40], np.s_[-40:, -40:]):
            assert np.abs(f.rgb[sl].astype(float) - idle[sl]).mean() < 4.0


@pytest.mark.parametrize("size", [(320, 240), (1280, 720), (480, 640)])
def test_other_frame_sizes(size):
    cam = VirtualCamera(width=size[0], height=size[1], seed=1)
    f = cam.read()
    assert f.rgb.shape == (size[1], size[0], 3) and f.rgb.dtype == np.uint8
    mesh = _facemesh(static=True)
    try:
        p = _landmarks(mesh, f.rgb)
        assert p is not None
        assert 0.33 <= _signals(p)["face_w"] / size[0] <= 0.47
        cam.perform("turn_right")
        best = 0.0
        while cam.busy:
            g = cam.read()
            if cam.state.amount == 1.0:
                q = _landmarks(mesh, g.rgb)
                best = min(best, _signals(q)["yaw"])
                break
        assert best <= -0.45
    finally:
        mesh.close()


# ------------------------------------------------------------------------- API

def test_frames_and_timestamps():
    cam = VirtualCamera(fps=20.0, seed=0, max_frames=5)
    frames = list(cam)
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert [f.t for f in frames] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    assert all(isinstance(f, Frame) and f.rgb.shape == (480, 640, 3) for f in frames)
    assert list(cam) == []  # max_frames reached


def test_unknown_action_is_rejected():
    cam = VirtualCamera(seed=0)
    with pytest.raises(ValueError):
        cam.perform("smile")
    with pytest.raises(ValueError):
        cam.perform_sequence(["blink", "wink"])
    assert not cam.busy  # nothing of the bad sequence was queued


def test_actions_run_smoothly_in_order_and_return_to_neutral():
    cam = VirtualCamera(seed=0, fps=25.0)
    cam.perform_sequence(["nod", "blink"], gap_s=0.4)
    states = []
    while cam.busy:
        cam.read()
        states.append(cam.state)
    assert [h.action for h in cam.history] == ["nod", "blink"]
    nod = [s.amount for s in states if s.action == "nod"]
    blink = [s.amount for s in states if s.action == "blink"]
    assert 0.6 * 25 <= len(nod) <= 1.2 * 25 + 1 and 0.6 * 25 - 1 <= len(blink) <= 1.2 * 25 + 1
    for amounts in (nod, blink):
        assert max(amounts) == 1.0 and amounts[0] < 0.2 and amounts[-1] < 0.2
        assert max(abs(b - a) for a, b in zip(amounts, amounts[1:])) < 0.45  # no jumps
    gap = cam.history[1].start_t - cam.history[0].end_t
    assert gap == pytest.approx(0.4, abs=1.5 / 25)
    cam.read()
    assert cam.state.action is None


def test_thread_safe_perform_while_iterating():
    cam = VirtualCamera(seed=0, max_frames=400)
    seen: list[str | None] = []
    errors: list[BaseException] = []

    def consume():
        try:
            for _ in cam:
                seen.append(cam.state.action)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    th = threading.Thread(target=consume)
    th.start()
    callers = [threading.Thread(target=cam.perform, args=(a,)) for a in ACTIONS]
    for c in callers:
        c.start()
    for c in callers:
        c.join()
    th.join(timeout=120)
    assert not th.is_alive() and not errors
    assert sorted(h.action for h in cam.history) == sorted(ACTIONS)
    assert set(ACTIONS) <= set(seen)


def test_close_stops_a_realtime_iterator_from_another_thread():
    cam = VirtualCamera(seed=0, realtime=True, fps=25.0)
    got: list[int] = []

    def consume():
        for f in cam:
            got.append(f.index)

    th = threading.Thread(target=consume)
    th.start()
    while len(got) < 3 and th.is_alive():
        th.join(timeout=0.05)
    cam.perform("blink")
    cam.close()
    th.join(timeout=10)
    assert not th.is_alive()
    assert got[:3] == [0, 1, 2]


# ---------------------------------------------------------------------- assets

def test_assets_exist_and_landmarks_match_the_photo():
    assert FACE_IMAGE.is_file() and FACE_LANDMARKS.is_file()
    rgb = read_image(FACE_IMAGE)
    assert rgb.shape == (512, 512, 3)
    stored = np.load(FACE_LANDMARKS)
    assert stored.shape == (478, 3)
    fresh = detect_landmarks(rgb)
    assert np.abs(fresh[:, :2] - stored[:, :2]).max() < 2.0


def test_runtime_does_not_import_scikit_image():
    code = ("import sys; from kiosk.demo import VirtualCamera; "
            "VirtualCamera(seed=0).read(); "
            "assert 'skimage' not in sys.modules, 'skimage imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")

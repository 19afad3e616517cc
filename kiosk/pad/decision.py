"""One presentation-attack decision per session from sampled frames.

Integration (a session, any thread that owns the frames)::

    from kiosk.pad.decision import PadMonitor

    monitor = PadMonitor()                 # at session start (models load lazily, once per thread)
    for frame in source:
        obs = observer.observe(frame)      # kiosk.observe.FrameObservation
        monitor.observe(frame.rgb, obs)    # every frame; returns at once (< 0.2 ms)
        ...                                # the challenge as today
    pad = monitor.result()                 # at the end, BEFORE the face comparison
    monitor.close()                        # or use `with PadMonitor() as monitor:`
    if pad.attack:
        ...  # refuse with reason "presentation_attack"; put pad.to_json() in the evidence

`observe` keeps every `sample_every`-th frame and scores it on a small executor thread
(MiniFASNet through cv2.dnn, which releases the GIL), so the caller's frame path does not
wait; if scoring falls behind, frames are skipped, never queued without bound. `result()`
waits for the frames already handed over (bounded by `timeout`) and applies `decide`, a pure
function of the per-frame records, so thresholds can be re-decided offline
(kiosk.pad.evaluate caches the records).

Decision rule (numbers in kiosk/thresholds.py, PAD section):
1. Quality gates: a scored frame votes only if the head is within +-30 deg yaw/pitch (the
   models' range), the face is at least `min_face_px` wide, the eyes are not closed (openness
   below `eye_closed_ratio` x the session median) and it is not blurred (sharpness below
   `blur_ratio` x the session median). Frames where FaceMesh found no face but the face
   detector did (a small phone screen) vote with their detector box.
2. `live_score` = the `live_quantile` quantile of the gated frames' live probabilities
   (a median: a few bad frames either way do not move it). Attack if below `live_min`
   (cue "minifasnet").
3. Otherwise live (cue "live"). No scored frame at all: not an attack by PAD (cue "no_face");
   the session's own face checks refuse such a session anyway.
Screen cues (bezel, glare, planarity) were measured and added nothing on the shared data
(docs/pad.md): they do not decide; planarity (free, from landmarks) is in `evidence`, bezel
and glare too when `measure_cues` is on.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.arrays import Floats, Image
from kiosk.pad import cues
from kiosk.pad.minifasnet import Box, MiniFasNet, detector_box
from kiosk.thresholds import PAD, PadThresholds

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kiosk.observe import FrameObservation


@dataclass(frozen=True)
class PadResult:
    attack: bool
    live_score: float  # 0..1, the session's live score (see module doc)
    frames_scored: int
    cue: str  # which rule decided: minifasnet | live | no_face
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"attack": self.attack, "live_score": round(self.live_score, 4), "frames_scored": self.frames_scored,
                "cue": self.cue, "evidence": self.evidence}


@dataclass
class FrameScore:
    """What PAD measured on one sampled frame (no pixels)."""

    index: int
    t: float
    source: str  # "mesh" (FaceMesh face) or "detector" (face detector box, no landmarks)
    live: float  # MiniFASNet probability of a real face
    face_px: float
    yaw: float = 0.0
    pitch: float = 0.0
    eyes: float = float("nan")
    sharpness: float = float("nan")
    bezel: int = 0
    glare: float = 0.0
    landmarks: Floats | None = None  # (478, 2) float32, mesh frames only


# ------------------------------------------------------------------ per-frame scoring
class FrameScorer:
    """Scores one frame: MiniFASNet + cue measurements. One per thread (cv2.dnn nets, mediapipe)."""

    def __init__(self, th: PadThresholds = PAD) -> None:
        self.th = th
        self.net = MiniFasNet()
        self._detector: Any = None  # mediapipe FaceDetection (untyped library)

    def _detect(self, rgb: Image) -> tuple[float, float, float, float] | None:
        if self._detector is None:
            import mediapipe as mp

            # Full-range model: a phone screen held at arm's length shows a small face.
            self._detector = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        h, w = rgb.shape[:2]
        dets = self._detector.process(rgb).detections or []
        if not dets:
            return None
        b = max(dets, key=lambda d: d.location_data.relative_bounding_box.width).location_data.relative_bounding_box
        box: tuple[float, float, float, float] = (b.xmin * w, b.ymin * h, b.width * w, b.height * h)
        return box

    def score(self, rgb: Image, obs: FrameObservation, index: int, t: float) -> FrameScore | None:
        face = obs.face
        if face is None:
            if not self.th.detect_when_no_mesh:
                return None
            box = self._detect(rgb)
            if box is None or box[2] < 8 or box[3] < 8:
                return None
            return FrameScore(index, t, "detector", self.net.live_score(rgb, box, rgb=True), float(box[2]),
                              **self._cues(rgb, box))
        box = detector_box(face.landmarks)
        return FrameScore(index, t, "mesh", self.net.live_score(rgb, box, rgb=True), float(box[2]), yaw=face.yaw,
                          pitch=face.pitch, eyes=face.eyes, sharpness=face.quality.sharpness, **self._cues(rgb, box),
                          landmarks=face.landmarks[:, :2].astype(np.float32))

    def _cues(self, rgb: Image, box: Box) -> dict[str, Any]:
        if not self.th.measure_cues:
            return {}
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return {"bezel": cues.bezel_sides(gray, box, self.th), "glare": cues.glare_fraction(rgb[..., ::-1], box, self.th)}

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None


_local = threading.local()


def _thread_scorer(th: PadThresholds) -> FrameScorer:
    """The calling thread's scorer (models loaded once per executor thread)."""
    s = getattr(_local, "scorer", None)
    if s is None or s.th != th:
        s = _local.scorer = FrameScorer(th)
    return s


# ------------------------------------------------------------------ the decision
def gate(frames: list[FrameScore], th: PadThresholds = PAD) -> list[FrameScore]:
    """The frames that vote: within the models' range, eyes open, not blurred."""
    mesh = [f for f in frames if f.source == "mesh"]
    eye_med = float(np.median([f.eyes for f in mesh])) if mesh else 0.0
    sharp_med = float(np.median([f.sharpness for f in mesh])) if mesh else 0.0
    out = []
    for f in frames:
        if f.face_px < th.min_face_px:
            continue
        if f.source == "mesh":
            if abs(f.yaw) > th.max_abs_yaw or abs(f.pitch) > th.max_abs_pitch:
                continue
            if f.eyes < th.eye_closed_ratio * eye_med or f.sharpness < th.blur_ratio * sharp_med:
                continue
        out.append(f)
    return out


def cue_values(frames: list[FrameScore], gated: list[FrameScore], th: PadThresholds = PAD) -> dict[str, Any]:
    """Every screen cue's per-session value (evidence; see docs/pad.md for what each adds)."""
    mesh = [f for f in gated if f.source == "mesh" and f.landmarks is not None]
    yaws = [f.yaw for f in mesh]
    out: dict[str, Any] = {
        "planarity": round(cues.planarity([f.landmarks for f in mesh if f.landmarks is not None]), 4),
        "yaw_range": round(float(np.ptp(yaws)), 1) if yaws else 0.0,
    }
    if th.measure_cues and frames:  # bezel and glare are only measured per frame when asked for
        out["bezel_share"] = round(float(np.mean([f.bezel >= th.bezel_min_sides for f in frames])), 3)
        out["glare_median"] = round(float(np.median([f.glare for f in frames])), 4)
    return out


def decide(frames: list[FrameScore], th: PadThresholds = PAD) -> PadResult:
    """The per-session decision from per-frame records (pure; see the module doc)."""
    if not frames:
        return PadResult(False, 0.0, 0, "no_face", {"gated": 0})
    gated = gate(frames, th)
    voters = gated if len(gated) >= th.min_frames else frames
    lives = np.array([f.live for f in voters])
    score = float(np.quantile(lives, th.live_quantile))
    evidence = {
        "gated": len(gated),
        "voters": "gated" if voters is gated else "all",
        "detector_frames": sum(f.source == "detector" for f in frames),
        "live_p10": round(float(np.quantile(lives, 0.1)), 4),
        "live_p90": round(float(np.quantile(lives, 0.9)), 4),
        **cue_values(frames, gated, th),
    }
    if score < th.live_min:
        return PadResult(True, score, len(frames), "minifasnet", evidence)
    return PadResult(False, score, len(frames), "live", evidence)


# ------------------------------------------------------------------ the monitor
def _lower_priority() -> None:
    """Run this (executor) thread below the frame path: on Linux, nice is per thread."""
    try:
        import os

        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PAD_THREAD_NICE)
    except (AttributeError, OSError, PermissionError):
        pass


PAD_THREAD_NICE = 10


def pad_executor() -> ThreadPoolExecutor:
    """A one-thread executor for PAD scoring, at lower CPU priority than the caller's thread.

    Share one across sessions (PadMonitor(executor=...)) to load the models only once."""
    return ThreadPoolExecutor(1, thread_name_prefix="pad", initializer=_lower_priority)


class PadMonitor:
    """Feeds sampled frames of one session to MiniFASNet off the caller's thread.

    observe(rgb, obs): call for every frame (RGB uint8 HxWx3 and its FrameObservation); cheap.
    result(timeout=5.0) -> PadResult: call once at the end; waits for pending frames.
    records: the per-frame FrameScores so far (for evidence, evaluation and tests).
    executor: pass a shared ThreadPoolExecutor to reuse loaded models across sessions;
    synchronous=True scores inline (offline evaluation, tests).
    """

    def __init__(self, th: PadThresholds = PAD, executor: ThreadPoolExecutor | None = None,
                 synchronous: bool = False):
        self.th = th
        self.synchronous = synchronous
        self._own_executor = executor is None and not synchronous
        self._executor = executor or (None if synchronous else pad_executor())
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()
        self._records: list[FrameScore] = []
        self._seen = 0
        self.skipped = 0  # sampled frames dropped because scoring was behind

    def observe(self, rgb: Image, obs: FrameObservation) -> None:
        n = self._seen
        self._seen += 1
        if n % self.th.sample_every:
            return
        index, t = (obs.frame.index, obs.frame.t) if getattr(obs, "frame", None) is not None else (n, 0.0)
        if self.synchronous:
            self._store(_thread_scorer(self.th).score(rgb, obs, index, t))
            return
        self._pending = [f for f in self._pending if not f.done()]
        if len(self._pending) >= self.th.max_pending:
            self.skipped += 1
            return
        assert self._executor is not None  # set unless synchronous
        fut = self._executor.submit(self._score, rgb.copy(), obs, index, t)
        self._pending.append(fut)

    def _score(self, rgb: Image, obs: FrameObservation, index: int, t: float) -> None:
        self._store(_thread_scorer(self.th).score(rgb, obs, index, t))

    def _store(self, rec: FrameScore | None) -> None:
        if rec is not None:
            with self._lock:
                self._records.append(rec)

    @property
    def records(self) -> list[FrameScore]:
        with self._lock:
            return sorted(self._records, key=lambda r: r.index)

    def result(self, timeout: float = 5.0) -> PadResult:
        if self._pending:
            wait(self._pending, timeout=timeout)
        res = decide(self.records, self.th)
        res.evidence["skipped"] = self.skipped
        return res

    def close(self) -> None:
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __enter__(self) -> PadMonitor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def record_arrays(records: list[FrameScore]) -> dict[str, npt.NDArray[Any]]:
    """Records as arrays (for .npz caches); `records_from_arrays` reverses it."""
    keys = [k for k in FrameScore.__dataclass_fields__ if k != "landmarks"]
    out = {k: np.array([getattr(r, k) for r in records]) for k in keys}
    out["landmarks"] = np.array([r.landmarks if r.landmarks is not None else np.full((478, 2), np.nan, np.float32)
                                 for r in records], np.float32).reshape(len(records), 478, 2)
    return out


def records_from_arrays(a: Mapping[str, npt.NDArray[Any]]) -> list[FrameScore]:
    n = len(a["index"])
    out: list[FrameScore] = []
    for i in range(n):
        kw = {k: a[k][i].item() for k in FrameScore.__dataclass_fields__ if k != "landmarks"}
        lm = a["landmarks"][i]
        kw["landmarks"] = None if np.isnan(lm).any() else lm
        out.append(FrameScore(**kw))
    return out


def as_dict(r: FrameScore) -> dict[str, Any]:
    d = asdict(r)
    d.pop("landmarks")
    return d

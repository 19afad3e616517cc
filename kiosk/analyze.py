"""Offline analysis of a clip: which actions does the person perform, and when.

Used by `kiosk analyze` for county IT to diagnose a camera or a recording. All five
rules run free (re-arming after each event) against a baseline taken from the clip's
own near-frontal frames.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from kiosk.frames import FrameSource
from kiosk.liveness.events import ACTIONS
from kiosk.liveness.rules import is_calibration_frame, make_rule
from kiosk.liveness.signals import Baseline, sample_of
from kiosk.thresholds import LivenessThresholds
from kiosk.observe import FaceObserver


@dataclass
class ClipAnalysis:
    frames: int
    face_frames: int
    duration_s: float
    processing_fps: float
    events: list[dict] = field(default_factory=list)
    max_faces: int = 0

    def to_json(self) -> dict:
        return {"frames": self.frames, "face_frames": self.face_frames, "duration_s": round(self.duration_s, 3),
                "processing_fps": round(self.processing_fps, 1), "events": self.events}


def analyze_source(source: FrameSource, observer: FaceObserver | None = None,
                   th: LivenessThresholds | None = None) -> ClipAnalysis:
    th = th or LivenessThresholds()
    own = observer is None
    observer = observer or FaceObserver()
    samples, frames, max_faces, last_t, fps_guess = [], 0, 0, 0.0, 25.0
    t0 = time.perf_counter()
    try:
        for frame in source:
            obs = observer.observe(frame)
            frames += 1
            last_t = frame.t
            max_faces = max(max_faces, obs.num_faces)
            if obs.face is not None:
                samples.append((sample_of(obs.face), obs.face))
    finally:
        source.close()
        if own:
            observer.close()
    elapsed = time.perf_counter() - t0
    if frames > 1 and last_t > 0:
        fps_guess = (frames - 1) / last_t
    result = ClipAnalysis(frames, len(samples), frames / fps_guess if frames else 0.0,
                          frames / elapsed if elapsed > 0 else 0.0, max_faces=max_faces)
    calib = [s for s, f in samples if is_calibration_frame(f.yaw, f.pitch, th)][: th.calibration_frames]
    if len(calib) < min(3, len(samples)) or not samples:
        return result
    baseline = Baseline.from_samples(calib or [s for s, _ in samples[:3]])
    rules = [make_rule(a, baseline, th) for a in ACTIONS]
    for s, _ in samples:
        for rule in rules:
            ev = rule.update(s)
            if ev is not None:
                result.events.append({"action": ev.action, "start_s": round(ev.start_s, 3), "end_s": round(ev.end_s, 3)})
    result.events.sort(key=lambda e: e["start_s"])
    return result

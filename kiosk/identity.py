"""Identity continuity: the same person from the first action to the last.

While the challenge runs, one frame is encoded off the caller's thread from every stretch
of it (every SAMPLE_EVERY_S, later SAMPLE_EVERY_LATE_S; a stretch also ends at each passed
step and whenever the face was lost or jumped), plus the frame on which each step passed.
All of them must be one person (CONTINUITY_THRESHOLD; a little looser for pairs with a
turned frame), so someone stepping in at the same place is caught. The numbers are in
kiosk/thresholds.py; the best frame of a stretch is chosen by the probe's rules
(kiosk/probe.py), so the same encodings also make the probe.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kiosk.arrays import Floats
from kiosk.liveness.signals import Baseline
from kiosk.observe import FaceObservation, FrameObservation
from kiosk.probe import Candidate, candidate, quality_summary
from kiosk.thresholds import (CONTINUITY_FRONTAL_DEV, CONTINUITY_THRESHOLD, CONTINUITY_THRESHOLD_TURNED,
                              LATE_AFTER, MAX_ENCODE_POSE_DEV, MIN_ENCODE_BRIGHTNESS, MIN_ENCODE_FACE_PX,
                              MIN_ENCODE_SHARPNESS, SAMPLE_EVERY_LATE_S, SAMPLE_EVERY_S)

if TYPE_CHECKING:
    from kiosk.matching.embedders import Embedder as Encoder


@dataclass
class Encoding:
    kind: str  # sample (best frame of a stretch) | step (the frame a step passed on)
    t: float
    score: float
    probe_ok: bool
    quality: dict[str, Any]
    future: Future[Floats]


def encodable(face: FaceObservation, baseline: Baseline) -> bool:
    """Usable enough that the embedding is not noise (one face, sharp, bright, big, near the baseline pose)."""
    q = face.quality
    return (q.sharpness >= MIN_ENCODE_SHARPNESS and q.brightness >= MIN_ENCODE_BRIGHTNESS and q.num_faces == 1
            and q.face_width_px >= MIN_ENCODE_FACE_PX and abs(face.yaw - baseline.yaw) <= MAX_ENCODE_POSE_DEV
            and abs(face.pitch - baseline.pitch) <= MAX_ENCODE_POSE_DEV)


class FrameSampler:
    """Keeps the best frame of each stretch of the challenge and queues its encoding."""

    def __init__(self, encoder: Encoder, executor: Executor) -> None:
        self.encoder = encoder
        self.executor = executor
        self.encodings: list[Encoding] = []
        self._window_start: float | None = None
        self._window_best: Candidate | None = None

    def consider(self, obs: FrameObservation, baseline: Baseline, gate: str | None) -> None:
        """One challenge frame with a face and a baseline; `gate` is its probe gate."""
        face, t = obs.face, obs.frame.t
        assert face is not None, "consider() takes frames with a face"
        if self._window_start is None:
            self._window_start = t
        if encodable(face, baseline):
            cand = candidate(face, obs.frame.rgb, baseline, gate)
            best = self._window_best
            # Frames fit for the probe always beat frames that are only fit for continuity.
            if best is None or (gate is None, cand.score) > (best.gate is None, best.score):
                self._window_best = cand
        every = SAMPLE_EVERY_S if len(self.encodings) < LATE_AFTER else SAMPLE_EVERY_LATE_S
        if t - self._window_start >= every:
            self.close_window(baseline)

    def close_window(self, baseline: Baseline) -> None:
        """End the current stretch: encode its best frame, if any."""
        if self._window_best is not None:
            self._submit("sample", self._window_best, baseline)
        self._window_best, self._window_start = None, None

    def encode_step_frame(self, obs: FrameObservation, baseline: Baseline | None) -> None:
        """The frame an action was done on is encoded too: whoever did it must be the resident."""
        face = obs.face
        if face is None or baseline is None or not encodable(face, baseline):
            return
        self._submit("step", candidate(face, obs.frame.rgb, baseline), baseline)

    def drop_pixels(self) -> None:
        self._window_best = None

    @property
    def pending_t(self) -> float | None:
        """The time of the stretch's best frame so far: it may still be encoded when the stretch closes."""
        return self._window_best.face.t if self._window_best is not None else None

    def encode(self, kind: str, cand: Candidate, baseline: Baseline) -> None:
        """Encode a frame chosen by the caller (enrolment: the most turned frame of a pose stage),
        unless that frame is queued already."""
        if any(e.t == cand.face.t for e in self.encodings):
            cand.rgb = None
            return
        self._submit(kind, cand, baseline)

    def _submit(self, kind: str, cand: Candidate, baseline: Baseline) -> None:
        assert cand.rgb is not None, "a candidate is submitted once, with its pixels"
        future = self.executor.submit(self.encoder.encode, cand.rgb, cand.face)
        self.encodings.append(Encoding(kind, cand.face.t, cand.score, cand.gate is None,
                                       quality_summary(cand.face, baseline), future))
        cand.rgb = None  # drop the pixels as soon as they are queued


def continuity(vecs: Sequence[Floats], encodings: Sequence[Encoding]) -> tuple[bool, float]:
    """(one person?, largest pairwise distance) over all encodings of a challenge."""
    pairs, over = [], 0.0  # over: worst distance / the bound that pair must stay under
    for i, j in itertools.combinations(range(len(vecs)), 2):
        d = float(np.linalg.norm(vecs[i] - vecs[j]))
        turned = any(max(abs(encodings[k].quality["yaw_dev"]), abs(encodings[k].quality["pitch_dev"]))
                     > CONTINUITY_FRONTAL_DEV for k in (i, j))
        pairs.append(d)
        over = max(over, d / (CONTINUITY_THRESHOLD_TURNED if turned else CONTINUITY_THRESHOLD))
    return over <= 1.0, max(pairs) if pairs else 0.0

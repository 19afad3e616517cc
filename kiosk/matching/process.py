"""An embedder that runs in a child process, for the touchscreen app.

dlib's Python binding holds the GIL for the whole ResNet pass (~100 ms a face here, several
faces per certification): on a worker *thread* that freezes the UI thread too — the preview
stops and taps go unanswered. A child process has its own interpreter and GIL; the UI's
worker thread just waits on it. Only the face region and its landmarks cross the pipe.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from kiosk.observe import FaceObservation

_embedder = None  # the real embedder, inside the child process


def _start(settings) -> None:
    global _embedder
    from kiosk.matching.embedders import make_embedder

    _embedder = make_embedder(settings)


def _describe() -> tuple[str, int]:
    return _embedder.name, _embedder.dim


def _encode(rgb: np.ndarray, face: FaceObservation) -> np.ndarray:
    return _embedder.encode(rgb, face)


def face_region(rgb: np.ndarray, face: FaceObservation, margin: float = 1.0) -> tuple[np.ndarray, FaceObservation]:
    """The face box plus a generous margin, with the landmarks moved into it (encoders crop
    and align from the landmarks; nothing outside this region is used)."""
    x0, y0, x1, y1 = (float(v) for v in face.box)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    h, w = rgb.shape[:2]
    left, top = max(0, int(x0 - mx)), max(0, int(y0 - my))
    right, bottom = min(w, int(x1 + mx) + 1), min(h, int(y1 + my) + 1)
    shift = np.array([left, top, 0.0])
    moved = replace(face, landmarks=face.landmarks - shift,
                    box=type(face.box)(v - o for v, o in zip(face.box, (left, top, left, top))))
    return np.ascontiguousarray(rgb[top:bottom, left:right]), moved


class ProcessEmbedder:
    """`encode(rgb, face)` like any embedder, computed in one child process (models load once)."""

    def __init__(self, settings=None):
        # spawn, not fork: the parent runs Qt and mediapipe threads that must not be forked.
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start, initargs=(settings,))
        self.name, self.dim = self._pool.submit(_describe).result()

    def encode(self, rgb: np.ndarray, face: FaceObservation) -> np.ndarray:
        region, moved = face_region(rgb, face)
        return self._pool.submit(_encode, region, moved).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

"""Pluggable face-embedding backends.

The engine only needs an object with `name`, `dim` and `encode(rgb, face) -> vector`
(`Embedder`). `DlibEncoder` (dlib's 128-d ResNet, kiosk/matching/encoder.py) is the
default. `OnnxEmbedder` runs a face-recognition model the county supplies as a local
ONNX file (e.g. a permissively licensed SFace or ArcFace export) through OpenCV's DNN
module, on the face aligned from FaceMesh landmarks to the ArcFace 112x112 five-point
template. Nothing is ever downloaded: a missing or damaged model file is an
`EmbedderError` with a plain Chinese message.

Each backend has its own embeddings (templates in the store are tagged with the
backend's `name`) and its own calibration (thresholds stored per backend name, see
`kiosk calibrate --write`).
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from kiosk.arrays import Floats, Image
from kiosk.observe import FaceObservation
from kiosk.texts import text

if TYPE_CHECKING:
    from kiosk.config import Settings

# ArcFace / InsightFace reference points for a 112x112 crop: the image-left eye, the
# image-right eye, the nose tip, the image-left and image-right mouth corners.
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)
# FaceMesh indices: eye corners (outer, inner) per eye, nose tip, mouth corners.
_EYE_IMAGE_LEFT = (33, 133)
_EYE_IMAGE_RIGHT = (263, 362)
_NOSE_TIP = 1
_MOUTH_IMAGE_LEFT, _MOUTH_IMAGE_RIGHT = 61, 291


class EmbedderError(Exception):
    """The configured embedding backend cannot be used. `code`: model_missing | model_invalid | bad_backend |
    not_calibrated (and PopulationStatsError's). `message`: the catalogue's `embed_<why or code>` with `data`."""

    def __init__(self, code: str, *, why: str | None = None, **data: Any):
        message = text(f"embed_{why or code}", **data)
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.data = code, message, data


@runtime_checkable
class Embedder(Protocol):
    name: str  # the backend name templates and calibrations are stored under
    dim: int

    def encode(self, rgb: Image, face: FaceObservation) -> Floats:
        """One face (RGB uint8 frame + its FaceMesh observation) -> a 1-D float64 embedding."""
        ...


def five_points(face: FaceObservation) -> Floats:
    """The five ArcFace alignment points (pixels) from the FaceMesh landmarks, in ARCFACE_112 order."""
    p = face.landmarks[:, :2].astype(np.float64)
    return np.array([p[list(_EYE_IMAGE_LEFT)].mean(axis=0), p[list(_EYE_IMAGE_RIGHT)].mean(axis=0),
                     p[_NOSE_TIP], p[_MOUTH_IMAGE_LEFT], p[_MOUTH_IMAGE_RIGHT]])


def similarity_transform(src: Floats, dst: Floats) -> Floats:
    """2x3 least-squares similarity (rotation, uniform scale, translation) mapping src onto dst (Umeyama)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1.0
    r = u @ e @ vt
    var_s = (s ** 2).sum() / len(src)
    scale = float((sig * np.diag(e)).sum() / var_s) if var_s > 0 else 1.0
    t = mu_d - scale * r @ mu_s
    return np.hstack([scale * r, t[:, None]])


def align_face(rgb: Image, face: FaceObservation, size: int = 112) -> Image:
    """The face warped to the ArcFace five-point template, scaled to size x size (RGB uint8)."""
    import cv2

    m = similarity_transform(five_points(face), ARCFACE_112 * (size / 112.0))
    return np.asarray(cv2.warpAffine(np.ascontiguousarray(rgb), m, (size, size), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)


class OnnxEmbedder:
    """A county-supplied ONNX face-recognition model, run with cv2.dnn (no onnxruntime).

    Input: the aligned face, NCHW float32, (pixel - mean) / std, RGB (or BGR when
    `bgr=True`, as most InsightFace exports expect). Output: the model's first output,
    flattened and L2-normalised.
    """

    def __init__(self, model_path: str | Path, input_size: int = 112, mean: float | tuple[float, float, float] = 127.5,
                 std: float | tuple[float, float, float] = 127.5, bgr: bool = False, name: str | None = None):
        import cv2

        path = Path(model_path).expanduser()
        if not str(model_path) or not path.is_file():
            raise EmbedderError("model_missing", path=path)
        try:
            self._net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as e:
            raise EmbedderError("model_invalid", name=path.name) from e
        if self._net.empty():
            raise EmbedderError("model_invalid", name=path.name)
        self.model_path = path
        self.input_size = int(input_size)
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        self.bgr = bool(bgr)
        # The backend name ties templates and calibration to this exact model file.
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.name = name or f"onnx-{path.stem}-{digest}"
        self._lock = threading.Lock()  # cv2.dnn.Net is not re-entrant
        try:
            probe = self._forward(np.zeros((self.input_size, self.input_size, 3), np.uint8))
        except cv2.error as e:
            raise EmbedderError("model_invalid", why="model_input_size", size=self.input_size, name=path.name) from e
        self.dim = int(probe.size)

    def _forward(self, face_rgb: Image) -> Floats:
        x = face_rgb[..., ::-1] if self.bgr else face_rgb
        x = (x.astype(np.float32) - self.mean) / self.std
        blob = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        with self._lock:
            self._net.setInput(blob)
            out = self._net.forward()
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def encode(self, rgb: Image, face: FaceObservation) -> Floats:
        v = self._forward(align_face(rgb, face, self.input_size))
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v


def make_embedder(settings: Settings | None = None) -> Embedder:
    """The embedding backend the settings select (`embedding_backend`: "dlib" or "onnx")."""
    from kiosk.config import Settings

    s = settings or Settings.load()
    kind = (s.embedding_backend or "dlib").lower()
    if kind in ("dlib", "dlib-128"):
        from kiosk.matching.encoder import DlibEncoder

        return DlibEncoder()
    if kind == "onnx":
        return OnnxEmbedder(s.onnx_model_path, input_size=s.onnx_input_size, mean=s.onnx_mean, std=s.onnx_std,
                            bgr=s.onnx_bgr)
    raise EmbedderError("bad_backend", backend=s.embedding_backend)
